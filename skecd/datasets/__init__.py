"""Bundled real data: DFT charge densities and elastic moduli of Fm-3m crystals."""

__all__ = []

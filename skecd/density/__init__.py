"""Computing valence charge densities with GPAW (optional extra ``skecd[dft]``)."""

__all__ = []

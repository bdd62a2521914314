"""Transformers from charge densities and compositions to model inputs.

``ChargeDensityVoxelizer`` resamples densities onto fixed-size cubes,
``AxisProjector`` makes the three axis views of a cube, ``MagpieFeaturizer``
computes matminer's Magpie composition features.
"""

__all__ = []

"""Transformers from charge densities and compositions to model inputs.

``ChargeDensityVoxelizer`` resamples densities onto fixed-size cubes,
``AxisProjector`` makes the three axis views of a cube, ``MagpieFeaturizer``
computes matminer's Magpie composition features, ``CrystalGraphFeaturizer``
builds the crystal graphs of CGCNN from structures. ``voxelize_to_cache``
writes the cubes once to disk as a lazily read ``VoxelArray``.
"""

from ._cache import VoxelArray, voxelize_to_cache
from ._descriptors import ChargeDensityDescriptor
from ._graph import CrystalGraph, CrystalGraphFeaturizer, atom_feature_names
from ._magpie import MagpieFeaturizer
from ._projector import AxisProjector
from ._voxelizer import ChargeDensityVoxelizer

__all__ = [
    "AxisProjector",
    "ChargeDensityDescriptor",
    "ChargeDensityVoxelizer",
    "CrystalGraph",
    "CrystalGraphFeaturizer",
    "MagpieFeaturizer",
    "VoxelArray",
    "atom_feature_names",
    "voxelize_to_cache",
]

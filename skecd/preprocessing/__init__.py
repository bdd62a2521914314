"""Transformers from charge densities and compositions to model inputs.

``ChargeDensityVoxelizer`` resamples densities onto fixed-size cubes,
``AxisProjector`` makes the three axis views of a cube, ``MagpieFeaturizer``
computes matminer's Magpie composition features, ``CrystalGraphFeaturizer``
builds the crystal graphs of CGCNN from structures, ``LocalDensityFeaturizer``
the rotation-invariant local descriptors of the invariant network,
``RadialDensityFeaturizer`` the density's radial profiles around the atoms,
``AngularDensityFeaturizer`` its angular power spectra on shells around them and
``BondCriticalPointFeaturizer`` its bond points and reduced gradient between them.
``BaseSampleFeaturizer`` is the base of the per-sample featurisers (its docstring
says how to add one). ``voxelize_to_cache`` writes the cubes once to disk as a
lazily read ``VoxelArray``.
"""

from ._angular import AngularDensityFeaturizer
from ._base import BaseSampleFeaturizer
from ._bonds import BondCriticalPointFeaturizer
from ._cache import VoxelArray, voxelize_to_cache
from ._descriptors import ChargeDensityDescriptor
from ._graph import CrystalGraph, CrystalGraphFeaturizer, atom_feature_names
from ._local import LocalDensityFeaturizer
from ._magpie import MagpieFeaturizer
from ._projector import AxisProjector
from ._radial import RadialDensityFeaturizer
from ._voxelizer import ChargeDensityVoxelizer

__all__ = [
    "AngularDensityFeaturizer",
    "AxisProjector",
    "BaseSampleFeaturizer",
    "BondCriticalPointFeaturizer",
    "ChargeDensityDescriptor",
    "ChargeDensityVoxelizer",
    "CrystalGraph",
    "CrystalGraphFeaturizer",
    "LocalDensityFeaturizer",
    "MagpieFeaturizer",
    "RadialDensityFeaturizer",
    "VoxelArray",
    "atom_feature_names",
    "voxelize_to_cache",
]

"""Bundled real data: DFT charge densities and elastic moduli of Fm-3m crystals.

:func:`load_fcc_elastic` returns the Fm-3m materials with their GPAW valence
charge densities (:class:`skecd.io.ChargeDensity`) and DFT bulk and shear
moduli as a scikit-learn ``Bunch``, offline from the package data;
:func:`load_fcc_elastic_structures` returns the raw labelled structures of all
the materials, for building more densities with :mod:`skecd.density`;
:func:`get_sample_chgcar_paths` gives the bundled VASP CHGCAR files and
:func:`get_data_dir` the data directory (its ``README.md`` holds provenance and
licences). :data:`TARGET_NAMES` names the two targets, in the order of the
target columns.
"""

from ._base import (
    TARGET_NAMES,
    get_data_dir,
    get_sample_chgcar_paths,
    get_sample_gpaw_twin_paths,
    load_fcc_elastic,
    load_fcc_elastic_structures,
)
from ._extended import CRYSTAL_SYSTEMS, crystal_system, get_data_home, load_elastic

__all__ = [
    "TARGET_NAMES",
    "CRYSTAL_SYSTEMS",
    "crystal_system",
    "get_data_home",
    "load_elastic",
    "get_data_dir",
    "get_sample_chgcar_paths",
    "get_sample_gpaw_twin_paths",
    "load_fcc_elastic",
    "load_fcc_elastic_structures",
]

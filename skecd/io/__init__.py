"""Reading and writing electronic charge densities.

One density type, :class:`ChargeDensity` (a pymatgen ``Structure`` and the valence
density in electrons per cubic Angstrom on a grid over its cell), and readers for
VASP volumetric files (parsed by pymatgen), pymatgen ``VolumetricData`` objects
and the ``.npz`` files written by skecd's GPAW builder, and Gaussian cube files
(parsed by ASE, converted from Bohr and e/Bohr^3). The sample layer
(:func:`check_samples`, :func:`read_structure`, :func:`read_composition`) is
where every estimator checks its list of samples and reads what it needs of each.
"""

from ._cube import read_cube
from ._density import ChargeDensity
from ._files import (
    DENSITY_KINDS,
    STRUCTURE_KINDS,
    check_structure,
    electron_count_problem,
    file_kind,
    read_structure_file,
    structure_from_dict,
    valence_electron_range,
)
from ._readers import (
    DENSITY_ENCODINGS,
    DensityFileError,
    from_volumetric_data,
    read_chgcar,
    read_gpaw_npz,
    write_gpaw_npz,
)
from ._samples import (
    check_sample_type,
    check_samples,
    load_density,
    read_composition,
    read_structure,
)

__all__ = [
    "DENSITY_ENCODINGS",
    "DENSITY_KINDS",
    "STRUCTURE_KINDS",
    "check_structure",
    "electron_count_problem",
    "file_kind",
    "read_structure_file",
    "structure_from_dict",
    "valence_electron_range",
    "ChargeDensity",
    "DensityFileError",
    "check_sample_type",
    "check_samples",
    "from_volumetric_data",
    "load_density",
    "read_composition",
    "read_structure",
    "read_chgcar",
    "read_cube",
    "read_gpaw_npz",
    "write_gpaw_npz",
]

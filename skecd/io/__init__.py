"""Reading and writing electronic charge densities.

One density type, :class:`ChargeDensity` (a pymatgen ``Structure`` and the valence
density in electrons per cubic Angstrom on a grid over its cell), and readers for
VASP volumetric files (parsed by pymatgen), pymatgen ``VolumetricData`` objects
the ``.npz`` files written by skecd's GPAW builder, and Gaussian cube files
(parsed by ASE, converted from Bohr and e/Bohr^3).
"""

from ._cube import read_cube
from ._density import ChargeDensity
from ._readers import (
    DensityFileError,
    from_volumetric_data,
    load_density,
    read_chgcar,
    read_gpaw_npz,
    write_gpaw_npz,
)

__all__ = [
    "ChargeDensity",
    "DensityFileError",
    "from_volumetric_data",
    "load_density",
    "read_chgcar",
    "read_cube",
    "read_gpaw_npz",
    "write_gpaw_npz",
]

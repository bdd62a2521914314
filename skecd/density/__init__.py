"""Computing valence charge densities with GPAW (optional extra ``skecd[dft]``).

:func:`compute_density` computes the valence pseudo density of any pymatgen
``Structure`` with exactly the settings of the densities bundled with skecd
(:data:`GPAW_SETTINGS`, recorded in the data manifest), and
:func:`build_densities` (the ``skecd density`` command) does so for a JSON file
of structures with several worker processes, resumably, recording failures.
GPAW is imported only when a density is computed; without it those functions
raise an ImportError that says how to install it.
"""

from ._builder import build_densities
from ._gpaw import compute_density, import_gpaw
from ._settings import (
    GPAW_SETTINGS,
    describe_settings,
    estimated_cost,
    initial_magnetic_moments,
    primitive_standard_cell,
)
from ._structures import read_structure_records, read_structures

__all__ = [
    "GPAW_SETTINGS",
    "build_densities",
    "compute_density",
    "describe_settings",
    "estimated_cost",
    "import_gpaw",
    "initial_magnetic_moments",
    "primitive_standard_cell",
    "read_structure_records",
    "read_structures",
]

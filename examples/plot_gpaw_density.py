"""
Computing a charge density with GPAW
====================================

:func:`skecd.density.compute_density` computes the valence charge density of any pymatgen
structure with the open-source DFT code GPAW, with exactly the settings of the densities
bundled with skecd, and returns a :class:`~skecd.io.ChargeDensity` that every skecd
transformer takes. GPAW is an optional dependency (``pip install "skecd[dft]"``).

.. note::

   The calculation below runs only where GPAW and its PAW setups are installed. Where they are
   not, the code is shown but not run, and the output of the page says so.
"""

# %%
# The settings
# ------------
from skecd.density import describe_settings

for key, value in describe_settings().items():
    print(f"{key:>12}: {value}")

# %%
# Is GPAW here?
# -------------
from skecd.density import import_gpaw

try:
    import_gpaw()
    HAVE_GPAW = True
except ImportError as exc:
    HAVE_GPAW = False
    print(
        f"GPAW is not installed where this page was built, so the next cells are shown "
        f"without running the calculation.\n({exc})"
    )

# %%
# Compute the density of aluminium
# --------------------------------
# An FCC crystal with one atom in its primitive cell: a few CPU seconds. The structure is
# built with pymatgen; ``compute_density`` reduces it to its primitive standard cell first.
import matplotlib.pyplot as plt
from pymatgen.core import Lattice, Structure

aluminium = Structure(
    Lattice.cubic(4.04), ["Al"] * 4, [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]
)

if HAVE_GPAW:
    from skecd.density import compute_density

    rho = compute_density(aluminium)
    print(f"{rho.formula}: grid {rho.grid_shape}, {rho.n_electrons:.3f} valence electrons")

    fig, ax = plt.subplots(figsize=(4.5, 4))
    image = ax.imshow(rho.total[:, :, 0].T, origin="lower", cmap="viridis")
    ax.set_title("Al: GPAW valence density, plane k = 0 of the primitive cell")
    fig.colorbar(image, ax=ax, label="e/A^3")
    plt.show()

# %%
# Many materials at once
# ----------------------
# For a JSON file of structures, the ``skecd density`` command (or
# :func:`skecd.density.build_densities`) runs several worker processes, writes one ``.npz`` per
# material (read them with :func:`skecd.io.read_gpaw_npz`), resumes a killed run, and records
# failures without stopping::
#
#     skecd density --help

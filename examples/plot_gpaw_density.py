"""
Computing a charge density with GPAW
====================================

:func:`skecd.density.compute_density` computes the valence charge density of any pymatgen
structure with the open-source DFT code GPAW, with exactly the settings of the densities
bundled with skecd, and returns a :class:`~skecd.io.ChargeDensity` that every skecd
transformer takes. GPAW is an optional dependency (``pip install "skecd[dft]"``).

.. note::

   The calculation below runs only where GPAW and its PAW setups are installed. Where they are
   not, the page says so and plots the density of aluminium that skecd ships instead (computed
   by GPAW with the same settings).
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
        "GPAW is not installed where this page was built: the calculation below is shown "
        f"but not run, and the figure shows the density skecd ships instead.\n({exc})"
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
    source = "computed here"
else:
    # Without GPAW, the density skecd ships for aluminium (mp-134), which GPAW computed
    # with the same settings, stands in, so that the figure below still shows the result.
    from skecd.datasets import get_data_dir
    from skecd.io import read_gpaw_npz

    rho = read_gpaw_npz(get_data_dir() / "ecd_gpaw" / "mp-134.npz")
    source = "bundled with skecd (mp-134), GPAW is not installed here"
print(f"{rho.formula}: grid {rho.grid_shape}, {rho.n_electrons:.3f} valence electrons ({source})")

fig, ax = plt.subplots(figsize=(4.5, 4), layout="constrained")
image = ax.imshow(rho.total[:, :, 0].T, origin="lower", cmap="viridis")
ax.set_title("Al: GPAW valence density,\nplane k = 0 of the primitive cell")
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

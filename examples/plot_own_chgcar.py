"""
Using your own CHGCAR files
===========================

skecd reads VASP volumetric files (``CHGCAR``, ``CHG``, ``AECCAR*``, ``PARCHG``, plain or
compressed) with pymatgen and converts them to :class:`skecd.io.ChargeDensity`, the one density
type every skecd transformer accepts. Here we read the real VASP files bundled with skecd, check
their units, and draw a slice of one.
"""

# %%
# The bundled VASP files
# ----------------------
# Five real CHGCAR files ship with skecd for input/output tests (see
# ``skecd/datasets/data/README.md`` for where each comes from). Point the readers at your own
# files in the same way.
from importlib.resources import files

import matplotlib.pyplot as plt
import numpy as np

from skecd.io import load_density, read_chgcar

chgcar_dir = files("skecd.datasets") / "data" / "chgcar"
paths = sorted(p for p in chgcar_dir.iterdir() if p.name.endswith(".CHGCAR.gz"))
for path in paths:
    print(path.name)

# %%
# Units: a CHGCAR stores density times cell volume
# ------------------------------------------------
# VASP writes :math:`V\rho` so that the plain average of the file's numbers is the electron
# count. skecd divides by the volume on reading: ``total`` is in electrons per cubic
# Angstrom, and its mean times the volume is again the electron count.
for path in paths:
    rho = read_chgcar(path)
    spin = "spin-polarised" if rho.spin is not None else "not spin-polarised"
    print(
        f"{rho.formula:>8}  grid {str(rho.grid_shape):>14}  V = {rho.volume:7.2f} A^3  "
        f"max density {rho.total.max():8.3f} e/A^3  electrons {rho.n_electrons:7.2f}  ({spin})"
    )

# %%
# Silicon has four valence electrons per atom, and the file holds one atom (the FCC primitive
# cell), so its density integrates to 4. The same numbers come back through
# :func:`skecd.io.load_density`, which every transformer calls on each sample, whatever you
# pass: a path, a pymatgen ``Chgcar`` or a ``ChargeDensity``.
si_path = next(p for p in paths if p.name.startswith("Si_fcc"))
si = load_density(si_path)
print(f"Si: {si.n_electrons:.3f} valence electrons in the cell")

# %%
# A slice through the density
# ---------------------------
# The grid runs over the cell: point ``(i, j, k)`` sits at fractional coordinates
# ``(i/nx, j/ny, k/nz)``. We draw the plane ``k = 0`` (the plane spanned by the first two
# lattice vectors through the origin atom), repeated twice along each direction to show its
# periodicity, in the oblique coordinates of the primitive cell.
nx, ny, nz = si.grid_shape
plane = np.tile(si.total[:, :, 0], (2, 2))
a, b = si.structure.lattice.matrix[0], si.structure.lattice.matrix[1]
u, v = np.meshgrid(np.arange(2 * nx) / nx, np.arange(2 * ny) / ny, indexing="ij")
xy = u[..., None] * a + v[..., None] * b
# Cartesian coordinates in the plane: first axis along a, second perpendicular to it in (a, b)
e1 = a / np.linalg.norm(a)
e2 = b - (b @ e1) * e1
e2 /= np.linalg.norm(e2)

fig, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
# the points are the grid's own (an oblique mesh): Gouraud shading colours between them
mesh = ax.pcolormesh(xy @ e1, xy @ e2, plane, shading="gouraud", cmap="viridis")
ax.set_aspect("equal")
ax.set_xlabel("x (Angstrom)")
ax.set_ylabel("y (Angstrom)")
ax.set_title("Si, FCC primitive cell:\nvalence density, plane k = 0")
fig.colorbar(mesh, ax=ax, label="electrons per cubic Angstrom")
plt.show()

# %%
# Writing back
# ------------
# :meth:`skecd.io.ChargeDensity.to_chgcar` returns a pymatgen ``Chgcar`` (density times volume
# again), which pymatgen can write to disk with ``write_file``.
chg = si.to_chgcar()
print(f"mean of the stored values: {chg.data['total'].mean():.3f} (the electron count)")

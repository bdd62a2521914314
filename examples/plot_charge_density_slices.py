"""
Charge densities of a stiff and a soft material
===============================================

What the CNNs see: slices through the valence charge densities of the material with the
highest and the one with the lowest bulk modulus in the bundled dataset (after the paper's
Figure 1). Stiff materials tend to have dense, directional bonding charge between atoms; soft
ones, diffuse charge with wide empty regions.
"""

# %%
# Pick the two materials
# ----------------------
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from skecd.datasets import load_fcc_elastic
from skecd.preprocessing import ChargeDensityVoxelizer

bunch = load_fcc_elastic()
bulk = bunch.target[:, 0]
chosen = [int(np.argmax(bulk)), int(np.argmin(bulk))]
for i in chosen:
    print(
        f"{bunch.formulas[i]:>8} ({bunch.material_ids[i]}): K_VRH = {bulk[i]:.1f} GPa, "
        f"G_VRH = {bunch.target[i, 1]:.1f} GPa"
    )

# %%
# Voxelise in the conventional cubic cell
# ---------------------------------------
# The densities are stored on the primitive cell. To compare the two crystals in the same
# orientation, we sample them on the conventional cubic cell of each Fm-3m crystal
# (``frame="conventional"``), 48 points along each cube edge.
voxelizer = ChargeDensityVoxelizer(grid_size=48, frame="conventional")
cubes = voxelizer.fit_transform([bunch.data[i] for i in chosen])[:, 0]
print(cubes.shape)

# %%
# Slices through the cube
# -----------------------
# Three planes perpendicular to the cube's third axis: through the cube face (z = 0), a
# quarter and half-way up. Same logarithmic colour scale for both materials.
depths = [0, 12, 24]
norm = LogNorm(vmin=1e-3, vmax=max(c.max() for c in cubes))
fig, axes = plt.subplots(2, 3, figsize=(9, 6.2), constrained_layout=True)
for row, (i, cube) in enumerate(zip(chosen, cubes)):
    for col, k in enumerate(depths):
        ax = axes[row, col]
        image = ax.imshow(
            np.clip(cube[:, :, k].T, 1e-3, None),
            origin="lower",
            norm=norm,
            cmap="magma",
            extent=(0, 1, 0, 1),
        )
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"z = {k / 48:.2f} c", fontsize=9)
    axes[row, 0].set_ylabel(f"{bunch.formulas[i]}\nK = {bulk[i]:.0f} GPa", fontsize=10)
fig.colorbar(image, ax=axes, shrink=0.8, label="valence density (e/A^3)")
fig.suptitle("Valence charge density, conventional cubic cell")
plt.show()

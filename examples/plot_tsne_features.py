"""
t-SNE of Magpie features and of charge densities
================================================

After the paper's Figure 4: a two-dimensional t-SNE map of the materials, once from their
Magpie composition features and once from their max-pooled charge densities, coloured by
whether a material belongs to the training or the test set when one element is left out
(:class:`~skecd.model_selection.LeaveOneElementOut`). Where the test materials sit apart from
the training ones, a model must extrapolate.
"""

# %%
# Features
# --------
# Magpie features from the formulas; for the density, the 20³ voxel cube of each material
# max-pooled over 4³ blocks to 5³ = 125 values.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.manifold import TSNE
from sklearn.preprocessing import StandardScaler

from skecd.datasets import load_fcc_elastic
from skecd.model_selection import LeaveOneElementOut, element_split_summary
from skecd.preprocessing import ChargeDensityVoxelizer, MagpieFeaturizer

bunch = load_fcc_elastic()
formulas = bunch.formulas
magpie = MagpieFeaturizer().fit_transform(formulas)
cubes = ChargeDensityVoxelizer(grid_size=20).fit_transform(bunch.data)[:, 0]
pooled = cubes.reshape(len(cubes), 5, 4, 5, 4, 5, 4).max(axis=(2, 4, 6)).reshape(len(cubes), -1)
print(magpie.shape, pooled.shape)

# %%
# The left-out element
# --------------------
# The element present in the most materials.
summary = element_split_summary(formulas, min_count=20)
element = summary["n_test"].idxmax()
cv = LeaveOneElementOut(elements=[element])
train, test = next(cv.split(magpie, groups=formulas))
print(f"left out {element}: {len(test)} test, {len(train)} training materials")

# %%
# t-SNE maps
# ----------
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
for ax, (name, features) in zip(
    axes, [("Magpie features", magpie), ("max-pooled charge density", np.log10(pooled + 1e-4))]
):
    embedding = TSNE(perplexity=30, init="pca", max_iter=500, random_state=0).fit_transform(
        StandardScaler().fit_transform(features)
    )
    ax.scatter(*embedding[train].T, s=10, c="tab:blue", alpha=0.6, label="training")
    ax.scatter(*embedding[test].T, s=14, c="tab:red", alpha=0.8, label=f"test (contains {element})")
    ax.set_title(name)
    ax.set_xticks([])
    ax.set_yticks([])
axes[0].legend(loc="best", fontsize=9)
fig.suptitle(f"t-SNE of the bundled materials, {element} left out")
fig.tight_layout()
plt.show()

"""
Grid search over the convolution widths of a CNN
================================================

The regressors of :mod:`skecd.models` expose their layer widths as ``module__*`` parameters,
so :class:`~sklearn.model_selection.GridSearchCV` tunes them like any scikit-learn
hyper-parameter. Here we search the number of filters of the two convolutions of the 3D CNN
(:class:`~skecd.models.ECD3DCNNRegressor`) on the bulk modulus of the bundled dataset.

Grid, widths and epochs are tiny so that the page builds in seconds; the paper's network has
200 filters in its first convolution and is trained on 60³ grids.
"""

# %%
# Voxelise once
# -------------
# The voxeliser learns nothing from the data, so we apply it once before the search instead
# of in every fold (with ``make_pipeline(ChargeDensityVoxelizer(), ECD3DCNNRegressor())`` the
# parameters would be named ``ecd3dcnnregressor__module__conv1_channels``).
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import GridSearchCV, KFold

from skecd.datasets import load_fcc_elastic
from skecd.models import ECD3DCNNRegressor
from skecd.preprocessing import ChargeDensityVoxelizer

torch.set_num_threads(2)

bunch = load_fcc_elastic()
X = ChargeDensityVoxelizer(grid_size=20).fit_transform(bunch.data)
y = bunch.target[:, 0]  # K_VRH, GPa
print(X.shape, X.dtype)

# %%
# Search
# ------
net = ECD3DCNNRegressor(
    module__dense_widths=(32, 16), lr=1e-3, max_epochs=10, batch_size=64, random_state=0
)
param_grid = {"module__conv1_channels": [4, 16], "module__conv2_channels": [8, 32]}
search = GridSearchCV(
    net, param_grid, cv=KFold(2, shuffle=True, random_state=0), scoring="neg_mean_absolute_error"
)
search.fit(X, y)
print("best:", search.best_params_, f"MAE = {-search.best_score_:.1f} GPa")

# %%
# Results
# -------
results = pd.DataFrame(search.cv_results_)
table = results.pivot(
    index="param_module__conv1_channels",
    columns="param_module__conv2_channels",
    values="mean_test_score",
)
mae = -table.to_numpy(dtype=float)
print(table)

fig, ax = plt.subplots(figsize=(4.8, 4))
image = ax.imshow(mae, cmap="viridis_r")
ax.set_xticks(np.arange(mae.shape[1]), table.columns)
ax.set_yticks(np.arange(mae.shape[0]), table.index)
ax.set_xlabel("module__conv2_channels")
ax.set_ylabel("module__conv1_channels")
for (i, j), value in np.ndenumerate(mae):
    ax.text(j, i, f"{value:.1f}", ha="center", va="center", color="white")
fig.colorbar(image, ax=ax, label="2-fold CV MAE (GPa)")
ax.set_title("3D CNN: filters of the two convolutions")
plt.show()

"""
Parity plots of predicted against DFT moduli
============================================

After the paper's Figure 5: predicted against DFT bulk and shear moduli for held-out materials,
for the random-forest baseline on Magpie features and for the 3D CNN on charge densities, both
fitted to the two targets at once (``y`` of shape ``(n, 2)``).

The CNN here is tiny and briefly trained so that the page builds in seconds; the benchmark
(``skecd benchmark``, see :ref:`benchmark`) trains the full models.
"""

# %%
# Data and split
# --------------
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skecd.datasets import load_fcc_elastic
from skecd.models import ECD3DCNNRegressor
from skecd.preprocessing import ChargeDensityVoxelizer, MagpieFeaturizer

torch.set_num_threads(2)

bunch = load_fcc_elastic()
indices = np.arange(len(bunch.data))
train, test = train_test_split(indices, test_size=0.25, random_state=0)
Y = bunch.target  # (n, 2): K_VRH, G_VRH in GPa

# %%
# Two models
# ----------
models = {
    "RF + Magpie": (
        make_pipeline(MagpieFeaturizer(), RandomForestRegressor(n_estimators=50, random_state=0)),
        bunch.formulas,
    ),
    "3D CNN + ECD": (
        make_pipeline(
            ChargeDensityVoxelizer(grid_size=20),
            ECD3DCNNRegressor(
                module__conv1_channels=16,
                module__conv2_channels=32,
                module__dense_widths=(64, 32),
                lr=1e-3,
                max_epochs=30,
                random_state=0,
            ),
        ),
        bunch.data,
    ),
}
predictions = {}
for name, (model, X) in models.items():
    X = np.asarray(X, dtype=object)
    model.fit(list(X[train]), Y[train])
    predictions[name] = model.predict(list(X[test]))

# %%
# Parity plots
# ------------
fig, axes = plt.subplots(2, 2, figsize=(8, 8), constrained_layout=True)
for row, (name, pred) in enumerate(predictions.items()):
    for col, target in enumerate(bunch.target_names):
        ax = axes[row, col]
        true = Y[test, col]
        ax.scatter(true, pred[:, col], s=12, alpha=0.7)
        lim = [0, 1.05 * max(true.max(), pred[:, col].max())]
        ax.plot(lim, lim, color="grey", lw=1)
        ax.set(xlim=lim, ylim=lim, xlabel=f"DFT {target} (GPa)", ylabel=f"predicted {target} (GPa)")
        r2 = r2_score(true, pred[:, col])
        mae = mean_absolute_error(true, pred[:, col])
        ax.set_title(f"{name}\nR2 = {r2:.2f}, MAE = {mae:.1f} GPa", fontsize=10)
        print(f"{name:>13} {target}: R2 = {r2:.2f}, MAE = {mae:.1f} GPa")
plt.show()

"""
Quick start: from charge densities to a fitted regressor
========================================================

A scikit-learn :class:`~sklearn.pipeline.Pipeline` that voxelises charge densities
(:class:`~skecd.preprocessing.ChargeDensityVoxelizer`) and trains the paper's 3D CNN
(:class:`~skecd.models.ECD3DCNNRegressor`) on the bulk modulus of the bundled dataset, then
predicts for held-out materials and for a VASP CHGCAR file.

The network here is much smaller than the paper's (a 20³ grid, narrow layers, few epochs) so
that this page builds in seconds on a laptop CPU; see :ref:`models` for the full architecture.
"""

# %%
# Load the bundled data
# ---------------------
# :func:`~skecd.datasets.load_fcc_elastic` returns real GPAW valence densities
# (:class:`~skecd.io.ChargeDensity`) of Fm-3m crystals and their DFT bulk and shear moduli
# (GPa) from the Materials Project.
import matplotlib.pyplot as plt
import torch
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skecd.datasets import get_sample_chgcar_paths, load_fcc_elastic
from skecd.models import ECD3DCNNRegressor
from skecd.preprocessing import ChargeDensityVoxelizer

torch.set_num_threads(2)

bunch = load_fcc_elastic()
X, y = bunch.data, bunch.target[:, 0]  # K_VRH, GPa
print(f"{len(X)} materials, targets {bunch.target_names}")
print(f"first: {bunch.formulas[0]}, grid {X[0].grid_shape}, K_VRH = {y[0]:.1f} GPa")

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)

# %%
# Build and fit the pipeline
# --------------------------
# The voxeliser resamples every density onto a 20³ cube over its cell (the paper's frame,
# ``frame="cell"``), giving an array of shape ``(n, 1, 20, 20, 20)``; the regressor is a
# skorch net whose layer widths are set through ``module__*`` parameters.
model = make_pipeline(
    ChargeDensityVoxelizer(grid_size=20),
    ECD3DCNNRegressor(
        module__conv1_channels=16,
        module__conv2_channels=32,
        module__dense_widths=(64, 32),
        lr=1e-3,
        max_epochs=40,
        random_state=0,
    ),
)
model.fit(X_train, y_train)

# %%
# Predict held-out materials
# --------------------------
y_pred = model.predict(X_test)
print(
    f"test MAE = {mean_absolute_error(y_test, y_pred):.1f} GPa, R2 = {r2_score(y_test, y_pred):.2f}"
)

fig, ax = plt.subplots(figsize=(4.5, 4.5))
ax.scatter(y_test, y_pred, s=14, alpha=0.7)
lim = [0, max(y_test.max(), y_pred.max()) * 1.05]
ax.plot(lim, lim, color="grey", lw=1)
ax.set(
    xlim=lim,
    ylim=lim,
    xlabel="DFT K_VRH (GPa)",
    ylabel="predicted K_VRH (GPa)",
    title="3D CNN on charge densities (held-out 20%)",
)
plt.show()

# %%
# Predict from a CHGCAR file
# --------------------------
# The pipeline takes anything :func:`skecd.io.load_density` reads, so a path to a VASP
# CHGCAR works as input directly. Here, one of the VASP files bundled with skecd (silicon in a
# one-atom FCC cell). Mind that the model was trained on GPAW pseudo-densities: a VASP
# density of the same crystal is similar but not identical, so treat this as a demonstration
# of the interface, not as a validated prediction.
si_path = get_sample_chgcar_paths()["Si_fcc"]
print(f"{si_path.name}: predicted K_VRH = {model.predict([si_path])[0]:.1f} GPa")

# %%
# The fitted pipeline is an ordinary scikit-learn estimator: it clones, pickles and drops into
# :func:`~sklearn.model_selection.cross_validate` and
# :class:`~sklearn.model_selection.GridSearchCV` (see the other examples).
net = model[-1]
print(f"{type(net).__name__} fitted on inputs of shape {net.input_shape_} (channels, D, D, D)")

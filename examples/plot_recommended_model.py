"""
The recommended model: cross-validation, intervals and a VASP CHGCAR
====================================================================

skecd's recommended model (:func:`~skecd.models.make_interstitial_late_fusion`, registry
name ``interstitial_late_fusion``, the default of ``skecd predict``) averages a network on
the charge density *between* the atoms and a random forest on density descriptors and
Magpie composition features. Leaving the cores out makes it read a VASP CHGCAR and a GPAW
density of the same crystal alike. This page cross-validates it in a scikit-learn
:class:`~sklearn.pipeline.Pipeline`, wraps it with calibrated prediction intervals
(:class:`~skecd.models.ConformalIntervalRegressor`) and predicts a VASP CHGCAR beside its
GPAW twin.

To keep the page quick it uses 96 of the 369 bundled materials and a short training; the
shipped model was trained on 2,315 materials (see :ref:`predict`).
"""

# %%
# Cross-validate the recommended model
# ------------------------------------
# The model is an ordinary pipeline: featurisers, then a
# :class:`~skecd.models.LateFusionRegressor` of the network and the forest, fitted on both
# moduli at once.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import KFold, cross_validate

from skecd.datasets import get_sample_chgcar_paths, get_sample_gpaw_twin_paths, load_fcc_elastic
from skecd.io import read_chgcar, read_gpaw_npz
from skecd.models import (
    ConformalIntervalRegressor,
    interstitial_columns,
    make_interstitial_late_fusion,
)

data = load_fcc_elastic()
rng = np.random.default_rng(0)
subset = rng.choice(len(data.data), 96, replace=False)
X = [data.data[i] for i in subset]
y = data.target[subset]  # K_VRH, G_VRH in GPa

model = make_interstitial_late_fusion(n_estimators=30, random_state=0)
model.set_params(regressor__network__net__max_epochs=60)
scores = cross_validate(model, X, y, cv=KFold(3, shuffle=True, random_state=0), scoring="r2")
print(f"3-fold R2 (K and G together): {scores['test_score'].round(2)}")

# %%
# Calibrated intervals
# --------------------
# :class:`~skecd.models.ConformalIntervalRegressor` fits the model on the training folds of
# its own ``cv``, measures the held-out errors in log space relative to the model's own
# spread (its forest's trees and its network's members), and turns them into intervals
# with crepes. The features are computed once here, and the wrapper fits the late fusion on
# them.
features = model[0].fit_transform(X)
late = make_interstitial_late_fusion(
    n_estimators=30, random_state=0, columns=interstitial_columns()
)
late.set_params(network__net__max_epochs=60)
train, test = np.arange(72), np.arange(72, 96)
conformal = ConformalIntervalRegressor(late, cv=4, random_state=0)
conformal.fit(features.iloc[train], y[train])
lower, upper = conformal.predict_interval(features.iloc[test], confidence=0.9)
inside = np.mean((lower <= y[test]) & (y[test] <= upper), axis=0)
print(f"90% intervals cover {inside.round(2)} of 24 held-out K and G values")

fig, ax = plt.subplots(figsize=(5, 4.5))
pred = conformal.predict(features.iloc[test])
ax.errorbar(
    y[test, 0],
    pred[:, 0],
    yerr=[pred[:, 0] - lower[:, 0], upper[:, 0] - pred[:, 0]],
    fmt="o",
    ms=4,
    alpha=0.7,
)
lim = [1, 1.2 * max(y[test, 0].max(), upper[:, 0].max())]
ax.plot(lim, lim, color="grey", lw=1)
ax.set(
    xscale="log",
    yscale="log",
    xlabel="DFT K_VRH (GPa)",
    ylabel="predicted K_VRH (GPa), 90% interval",
    title="Held-out materials",
)
fig.tight_layout()
plt.show()

# %%
# A VASP CHGCAR and its GPAW twin
# -------------------------------
# The bundled VASP CHGCAR of TiIr and the GPAW density of the same structure (computed by
# skecd with the training settings) differ near the nuclei: GPAW's setups count Ti's and
# Ir's semicore states as valence (27 electrons against VASP's 19). The profiles beyond 1 Å
# of every nucleus hardly differ, so the predictions agree.
vasp = read_chgcar(get_sample_chgcar_paths()["TiIr_mp-1235"])
twin = read_gpaw_npz(get_sample_gpaw_twin_paths()["TiIr_mp-1235"])
both = model.fit(X, y).predict([vasp, twin])
print(f"TiIr K_VRH, G_VRH from VASP: {both[0].round(1)}, from GPAW: {both[1].round(1)} GPa")

"""
Leave-one-element-out cross-validation
======================================

How well does a model predict materials containing a chemical element it has never seen?
:class:`~skecd.model_selection.LeaveOneElementOut` makes one split per element (test set: every
material containing it). We evaluate the paper's composition baseline, a random forest on
Magpie features, on the bulk modulus of the bundled dataset, and compare it with an ordinary
shuffled 5-fold cross-validation.
"""

# %%
# Data and splits
# ---------------
# :func:`~skecd.model_selection.element_split_summary` gives, per element, the test and
# training set sizes (the paper's Table 1). We keep elements present in at least 20 materials.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import KFold, cross_validate

from skecd.datasets import load_fcc_elastic
from skecd.model_selection import LeaveOneElementOut, element_split_summary
from skecd.preprocessing import MagpieFeaturizer

bunch = load_fcc_elastic()
formulas, y = bunch.formulas, bunch.target[:, 0]  # K_VRH, GPa

summary = element_split_summary(formulas, min_count=20)
print(summary)

# %%
# Magpie features
# ---------------
# :class:`~skecd.preprocessing.MagpieFeaturizer` computes matminer's 132 Magpie features from
# the formulas. It learns nothing from the data, so featurising once before the
# cross-validation is equivalent to (and faster than) putting it in a pipeline with the forest:
# ``make_pipeline(MagpieFeaturizer(), RandomForestRegressor())``.
X = MagpieFeaturizer().fit_transform(formulas)
print(X.shape)

# %%
# Cross-validate
# --------------
# ``groups`` carries the chemistry: the formulas.
forest = RandomForestRegressor(n_estimators=50, random_state=0, n_jobs=1)
scoring = ("r2", "neg_mean_absolute_error")
loeo = cross_validate(
    forest, X, y, groups=formulas, cv=LeaveOneElementOut(min_count=20), scoring=scoring
)
kfold = cross_validate(forest, X, y, cv=KFold(5, shuffle=True, random_state=0), scoring=scoring)

summary["R2"] = loeo["test_r2"]
summary["MAE (GPa)"] = -loeo["test_neg_mean_absolute_error"]
print(summary.round(2))
print(
    f"shuffled 5-fold: R2 = {kfold['test_r2'].mean():.2f}, "
    f"MAE = {-kfold['test_neg_mean_absolute_error'].mean():.1f} GPa"
)

# %%
# Per-element scores
# ------------------
# Leaving an element out is a harder test than a random split: the grey line is the mean
# score of the shuffled 5-fold cross-validation.
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
positions = np.arange(len(summary))
for ax, column, reference in [
    (axes[0], "R2", kfold["test_r2"].mean()),
    (axes[1], "MAE (GPa)", -kfold["test_neg_mean_absolute_error"].mean()),
]:
    ax.barh(positions, summary[column], color="tab:blue")
    ax.axvline(reference, color="grey", ls="--", label="shuffled 5-fold")
    ax.set_xlabel(column)
axes[0].set_yticks(positions, summary.index)
axes[0].set_ylabel("left-out element")
axes[1].legend(loc="lower right")
fig.suptitle("Random forest on Magpie features, bulk modulus, leave one element out")
fig.tight_layout()
plt.show()

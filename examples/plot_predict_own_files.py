"""
Predict the moduli of your own files
====================================

``skecd predict FILES...`` gives the bulk and shear moduli of each input (CHGCAR, CHG,
``.npz`` or cube files of charge densities, or CIF and POSCAR structure files) with a spread,
a calibrated interval (``--interval 0.9``) and applicability warnings, using the recommended
model shipped with skecd. This example does the same
from Python on the real VASP CHGCAR files bundled with skecd and on a CIF file written from a
bundled structure.
"""

# %%
# The shipped models
# ------------------
# Each shipped model file records how it was trained: the data set and its hash, the
# settings, and its 5-fold cross-validation figures.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from skecd.datasets import get_sample_chgcar_paths, load_fcc_elastic_structures
from skecd.inference import predict_files, train_model
from skecd.persistence import load_model, save_model
from skecd.pretrained import available_models, load_pretrained

print("shipped:", available_models())
model, manifest = load_pretrained(return_manifest=True)  # the recommended model
meta = manifest["metadata"]
print(meta["label"], "trained on", meta["dataset"]["n"], "materials of", meta["dataset"]["name"])
print("crystal systems:", meta["coverage"]["crystal_systems"])
for target, m in meta["metrics"]["cv"].items():
    print(
        f"  {target}: 5-fold CV R2 {m['r2']['mean']:.3f} +- {m['r2']['std']:.3f}, "
        f"MAE {m['mae']['mean']:.1f} GPa"
    )

# %%
# CHGCAR files
# ------------
# The spread mixes the network's members and the forest's trees; the 90% interval is
# calibrated on the model's out-of-fold errors. These densities come from VASP while the model
# was trained on GPAW densities; it reads only the density between the atoms, where the codes
# agree, so it does not warn about that. The warnings name what lies outside what the model
# saw: a crystal system, an element, a modulus outside its training data, or (Fe3O4, a
# reference-type file) an electron count that does not fit the composition.
chgcars = list(get_sample_chgcar_paths().values())
rows, errors = predict_files(model, manifest, chgcars, interval=0.9, progress=False)
table = pd.DataFrame(rows).set_index("id")
table.index = [Path(i).name for i in table.index]
columns = ["formula", "K_VRH", "K_VRH_lower", "K_VRH_upper", "G_VRH", "G_VRH_lower", "G_VRH_upper"]
with pd.option_context("display.width", 120, "display.max_columns", None):
    print(table[columns].round(1))
print(errors or "no errors")

# %%
for name, warnings in table["warnings"].items():
    print(f"{name}: {warnings}")

# %%
# A structure file
# ----------------
# The shipped models read charge densities: for a structure, ``skecd predict`` computes it
# with GPAW and the training settings (``pip install 'skecd[dft]'``; seconds to minutes per
# crystal). A model on composition features needs no density; we train one here (RF+Magpie,
# the same command as ``skecd train --model rf_magpie``) and predict a CIF written from a
# bundled structure.
workdir = Path(tempfile.mkdtemp())
raw = load_fcc_elastic_structures()
cif = workdir / f"{raw.formulas[0]}.cif"
raw.structures[0].to(filename=str(cif))

rf_magpie, rf_meta, _ = train_model(
    "rf_magpie", "bundled", settings={"n_estimators": 50}, progress=False
)
path = save_model(rf_magpie, workdir / "rf_magpie.skecd", metadata=rf_meta)
rf_magpie, rf_manifest = load_model(path, return_manifest=True)
(row,), _ = predict_files(rf_magpie, rf_manifest, [cif], progress=False)
print(
    f"{row['formula']}: K_VRH {row['K_VRH']:.1f} +- {row['K_VRH_std']:.1f} GPa, "
    f"G_VRH {row['G_VRH']:.1f} +- {row['G_VRH_std']:.1f} GPa "
    f"(DFT: {raw.target[0, 0]:.1f}, {raw.target[0, 1]:.1f})"
)

# %%
# The predictions with their 90% intervals
# ----------------------------------------
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
for ax, target in zip(axes, ["K_VRH", "G_VRH"]):
    error = [table[target] - table[f"{target}_lower"], table[f"{target}_upper"] - table[target]]
    ax.barh(table.index, table[target], xerr=error, color="tab:blue")
    ax.set_xlabel(f"{target} (GPa)")
axes[0].set_title("Recommended model on the bundled CHGCARs", loc="left", fontsize=10)
fig.tight_layout()
plt.show()

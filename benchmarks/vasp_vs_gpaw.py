"""How much do VASP and GPAW densities of the same crystal move the models' predictions?

    python benchmarks/vasp_vs_gpaw.py [--models NAME_OR_FILE,...] [--out DIR] [--compute]

For each bundled VASP CHGCAR (``skecd/datasets/data/chgcar``) with a GPAW twin
(``skecd/datasets/data/chgcar_gpaw``: the density of the CHGCAR's own structure,
computed by skecd with the training settings; ``--compute`` recomputes the twins with
:func:`skecd.density.compute_density`, which needs GPAW), both densities are given to
each model (the shipped ones by default; model files work too), and the shift
``log10(VASP / GPAW)`` of each prediction is set beside the model's own 5-fold
cross-validated log10-MAE from its manifest. The table goes to standard output as
Markdown, and with the predictions and spreads as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from skecd import load_model
from skecd.datasets import get_sample_chgcar_paths, get_sample_gpaw_twin_paths
from skecd.io import read_chgcar, read_gpaw_npz, write_gpaw_npz
from skecd.models import predict_with_std
from skecd.pretrained import available_models, get_model_path

TARGETS = ("K_VRH", "G_VRH")


def _densities(compute):
    """VASP density and GPAW twin of every bundled CHGCAR that has a twin (one structure
    for both Li files; Fe3O4's CHGCAR is a reference-type density, 395 electrons: none)."""
    paths = get_sample_chgcar_paths()
    out = {}
    for name, twin_path in get_sample_gpaw_twin_paths().items():
        vasp = read_chgcar(paths[name])
        if compute:
            from skecd.density import compute_density

            start = time.perf_counter()
            write_gpaw_npz(compute_density(vasp.structure), twin_path)
            print(f"{twin_path.name}: GPAW density in {time.perf_counter() - start:.1f} s")
        out[name] = {"VASP": vasp, "GPAW": read_gpaw_npz(twin_path)}
    return out


def _model(name):
    path = Path(name) if Path(name).is_file() else get_model_path(name)
    model, manifest = load_model(path, return_manifest=True)
    cv = ((manifest.get("metadata") or {}).get("metrics") or {}).get("cv") or {}
    return model, {t: cv.get(t, {}).get("log10_mae", {}).get("mean") for t in TARGETS}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(available_models()))
    parser.add_argument("--out", default="vasp_vs_gpaw")
    parser.add_argument("--compute", action="store_true", help="recompute the GPAW twins")
    parser.add_argument(
        "--fit-fcc",
        default="",
        metavar="NAME,...",
        help="also registry models fitted here on the 369 bundled Fm-3m materials (seed 0), "
        "to compare models trained on the same data",
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    densities = _densities(args.compute)
    rows = []
    models = [(name, *_model(name)) for name in args.models.split(",") if name]
    for name in filter(None, args.fit_fcc.split(",")):
        from skecd.benchmark import make_model
        from skecd.datasets import load_fcc_elastic

        data = load_fcc_elastic()
        fitted = make_model(name).fit(data.data, data.target)
        models.append((f"{name} (fitted on the 369 Fm-3m)", fitted, dict.fromkeys(TARGETS)))
    for model_name, model, cv_mae in models:
        for name, d in densities.items():
            row = {"model": Path(model_name).name.removesuffix(".skecd"), "crystal": name}
            for code in ("VASP", "GPAW"):
                y, std = predict_with_std(model, [d[code]])
                for j, t in enumerate(TARGETS):
                    row[f"{t}_{code}"] = float(y[0, j])
                    row[f"{t}_{code}_std"] = float(std[0, j])
            for t in TARGETS:
                row[f"{t}_log10_shift"] = float(np.log10(row[f"{t}_VASP"] / row[f"{t}_GPAW"]))
                row[f"{t}_cv_log10_mae"] = cv_mae[t]
            rows.append(row)
    (out / "vasp_vs_gpaw.json").write_text(json.dumps(rows, indent=1) + "\n")
    lines = [
        "| model | crystal | target | VASP (GPa) | GPAW (GPa) | shift log10(VASP/GPAW) "
        "| model's CV log10-MAE |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        for t in TARGETS:
            mae = r[f"{t}_cv_log10_mae"]
            lines.append(
                f"| {r['model']} | {r['crystal']} | {t} | {r[f'{t}_VASP']:.1f} "
                f"| {r[f'{t}_GPAW']:.1f} | {r[f'{t}_log10_shift']:+.3f} "
                f"| {'' if mae is None else f'{mae:.3f}'} |"
            )
    summary = [
        "",
        "| model | mean abs shift K_VRH | mean abs shift G_VRH | CV log10-MAE K / G |",
        "|---|---|---|---|",
    ]
    for name in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == name]
        k, g = (np.mean([abs(r[f"{t}_log10_shift"]) for r in mine]) for t in TARGETS)
        cv = " / ".join(
            "" if mine[0][f"{t}_cv_log10_mae"] is None else f"{mine[0][f'{t}_cv_log10_mae']:.3f}"
            for t in TARGETS
        )
        summary.append(f"| {name} | {k:.3f} | {g:.3f} | {cv} |")
    text = "\n".join(lines + summary)
    (out / "vasp_vs_gpaw.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()

"""How much do VASP and GPAW densities of the same crystal move the shipped models' predictions?

    python benchmarks/vasp_vs_gpaw.py [--models NAME,...] [--out DIR]

For each bundled VASP CHGCAR of a crystal in the training set's chemistry (Si_fcc,
Li_bcc_nospin), the GPAW density of its structure is computed with the training
settings (:func:`skecd.density.compute_density`); both densities are given to each
shipped model, and the predictions, their spreads and the wall time of each step
are printed as a Markdown table (and written as JSON to ``--out``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from skecd.datasets import get_sample_chgcar_paths
from skecd.density import compute_density
from skecd.inference import predict_with_std
from skecd.io import read_chgcar, write_gpaw_npz
from skecd.pretrained import available_models, load_pretrained

CRYSTALS = ("Si_fcc", "Li_bcc_nospin")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(available_models()))
    parser.add_argument("--out", default="vasp_vs_gpaw")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    paths = get_sample_chgcar_paths()
    densities = {}
    for name in CRYSTALS:
        vasp = read_chgcar(paths[name])
        start = time.perf_counter()
        gpaw = compute_density(vasp.structure)
        seconds = time.perf_counter() - start
        write_gpaw_npz(gpaw, out / f"{name}_gpaw.npz")
        densities[name] = {"VASP": vasp, "GPAW": gpaw, "gpaw_seconds": seconds}
        print(f"{name}: GPAW density in {seconds:.1f} s", flush=True)
    rows = []
    for model_name in args.models.split(","):
        model, manifest = load_pretrained(model_name, return_manifest=True)
        targets = manifest["metadata"]["targets"]
        for name, d in densities.items():
            row = {"model": model_name, "crystal": name}
            for code in ("VASP", "GPAW"):
                y, std = predict_with_std(model, [d[code]])
                for j, t in enumerate(targets):
                    row[f"{t}_{code}"] = float(y[0, j])
                    row[f"{t}_{code}_std"] = float(std[0, j])
            rows.append(row)
    (out / "vasp_vs_gpaw.json").write_text(json.dumps(rows, indent=1) + "\n")
    print("| model | crystal | target | VASP (GPa) | GPAW (GPa) | difference |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        for t in ("K_VRH", "G_VRH"):
            v, g = r[f"{t}_VASP"], r[f"{t}_GPAW"]
            print(
                f"| {r['model']} | {r['crystal']} | {t} | {v:.1f} ± {r[f'{t}_VASP_std']:.1f} "
                f"| {g:.1f} ± {r[f'{t}_GPAW_std']:.1f} | {v - g:+.1f} ({(v - g) / g:+.0%}) |"
            )


if __name__ == "__main__":
    main()

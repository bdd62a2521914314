"""Redraw the parity overview figures of a published benchmark result set from its records.

Nothing is refitted: the predictions are read from the result records under
``RESULTS_DIR/results/<protocol>/<model>/<target>/*.json`` (each verified against its
checksum) and drawn by the benchmark's report code
(:func:`skecd.benchmark._report.parity_plots`): one figure per protocol and target, at
most six models each (the paper's Table 2 models, then the others). The figures go to
``RESULTS_DIR/plots/parity_<protocol>_<target>_<group>.png``; the per-model figures are
not kept. Usage::

    python benchmarks/replot_parity.py --results-dir benchmarks/results/skecd_benchmark_extended
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

from skecd.benchmark._report import parity_plots
from skecd.benchmark._runner import _record_checksum


def read_records(results_dir):
    """Every result record under ``results_dir/results``, checksums verified."""
    records = []
    for path in sorted((Path(results_dir) / "results").glob("*/*/*/*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("checksum") != _record_checksum(record):
            raise ValueError(f"{path}: checksum mismatch: the record changed after it was written")
        records.append(record)
    return records


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results-dir", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        records = read_records(args.results_dir)
    except (OSError, ValueError) as exc:
        print(f"replot_parity: {exc}", file=sys.stderr)
        return 1
    if not records:
        print(f"replot_parity: no result records under {args.results_dir}/results", file=sys.stderr)
        return 1
    out = args.results_dir / "plots"
    out.mkdir(exist_ok=True)
    overview = re.compile(r"parity_[a-z]+_[KG]_VRH_(paper|more(_\d+)?)\.png")
    for protocol in sorted({r["protocol"] for r in records}):
        with tempfile.TemporaryDirectory() as tmp:
            for path in parity_plots(records, tmp, protocol):
                if overview.fullmatch(path.name):
                    shutil.copyfile(path, out / path.name)
                    print(out / path.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The ``skecd density`` command: GPAW densities for a JSON file of structures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import command_help

__all__ = ["add_parser"]


def add_parser(subparsers):
    """Register the ``density`` subcommand on the ``skecd`` command's subparsers.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The object returned by ``ArgumentParser.add_subparsers``.

    Returns
    -------
    argparse.ArgumentParser
        The subcommand's parser (its ``func`` runs the command).
    """
    parser = subparsers.add_parser(
        "density",
        help=command_help("density"),
        description=(
            "Compute the valence charge density of every structure in STRUCTURES "
            "(a JSON list, optionally gzipped, of records with 'material_id' and "
            "'structure' as pymatgen Structure.as_dict(), like the bundled "
            "fcc_fm3m_elastic.json.gz; or a CIF or POSCAR file, or a folder of them, "
            "named by file name) with GPAW and the settings of skecd's bundled "
            "densities. Writes OUTDIR/<material_id>.npz, skipping those that exist "
            "(resumable), records failures in OUTDIR/failures.json without stopping, "
            "and the run in OUTDIR/MANIFEST.json. Needs GPAW: pip install 'skecd[dft]'."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "structures",
        metavar="STRUCTURES",
        help="JSON (.json or .json.gz) file of records, a structure file (CIF, POSCAR, ...) or a "
        "folder of them (its other files are skipped, each named)",
    )
    parser.add_argument("-o", "--outdir", required=True, help="output directory")
    parser.add_argument(
        "-j",
        "--n-jobs",
        type=int,
        default=None,
        help="workers, one material each (default: 1, or every worker of a dask cluster)",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="address of a dask.distributed scheduler (tcp://host:8786): compute on its workers",
    )
    parser.add_argument("--log-dir", default=None, help="directory for GPAW's text logs")
    parser.add_argument(
        "--existing",
        action="append",
        default=[],
        metavar="DIR",
        help="another directory of densities: materials found there are not computed again "
        "(repeatable)",
    )
    parser.add_argument(
        "--retry-failed",
        action="store_true",
        help="compute again the materials recorded as failed in OUTDIR/failures.json",
    )
    parser.add_argument(
        "--order",
        choices=("file", "cost"),
        default="file",
        help="compute in the order of STRUCTURES, or the cheapest first (k-points x sites x "
        "volume, more when spin-polarised): the most densities per CPU-hour",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=_run)
    return parser


def _fail(message, status):
    print(f"skecd density: error: {message}", file=sys.stderr)
    return status


def _run(args) -> int:
    # here: `skecd --help` must not import pymatgen
    from ._builder import build_densities
    from ._structures import read_structures

    if not Path(args.structures).exists():
        return _fail(f"{args.structures}: no such structures file or folder", 2)
    for option, value in (("--outdir", args.outdir), ("--log-dir", args.log_dir)):
        if value is not None and Path(value).exists() and not Path(value).is_dir():
            return _fail(f"{option} {value}: exists and is not a folder", 2)
    if args.n_jobs == 0:
        return _fail("--n-jobs must not be 0", 2)
    try:
        # every file of a folder is used or named (as in `skecd predict`)
        skipped = []
        records = read_structures(args.structures, skipped=skipped)
        for path, why in skipped:
            print(f"skecd density: skipped {path}: {why}", file=sys.stderr)
        manifest = build_densities(
            records,
            args.outdir,
            n_jobs=args.n_jobs,
            progress=not args.no_progress,
            log_dir=args.log_dir,
            existing=args.existing,
            retry_failed=args.retry_failed,
            scheduler=args.scheduler,
            order=args.order,
        )
    except (ImportError, ValueError, OSError) as exc:
        # a bad structures file (its message names the file and record), no GPAW (with
        # the install hint), an output folder that cannot be written
        return _fail(str(exc).splitlines()[0] if str(exc).strip() else repr(exc), 1)
    counts = manifest["counts"]
    print(
        f"{counts['done']} done, {counts['failed']} failed, {counts['missing']} missing "
        f"({counts['skipped']} skipped: already there or failed before); "
        f"see {args.outdir}/MANIFEST.json"
    )
    for entry in manifest["failed"]:
        print(f"failed: {entry['material_id']} ({entry['formula']}): {entry['error']}")
    return 0 if counts["missing"] == 0 else 1

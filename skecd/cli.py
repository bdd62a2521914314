"""The ``skecd`` command line.

Each subcommand lives in the subpackage it belongs to and registers itself
through an ``add_parser(subparsers)`` function that sets ``func`` on its parser:
``skecd benchmark`` (:mod:`skecd.benchmark`), ``skecd density``
(:mod:`skecd.density`), ``skecd train`` and ``skecd predict`` (:mod:`skecd.inference`).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ._version import __version__

# subcommand -> module providing add_parser(subparsers)
_SUBCOMMANDS = {
    "benchmark": "skecd.benchmark._cli",
    "density": "skecd.density._cli",
    "train": "skecd.inference._train_cli",
    "predict": "skecd.inference._predict_cli",
}


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``skecd`` command."""
    parser = argparse.ArgumentParser(
        prog="skecd",
        description="Elastic moduli of crystals from their electronic charge density.",
    )
    parser.add_argument("--version", action="version", version=f"skecd {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in _SUBCOMMANDS.values():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.add_parser(subparsers)
    return parser


def main(argv=None) -> int:
    """Run the ``skecd`` command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

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

# subcommand -> (module providing add_parser(subparsers), one-line help). The modules
# import torch, scikit-learn and pymatgen: only the subcommand being run is imported, so
# that ``skecd --help`` and ``skecd --version`` start in a fraction of a second.
_SUBCOMMANDS = {
    "benchmark": (
        "skecd.benchmark._cli",
        "run the paper's benchmark (cross-validation, leave-one-element-out) on bundled data",
    ),
    "density": (
        "skecd.density._cli",
        "compute GPAW valence charge densities for a JSON file of structures",
    ),
    "train": (
        "skecd.inference._train_cli",
        "fit a model of the benchmark registry and save it to one safe file",
    ),
    "predict": (
        "skecd.inference._predict_cli",
        "predict K_VRH and G_VRH of CHGCAR, .npz, cube or structure files",
    ),
}


def command_help(name):
    """The one-line help of subcommand ``name``, as ``skecd --help`` lists it."""
    return _SUBCOMMANDS[name][1]


def build_parser(commands=None) -> argparse.ArgumentParser:
    """Return the argument parser of the ``skecd`` command.

    Parameters
    ----------
    commands : iterable of str or None, default=None
        The subcommands whose full parsers are built (their modules are imported);
        the others are listed with their one-line help only. None: all of them.

    Returns
    -------
    argparse.ArgumentParser
        The parser; a subcommand's ``func`` runs it.
    """
    commands = set(_SUBCOMMANDS) if commands is None else set(commands)
    parser = argparse.ArgumentParser(
        prog="skecd",
        description="Elastic moduli of crystals from their electronic charge density.",
    )
    parser.add_argument("--version", action="version", version=f"skecd {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in _SUBCOMMANDS.items():
        if name not in commands:
            subparsers.add_parser(name, help=help_text)
            continue
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
    argv = sys.argv[1:] if argv is None else list(argv)
    # the first word that is not an option names the subcommand (the top-level
    # options, --help and --version, take no value)
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    parser = build_parser([command] if command in _SUBCOMMANDS else [])
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

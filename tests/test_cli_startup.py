"""``skecd --help`` and ``--version`` start fast: they import no heavy library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from skecd import cli

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ["torch", "sklearn", "pymatgen", "matplotlib", "skorch", "pandas"]

# Runs the console script's main() in a fresh interpreter and reports which heavy
# modules got imported; SystemExit (argparse's exit after --help) is caught.
_PROBE = """
import contextlib, io, json, sys
from skecd.cli import main
HEAVY = sys.argv.pop(1).split(",")
with contextlib.redirect_stdout(io.StringIO()) as out:
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
print(json.dumps({"out": out.getvalue(), "heavy": [m for m in HEAVY if m in sys.modules]}))
"""


def _probe(*argv):
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, ",".join(HEAVY), *argv],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=path),
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize("argv", [["--help"], ["--version"], []], ids=["help", "version", "none"])
def test_top_level_cli_imports_no_heavy_library(argv):
    result = _probe(*argv)
    assert result["heavy"] == []
    if argv == ["--help"]:
        for name in ("benchmark", "density", "train", "predict"):
            assert name in result["out"]
            assert cli.command_help(name).split()[0] in result["out"]


def test_a_subcommand_builds_only_its_own_parser():
    result = _probe("density", "--help")
    assert "torch" not in result["heavy"]  # the density command needs no torch
    assert "--order" in result["out"]


def test_listed_help_is_the_subcommands_own():
    """The one-line help listed by ``skecd --help`` is the one each full parser registers."""
    parser = cli.build_parser()
    (subparsers,) = (a for a in parser._actions if a.dest == "command")
    listed = {c.dest: c.help for c in subparsers._choices_actions}
    assert listed == {name: cli.command_help(name) for name in cli._SUBCOMMANDS}

"""``skecd benchmark --help``: every option says what it does, and its default once."""

from __future__ import annotations

import contextlib
import io
import re

import pytest

from skecd.benchmark import DEFAULT_SETTINGS
from skecd.cli import main


@pytest.fixture(scope="module")
def options():
    """``{"--opt": "its help on one line"}`` from ``skecd benchmark --help``."""
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COLUMNS", "1000")  # argparse wraps at the terminal's width: one line each
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_info:
            main(["benchmark", "--help"])
    assert exit_info.value.code == 0
    entries = []  # an option's line, and the help's continuation lines below it
    for line in out.getvalue().split("options:", 1)[1].splitlines():
        if re.match(r"  -", line):
            entries.append(line)
        elif entries:
            entries[-1] += " " + line
    found = [re.match(r"\s*(?:-\w, )?(--[a-z-]+)\S*(?: \S+)?\s{2,}(.*)", e) for e in entries]
    return {m.group(1): " ".join(m.group(2).split()) for m in found if m}


def test_every_option_has_a_help_naming_its_default_at_most_once(options):
    assert {"--batch-size", "--seed", "--models", "--grid", "--targets"} <= set(options)
    for option, text in options.items():
        assert len(text.split()) >= 3, (option, text)  # says what it is
        assert text.count("default") <= 1, (option, text)  # not "(default X) (default: None)"
        assert "['" not in text, (option, text)  # no Python list as a default


def _ends_with_default(text, value):
    return re.search(rf"\(default:? {re.escape(str(value))}\)$", text) is not None


def test_batch_size_seed_and_targets_show_their_defaults(options):
    batch, seed = options["--batch-size"], options["--seed"]
    assert "batch" in batch and _ends_with_default(batch, DEFAULT_SETTINGS["batch_size"]), batch
    # a default of 0 is shown too (0 == False, but it is not False)
    assert DEFAULT_SETTINGS["seed"] == 0
    assert "seed" in seed and _ends_with_default(seed, 0), seed
    assert _ends_with_default(options["--targets"], "K_VRH,G_VRH"), options["--targets"]

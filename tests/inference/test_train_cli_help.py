"""``skecd train --help``: every setting option says what it does and its default."""

from __future__ import annotations

import re

import pytest

from skecd.benchmark import DEFAULT_SETTINGS
from skecd.cli import main


def _option_help(text, option):
    """The help of ``option`` in argparse's ``--help`` output, on one line."""
    flat = " ".join(text.split())
    match = re.search(rf" {option}(?: [A-Z_{{}},a-z]+)? (.*?)(?= --[a-z]|$)", flat)
    assert match, option
    return match.group(1)


def test_train_settings_options_have_a_help_with_their_default(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "setting of skecd.benchmark.DEFAULT_SETTINGS" not in out
    for key in ("grid", "frame", "batch_size", "n_estimators", "device", "n_jobs", "seed"):
        text = _option_help(out, f"--{key.replace('_', '-')}")
        assert text.endswith(f"(default {DEFAULT_SETTINGS[key]})"), (key, text)
        assert len(text.split()) >= 4, (key, text)  # says what it is, not only its default
    assert "batch" in _option_help(out, "--batch-size")
    assert "seed" in _option_help(out, "--seed")
    assert f"(default {DEFAULT_SETTINGS['epochs']})" in _option_help(out, "--epochs")


def test_train_refuses_an_unknown_frame_in_one_usage_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--output", "m.skecd", "--frame", "rotated"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --frame: invalid choice: 'rotated'" in err


def test_train_data_and_targets_say_their_default(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert _option_help(out, "--data").endswith("(default bundled)")
    assert _option_help(out, "--targets").endswith("(default K_VRH,G_VRH)")


def test_predict_interval_help_names_the_columns_it_writes(capsys):
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    assert "K_VRH_lower_GPa" in " ".join(capsys.readouterr().out.split())

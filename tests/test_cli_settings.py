"""One settings table: both commands take the same options, with the same help and names."""

from __future__ import annotations

import re

import pytest

from skecd._settings import DATA_SETS, SETTINGS
from skecd.benchmark import DEFAULT_SETTINGS, make_model
from skecd.cli import build_parser, main


def _help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    return " ".join(capsys.readouterr().out.split())


def _option_help(flat, option):
    match = re.search(rf" {option}(?: [A-Z_{{}},a-z]+)? (.*?)(?= --[a-z]|$)", flat)
    assert match, option
    return match.group(1)


def test_train_and_benchmark_offer_every_setting_with_one_help(capsys):
    train, benchmark = _help("train", capsys), _help("benchmark", capsys)
    assert DEFAULT_SETTINGS == {s.name: s.default for s in SETTINGS}
    for s in SETTINGS:
        text = _option_help(train, s.option)
        assert text == _option_help(benchmark, s.option), s.name
        default = "off" if s.default is None else s.default
        assert text.endswith(f"(default {default})"), text
    for name in DATA_SETS:  # the data sets by the same names
        assert f"{name}: {DATA_SETS[name]}" in train and f"{name}: {DATA_SETS[name]}" in benchmark


def test_the_documented_invariant_epochs_are_the_networks_own():
    from skecd.models import InvariantFusionRegressor

    epochs = next(s for s in SETTINGS if s.name == "epochs")
    own = InvariantFusionRegressor().max_epochs
    assert f"always train their own {own} epochs" in epochs.help
    for name in ("radial_ecd", "invariant_ecd"):  # --epochs does not reach them
        assert make_model(name, epochs=7)[-1].max_epochs == own
    assert make_model("cnn3d_ecd", epochs=7)[-1].max_epochs == 7


@pytest.mark.parametrize("command", ["train", "benchmark"])
@pytest.mark.parametrize(("old", "new"), [("fcc", "bundled"), ("all", "extended")])
def test_the_former_data_set_names_still_work_with_a_note(command, old, new, capsys):
    parser = build_parser([command])
    args = parser.parse_args(
        [command, "--data", old, "--output", "m.skecd"][: 3 + 2 * (command == "train")]
    )
    assert args.data == new
    err = capsys.readouterr().err
    assert err == f"skecd {command}: note: --data {old} is now called {new}\n"


def test_patience_zero_is_off_and_own_epochs_keep_the_class_default():
    from skecd.benchmark._cli import _options

    parser = build_parser(["benchmark"])
    args = parser.parse_args(
        ["benchmark", "--patience", "0", "--epochs", "own", "--models", "rf_magpie"]
    )
    _, _, settings, _ = _options(args)
    assert settings["patience"] is None and settings["epochs"] is None
    assert {k: v for k, v in settings.items() if k not in ("patience", "epochs")} == {
        k: v for k, v in DEFAULT_SETTINGS.items() if k not in ("patience", "epochs")
    }

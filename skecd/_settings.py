"""The settings shared by ``skecd train`` and ``skecd benchmark``, each defined once.

:data:`SETTINGS` gives each setting's name, default, command-line type (which checks
its range), choices and help; :data:`skecd.benchmark.DEFAULT_SETTINGS` and both
commands' options are built from it. Only the standard library is imported here,
so that ``skecd --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "DATA_ALIASES",
    "DATA_SETS",
    "OWN_EPOCHS",
    "SETTINGS",
    "Setting",
    "add_setting_options",
    "data_set_name",
    "default_settings",
    "integer",
]


def integer(low, high=None, high_text=None):
    """An argparse type: a whole number from ``low`` (to ``high``), else one usage line.

    Parameters
    ----------
    low : int
        Smallest value allowed.
    high : int, default=None
        Largest value allowed (None: no limit).
    high_text : str, default=None
        How the message writes ``high`` (``"2**32 - 1"``).

    Returns
    -------
    callable
        ``parse(text) -> int``, raising ``argparse.ArgumentTypeError``.
    """
    bounds = f">= {low}" if high is None else f"from {low} to {high_text or high}"

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected an integer {bounds}, got {text!r}")
        return value

    return parse


#: ``--epochs`` value that keeps each network class's own ``max_epochs``.
OWN_EPOCHS = "own"


def _epochs(text):
    """``--epochs``: a number of epochs, or ``own`` (each network class's default)."""
    if text == OWN_EPOCHS:
        return text
    try:
        return integer(1)(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected an integer >= 1 or {OWN_EPOCHS!r}, got {text!r}"
        ) from None


def _n_jobs(text):
    """``--n-jobs``: -1 (all cores) or a positive integer."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(
            f"expected -1 (all cores) or a positive integer, got {text!r}"
        )
    return value


@dataclass(frozen=True)
class Setting:
    """One setting of the models: its name, default, command-line type and help.

    Parameters
    ----------
    name : str
        Key in :data:`skecd.benchmark.DEFAULT_SETTINGS`; the option is
        ``--name`` with ``-`` for ``_``.
    default : object
        Its value when not given.
    type : callable
        Parses (and range-checks) the option's text.
    help : str
        Help text of the option (its default is appended).
    choices : tuple of str, default=None
        The values allowed, if a fixed list.
    """

    name: str
    default: object
    type: Callable
    help: str
    choices: tuple | None = None

    @property
    def option(self):
        """The command-line option, ``--batch-size`` for ``batch_size``."""
        return "--" + self.name.replace("_", "-")


#: Every setting, once. ``epochs`` sizes the CNNs and CGCNN only: the networks of the
#: invariant recipe always train their own ``max_epochs``.
SETTINGS = (
    Setting("grid", 32, integer(1), "edge of the density cube of the voxel models (paper: 60)"),
    Setting(
        "frame",
        "cell",
        str,
        "voxeliser frame (skecd.preprocessing.ChargeDensityVoxelizer)",
        ("cell", "conventional"),
    ),
    Setting(
        "epochs",
        30,
        _epochs,
        f"max_epochs of the CNNs and CGCNN; {OWN_EPOCHS!r}: each class's own. The networks "
        "of the invariant recipe (invariant_*, radial_*, *late_fusion) always train their "
        "own 300 epochs (cosine schedule, no early stopping)",
    ),
    Setting("batch_size", 32, integer(1), "samples per training batch of the networks"),
    Setting("n_estimators", 50, integer(1), "random-forest trees (the paper's RF+Magpie: 50)"),
    Setting("device", "cpu", str, "torch device of the networks"),
    Setting("n_jobs", 1, _n_jobs, "parallel jobs of featurisers and forests, and torch threads"),
    Setting(
        "seed",
        0,
        integer(0, 2**32 - 1, "2**32 - 1"),
        "random seed of the splits, the subset and every model",
    ),
    Setting(
        "patience",
        None,
        integer(0),
        "early stopping of the CNNs and CGCNN: hold out part of the training data and stop "
        "after this many epochs without a lower validation loss, keeping the best epoch "
        "(--epochs is then the cap); 0 or unset: train every epoch",
    ),
)

#: The bundled and the extended data set, by the names both commands use.
DATA_SETS = {
    "bundled": "the 369 Fm-3m materials shipped with skecd",
    "extended": "every material of skecd.datasets.load_elastic whose density is found "
    "(bundled ones included)",
}
#: Former names of the data sets (``skecd train --data fcc|all``), still accepted.
DATA_ALIASES = {"fcc": "bundled", "all": "extended"}


def default_settings():
    """The default of every setting.

    Returns
    -------
    dict
        ``{name: default}`` of :data:`SETTINGS`, in their order.
    """
    return {s.name: s.default for s in SETTINGS}


def data_set_name(name, prog=None):
    """``name`` of a data set, its former name (fcc, all) mapped to the current one.

    Parameters
    ----------
    name : str
        A data-set name, a former one, or anything else (a table's path: returned as is).
    prog : str, default=None
        The command, for a one-line note on standard error when a former name is used.

    Returns
    -------
    str
    """
    new = DATA_ALIASES.get(name)
    if new is None:
        return name
    if prog is not None:
        print(f"{prog}: note: --data {name} is now called {new}", file=sys.stderr)
    return new


def add_setting_options(parser, names=None):
    """Add an option per setting to ``parser``, each with default None (not given).

    Parameters
    ----------
    parser : argparse.ArgumentParser
    names : iterable of str, default=None
        The settings to add (None: all of :data:`SETTINGS`).
    """
    names = None if names is None else set(names)
    for s in SETTINGS:
        if names is not None and s.name not in names:
            continue
        default = "off" if s.default is None else s.default
        parser.add_argument(
            s.option,
            dest=s.name,
            type=s.type,
            default=None,
            choices=s.choices,
            help=f"{s.help} (default {default})",
        )

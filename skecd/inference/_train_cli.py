"""Registers ``skecd train`` (see :mod:`skecd.inference._cli`)."""

from ._cli import add_train_parser as add_parser

__all__ = ["add_parser"]

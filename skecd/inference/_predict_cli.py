"""Registers ``skecd predict`` (see :mod:`skecd.inference._cli`)."""

from ._cli import add_predict_parser as add_parser

__all__ = ["add_parser"]

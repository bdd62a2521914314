"""Utilities shared across skecd: discovery of public estimators and input checks."""

from ._discovery import all_estimators

__all__ = ["all_estimators"]

"""Utilities shared across skecd: discovery of public estimators, the parallel backend."""

from ._discovery import all_estimators
from ._parallel import parallel_backend

__all__ = ["all_estimators", "parallel_backend"]

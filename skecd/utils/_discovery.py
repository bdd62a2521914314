"""Discovery of skecd's public estimators (used by the common tests and the docs)."""

from __future__ import annotations

import importlib
import inspect

from sklearn.base import BaseEstimator

_SUBPACKAGES = ("preprocessing", "models", "model_selection")


def all_estimators():
    """List every public scikit-learn estimator of skecd.

    Returns
    -------
    list of (name, class) tuples
        Sorted by name; abstract classes and private names are left out.
    """
    found = {}
    for sub in _SUBPACKAGES:
        module = importlib.import_module(f"skecd.{sub}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and not inspect.isabstract(obj)
                and not name.startswith("_")
            ):
                found[name] = obj
    return sorted(found.items())

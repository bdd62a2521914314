"""What a skecd model file may name: an allow-list of classes, functions and skops types.

A model file never names code to import: every class or function it refers to is
looked up by name in the tables below, built from objects imported here, so a
tampered file can at most pick one of these. The same tables give the JSON
encoding of network hyper-parameters (:func:`encode`, :func:`decode`).
"""

from __future__ import annotations

import builtins
import inspect
import numbers

import numpy as np
import sklearn.compose
import sklearn.ensemble
import sklearn.linear_model
import sklearn.multioutput
import sklearn.pipeline
import sklearn.preprocessing
import sklearn.tree
import torch
from skorch import callbacks as skorch_callbacks
from skorch.dataset import Dataset, ValidSplit
from torch.optim import lr_scheduler

from .. import models, preprocessing
from ..models import _cgcnn, _fusion

__all__ = [
    "allowed_object",
    "allowed_type_names",
    "decode",
    "encode",
    "object_name",
]


def _name(obj):
    return f"{obj.__module__}.{obj.__qualname__}"


def _skecd_objects():
    objs = [getattr(models, n) for n in models.__all__]
    objs += [getattr(preprocessing, n) for n in preprocessing.__all__]
    objs += [_fusion._FusionHeadRegressor, _cgcnn.collate_graphs]
    return [o for o in objs if inspect.isclass(o) or inspect.isfunction(o)]


_SKLEARN_ESTIMATORS = [
    sklearn.pipeline.Pipeline,
    sklearn.pipeline.FeatureUnion,
    sklearn.multioutput.MultiOutputRegressor,
    sklearn.compose.TransformedTargetRegressor,
    sklearn.compose.ColumnTransformer,
    sklearn.ensemble.RandomForestRegressor,
    sklearn.ensemble.ExtraTreesRegressor,
    sklearn.ensemble.GradientBoostingRegressor,
    sklearn.tree.DecisionTreeRegressor,
    sklearn.tree.ExtraTreeRegressor,
    sklearn.linear_model.Ridge,
    sklearn.linear_model.LinearRegression,
    sklearn.preprocessing.StandardScaler,
    sklearn.preprocessing.MinMaxScaler,
    sklearn.preprocessing.FunctionTransformer,
]

_TORCH_AND_SKORCH = [
    torch.nn.L1Loss,
    torch.nn.MSELoss,
    torch.nn.HuberLoss,
    torch.nn.SmoothL1Loss,
    torch.optim.Adam,
    torch.optim.AdamW,
    torch.optim.SGD,
    torch.optim.RMSprop,
    torch.utils.data.DataLoader,
    lr_scheduler.StepLR,
    lr_scheduler.MultiStepLR,
    lr_scheduler.ExponentialLR,
    lr_scheduler.CosineAnnealingLR,
    lr_scheduler.ReduceLROnPlateau,
    Dataset,
    ValidSplit,
    skorch_callbacks.EarlyStopping,
    skorch_callbacks.ProgressBar,
    skorch_callbacks.LRScheduler,
    skorch_callbacks.EpochScoring,
    skorch_callbacks.GradientNormClipping,
    skorch_callbacks.PrintLog,
    builtins.print,
]


def _table():
    objs = _skecd_objects() + _SKLEARN_ESTIMATORS + _TORCH_AND_SKORCH
    return {_name(o): o for o in objs}


_TABLE = None


def _objects():
    global _TABLE
    if _TABLE is None:
        _TABLE = _table()
    return _TABLE


def allowed_object(name):
    """Return the class or function named ``name`` if it is on the allow-list.

    Parameters
    ----------
    name : str
        ``module.QualifiedName`` as written by :func:`object_name`.

    Returns
    -------
    class or function

    Raises
    ------
    ValueError
        If ``name`` is not on the allow-list (nothing is imported).
    """
    obj = _objects().get(name) if isinstance(name, str) else None
    if obj is None:
        raise ValueError(
            f"the model file names {name!r}, which is not one of the classes and functions "
            "skecd model files may contain"
        )
    return obj


def object_name(obj):
    """Return the allow-list name of a class or function, or raise ``TypeError``."""
    name = _name(obj) if hasattr(obj, "__qualname__") else repr(obj)
    if _objects().get(name) is not obj:
        raise TypeError(
            f"{name} is not on skecd's allow-list of classes a model file may hold "
            "(skecd.persistence._allowlist)"
        )
    return name


def allowed_type_names():
    """Names of the classes on the allow-list (the types a model file may build).

    Returns
    -------
    list of str
        ``module.QualifiedName`` of every allow-listed class, sorted.
    """
    return sorted(n for n, o in _objects().items() if inspect.isclass(o))


# --------------------------------------------------------------- JSON codec
def encode(value, where="parameter"):
    """Encode a hyper-parameter as JSON data (allow-listed classes by name).

    Parameters
    ----------
    value : object
        None, bool, number, str, tuple, list, dict with str keys, numpy scalar,
        an allow-listed class or function, or an instance of an allow-listed
        class whose constructor arguments are stored as attributes of the same
        names (skorch callbacks, ``ValidSplit``).
    where : str
        Name of the parameter, for error messages.

    Returns
    -------
    object
        JSON-serialisable data.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic):
        return encode(value.item(), where)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return {"__float__": float(value).hex()}  # exact, and inf/nan survive
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, where) for v in value]}
    if isinstance(value, list):
        return [encode(v, where) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"{where}: only dicts with str keys can be saved")
        return {"__dict__": {k: encode(v, where) for k, v in value.items()}}
    if inspect.isclass(value) or inspect.isroutine(value):
        return {"__object__": object_name(value)}
    name = object_name(type(value))
    params = {
        p: encode(getattr(value, p), f"{where}.{p}")
        for p in inspect.signature(type(value).__init__).parameters
        if p not in ("self", "args", "kwargs")
    }
    return {"__instance__": name, "params": params}


def decode(data):
    """Inverse of :func:`encode`; only allow-listed classes are built."""
    if data is None or isinstance(data, (bool, str, int)):
        return data
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict) or len(data) not in (1, 2):
        raise ValueError(f"malformed parameter in the model file: {data!r}")
    if "__float__" in data:
        return float.fromhex(data["__float__"])
    if "__tuple__" in data:
        return tuple(decode(v) for v in data["__tuple__"])
    if "__dict__" in data:
        return {k: decode(v) for k, v in data["__dict__"].items()}
    if "__object__" in data:
        return allowed_object(data["__object__"])
    if "__instance__" in data:
        cls = allowed_object(data["__instance__"])
        return cls(**{k: decode(v) for k, v in data["params"].items()})
    raise ValueError(f"malformed parameter in the model file: {data!r}")

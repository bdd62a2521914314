"""Models shipped with skecd, ready to predict K_VRH and G_VRH.

:func:`available_models` lists them, :func:`get_model_path` gives a file's path
and :func:`load_pretrained` loads one (with :func:`skecd.load_model`). Each file
records its training data, settings and 5-fold cross-validation figures in its
manifest (:func:`skecd.persistence.read_manifest`). They are rebuilt with
``python benchmarks/train_pretrained.py`` (see the user guide, "Predict your
own materials").
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEFAULT_PRETRAINED", "available_models", "get_model_path", "load_pretrained"]

_DIR = Path(__file__).resolve().parent
#: The model ``skecd predict`` uses without ``--model``: the recommended model
#: (:data:`skecd.benchmark.RECOMMENDED`).
DEFAULT_PRETRAINED = "interstitial_late_fusion"


def available_models():
    """Return the names of the shipped models.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from skecd.pretrained import available_models
    >>> "rf_descriptors_magpie" in available_models()
    True
    """
    return sorted(p.name.removesuffix(".skecd") for p in _DIR.glob("*.skecd"))


def get_model_path(name=DEFAULT_PRETRAINED):
    """Return the path of a shipped model file.

    Parameters
    ----------
    name : str, default="interstitial_late_fusion"
        One of :func:`available_models`.

    Returns
    -------
    pathlib.Path
    """
    path = _DIR / f"{name}.skecd"
    if not path.is_file():
        raise ValueError(f"no shipped model {name!r}; shipped: {available_models()}")
    return path


def load_pretrained(name=DEFAULT_PRETRAINED, *, return_manifest=False):
    """Load a shipped model.

    Parameters
    ----------
    name : str, default="interstitial_late_fusion"
        One of :func:`available_models`.
    return_manifest : bool, default=False
        Also return its manifest (training data, settings, CV figures).

    Returns
    -------
    estimator or (estimator, dict)
    """
    from ..persistence import load_model

    return load_model(get_model_path(name), return_manifest=return_manifest)

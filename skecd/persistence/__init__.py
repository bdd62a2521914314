"""Safe model files: one zip that loads without executing code from it.

:func:`save_model` writes a fitted skecd model (pipelines of featurisers,
random forests, skorch networks) with its configuration and training metadata;
:func:`load_model` reads it back with JSON, safetensors and ``skops.io`` (an
explicit list of trusted types), never with pickle, and refuses files that hold
anything else or come from a newer format version (:class:`ModelFileError`).
"""

from ._format import (
    FORMAT_VERSION,
    ModelFileError,
    ModelVersionWarning,
    describe_estimator,
    load_model,
    read_manifest,
    save_model,
)

__all__ = [
    "FORMAT_VERSION",
    "ModelFileError",
    "ModelVersionWarning",
    "describe_estimator",
    "load_model",
    "read_manifest",
    "save_model",
]

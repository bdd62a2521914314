"""Training and prediction for users' own materials (``skecd train``, ``skecd predict``).

:func:`train_model` fits a model of the benchmark registry on the bundled data
or a table of one's own and gathers its training metadata (data set hash, CV or
validation metrics, element, space-group and density-code coverage);
:func:`predict_files` predicts density and structure files with an uncertainty
(:func:`predict_with_std`) and applicability warnings
(:func:`applicability_warnings`); :func:`read_input` reads one input file.
"""

from ._data import coverage, dataset_hash, expand_inputs, read_input, training_data
from ._predict import applicability_warnings, predict_files, predict_with_std
from ._train import DEFAULT_MODEL, needs_density, train_model

__all__ = [
    "DEFAULT_MODEL",
    "applicability_warnings",
    "coverage",
    "dataset_hash",
    "expand_inputs",
    "needs_density",
    "predict_files",
    "predict_with_std",
    "read_input",
    "train_model",
    "training_data",
]

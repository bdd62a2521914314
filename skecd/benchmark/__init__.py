"""The paper's experiments: ``skecd benchmark`` and its building blocks.

:func:`run_benchmark` fits every model of the registry (:data:`MODELS`) under
5-fold cross-validation (the paper's Table 2) and leave-one-element-out (Table 3)
on the bundled data set and, on the extended data set of every crystal system,
also Fm-3m-to-other-space-groups transfer and leave-one-crystal-system-out,
caching features and per-split results on disk;
:func:`write_report` turns the results into Markdown tables and parity plots.
:func:`make_model` returns any registered model as a scikit-learn Pipeline that
takes charge densities. A model is registered by one :class:`ModelSpec` line in
:data:`MODELS` (its features by a :class:`FeatureSpec` line in :data:`FEATURES`); see
the user guide, "Extending skecd".
"""

from ._metrics import LOG_FLOOR_GPA, log10_mae, regression_metrics
from ._models import (
    DEFAULT_SETTINGS,
    FEATURES,
    GROUPS,
    MODELS,
    RECOMMENDED,
    FeatureSpec,
    ModelSpec,
    make_model,
)
from ._report import cv_table, loeo_table, parity_plots, system_table, write_report
from ._runner import (
    DATA_SETS,
    DEFAULT_LOEO_MIN_COUNT,
    PROTOCOLS,
    TARGETS,
    TRANSFER_SPACE_GROUP,
    element_counts,
    load_benchmark_data,
    locso_systems,
    loeo_elements,
    make_splits,
    run_benchmark,
)

__all__ = [
    "DATA_SETS",
    "DEFAULT_LOEO_MIN_COUNT",
    "DEFAULT_SETTINGS",
    "FEATURES",
    "FeatureSpec",
    "LOG_FLOOR_GPA",
    "GROUPS",
    "MODELS",
    "ModelSpec",
    "RECOMMENDED",
    "PROTOCOLS",
    "TARGETS",
    "TRANSFER_SPACE_GROUP",
    "cv_table",
    "element_counts",
    "load_benchmark_data",
    "locso_systems",
    "log10_mae",
    "loeo_elements",
    "loeo_table",
    "make_model",
    "make_splits",
    "parity_plots",
    "regression_metrics",
    "run_benchmark",
    "system_table",
    "write_report",
]

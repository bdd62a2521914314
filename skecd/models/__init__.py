"""Neural-network regressors (skorch) and their plain torch modules.

The networks of Zhao et al.: ``ECD3DCNNRegressor`` (3D CNN on voxelised
densities), ``SEProjectedCNNRegressor`` (SE + 2D CNN on the three axis
views), ``MagpieCNNRegressor`` (2D CNN on Magpie features) and
``FusionRegressor`` (a head on the penultimate outputs of a Magpie and an ECD
branch). ``InvariantECDRegressor`` and ``InvariantFusionRegressor`` are
skecd's invariant charge-density networks; ``LateFusionRegressor`` averages
unlike models (``make_late_fusion``: the invariant fusion and a forest;
``make_radial_ensemble``: two density-only networks in log and square-root space;
``make_radial_late_fusion``: the radial-profile network and a forest).
``CGCNNRegressor`` is the crystal-graph baseline of Xie & Grossman.
``ConformalIntervalRegressor`` wraps any of them with calibrated prediction intervals
(crepes), normalised by the spread that ``predict_with_std`` reads off the model.
``SkecdNetRegressor`` is the shared skorch base.

``AcceleratedECD3DCNNRegressor`` and ``SkecdAccelerateMixin`` (multi-process
and multi-GPU training through Hugging Face Accelerate) are imported on first
use, as importing skorch's Accelerate support is slow; they are left out of
``__all__`` because they need an ``Accelerator`` argument and the optional
``accelerate`` package.
"""

from ._base import SkecdNetRegressor
from ._cgcnn import CGCNNModule, CGCNNRegressor
from ._conformal import ConformalIntervalRegressor
from ._fusion import FusionHead, FusionRegressor
from ._invariant import (
    InvariantECDNet,
    InvariantECDRegressor,
    InvariantFusionNet,
    InvariantFusionRegressor,
    make_invariant_fusion,
)
from ._late import (
    CODE_ROBUST_DESCRIPTORS,
    CORE_RADIUS,
    INTERSTITIAL_RADII,
    FeaturiserColumns,
    LateFusionRegressor,
    feature_columns,
    interstitial_columns,
    interstitial_features,
    make_interstitial_late_fusion,
    make_late_fusion,
    make_radial_ensemble,
    make_radial_late_fusion,
    table_forest,
)
from ._modules import ECD3DCNN, MagpieCNN, PatchConv3d, SEProjectedCNN
from ._regressors import ECD3DCNNRegressor, MagpieCNNRegressor, SEProjectedCNNRegressor
from ._spread import predict_with_std

__all__ = [
    "CODE_ROBUST_DESCRIPTORS",
    "CORE_RADIUS",
    "INTERSTITIAL_RADII",
    "CGCNNModule",
    "CGCNNRegressor",
    "ConformalIntervalRegressor",
    "ECD3DCNN",
    "ECD3DCNNRegressor",
    "FeaturiserColumns",
    "FusionHead",
    "FusionRegressor",
    "InvariantECDNet",
    "InvariantECDRegressor",
    "InvariantFusionNet",
    "InvariantFusionRegressor",
    "LateFusionRegressor",
    "MagpieCNN",
    "MagpieCNNRegressor",
    "PatchConv3d",
    "SEProjectedCNN",
    "SEProjectedCNNRegressor",
    "SkecdNetRegressor",
    "feature_columns",
    "interstitial_columns",
    "interstitial_features",
    "make_interstitial_late_fusion",
    "make_invariant_fusion",
    "make_late_fusion",
    "make_radial_ensemble",
    "make_radial_late_fusion",
    "predict_with_std",
    "table_forest",
]


_ACCELERATE = ("AcceleratedECD3DCNNRegressor", "SkecdAccelerateMixin")


def __getattr__(name):
    if name in _ACCELERATE:  # lazy: skorch.hf imports accelerate (seconds)
        from . import _accelerate

        return getattr(_accelerate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

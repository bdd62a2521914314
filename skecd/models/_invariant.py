"""A charge-density network that is invariant by construction, with its training recipe.

The network reads the output of :class:`skecd.preprocessing.LocalDensityFeaturizer`:
rotation-invariant descriptors of the density (smoothed density, reduced gradient,
reduced Hessian eigenvalues at physical length scales) at uniform points of the
cell. A shared per-point network (a 1x1 convolution, i.e. a matrix product over all
points of the batch) maps each point to an embedding, and global mean, max and
standard-deviation pooling over the points makes the prediction independent of the
order of the points, hence of the origin, the orientation and the cell (primitive,
conventional, supercell) of the file. The design follows DeepSets / PointNet
(Zaheer et al. 2017; Qi et al. 2017) with Bader-style density descriptors.

The recipe (log10 targets, K and G jointly, AdamW with a cosine schedule, early
stopping on an internal validation split, dropout and weight decay, random subsets
of points as augmentation, a seed ensemble whose spread is an uncertainty) is
exposed as parameters and used by default.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from skorch.callbacks import EarlyStopping, LRScheduler
from skorch.dataset import ValidSplit
from torch import nn

from ._base import SkecdNetRegressor

__all__ = [
    "make_invariant_fusion",
    "InvariantECDNet",
    "InvariantECDRegressor",
    "InvariantFusionNet",
    "InvariantFusionRegressor",
]


def _mlp(n_in, widths, dropout=0.0, last_act=True):
    layers = []
    for i, width in enumerate(widths):
        layers.append(nn.Linear(n_in, int(width)))
        if last_act or i < len(widths) - 1:
            layers.append(nn.GELU())
            if dropout:
                layers.append(nn.Dropout(dropout))
        n_in = int(width)
    return nn.Sequential(*layers), n_in


class _Member(nn.Module):
    """One network of the ensemble: per-point MLP, pooling, optional table branch, head."""

    def __init__(
        self, n_features, n_outputs, point_widths, head_widths, dropout, n_table=0, table_widths=()
    ):
        super().__init__()
        self.point, width = _mlp(n_features, point_widths)
        self.table = None
        n_head = 3 * width
        if n_table:
            self.table, t_width = _mlp(n_table, table_widths, dropout=dropout)
            n_head += t_width
        self.head, last = _mlp(n_head, head_widths, dropout=dropout)
        self.out = nn.Linear(last, n_outputs)

    def features(self, x, table=None):
        h = self.point(x.transpose(1, 2))  # (batch, points, width)
        parts = [h.mean(1), h.amax(1), h.std(1, unbiased=False)]
        if self.table is not None:
            parts.append(self.table(table))
        return self.head(torch.cat(parts, dim=1))

    def forward(self, x, table=None):
        return self.out(self.features(x, table))


class InvariantECDNet(nn.Module):
    """Ensemble of point networks with global pooling over density descriptors.

    Input (n, F, P): F descriptors (channels) at P points. The inputs are
    standardised per channel with buffers set from the training data
    (``input_mean``, ``input_scale``), so the module carries its own scaling.

    Parameters
    ----------
    n_features : int, default=24
        Descriptor channels F (6 per smoothing length of the featuriser).
    n_outputs : int, default=1
        Number of targets.
    point_widths : sequence of int, default=(64, 64, 128)
        Widths of the shared per-point layers (GELU).
    head_widths : sequence of int, default=(128,)
        Widths of the dense layers after pooling (GELU, dropout).
    dropout : float, default=0.1
        Dropout of the head.
    n_members : int, default=3
        Independently initialised networks trained side by side on the same
        batches; the prediction is their mean and their spread the uncertainty.
    train_points : int or None, default=512
        In training, each member sees a random subset of this many points of
        every sample (augmentation; also cheaper). ``None`` uses all points.

    Notes
    -----
    In training mode ``forward`` returns (n, n_members, n_outputs), the member
    predictions; in evaluation mode it returns their mean, (n, n_outputs).
    """

    def __init__(
        self,
        n_features=24,
        n_outputs=1,
        point_widths=(64, 64, 128),
        head_widths=(128,),
        dropout=0.1,
        n_members=3,
        train_points=512,
    ):
        super().__init__()
        if not isinstance(n_members, numbers.Integral) or n_members < 1:
            raise ValueError(f"InvariantECDNet: n_members must be an int >= 1, got {n_members!r}")
        self.train_points = train_points
        self.members = nn.ModuleList(
            _Member(n_features, n_outputs, point_widths, head_widths, dropout)
            for _ in range(int(n_members))
        )
        self.register_buffer("input_mean", torch.zeros(n_features, 1))
        self.register_buffer("input_scale", torch.ones(n_features, 1))

    @staticmethod
    def _copy_stats(mean_buf, scale_buf, values, axes):
        mean = values.mean(axis=axes, dtype=np.float64)
        scale = values.std(axis=axes, dtype=np.float64)
        scale = np.where(scale > 0, scale, 1.0)
        mean_buf.copy_(torch.as_tensor(mean.reshape(mean_buf.shape), dtype=torch.float32))
        scale_buf.copy_(torch.as_tensor(scale.reshape(scale_buf.shape), dtype=torch.float32))

    def set_input_scaling(self, X):
        """Set the per-channel standardisation buffers from training inputs ``X``."""
        self._copy_stats(self.input_mean, self.input_scale, np.asarray(X), (0, 2))

    def _split(self, x):
        """Return (points (n, F, P) standardised, table or None)."""
        return (x - self.input_mean) / self.input_scale, None

    def _subset(self, x):
        n_points = x.shape[-1]
        if not self.training or self.train_points is None or self.train_points >= n_points:
            return x
        idx = torch.randint(0, n_points, (int(self.train_points),), device=x.device)
        return x[..., idx]

    def forward_members(self, x):
        """Predictions of every member, shape (n, n_members, n_outputs)."""
        x, table = self._split(x)
        return torch.stack([m(self._subset(x), table) for m in self.members], dim=1)

    def forward_features(self, x):
        """Mean over the members of the last hidden layer, shape (n, head_widths[-1])."""
        x, table = self._split(x)
        return torch.stack([m.features(self._subset(x), table) for m in self.members]).mean(0)

    def forward(self, x):
        """Member predictions in training mode, their mean in evaluation mode."""
        out = self.forward_members(x)
        return out if self.training else out.mean(1)


class InvariantECDRegressor(SkecdNetRegressor):
    """Charge-density network invariant to cell choice, origin and orientation.

    Takes ``X`` of shape (n, F, P) from
    :class:`skecd.preprocessing.LocalDensityFeaturizer` (use both in a
    ``Pipeline``) and moduli in GPa, one column (K or G) or two (K and G, the
    recommended joint training). The default recipe:

    - targets learnt as ``log10`` of the moduli (``log_target=True``), then
      standardised; predictions are returned in GPa;
    - AdamW (weight decay 1e-3), lr 2e-3 with a cosine schedule over
      ``max_epochs``, batches of 32, smooth-L1 loss;
    - early stopping on an internal validation split of ``validation_fraction``
      (skorch's ``EarlyStopping``, best weights restored) when ``early_stopping``;
    - an ensemble of ``module__n_members`` networks (3), whose spread
      ``predict(X, return_std=True)`` returns.

    Parameters
    ----------
    module : type, default=InvariantECDNet
        The network class.
    log_target : bool, default=True
        Learn log10 of the targets (all targets must then be positive).
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training data and stop when its
        loss has not improved for ``n_iter_no_change`` epochs, keeping the best
        weights. Ignored when ``train_split`` is given.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.
    n_iter_no_change : int, default=15
        Patience of early stopping, in epochs.
    criterion, optimizer, lr, max_epochs, batch_size, train_split, callbacks,
    standardize_y, random_state, device, verbose, **kwargs
        As in :class:`skecd.models.SkecdNetRegressor`, with the defaults above.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from skecd.datasets import load_fcc_elastic
    >>> from skecd.models import InvariantECDRegressor
    >>> from skecd.preprocessing import LocalDensityFeaturizer
    >>> data = load_fcc_elastic()
    >>> model = make_pipeline(
    ...     LocalDensityFeaturizer(n_points=512),
    ...     InvariantECDRegressor(max_epochs=2, early_stopping=False, random_state=0),
    ... ).fit(data.data[:16], data.target[:16])
    >>> mean, std = model[-1].predict(model[0].transform(data.data[:2]), return_std=True)
    >>> mean.shape, std.shape
    ((2, 2), (2, 2))
    """

    _x_ndim = 3
    _input_size_param = "n_features"

    def __init__(
        self,
        module=InvariantECDNet,
        *,
        criterion=torch.nn.SmoothL1Loss,
        optimizer=torch.optim.AdamW,
        lr=2e-3,
        max_epochs=40,
        log_target=True,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=15,
        optimizer__weight_decay=1e-3,
        **kwargs,
    ):
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            optimizer__weight_decay=optimizer__weight_decay,
            **kwargs,
        )
        self.log_target = log_target
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change

    # ------------------------------------------------------------ the recipe
    def get_default_callbacks(self):
        """skorch's defaults, a cosine learning-rate schedule and early stopping."""
        callbacks = list(super().get_default_callbacks()) + [
            (
                "lr_scheduler",
                LRScheduler(
                    policy=torch.optim.lr_scheduler.CosineAnnealingLR,
                    T_max=max(int(self.max_epochs), 1),
                ),
            ),
        ]
        if self._uses_validation():
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_loss",
                        patience=int(self.n_iter_no_change),
                        load_best=True,
                    ),
                )
            )
        return callbacks

    def _uses_validation(self):
        return bool(self.early_stopping) or self.train_split is not None

    def get_split_datasets(self, X, y=None, **fit_params):
        """Split off the early-stopping validation set (seeded by ``random_state``)."""
        if self.train_split is None and self.early_stopping:
            frac = self.validation_fraction
            if not (isinstance(frac, numbers.Real) and 0 < frac < 1):
                raise ValueError(
                    f"{type(self).__name__}: validation_fraction must be in (0, 1), got {frac!r}"
                )
            seed = self.random_state if isinstance(self.random_state, numbers.Integral) else 0
            dataset = self.get_dataset(X, y)
            return ValidSplit(frac, random_state=seed)(dataset, y)
        return super().get_split_datasets(X, y, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Loss of every ensemble member (member predictions are (n, members, outputs))."""
        y_true = y_true.to(y_pred.device)
        if y_pred.ndim == 3:
            y_true = y_true.reshape(len(y_true), 1, -1).expand_as(y_pred)
        return self.criterion_(y_pred, y_true.reshape(y_pred.shape))

    # --------------------------------------------------- data and target scaling
    def _check_y(self, X, y, reset):
        y = super()._check_y(X, y, reset)
        if self.log_target:
            if np.any(y <= 0):
                bad = int(np.argwhere(y <= 0)[0, 0])
                raise ValueError(
                    f"y: log_target=True needs positive moduli, sample {bad} has "
                    f"{y[bad].tolist()} GPa; pass log_target=False to learn raw values."
                )
            y = np.log10(y)
        return y

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Train for ``max_epochs`` more epochs (see :meth:`SkecdNetRegressor.partial_fit`).

        On the first call the per-channel input scaling of the module is set from
        ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features, n_points)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        classes : None
        **fit_params : dict

        Returns
        -------
        self : InvariantECDRegressor
        """
        try:
            super().partial_fit(X, y, classes=classes, **fit_params)
        finally:
            self.__dict__.pop("_fit_X", None)  # the training data is not kept
        return self

    def _set_target_stats(self, y):
        super()._set_target_stats(y)
        self.module_.set_input_scaling(self._fit_X)

    def _check_X(self, X, reset):
        X = super()._check_X(X, reset)
        if reset:
            self._fit_X = X
        return X

    # ------------------------------------------------------------- prediction
    def _member_predictions(self, X):
        X = self._check_X_predict(X)
        dataset = self.get_dataset(X)
        self.module_.eval()
        out = []
        with torch.no_grad(), torch.random.fork_rng(devices=self._rng_devices()):
            for Xi, _ in self.get_iterator(dataset, training=False):
                Xi = Xi.to(self.device)
                out.append(self.module_.forward_members(Xi).detach().cpu().numpy())
        raw = np.concatenate(out).astype(np.float64)  # (n, members, outputs)
        mean, scale = self._target_stats()
        return raw * scale + mean

    def predict(self, X, return_std=False):
        """Predict the moduli in GPa, optionally with the ensemble's spread.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features, n_points)
        return_std : bool, default=False
            Also return the standard deviation of the members' predictions (GPa),
            as scikit-learn's ``GaussianProcessRegressor.predict`` does. It is zero
            with a single member.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Mean over the members (in log space when ``log_target``), in GPa.
        y_std : ndarray of the same shape
            Only with ``return_std=True``.
        """
        members = self._member_predictions(X)
        if self.log_target:
            y = 10.0 ** members.mean(axis=1)
            members = 10.0**members
        else:
            y = members.mean(axis=1)
        std = members.std(axis=1, ddof=1) if members.shape[1] > 1 else np.zeros_like(y)
        if self.y_ndim_ == 1:
            y, std = y.ravel(), std.ravel()
        return (y, std) if return_std else y


class InvariantFusionNet(InvariantECDNet):
    """:class:`InvariantECDNet` with a second branch on a table of per-material features.

    Input (n, F * P + T): the F x P local density descriptors, flattened
    (:class:`~skecd.preprocessing.LocalDensityFeaturizer` with ``flatten=True``),
    followed by T columns of a feature table (for example density descriptors
    and Magpie features). Each member sends the table through dense layers and
    joins it to the pooled point embedding before the head.

    Parameters
    ----------
    n_features : int
        Total input columns, F * P + T.
    n_outputs : int, default=1
    point_channels : int, default=24
        F.
    n_points : int, default=4096
        P.
    table_widths : sequence of int, default=(128, 64)
        Dense layers of the table branch (GELU, dropout).
    point_widths, head_widths, dropout, n_members, train_points
        As in :class:`InvariantECDNet`.
    """

    def __init__(
        self,
        n_features=24 * 4096 + 159,
        n_outputs=1,
        point_channels=24,
        n_points=4096,
        table_widths=(128, 64),
        point_widths=(64, 64, 128),
        head_widths=(128,),
        dropout=0.1,
        n_members=3,
        train_points=512,
    ):
        n_table = int(n_features) - int(point_channels) * int(n_points)
        if n_table < 1:
            raise ValueError(
                f"InvariantFusionNet: {n_features} input columns leave no table after "
                f"{point_channels} x {n_points} point descriptors; set module__point_channels "
                "and module__n_points to the featuriser's output"
            )
        super().__init__(
            point_channels, n_outputs, point_widths, head_widths, dropout, n_members, train_points
        )
        self.point_channels, self.n_points, self.n_table = point_channels, n_points, n_table
        self.members = nn.ModuleList(
            _Member(
                point_channels, n_outputs, point_widths, head_widths, dropout, n_table, table_widths
            )
            for _ in range(int(n_members))
        )
        self.register_buffer("table_mean", torch.zeros(n_table))
        self.register_buffer("table_scale", torch.ones(n_table))

    def _split(self, x):
        n_point_cols = self.point_channels * self.n_points
        points = x[:, :n_point_cols].reshape(len(x), self.point_channels, self.n_points)
        table = x[:, n_point_cols:]
        return (
            (points - self.input_mean) / self.input_scale,
            (table - self.table_mean) / self.table_scale,
        )

    def set_input_scaling(self, X):
        """Set the standardisation buffers of both branches from training inputs ``X``."""
        X = np.asarray(X)
        n_point_cols = self.point_channels * self.n_points
        points = X[:, :n_point_cols].reshape(len(X), self.point_channels, self.n_points)
        self._copy_stats(self.input_mean, self.input_scale, points, (0, 2))
        self._copy_stats(self.table_mean, self.table_scale, X[:, n_point_cols:], 0)


class InvariantFusionRegressor(InvariantECDRegressor):
    """The invariant density network fused with a table of per-material features.

    Takes ``X`` of shape (n, F * P + T): the flattened output of
    :class:`~skecd.preprocessing.LocalDensityFeaturizer` (``flatten=True``)
    followed by T feature columns, as a
    :class:`~sklearn.pipeline.FeatureUnion` of the featurisers makes it (see
    :func:`make_invariant_fusion`). Trained end to end with the recipe of
    :class:`InvariantECDRegressor`; set ``module__point_channels`` and
    ``module__n_points`` when the featuriser's are not the defaults (24, 4096).

    Parameters
    ----------
    module : type, default=InvariantFusionNet
    **kwargs
        As in :class:`InvariantECDRegressor`.
    """

    _x_ndim = 2

    def __init__(self, module=InvariantFusionNet, **kwargs):
        super().__init__(module, **kwargs)


def make_invariant_fusion(
    n_points=4096, sigmas=(0.25, 0.5, 1.0, 2.0), n_jobs=None, **regressor_params
):
    """The fusion pipeline: density descriptors at points, density descriptors, Magpie.

    Parameters
    ----------
    n_points : int, default=4096
        Of :class:`~skecd.preprocessing.LocalDensityFeaturizer`.
    sigmas : tuple of float, default=(0.25, 0.5, 1.0, 2.0)
        Of :class:`~skecd.preprocessing.LocalDensityFeaturizer`.
    n_jobs : int, default=None
        joblib workers of the featurisers.
    **regressor_params
        Passed to :class:`InvariantFusionRegressor`.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Taking densities (or paths) and moduli in GPa.
    """
    from sklearn.pipeline import FeatureUnion, Pipeline

    from ..preprocessing import ChargeDensityDescriptor, LocalDensityFeaturizer, MagpieFeaturizer

    local = LocalDensityFeaturizer(sigmas=sigmas, n_points=n_points, flatten=True, n_jobs=n_jobs)
    features = FeatureUnion(
        [
            ("local", local),
            ("descriptors", ChargeDensityDescriptor(n_jobs=n_jobs)),
            ("magpie", MagpieFeaturizer(n_jobs=n_jobs)),
        ]
    )
    regressor_params.setdefault("module__point_channels", 6 * len(sigmas))
    regressor_params.setdefault("module__n_points", n_points)
    return Pipeline(
        [("features", features), ("regressor", InvariantFusionRegressor(**regressor_params))]
    )

"""Fusion of a Magpie branch and a charge-density branch (the paper's fusion model)."""

from __future__ import annotations

import copy
import dataclasses
import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted
from torch import nn

from ..io import check_samples, load_density
from ._base import SkecdNetRegressor
from ._modules import _dense_stack
from ._regressors import ECD3DCNNRegressor, MagpieCNNRegressor

__all__ = ["FusionHead", "FusionRegressor"]


class FusionHead(nn.Module):
    """Dense head on concatenated branch embeddings (32 + 32 -> 128, 64, 32, out).

    Parameters
    ----------
    n_features : int, default=64
        Width of the concatenated embeddings.
    n_outputs : int, default=1
        Number of targets.
    hidden_widths : sequence of int, default=(128, 64, 32)
        Dense layers (ReLU).
    """

    def __init__(self, n_features=64, n_outputs=1, hidden_widths=(128, 64, 32)):
        super().__init__()
        self.dense, n_last = _dense_stack(n_features, hidden_widths)
        self.out = nn.Linear(n_last, n_outputs)

    def forward_features(self, x):
        """Last hidden layer, shape (n, hidden_widths[-1])."""
        return self.dense(x)

    def forward(self, x):
        """Predictions, shape (n, n_outputs)."""
        return self.out(self.dense(x))


class _FusionHeadRegressor(SkecdNetRegressor):
    """skorch regressor of the fusion head (private: built by ``FusionRegressor``)."""

    def __init__(self, module=FusionHead, **kwargs):
        super().__init__(module, **kwargs)


def _default_branches(random_state, log_target=True):
    """The paper's branches: Magpie features -> MagpieCNN, voxelised density -> 3D CNN."""
    from sklearn.pipeline import make_pipeline

    from ..preprocessing import ChargeDensityVoxelizer, MagpieFeaturizer

    magpie = make_pipeline(
        MagpieFeaturizer(pad_to_square=True),
        MagpieCNNRegressor(random_state=random_state, log_target=log_target),
    )
    ecd = make_pipeline(
        ChargeDensityVoxelizer(),
        ECD3DCNNRegressor(random_state=random_state, log_target=log_target),
    )
    return magpie, ecd


def _float32(density):
    """The density with float32 grids: every sample is held for both branches, and the
    CHGCAR reader gives float64 (twice the memory for no gain: the voxels are float32)."""
    grids = [g for g in (density.total, density.spin) if g is not None]
    if all(g.dtype == np.float32 for g in grids):
        return density
    spin = None if density.spin is None else density.spin.astype(np.float32)
    return dataclasses.replace(density, total=density.total.astype(np.float32), spin=spin)


class FusionRegressor(RegressorMixin, BaseEstimator):
    """Head on the penultimate outputs of a Magpie branch and a charge-density branch.

    ``fit`` trains clones of both branches on ``(X, y)``, takes each branch's
    penultimate-layer outputs (``branch[:-1].transform`` then the final
    regressor's ``embed``), and trains a dense head (128, 64, 32, out; Adam,
    L1 loss) on their concatenation, as in the paper's fusion model.

    Parameters
    ----------
    magpie_branch : Pipeline or None, default=None
        A pipeline from one density per sample to a skecd network regressor
        (usually ``make_pipeline(MagpieFeaturizer(pad_to_square=True),
        MagpieCNNRegressor())``, the default when ``None``). Give it
        explicitly to tune it: its parameters are then
        ``magpie_branch__magpiecnnregressor__lr`` etc.
    ecd_branch : Pipeline or None, default=None
        Same for the density branch; ``None`` means
        ``make_pipeline(ChargeDensityVoxelizer(), ECD3DCNNRegressor())``
        (60^3 grids, the paper's; slow on a CPU).
    hidden_widths : tuple of int, default=(128, 64, 32)
        Dense layers of the head.
    lr : float, default=1e-3
        Adam learning rate of the head.
    max_epochs : int, default=50
        Training epochs of the head.
    batch_size : int, default=32
        Mini-batch size of the head.
    standardize_y : bool, default=True
        Standardise targets inside the head (see ``SkecdNetRegressor``).
    log_target : bool, default=True
        The head (and the default branches) learn ``log10`` of the moduli, so
        every prediction is positive (see ``SkecdNetRegressor``); ``False`` is
        the paper's linear output on raw moduli. Given branches keep their own
        setting. Models saved before this parameter existed load with ``False``.
    random_state : int, RandomState instance or None, default=None
        Seeds the head; also passed to the default branches (given branches
        keep their own ``random_state``).
    device : str, default="cpu"
        Torch device of the head.
    verbose : int, default=0
        skorch verbosity of the head.
    train_split : callable or None, default=None
        skorch's validation split of the head (for example
        ``skorch.dataset.ValidSplit(0.1)``); ``None`` trains it on all samples.
    callbacks : list or None, default=None
        skorch callbacks of the head, for example
        ``[EarlyStopping(patience=20, load_best=True)]`` with a ``train_split``.
        The branches keep their own (set them in the branch pipelines).

    Attributes
    ----------
    magpie_branch_, ecd_branch_ : Pipeline
        The fitted branches.
    head_ : skorch regressor
        The fitted head.
    n_outputs_ : int
        Number of targets.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from skecd.models import ECD3DCNNRegressor, FusionRegressor, MagpieCNNRegressor
    >>> from skecd.preprocessing import ChargeDensityVoxelizer, MagpieFeaturizer
    >>> fusion = FusionRegressor(
    ...     magpie_branch=make_pipeline(MagpieFeaturizer(pad_to_square=True),
    ...                                 MagpieCNNRegressor(max_epochs=5)),
    ...     ecd_branch=make_pipeline(ChargeDensityVoxelizer(grid_size=20),
    ...                              ECD3DCNNRegressor(max_epochs=5)),
    ... )
    >>> sorted(fusion.get_params())[:2]
    ['batch_size', 'callbacks']
    """

    def __init__(
        self,
        magpie_branch=None,
        ecd_branch=None,
        *,
        hidden_widths=(128, 64, 32),
        lr=1e-3,
        max_epochs=50,
        batch_size=32,
        standardize_y=True,
        log_target=True,
        random_state=None,
        device="cpu",
        verbose=0,
        train_split=None,
        callbacks=None,
    ):
        self.magpie_branch = magpie_branch
        self.ecd_branch = ecd_branch
        self.hidden_widths = hidden_widths
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.standardize_y = standardize_y
        self.log_target = log_target
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.train_split = train_split
        self.callbacks = callbacks

    def __setstate__(self, state):
        # saved (pickle, or a model file's skops part) before log_target existed: trained
        # with the linear output
        state.setdefault("log_target", False)
        super().__setstate__(state)

    @staticmethod
    def _load(X):
        """Read every sample once; both branches then get the same objects."""
        samples = check_samples(X, kind="density")
        out = np.empty(len(samples), dtype=object)
        out[:] = [_float32(load_density(obj, index=i)) for i, obj in enumerate(samples)]
        return out

    @staticmethod
    def _branch_embedding(branch, densities):
        final = branch[-1]
        if not hasattr(final, "embed"):
            raise TypeError(
                f"branch must end in a skecd network regressor with embed(), got "
                f"{type(final).__name__}."
            )
        return final.embed(branch[:-1].transform(densities))

    def _embed(self, densities):
        return np.hstack(
            [
                self._branch_embedding(self.magpie_branch_, densities),
                self._branch_embedding(self.ecd_branch_, densities),
            ]
        )

    def fit(self, X, y):
        """Train both branches, then the head on their penultimate outputs.

        Parameters
        ----------
        X : list or 1D array of ChargeDensity, VolumetricData or paths
            One density per sample (CHGCAR-like files or skecd ``.npz``).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets in GPa.

        Returns
        -------
        self : FusionRegressor
        """
        if y is None:
            raise ValueError(
                "y: FusionRegressor requires y to be passed, but the target y is None."
            )
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        if y.ndim not in (1, 2):
            raise ValueError(f"y: expected shape (n,) or (n, k), got {y.shape}.")
        densities = self._load(X)
        if len(y) != len(densities):
            raise ValueError(f"y: {len(y)} targets for {len(densities)} samples in X.")
        if isinstance(self.random_state, numbers.Integral) or self.random_state is None:
            seed = self.random_state
        else:
            seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        default_magpie, default_ecd = _default_branches(seed, self.log_target)
        self.magpie_branch_ = clone(
            default_magpie if self.magpie_branch is None else self.magpie_branch
        ).fit(densities, y)
        self.ecd_branch_ = clone(default_ecd if self.ecd_branch is None else self.ecd_branch).fit(
            densities, y
        )
        Z = self._embed(densities)
        self.head_ = _FusionHeadRegressor(
            module__hidden_widths=tuple(self.hidden_widths),
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            standardize_y=self.standardize_y,
            log_target=self.log_target,
            random_state=seed,
            device=self.device,
            verbose=self.verbose,
            optimizer=torch.optim.Adam,
            criterion=nn.L1Loss,
            train_split=self.train_split,
            # copies: the same callback objects may also sit in the branches
            callbacks=None if self.callbacks is None else copy.deepcopy(list(self.callbacks)),
        ).fit(Z, y)
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        return self

    def embed(self, X):
        """Concatenated penultimate outputs of both branches (the head's input).

        Parameters
        ----------
        X : list or 1D array of densities or paths

        Returns
        -------
        Z : ndarray of shape (n_samples, n_magpie_embedding + n_ecd_embedding)
        """
        check_is_fitted(self)
        return self._embed(self._load(X))

    def predict(self, X):
        """Predict the targets.

        Parameters
        ----------
        X : list or 1D array of densities or paths

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets), float64
        """
        check_is_fitted(self)
        return self.head_.predict(self._embed(self._load(X)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.target_tags.positive_only = bool(self.log_target)
        tags.non_deterministic = self.random_state is None
        return tags

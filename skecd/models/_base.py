"""The skorch regressor base shared by every skecd network.

skorch runs the training loop (batching, optimiser, callbacks, history,
save/load); this base adds what skecd's regressors share on top of it: input
and target validation with clear errors, the module's input size and number of
outputs taken from the data, targets learnt as ``log10`` (so that every
prediction is a positive modulus) and standardised, seeded and reproducible
training, ``embed`` (penultimate-layer outputs) and the scikit-learn tags.
Subclasses only set the paper's defaults and the expected input rank, like
skorch's ``regressor.py`` over ``net.py``.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import warnings
from collections.abc import Iterator

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data
from skorch import NeuralNetRegressor
from skorch.callbacks import Callback
from skorch.dataset import unpack_data
from skorch.utils import to_device

from ._lazy import LazyDataset, check_lazy_X, is_lazy_input

__all__ = ["SkecdNetRegressor"]


class _StopOnDivergence(Callback):
    """Raise as soon as an epoch's loss is NaN or infinite.

    A diverged fit (a learning rate too large, say) would otherwise go on and
    return a model that predicts NaN. Runs after skorch's loss scoring, at the
    end of every epoch.
    """

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        for key in ("train_loss", "valid_loss"):
            loss = row.get(key)
            if loss is not None and not math.isfinite(loss):
                raise FloatingPointError(
                    f"{type(net).__name__}: training diverged at epoch {row['epoch']}: "
                    f"{key} is {loss} (lr={net.lr}); lower lr, or check X and y for "
                    "extreme values"
                )


class SkecdNetRegressor(NeuralNetRegressor):
    """Base class of skecd's neural-network regressors (a skorch ``NeuralNetRegressor``).

    Not meant to be used directly: the subclasses (``ECD3DCNNRegressor``,
    ``SEProjectedCNNRegressor``, ``MagpieCNNRegressor``, the CGCNN regressor)
    fix the module and the paper's defaults. Every parameter of skorch's
    ``NeuralNet`` is accepted through ``**kwargs`` with skorch's double
    underscore names (``module__...``, ``optimizer__...``,
    ``callbacks__...``, ``iterator_train__...``), so that module widths can be
    tuned with ``GridSearchCV(param_grid={"module__...": [...]})``.

    Parameters
    ----------
    module : type of torch.nn.Module
        The network. It must accept ``n_outputs`` and the keyword named by the
        class attribute ``_input_size_param`` (filled from ``X`` in ``fit``),
        and provide ``forward_features`` (penultimate layer) and ``forward``.
    criterion : type of torch.nn.Module, default=torch.nn.L1Loss
        Loss; the paper trains with the L1 (mean absolute error) loss.
    optimizer : type of torch.optim.Optimizer, default=torch.optim.Adam
        Optimiser class.
    lr : float, default=1e-3
        Learning rate.
    max_epochs : int, default=50
        Number of training epochs.
    batch_size : int, default=32
        Mini-batch size.
    train_split : callable or None, default=None
        ``None`` trains on all the data (the scikit-learn convention: model
        selection is done outside). Pass ``skorch.dataset.ValidSplit(0.2)``
        for an internal validation split, then add
        ``skorch.callbacks.EarlyStopping`` to ``callbacks`` for early stopping.
    callbacks : list or None, default=None
        Extra skorch callbacks (e.g. ``ProgressBar()``, ``EarlyStopping()``).
    standardize_y : bool, default=True
        Train on ``(y - mean) / std`` (per target column, from the training
        targets) and transform predictions back to GPa. The paper does not say
        whether targets were scaled; with the L1 loss on raw moduli (tens to
        hundreds of GPa) training converges slowly, so it is on by default.
        The mean and std are stored as buffers of the module, so they travel
        with ``save_params``/``load_params``. Losses in ``history_`` are in
        standardised units when this is on.
    log_target : bool, default=True
        Learn ``log10`` of the targets (then standardised when
        ``standardize_y``) and return ``10 ** output``: every prediction is a
        positive modulus, and an error of 10% weighs the same on a soft and a
        hard material. Every target must then be positive (a ``ValueError``
        names the first sample that is not). ``False`` learns the raw targets
        with the paper's linear output, which can predict a negative modulus;
        skecd model files saved before this parameter existed load with
        ``False``, as they were trained.
    random_state : int, RandomState instance or None, default=None
        Seeds the module's initialisation and the shuffling of mini-batches.
        Training runs inside ``torch.random.fork_rng`` so torch's global RNG
        state is left untouched; with an int, CPU runs are reproducible bit for
        bit (at a fixed number of torch threads). ``None`` uses torch's global
        RNG.
    device : {"cpu", "cuda"} or str, default="cpu"
        Torch device used for training and prediction.
    verbose : int, default=0
        0 prints nothing; 1 prints skorch's per-epoch table. Add
        ``skorch.callbacks.ProgressBar()`` to ``callbacks`` for a batch
        progress bar.
    **kwargs
        Any other ``NeuralNet`` argument or double-underscore parameter.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network.
    history_ : skorch.History
        Per-epoch and per-batch training records.
    n_outputs_ : int
        Number of targets (columns of ``y``).
    input_shape_ : tuple of int
        Shape of one sample of ``X`` seen in ``fit``.
    n_features_in_ : int
        Size of the second axis of ``X`` (features, or channels for grids).

    Notes
    -----
    skorch's ``NeuralNet.__init__`` sets the bookkeeping attributes
    ``history_``, ``initialized_`` and ``virtual_params_``; the
    scikit-learn checks that forbid attributes set in ``__init__`` therefore
    fail, and are listed with this reason in
    ``skecd.utils._test_common.instance_generator``.

    A network is "fitted" once it has been trained by ``fit``/``partial_fit``,
    or initialised with explicit ``module__n_outputs`` and input-size
    parameters and then loaded with ``load_params``.
    """

    #: Rank of ``X`` the network takes (2 for feature tables, 5 for grids).
    _x_ndim = 2
    #: Name of the module keyword that receives the input size from ``X``.
    _input_size_param = "n_features"

    def __init__(
        self,
        module,
        *,
        criterion=torch.nn.L1Loss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=50,
        batch_size=32,
        train_split=None,
        callbacks=None,
        standardize_y=True,
        log_target=True,
        random_state=None,
        device="cpu",
        verbose=0,
        **kwargs,
    ):
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            callbacks=callbacks,
            device=device,
            verbose=verbose,
            **kwargs,
        )
        self.standardize_y = standardize_y
        self.log_target = log_target
        self.random_state = random_state

    #: Parameters added to the networks after model files were first saved, each with the
    #: value that reproduces how a file saved before it existed was trained; a pickle or a
    #: model file (``skecd.load_model``) that lacks one gets this value, not the default.
    _PARAMS_BEFORE_THEY_EXISTED = {"log_target": False}
    #: With ``log_target``, predictions beyond this many standard deviations of the log
    #: training targets are clipped there with a warning (a factor of about 25 around the
    #: mean for K_VRH): 10 ** output turns an input far from the training data into an
    #: astronomically wrong modulus otherwise.
    CLIP = 4.0

    def __setstate__(self, state):
        for name, old in type(self)._PARAMS_BEFORE_THEY_EXISTED.items():
            state.setdefault(name, old)
        super().__setstate__(state)

    # Optimizers whose fused implementation torch has on CPU and CUDA.
    _FUSABLE_OPTIMIZERS = (torch.optim.Adam, torch.optim.AdamW)

    def initialize_optimizer(self, triggered_directly=None):
        """skorch's optimizer, fused where torch can: Adam and AdamW get ``fused=True``.

        The fused update is the same Adam step computed in one pass over each
        tensor instead of a dozen: it took a third of the SE network's training
        step (0.58 s -> 0.39 s at 60^3, batch 32, ``benchmarks/bench_flop_rate.py``).
        ``optimizer__fused=False`` (or any ``optimizer__foreach``) keeps torch's
        default.

        Parameters
        ----------
        triggered_directly : None
            Deprecated in skorch; ignored.

        Returns
        -------
        self
        """
        named_parameters = list(self.get_all_learnable_params())
        args, kwargs = self.get_params_for_optimizer("optimizer", named_parameters)
        if self._can_fuse(kwargs, [p for _, p in named_parameters]):
            kwargs["fused"] = True
        self.optimizer_ = self.optimizer(*args, **kwargs)
        return self

    def _can_fuse(self, kwargs, params):
        if self.optimizer not in self._FUSABLE_OPTIMIZERS or {"fused", "foreach"} & set(kwargs):
            return False
        return bool(params) and all(
            p.device.type in ("cpu", "cuda") and p.dtype in (torch.float32, torch.float64)
            for p in params
        )

    # ------------------------------------------------------------------ checks
    def get_default_callbacks(self):
        """skorch's default callbacks, then a check that stops a diverged fit."""
        return [*super().get_default_callbacks(), ("stop_on_divergence", _StopOnDivergence())]

    def _check_training_params(self):
        """Refuse ``max_epochs`` and ``device`` values skorch would misuse or fail on late."""
        epochs = self.max_epochs
        if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
            raise ValueError(
                f"max_epochs must be an int >= 1, got {epochs!r} ({type(epochs).__name__})"
            )
        self._check_cuda_available()

    def _check_cuda_available(self):
        device = str(self.device)
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise RuntimeError(
                f"device={self.device!r} but CUDA is not available to torch "
                f"{torch.__version__}; use device='cpu'"
            )

    def _check_X_container(self, X):
        """Refuse what a network cannot take before numpy tries: generators and raw samples."""
        if isinstance(X, Iterator):
            raise TypeError(
                f"X: {type(self).__name__} got a {type(X).__name__}, which would be used up "
                "by the first pass; pass an array (or a list), e.g. np.asarray(list(X))"
            )
        if type(self)._check_X is not SkecdNetRegressor._check_X:
            return  # a subclass with its own input type (graphs) says what it takes
        if isinstance(X, (list, tuple)) or (isinstance(X, np.ndarray) and X.dtype == object):
            first = next(iter(X), None) if len(X) else None
            if _is_raw_sample(first):
                if self._x_ndim == 5:
                    hint = "a ChargeDensityVoxelizer"
                else:
                    hint = "a featuriser (MagpieFeaturizer for formulas)"
                raise TypeError(
                    f"X: {type(self).__name__} takes numeric arrays of rank {self._x_ndim}, got "
                    f"a sequence of {type(first).__name__}; put {hint} in front, e.g. "
                    f"sklearn.pipeline.make_pipeline(<featuriser>, {type(self).__name__}())"
                )

    def _check_loaded_input_size(self, X):
        """After ``load_params`` without ``fit``: X must fit the module's declared input size."""
        expected = self.get_params_for("module").get(self._input_size_param)
        got = self._input_size_from_shape(tuple(X.shape[1:]) if hasattr(X, "shape") else None)
        if expected is not None and int(got) != int(expected):
            raise ValueError(
                f"X: samples give {self._input_size_param}={got} but the loaded "
                f"{type(self).__name__} was built with module__{self._input_size_param}="
                f"{expected}"
            )

    def _input_size_from_shape(self, shape):
        """Return the module's input-size argument from one sample's shape."""
        return shape[0]

    def _check_sample_shape(self, shape):
        """Raise ``ValueError`` if one sample's shape cannot go into the module."""

    def _check_X(self, X, reset):
        """Validate ``X`` (and set ``n_features_in_`` when ``reset``)."""
        if is_lazy_input(X):  # an on-disk array: checked from its metadata, never loaded
            return check_lazy_X(self, X, reset)
        X = validate_data(
            self, X, reset=reset, dtype=np.float32, allow_nd=True, ensure_all_finite=True
        )
        if X.ndim != self._x_ndim:
            raise ValueError(
                f"X: {type(self).__name__} expects an array of rank {self._x_ndim}, "
                f"got shape {X.shape} (rank {X.ndim})."
            )
        self._check_sample_shape(X.shape[1:])
        if not reset and tuple(X.shape[1:]) != tuple(self.input_shape_):
            raise ValueError(
                f"X: samples of shape {X.shape[1:]} but {type(self).__name__} was fitted "
                f"on samples of shape {tuple(self.input_shape_)}."
            )
        return X

    def _check_y(self, X, y, reset):
        if y is None:
            raise ValueError(
                f"y: {type(self).__name__} requires y to be passed, but the target y is None."
            )
        y = self._validate_y(y, len(X))
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if reset:
            self.n_outputs_ = n_outputs
            self.y_ndim_ = y.ndim
        elif n_outputs != self.n_outputs_:
            raise ValueError(
                f"y: {n_outputs} target column(s) but the model was fitted on {self.n_outputs_}."
            )
        y = y.reshape(len(y), -1)
        if self.log_target:
            y = self._log10_y(y)
        return y.astype(np.float32, copy=False)

    def _log10_y(self, y):
        """``log10(y)``, or a ``ValueError`` naming the first sample with a target <= 0."""
        bad = np.flatnonzero((y <= 0).any(axis=1))
        if bad.size:
            raise ValueError(
                f"y: {type(self).__name__}(log_target=True) learns log10 of the moduli and "
                f"needs positive targets, but sample {int(bad[0])} has {y[bad[0]].tolist()} "
                f"({bad.size} sample(s) with a target <= 0); pass log_target=False to learn "
                "raw values"
            )
        return np.log10(y)

    @staticmethod
    def _validate_y(y, n_samples):
        from sklearn.utils.validation import check_array

        y = check_array(
            y, ensure_2d=False, dtype=np.float64, ensure_all_finite=True, input_name="y"
        )
        if y.ndim not in (1, 2):
            raise ValueError(f"y: expected shape (n,) or (n, k), got {y.shape}.")
        if y.ndim == 2 and y.shape[1] == 0:
            raise ValueError("y: has no target column.")
        if len(y) != n_samples:
            raise ValueError(f"y: {len(y)} targets for {n_samples} samples in X.")
        return y

    def get_dataset(self, X, y=None):
        """skorch's dataset, or a :class:`LazyDataset` reading an on-disk ``X`` per sample."""
        if is_lazy_input(X):
            return LazyDataset(X, y)
        return super().get_dataset(X, y)

    # ------------------------------------------------------------ RNG control
    def _rng_devices(self):
        if str(self.device).startswith("cuda") and torch.cuda.is_available():
            return [torch.device(self.device).index or 0]
        return []

    @contextlib.contextmanager
    def _rng_context(self):
        """Seed torch from ``random_state`` without touching the global RNG."""
        if self.random_state is None:
            yield
            return
        if isinstance(self.random_state, numbers.Integral):
            seed = int(self.random_state)
        else:
            seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        with torch.random.fork_rng(devices=self._rng_devices()):
            torch.manual_seed(seed)
            yield

    # ---------------------------------------------------------- module set-up
    def initialize_module(self):
        """Build the module with its input size and outputs taken from the data.

        In ``fit`` these come from ``X`` and ``y``; otherwise (before
        ``load_params``) they must be given as ``module__n_outputs`` and
        ``module__<input size>``.
        """
        self._check_cuda_available()
        kwargs = self.get_params_for("module")
        if hasattr(self, "input_shape_"):
            kwargs[self._input_size_param] = self._input_size_from_shape(self.input_shape_)
            kwargs["n_outputs"] = self.n_outputs_
        else:
            missing = [k for k in (self._input_size_param, "n_outputs") if k not in kwargs]
            if missing:
                raise ValueError(
                    f"{type(self).__name__}: initialising without data needs "
                    + ", ".join(f"module__{k}" for k in missing)
                    + " (fit sets them from X and y)."
                )
            self.n_outputs_ = int(kwargs["n_outputs"])
            self.y_ndim_ = 1 if self.n_outputs_ == 1 else 2
        module = self.initialized_instance(self.module, kwargs)
        n_out = int(kwargs["n_outputs"])
        # Target scaling lives in the module's state so save/load_params keep it.
        module.register_buffer("target_mean", torch.zeros(n_out))
        module.register_buffer("target_scale", torch.ones(n_out))
        self.module_ = module
        return self

    def _set_target_stats(self, y):
        if self.standardize_y:
            mean = y.mean(axis=0)
            scale = y.std(axis=0)
            scale = np.where(scale > 0, scale, 1.0)
        else:
            mean = np.zeros(y.shape[1])
            scale = np.ones(y.shape[1])
        dev = self.module_.target_mean.device
        self.module_.target_mean.copy_(torch.as_tensor(mean, dtype=torch.float32, device=dev))
        self.module_.target_scale.copy_(torch.as_tensor(scale, dtype=torch.float32, device=dev))

    def _target_stats(self):
        mean = self.module_.target_mean.detach().cpu().numpy().astype(np.float64)
        scale = self.module_.target_scale.detach().cpu().numpy().astype(np.float64)
        return mean, scale

    # ---------------------------------------------------------------- fitting
    def fit(self, X, y, **fit_params):
        """Validate the data, (re)initialise the network and train it.

        Parameters
        ----------
        X : array-like
            Inputs; rank and shape depend on the subclass.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets (e.g. K_VRH, or K_VRH and G_VRH, in GPa).
        **fit_params : dict
            Passed to skorch's ``fit`` (module forward / train_split).

        Returns
        -------
        self : object
            The fitted regressor.
        """
        if not self.warm_start:
            self.initialized_ = False
        return self.partial_fit(X, y, _routing_method="fit", **fit_params)

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Train for ``max_epochs`` more epochs, initialising first if needed.

        Parameters
        ----------
        X : array-like
            Inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        classes : None
            Unused, for API compatibility.
        **fit_params : dict
            Passed to skorch.

        Returns
        -------
        self : object
            The fitted regressor.
        """
        routing = fit_params.pop("_routing_method", "partial_fit")
        if "sample_weight" in fit_params:  # skorch would pass it on to forward()
            raise TypeError(
                f"{type(self).__name__}.fit does not take sample_weight: the networks' loss is "
                "unweighted (repeat or drop samples instead)"
            )
        self._check_training_params()
        self._check_X_container(X)
        first = not (self.initialized_ and hasattr(self, "input_shape_"))
        if y is None:  # before the checks of X, so the message is about y
            self._check_y(X, y, reset=first)
        X = self._check_X(X, reset=first)
        y = self._check_y(X, y, reset=first)
        with self._rng_context():
            if first:
                self.input_shape_ = tuple(X.shape[1:])
                self.n_outputs_ = y.shape[1]
                self.initialize()
                self._set_target_stats(y)
            mean, scale = self._target_stats()
            y_scaled = ((y - mean) / scale).astype(np.float32)
            super().partial_fit(X, y_scaled, _routing_method=routing, **fit_params)
        return self

    # ------------------------------------------------------------- prediction
    def __sklearn_is_fitted__(self):
        return bool(getattr(self, "initialized_", False)) and hasattr(self, "n_outputs_")

    def _check_fitted(self):
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' first."
            )

    def _check_X_predict(self, X):
        self._check_fitted()
        self._check_cuda_available()
        self._check_X_container(X)
        if hasattr(self, "input_shape_"):
            return self._check_X(X, reset=False)
        # initialised with module__ sizes and loaded with load_params, never fitted
        X = self._check_X(X, reset=True)
        self._check_loaded_input_size(X)
        return X

    def predict(self, X):
        """Predict targets (float64, same number of columns as the ``y`` fitted on).

        Parameters
        ----------
        X : array-like
            Inputs of the same sample shape as in ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        X = self._check_X_predict(X)
        # torch's DataLoader draws a seed from the global RNG even without
        # shuffling; fork it so that predicting leaves the global state alone.
        with torch.random.fork_rng(devices=self._rng_devices()):
            raw = self.forward(X, training=False).numpy().astype(np.float64).reshape(len(X), -1)
        mean, scale = self._target_stats()
        if self.log_target:
            raw = self._clip_far(raw)
        y = raw * scale + mean
        if self.log_target:
            y = 10.0**y
        return y.ravel() if self.y_ndim_ == 1 else y

    def _clip_far(self, raw):
        """Clip standardised log predictions at ``CLIP``, warning with the samples' rows."""
        far = np.abs(raw) > self.CLIP
        if not far.any():
            return raw
        rows = np.flatnonzero(far.reshape(len(raw), -1).any(axis=1))  # any member or target
        warnings.warn(
            f"{type(self).__name__}: the predictions of samples {rows[:10].tolist()}"
            f"{' ...' if len(rows) > 10 else ''} ({len(rows)} in all) lie more than "
            f"{self.CLIP:g} standard deviations of the log training targets from their mean "
            "and were clipped there: these inputs are far from the training data",
            UserWarning,
            stacklevel=3,
        )
        return np.clip(raw, -self.CLIP, self.CLIP)

    @property
    def predict_proba(self):
        """Not available: a regressor has no class probabilities."""
        raise AttributeError(f"{type(self).__name__} is a regressor and has no predict_proba.")

    def embed(self, X):
        """Return the penultimate-layer outputs (the module's ``forward_features``).

        Parameters
        ----------
        X : array-like
            Inputs of the same sample shape as in ``fit``.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_embedding), float32
        """
        X = self._check_X_predict(X)
        dataset = self.get_dataset(X)
        self.module_.eval()
        out = []
        with torch.no_grad(), torch.random.fork_rng(devices=self._rng_devices()):
            for batch in self.get_iterator(dataset, training=False):
                Xi, _ = unpack_data(batch)
                Xi = to_device(Xi, self.device)
                out.append(self.module_.forward_features(Xi).detach().cpu().numpy())
        return np.concatenate(out, axis=0).astype(np.float32, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.target_tags.positive_only = bool(self.log_target)
        tags.input_tags.allow_nan = False
        tags.non_deterministic = self.random_state is None
        return tags


def _is_raw_sample(obj):
    """True for what a featuriser takes: densities, paths, formulas, structures."""
    if isinstance(obj, (str, os.PathLike)):
        return True
    from pymatgen.core import Composition, Structure
    from pymatgen.io.common import VolumetricData

    from ..io import ChargeDensity

    return isinstance(obj, (ChargeDensity, VolumetricData, Structure, Composition))

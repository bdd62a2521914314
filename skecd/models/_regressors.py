"""The paper's networks as skorch regressors: thin subclasses of ``SkecdNetRegressor``.

As in skorch's ``regressor.py``, each subclass states only the defaults that differ
from its base (the module, and the paper's optimiser and learning rate); every
other parameter passes through ``**kwargs``. ``_SavedSizesMixin`` lets a network be
saved with ``save_params`` and loaded back into a fresh instance without passing
its input size or number of outputs by hand.
"""

from __future__ import annotations

import torch
from skorch.callbacks import LRScheduler
from torch.optim.lr_scheduler import StepLR

from ._base import SkecdNetRegressor
from ._modules import ECD3DCNN, MagpieCNN, SEProjectedCNN

__all__ = ["ECD3DCNNRegressor", "MagpieCNNRegressor", "SEProjectedCNNRegressor"]


class _SavedSizesMixin:
    """Store the input shape and target rank in the module, so ``load_params`` needs no sizes.

    ``fit`` records ``input_shape_`` and ``n_outputs_``; they are kept as the
    module buffers ``input_shape`` and ``y_ndim`` (the number of outputs is the
    length of the ``target_mean`` buffer), so ``save_params`` writes them with the
    weights. :meth:`load_params` on a fresh, unfitted network built with the same
    parameters reads them back from the file, initialises the module with those
    sizes and then loads the weights::

        reg.save_params(f_params="model.pt")
        fresh = ECD3DCNNRegressor(**same_params)
        fresh.load_params(f_params="model.pt")  # no module__grid_size, no n_outputs
    """

    def initialize_module(self):
        super().initialize_module()
        shape = getattr(self, "input_shape_", ())
        self.module_.register_buffer("input_shape", torch.as_tensor(shape, dtype=torch.long))
        self.module_.register_buffer("y_ndim", torch.as_tensor(self.y_ndim_, dtype=torch.long))
        return self

    def load_params(self, f_params=None, *args, **kwargs):
        """Load saved parameters, first taking the sizes from ``f_params`` if not initialised.

        Parameters
        ----------
        f_params : str, path-like or file-like, default=None
            File written by ``save_params(f_params=...)``.
        *args, **kwargs
            As in :meth:`skorch.NeuralNet.load_params`.
        """
        if f_params is not None:
            state = self._read_state(f_params, kwargs.get("use_safetensors", False))
            if "input_shape" not in state or "target_mean" not in state:
                raise ValueError(
                    f"{type(self).__name__}: {f_params!r} holds no input shape; it was not "
                    "saved by this version of skecd."
                )
            self.input_shape_ = tuple(int(n) for n in state["input_shape"].tolist())
            if not getattr(self, "initialized_", False):
                self.n_outputs_ = int(state["target_mean"].numel())
                self.y_ndim_ = int(state["y_ndim"])
                self.initialize()
            else:  # initialised with module__ sizes: take the saved shape as it is
                self.module_.input_shape = state["input_shape"].clone()
        return super().load_params(f_params, *args, **kwargs)

    @staticmethod
    def _read_state(f_params, use_safetensors):
        position = f_params.tell() if hasattr(f_params, "tell") else None
        if use_safetensors:
            from safetensors.torch import load, load_file

            state = load(f_params.read()) if position is not None else load_file(f_params)
        else:
            state = torch.load(f_params, map_location="cpu", weights_only=True)
        if position is not None:  # leave a file object where skorch expects to read it
            f_params.seek(position)
        return state


class _GridRegressor(_SavedSizesMixin, SkecdNetRegressor):
    """Shared checks of the regressors that take cubes (n, c, D, D, D)."""

    _x_ndim = 5
    _input_size_param = "grid_size"
    _n_channels = 1

    def _input_size_from_shape(self, shape):
        return shape[-1]

    def _check_sample_shape(self, shape):
        c, *grid = shape
        if c != self._n_channels:
            raise ValueError(
                f"X: {type(self).__name__} expects {self._n_channels} channel(s) on axis 1, got "
                f"shape (n, {', '.join(map(str, shape))})."
            )
        if len(set(grid)) != 1:
            raise ValueError(
                f"X: {type(self).__name__} needs cubic grids (D, D, D), got {tuple(grid)}; "
                "resample with skecd.preprocessing.ChargeDensityVoxelizer."
            )


class ECD3DCNNRegressor(_GridRegressor):
    """3D CNN regressor on voxelised charge densities (the paper's "3D CNN").

    Takes ``X`` of shape (n, 1, D, D, D) as made by
    ``skecd.preprocessing.ChargeDensityVoxelizer``; the network is
    :class:`skecd.models.ECD3DCNN` (Adam, lr 5e-4, L1 loss as in the paper).

    Parameters
    ----------
    module : type, default=ECD3DCNN
        The network class.
    lr : float, default=5e-4
        Learning rate (the paper's).
    *args, **kwargs
        Every other parameter of :class:`skecd.models.SkecdNetRegressor`
        (``criterion``, ``optimizer``, ``max_epochs``, ``standardize_y``, ``log_target``,
        ``random_state``, ...) with its defaults there. Module widths are set
        with ``module__<name>`` (see the module class).

    Examples
    --------
    >>> import numpy as np
    >>> from skecd.models import ECD3DCNNRegressor
    >>> X = np.random.default_rng(0).random((4, 1, 20, 20, 20), dtype=np.float32)
    >>> reg = ECD3DCNNRegressor(max_epochs=1, random_state=0,
    ...                         module__conv1_channels=4, module__conv2_channels=4,
    ...                         module__dense_widths=(8, 8)).fit(X, [1.0, 2.0, 3.0, 4.0])
    >>> reg.predict(X).shape
    (4,)
    """

    _n_channels = 1

    def __init__(self, module=ECD3DCNN, *args, lr=5e-4, **kwargs):
        super().__init__(module, *args, lr=lr, **kwargs)


class SEProjectedCNNRegressor(_GridRegressor):
    """SE + 2D CNN regressor on the three axis views of a density cube.

    Takes ``X`` of shape (n, 3, D, D, D) as made by
    ``skecd.preprocessing.AxisProjector``; the network is
    :class:`skecd.models.SEProjectedCNN`. Adam with lr 1e-3 halved every 10
    epochs (a default skorch ``LRScheduler(StepLR, step_size=10, gamma=0.5)``
    callback named ``lr_scheduler``, tunable as
    ``callbacks__lr_scheduler__step_size``), L1 loss.

    The paper trains it with SGD at lr 1e-3; on the bundled data that optimiser
    did not train it at all (constant predictions), so the default is Adam. The
    paper's setting is the preset :attr:`PAPER_PARAMS`:
    ``SEProjectedCNNRegressor(**SEProjectedCNNRegressor.PAPER_PARAMS)`` (see the
    user guide, "Training the SE projected CNN").

    Parameters
    ----------
    module : type, default=SEProjectedCNN
        The network class.
    optimizer : type of torch.optim.Optimizer, default=torch.optim.Adam
        Adam trains it; the paper's SGD is in :attr:`PAPER_PARAMS`.
    *args, **kwargs
        Every other parameter of :class:`skecd.models.SkecdNetRegressor`
        (``criterion``, ``lr``, ``max_epochs``, ``standardize_y``, ``log_target``,
        ``random_state``, ...) with its defaults there. Module widths are set
        with ``module__<name>`` (see the module class).

    Examples
    --------
    >>> import numpy as np
    >>> from skecd.models import SEProjectedCNNRegressor
    >>> X = np.random.default_rng(0).random((4, 3, 30, 30, 30), dtype=np.float32)
    >>> reg = SEProjectedCNNRegressor(max_epochs=1, random_state=0,
    ...                               module__dense_widths=(16, 8)).fit(X, [1.0, 2.0, 3.0, 4.0])
    >>> reg.predict(X).shape
    (4,)
    """

    _n_channels = 3

    #: The paper's optimiser and learning rate, as a preset of parameters.
    PAPER_PARAMS = {"optimizer": torch.optim.SGD, "lr": 1e-3}

    def __init__(self, module=SEProjectedCNN, *args, optimizer=torch.optim.Adam, **kwargs):
        super().__init__(module, *args, optimizer=optimizer, **kwargs)

    def get_default_callbacks(self):
        """skorch's defaults plus the paper's step learning-rate schedule."""
        return super().get_default_callbacks() + [
            ("lr_scheduler", LRScheduler(policy=StepLR, step_size=10, gamma=0.5)),
        ]


class MagpieCNNRegressor(_SavedSizesMixin, SkecdNetRegressor):
    """2D CNN regressor on Magpie composition features (the paper's "CNN+Magpie").

    Takes ``X`` of shape (n, n_features) with ``n_features <= 144``: the 132
    Magpie features of ``skecd.preprocessing.MagpieFeaturizer`` (or its
    padded 144), zero-padded inside the network to a 12 x 12 image. The
    network is :class:`skecd.models.MagpieCNN`; Adam, lr 1e-3, batch 32, L1
    loss as in the paper.

    Parameters
    ----------
    module : type, default=MagpieCNN
        The network class.
    *args, **kwargs
        Every parameter of :class:`skecd.models.SkecdNetRegressor`
        (``criterion``, ``optimizer``, ``lr``, ``max_epochs``, ``standardize_y``, ``log_target``,
        ``random_state``, ...) with its defaults there, which are the paper's
        for this network. Module widths are set with ``module__<name>`` (see the
        module class).

    Examples
    --------
    >>> import numpy as np
    >>> from skecd.models import MagpieCNNRegressor
    >>> X = np.random.default_rng(0).random((8, 132))
    >>> reg = MagpieCNNRegressor(max_epochs=2, random_state=0).fit(X, np.arange(1.0, 9.0))  # GPa
    >>> reg.predict(X).shape
    (8,)
    """

    _x_ndim = 2
    _input_size_param = "n_features"

    def __init__(self, module=MagpieCNN, *args, **kwargs):
        super().__init__(module, *args, **kwargs)

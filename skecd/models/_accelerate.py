"""Multi-process and multi-GPU training through Hugging Face Accelerate (skorch's AccelerateMixin).

skorch's :class:`skorch.hf.AccelerateMixin` hands the module, optimiser and
DataLoaders to an :class:`accelerate.Accelerator`, which runs data-parallel
training (torch DistributedDataParallel: one process per device, gradients
averaged across processes after each backward pass) and optional mixed
precision. skecd adds nothing to that machinery; this module only mixes it into
the skecd regressors and reads the target scaling (kept in module buffers)
through the DDP wrapper.
"""

from __future__ import annotations

import numpy as np
import torch
from skorch.hf import AccelerateMixin

from ._regressors import ECD3DCNNRegressor

__all__ = ["AcceleratedECD3DCNNRegressor", "SkecdAccelerateMixin"]


class SkecdAccelerateMixin(AccelerateMixin):
    """skorch's ``AccelerateMixin`` for the skecd regressors.

    Mix it in front of any :class:`~skecd.models.SkecdNetRegressor` subclass::

        class AcceleratedMagpieCNNRegressor(SkecdAccelerateMixin, MagpieCNNRegressor):
            pass

    The additions to skorch's mixin: while the module is wrapped (by
    DistributedDataParallel in a multi-process run) the target mean and scale
    are read from and written to the unwrapped module, losses without
    parameters (the L1 loss) are not wrapped (DistributedDataParallel refuses
    them), and ``verbose=0`` prints nothing.
    """

    def _initialize_callbacks(self):
        # skorch's PrintLog honours verbose=0 only when its sink is print, and the
        # mixin's "auto" sink is accelerator.print: keep print when nothing is shown.
        if self.callbacks__print_log__sink == "auto" and not self.verbose:
            self.callbacks__print_log__sink = print
        return super()._initialize_callbacks()

    def _initialize_accelerator(self):
        # DistributedDataParallel refuses modules without trainable parameters, such as
        # the L1 loss; the mixin would wrap every criterion, so hide those from it.
        criteria = self._criteria
        self._criteria = [
            name
            for name in criteria
            if any(p.requires_grad for p in getattr(self, name + "_").parameters())
        ]
        try:
            return super()._initialize_accelerator()
        finally:
            self._criteria = criteria

    def _plain_module(self):
        return self.accelerator.unwrap_model(self.module_, keep_fp32_wrapper=False)

    def _set_target_stats(self, y):
        wrapped = self.module_
        self.module_ = self._plain_module()
        try:
            super()._set_target_stats(y)
        finally:
            self.module_ = wrapped

    def _target_stats(self):
        module = self._plain_module()
        mean = module.target_mean.detach().cpu().numpy().astype(np.float64)
        scale = module.target_scale.detach().cpu().numpy().astype(np.float64)
        return mean, scale


class AcceleratedECD3DCNNRegressor(SkecdAccelerateMixin, ECD3DCNNRegressor):
    """:class:`ECD3DCNNRegressor` trained through Hugging Face Accelerate (one or many processes).

    Launch the same script once per process with ``accelerate launch`` (or
    ``torchrun``); each process builds the estimator with an
    :class:`accelerate.Accelerator` and calls ``fit`` on the same data. The
    Accelerator shards every batch stream across the processes (each sees
    ``1 / n_processes`` of each epoch's batches), averages the gradients, and
    gathers predictions, so that ``predict`` returns every sample in every
    process. With ``batch_size=B`` per process, ``P`` processes train with an
    effective batch of ``P * B``.

    Parameters
    ----------
    accelerator : accelerate.Accelerator
        Made in the launched script, for example ``Accelerator(cpu=True)`` for
        CPU processes (gloo) or ``Accelerator(mixed_precision="bf16")`` for
        bfloat16 autocast.
    device : None, default=None
        Device placement is the Accelerator's; leave it None.
    unwrap_after_train : bool, default=True
        Unwrap the module after ``fit`` (needed to pickle the estimator).
    **kwargs
        As in :class:`ECD3DCNNRegressor`.

    Notes
    -----
    One process (the plain ``python script.py``) trains exactly like
    :class:`ECD3DCNNRegressor`. Recipes (the scripts are unchanged):

    - CPU, 2 processes on one machine: ``accelerate launch --cpu
      --num_processes 2 script.py``, or ``torchrun --nproc_per_node 2
      script.py`` with ``Accelerator(cpu=True)`` (gloo backend).
    - One node with 8 GPUs: ``accelerate launch --multi_gpu --num_processes 8
      script.py`` (NCCL backend; each process takes its own GPU).
    - Two nodes with 8 GPUs each: on every node, ``accelerate launch
      --multi_gpu --num_machines 2 --num_processes 16 --machine_rank R
      --main_process_ip HOST0 --main_process_port 29500 script.py`` with
      ``R`` 0 on ``HOST0`` and 1 on the other (or ``torchrun --nnodes 2
      --nproc_per_node 8 --rdzv_endpoint HOST0:29500 ...``; on SLURM, one
      ``srun`` task per node running that command).
    - Mixed precision: ``Accelerator(mixed_precision="bf16")`` or ``accelerate
      launch --mixed_precision bf16``.

    Every process should read the same data: a shared file system holding a
    voxel cache (:func:`skecd.preprocessing.voxelize_to_cache`), read lazily by
    each process, serves.

    Examples
    --------
    >>> import numpy as np
    >>> from accelerate import Accelerator
    >>> from skecd.models import AcceleratedECD3DCNNRegressor
    >>> X = np.random.default_rng(0).random((4, 1, 20, 20, 20), dtype=np.float32)
    >>> reg = AcceleratedECD3DCNNRegressor(
    ...     accelerator=Accelerator(cpu=True), max_epochs=1, random_state=0,
    ...     module__conv1_channels=4, module__conv2_channels=4, module__dense_widths=(8, 8),
    ... ).fit(X, [1.0, 2.0, 3.0, 4.0])
    >>> reg.predict(X).shape
    (4,)
    """

    def __init__(self, *args, accelerator, device=None, unwrap_after_train=True, **kwargs):
        super().__init__(
            *args,
            accelerator=accelerator,
            device=device,
            unwrap_after_train=unwrap_after_train,
            **kwargs,
        )

    def _rng_devices(self):
        # the Accelerator places the module; seed the CUDA RNG of its device when it has one
        device = getattr(self.accelerator, "device", torch.device("cpu"))
        if device.type == "cuda":
            return [device.index or 0]
        return []

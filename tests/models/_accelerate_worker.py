"""Training process launched by test_accelerate.py (one process, or several under torchrun)."""

from __future__ import annotations

import json
import sys


def main(cache, targets, result, batch_size, mixed_precision="no"):
    import numpy as np
    import torch
    from accelerate import Accelerator

    from skecd.models import AcceleratedECD3DCNNRegressor
    from skecd.preprocessing import VoxelArray

    torch.set_num_threads(1)
    accelerator = Accelerator(cpu=True, mixed_precision=mixed_precision)
    X, y = VoxelArray(cache), np.load(targets)
    n_train = int(0.8 * len(y))
    net = AcceleratedECD3DCNNRegressor(
        accelerator=accelerator,
        max_epochs=12,
        batch_size=int(batch_size),
        lr=2e-3,
        random_state=0,
        module__conv1_channels=8,
        module__conv2_channels=8,
        module__dense_widths=(32, 16),
    )
    net.fit(X[:n_train], y[:n_train])
    pred = net.predict(X[n_train:])
    record = {
        "rank": accelerator.process_index,
        "processes": accelerator.num_processes,
        "backend": torch.distributed.get_backend() if accelerator.num_processes > 1 else None,
        "pred": pred.tolist(),
        "n_batches": len(net.history_[-1, "batches"]),
    }
    with open(f"{result}.{accelerator.process_index}", "w") as fh:
        json.dump(record, fh)
    # tear the gloo process group down before the interpreter exits: left to the
    # destructors, a rank can abort at exit ("terminate called without an active
    # exception"), failing a run whose results are already written
    accelerator.wait_for_everyone()
    accelerator.end_training()


if __name__ == "__main__":
    main(*sys.argv[1:])

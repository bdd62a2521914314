"""Write ``ecd3dcnn_linear_head.skecd``: the paper's 3D CNN saved by skecd before
``log_target`` existed (its networks then learnt raw moduli with a linear output).

Run at commit d8df45d as ``python make_ecd3dcnn_linear_head.py
ecd3dcnn_linear_head.skecd d8df45d``. ``X`` comes from numpy's seeded generator; the
predictions that skecd made on ``X`` are kept in the manifest's metadata, so that a later
skecd can check that it still predicts them from the file.
"""

import sys

import numpy as np

from skecd import save_model
from skecd.models import ECD3DCNNRegressor


def main(path, commit):
    X = np.random.default_rng(0).random((6, 1, 20, 20, 20), dtype=np.float32)
    y = np.column_stack([np.linspace(10.0, 200.0, 6), np.linspace(5.0, 90.0, 6)])
    reg = ECD3DCNNRegressor(
        max_epochs=3,
        random_state=0,
        module__conv1_channels=4,
        module__conv2_channels=4,
        module__dense_widths=(8, 8),
    ).fit(X, y)
    metadata = {
        "skecd_commit": commit,
        "X": "numpy.random.default_rng(0).random((6, 1, 20, 20, 20), dtype=np.float32)",
        "predictions": reg.predict(X).tolist(),
    }
    save_model(reg, path, metadata=metadata)


if __name__ == "__main__":  # a script, never run on import (pytest imports every module)
    main(*sys.argv[1:3])

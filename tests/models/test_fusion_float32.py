"""FusionRegressor holds its densities as float32, whatever precision the files give."""

from __future__ import annotations

import numpy as np

from skecd.datasets import get_sample_chgcar_paths
from skecd.io import load_density
from skecd.models import FusionRegressor


def test_fusion_holds_float32_densities(real_paths):
    chgcar = get_sample_chgcar_paths()["Si_fcc"]
    assert load_density(chgcar).total.dtype == np.float64  # what the CHGCAR reader gives
    held = FusionRegressor._load([chgcar, real_paths[4]])  # mp-102 (Co) is spin-polarised
    assert [d.total.dtype for d in held] == [np.float32, np.float32]
    assert held[1].spin is not None and held[1].spin.dtype == np.float32
    original = load_density(chgcar)
    np.testing.assert_allclose(held[0].total, original.total, rtol=1e-6)
    assert held[0].structure == original.structure and held[0].source == original.source

"""A generator as X: refused up front, since fit would use it up before transform."""

from __future__ import annotations

import pytest

from skecd.preprocessing import (
    ChargeDensityDescriptor,
    ChargeDensityVoxelizer,
    MagpieFeaturizer,
)


def test_generator_of_paths_is_refused_with_a_clear_message(gpaw_paths):
    vox = ChargeDensityVoxelizer(grid_size=4)
    with pytest.raises(TypeError, match=r"X is a generator.*use up.*list\(X\)"):
        vox.fit_transform(p for p in gpaw_paths)
    # the descriptor checks X in fit: a generator used to be used up there, and
    # transform then said "X is empty"
    with pytest.raises(TypeError, match=r"X is a list_iterator.*use up"):
        ChargeDensityDescriptor().fit(iter(gpaw_paths))
    assert vox.fit_transform(list(gpaw_paths)).shape == (len(gpaw_paths), 1, 4, 4, 4)


def test_magpie_refuses_a_generator(gpaw_paths):
    with pytest.raises(TypeError, match=r"X is a generator.*use up.*list\(X\)"):
        MagpieFeaturizer().fit_transform(p for p in gpaw_paths)

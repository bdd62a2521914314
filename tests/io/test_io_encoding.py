"""The compact storage encodings of ``write_gpaw_npz`` on real densities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from skecd.io import DENSITY_ENCODINGS, DensityFileError, read_gpaw_npz, write_gpaw_npz

# 12 of 23 mantissa bits: each voxel moves by at most 2^-13 of itself, and the
# rescale to the stored sum by ~1e-6 more
ROUNDED_RTOL = 2.0**-13 + 1e-5
EXTENDED_DIR = Path(__file__).resolve().parents[2] / "data" / "ecd_gpaw_extended"


@pytest.fixture
def real_densities(gpaw_paths):
    """Real bundled densities (one spin-polarised) and, from a source checkout, extended
    ones with negative voxels (GPAW pseudo densities)."""
    paths = list(gpaw_paths)
    negative = []
    for path in sorted(EXTENDED_DIR.glob("*.npz"))[:60]:
        with np.load(path) as f:
            if (f["density"] < 0).any():
                negative.append(path)
        if len(negative) == 2:
            break
    densities = [read_gpaw_npz(p) for p in [*paths, *negative]]
    assert any(d.spin is not None for d in densities)
    return densities


@pytest.mark.parametrize("encoding", DENSITY_ENCODINGS)
def test_round_trip_within_the_stated_tolerance(real_densities, tmp_path, encoding):
    for i, rho in enumerate(real_densities):
        path = write_gpaw_npz(rho, tmp_path / f"d{i}", encoding=encoding)
        back = read_gpaw_npz(path)
        assert back.total.dtype == np.float32 and back.total.shape == rho.total.shape
        assert back.metadata.keys() == rho.metadata.keys()
        assert back.structure == rho.structure
        if encoding in ("deflate", "lzma"):  # lossless
            assert_array_equal(back.total, rho.total)
            if rho.spin is not None:
                assert_array_equal(back.spin, rho.spin)
            continue
        change = np.abs(back.total - rho.total.astype(np.float32))
        assert (change <= ROUNDED_RTOL * np.abs(rho.total)).all()
        assert change.max() > 0  # it is lossy: the test would see no rounding at all
        # the electron count is kept (rescaled to the stored sum)
        assert back.n_electrons == pytest.approx(rho.n_electrons, rel=1e-6)
        if rho.spin is not None:
            assert (np.abs(back.spin - rho.spin) <= 2.0**-13 * np.abs(rho.spin)).all()


def test_compact_files_are_smaller_on_a_large_real_grid(gpaw_dir, tmp_path):
    largest = max(gpaw_dir.glob("*.npz"), key=lambda p: p.stat().st_size)
    rho = read_gpaw_npz(largest)
    sizes = {
        e: write_gpaw_npz(rho, tmp_path / e, encoding=e).stat().st_size for e in DENSITY_ENCODINGS
    }
    assert sizes["lzma"] < sizes["deflate"]


def test_old_files_load_unchanged_and_default_writes_the_old_layout(gpaw_paths, tmp_path):
    for path in gpaw_paths:
        with np.load(path) as f:
            assert "density_encoding" not in f.files
            density = f["density"]
        assert_array_equal(read_gpaw_npz(path).total, density)
        copy = write_gpaw_npz(read_gpaw_npz(path), tmp_path / path.name)
        with np.load(copy) as f, np.load(path) as g:
            assert sorted(f.files) == sorted(g.files)
            for key in g.files:
                assert_array_equal(f[key], g[key])


def test_encoded_files_hold_no_plain_density(gpaw_paths, tmp_path):
    # a reader that does not know the encoding finds no 'density' and refuses the
    # file instead of misreading the compressed bytes as a grid
    path = write_gpaw_npz(read_gpaw_npz(gpaw_paths[0]), tmp_path / "x", encoding="lzma")
    with np.load(path) as f:
        assert "density" not in f.files
        assert str(f["density_encoding"]) == "lzma"


def _rewrite(path, **changes):
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    for key, value in changes.items():
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    np.savez_compressed(path, **arrays)
    return path


@pytest.fixture
def encoded(gpaw_paths, tmp_path):
    rho = read_gpaw_npz(gpaw_paths[-1])
    return write_gpaw_npz(rho, tmp_path / "encoded", encoding="lzma-12bit")


def test_unknown_encoding_is_refused_naming_the_file(encoded):
    _rewrite(encoded, density_encoding=np.array("zstd-v9"))
    with pytest.raises(DensityFileError, match=r"unknown density encoding 'zstd-v9'") as info:
        read_gpaw_npz(encoded)
    assert str(encoded) in str(info.value) and info.value.path == str(encoded)


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"density_lzma": np.frombuffer(b"not lzma at all", np.uint8)}, "could not decompress"),
        ({"density_shape": np.array([4, 4, 4])}, "not the 256 of a float32 grid"),
        ({"density_shape": np.array([4, 4])}, "'density_shape' must be 3 positive integers"),
        ({"density_sum": None}, r"lacks the arrays \['density_sum'\]"),
        ({"density": np.ones((2, 2, 2), np.float32)}, "also holds a plain 'density'"),
    ],
)
def test_damaged_encoded_files_are_refused(encoded, changes, match):
    _rewrite(encoded, **changes)
    with pytest.raises(DensityFileError, match=match) as info:
        read_gpaw_npz(encoded)
    assert str(encoded) in str(info.value)


def test_truncated_encoded_file(encoded):
    data = encoded.read_bytes()
    encoded.write_bytes(data[: len(data) // 2])
    with pytest.raises(DensityFileError, match="could not read"):
        read_gpaw_npz(encoded)


def test_writer_refuses_bad_encodings(gpaw_paths, tmp_path):
    rho = read_gpaw_npz(gpaw_paths[0])
    with pytest.raises(ValueError, match="encoding must be one of"):
        write_gpaw_npz(rho, tmp_path / "a", encoding="float16")
    with pytest.raises(ValueError, match="stores float32 grids"):
        write_gpaw_npz(rho, tmp_path / "b", dtype=np.float64, encoding="lzma")
    rho.metadata["density_encoding"] = "lzma"
    with pytest.raises(ValueError, match="'density_encoding' is reserved"):
        write_gpaw_npz(rho, tmp_path / "c")
    assert not list(tmp_path.iterdir())

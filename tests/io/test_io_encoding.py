"""The compact storage encodings of ``write_gpaw_npz`` on real densities."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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
        # read as the package reads it: the builder may write any supported encoding
        if (np.asarray(read_gpaw_npz(path).total) < 0).any():
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
        ({"density_sum": np.array("many")}, r"'density_sum' must be one float"),
        ({"density_sum": np.array(np.nan)}, r"'density_sum' nan cannot rescale"),
        ({"density_encoding": np.array(3)}, r"unknown density encoding '3'"),
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


# Fuzzing of an encoded real file (the 16^3 LiF density, 12-bit lzma): random byte
# flips and array edits give a density or skecd's own error naming the file.
_FUZZ = settings(
    max_examples=40,
    deadline=5000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,
)


def _encoded_bytes():
    from skecd.datasets import get_data_dir

    rho = read_gpaw_npz(get_data_dir() / "ecd_gpaw" / "mp-1138.npz")
    buf = io.BytesIO()
    np.savez_compressed(buf, **_arrays_of(rho))
    return buf.getvalue()


def _arrays_of(rho):
    with tempfile.TemporaryDirectory() as tmpdir:
        path = write_gpaw_npz(rho, Path(tmpdir) / "x", encoding="lzma-12bit")
        with np.load(path) as f:
            return {k: f[k] for k in f.files}


ENCODED = _encoded_bytes()
with np.load(io.BytesIO(ENCODED)) as _f:
    ENCODED_ARRAYS = {k: _f[k] for k in _f.files}


def _read_or_named_error(data):
    with tempfile.TemporaryDirectory() as tmpdir:
        path = os.path.join(tmpdir, "x.npz")
        with open(path, "wb") as fh:
            fh.write(data)
        try:
            rho = read_gpaw_npz(path)
        except (ValueError, OSError) as exc:
            assert path in str(exc), f"{type(exc).__name__} does not name the file: {exc}"
            return
        assert np.isfinite(rho.total).all() and rho.volume > 0


@_FUZZ
@given(flips=st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), min_size=1))
def test_encoded_file_byte_flips(flips):
    buf = bytearray(ENCODED)
    for position, value in flips:
        buf[position % len(buf)] = value
    _read_or_named_error(bytes(buf))


@_FUZZ
@given(
    key=st.sampled_from(sorted(ENCODED_ARRAYS)),
    value=st.sampled_from(
        [
            np.array([]),
            np.array("text"),
            np.array(b"lzma"),
            np.array([1, 2, 3]),
            np.array([16, 16, -16]),
            np.zeros((16, 16, 16), np.float32),
            np.frombuffer(b"\xfd7zXZ\x00garbage", np.uint8),
            np.array(np.inf),
            np.ones((3, 3)),
        ]
    ),
    drop=st.booleans(),
)
def test_encoded_file_array_edits(key, value, drop):
    arrays = dict(ENCODED_ARRAYS)
    if drop:
        arrays.pop(key)
    else:
        arrays[key] = value
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    _read_or_named_error(buf.getvalue())

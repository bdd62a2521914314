"""Property-based fuzzing of the CHGCAR and npz readers on the real bundled files.

Random truncations, byte flips and header edits of real files. The only outcomes
allowed are a density (the damage hit nothing the reader can check) or skecd's
own error naming the file: ``DensityFileError``/``ValueError`` for a bad content,
``OSError`` for the file system. Any other exception type fails the test, as
would a hang (hypothesis' deadline) or a crash of the interpreter.
"""

from __future__ import annotations

import gzip
import io
import os
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skecd.datasets import get_sample_chgcar_paths
from skecd.io import ChargeDensity, load_density, read_chgcar, read_gpaw_npz

FUZZ = settings(
    max_examples=60,
    deadline=5000,  # ms per example; a real read takes well under a second
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,  # the same examples on every CI run
)

# Small real files: a 28^3 CHGCAR (Si) and a 16^3 GPAW density (LiF, mp-1138).
SI_PATH = get_sample_chgcar_paths()["Si_fcc"]
SI_BYTES = gzip.decompress(SI_PATH.read_bytes())
SI_LINES = SI_BYTES.split(b"\n")
# the header, its blank line and the grid line
SI_HEADER_LINES = next(i for i, line in enumerate(SI_LINES) if i > 7 and not line.strip()) + 1
SI_HEADER_BYTES = len(b"\n".join(SI_LINES[: SI_HEADER_LINES + 1]))
NPZ_BYTES = (SI_PATH.parents[1] / "ecd_gpaw" / "mp-1138.npz").read_bytes()


def _read_or_named_error(reader, data, name):
    """Write ``data`` to a fresh file, read it, and check the outcome is allowed."""
    with tempfile.TemporaryDirectory() as tmpdir:
        path = os.path.join(tmpdir, name)
        with open(path, "wb") as fh:
            fh.write(data)
        try:
            rho = reader(path)
        except (ValueError, OSError) as exc:
            assert path in str(exc), f"{type(exc).__name__} does not name the file: {exc}"
            return None
        assert isinstance(rho, ChargeDensity)
        assert np.all(np.isfinite(rho.total))
        assert rho.volume > 0
        return rho


def _flip(data, flips):
    buf = bytearray(data)
    for position, value in flips:
        buf[position % len(buf)] = value
    return bytes(buf)


flips = st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), min_size=1, max_size=8)


@FUZZ
@given(cut=st.integers(0, len(SI_BYTES) - 1))
def test_chgcar_truncated(cut):
    rho = _read_or_named_error(read_chgcar, SI_BYTES[:cut], "CHGCAR")
    # a cut inside the grid must never yield a density
    if cut < len(SI_BYTES) - 1000:
        assert rho is None


@FUZZ
@given(flips=flips, in_header=st.booleans())
def test_chgcar_byte_flips(flips, in_header):
    if in_header:  # most damage lands in the grid otherwise; aim half of it at the header
        flips = [(p % SI_HEADER_BYTES, v) for p, v in flips]
    _read_or_named_error(read_chgcar, _flip(SI_BYTES, flips), "CHGCAR")


header_text = st.one_of(
    st.text(alphabet=st.characters(codec="latin-1"), max_size=40),
    st.lists(st.integers(-(10**12), 10**12).map(str), max_size=4).map(" ".join),
    st.lists(st.floats(allow_nan=True, allow_infinity=True).map(repr), max_size=4).map(" ".join),
    st.sampled_from(["", "****", "Si", "H He", "Direct", "Cartesian", "0 0 0", "-1", "28 28"]),
)


@FUZZ
@given(line=st.integers(0, SI_HEADER_LINES), text=header_text, compress=st.booleans())
def test_chgcar_header_edits(line, text, compress):
    lines = list(SI_LINES)
    lines[line] = text.encode("latin-1", "replace")
    data = b"\n".join(lines)
    if compress:
        data = gzip.compress(data, compresslevel=1)
    _read_or_named_error(read_chgcar, data, "CHGCAR.gz" if compress else "CHGCAR")


@FUZZ
@given(cut=st.integers(0, len(NPZ_BYTES) - 1))
def test_npz_truncated(cut):
    assert _read_or_named_error(read_gpaw_npz, NPZ_BYTES[:cut], "x.npz") is None


@FUZZ
@given(flips=flips)
def test_npz_byte_flips(flips):
    _read_or_named_error(read_gpaw_npz, _flip(NPZ_BYTES, flips), "x.npz")


def _arrays():
    with np.load(io.BytesIO(NPZ_BYTES)) as f:
        return {k: f[k] for k in f.files}


ARRAYS = _arrays()
replacement = st.one_of(
    st.sampled_from(
        [
            np.zeros((3, 3)),
            np.full((3, 3), np.nan),
            np.array([]),
            np.array(["Xx"]),
            np.array([1, 2]),
            np.array("text"),
            np.ones((2, 2, 2), dtype=np.complex64),
            np.ones((4, 4, 4), dtype=bool),
            -np.ones((4, 4, 4)),
            np.zeros((1, 3)),
            np.array([[0.0, 0.0, np.inf]]),
            np.ones((4, 4)),
        ]
    ),
    st.lists(st.floats(), max_size=9).map(np.array),
)


@FUZZ
@given(key=st.sampled_from(sorted(ARRAYS) + ["extra"]), value=replacement, drop=st.booleans())
def test_npz_array_edits(key, value, drop):
    arrays = dict(ARRAYS)
    if drop:
        arrays.pop(key, None)
    else:
        arrays[key] = value
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    _read_or_named_error(load_density, buf.getvalue(), "x.npz")


@pytest.mark.parametrize("name", ["CHGCAR", "x.npz"])
def test_fuzz_harness_reads_the_undamaged_files(name):
    """The harness itself: undamaged bytes give the real density (so the fuzz can fail)."""
    data, reader = (SI_BYTES, read_chgcar) if name == "CHGCAR" else (NPZ_BYTES, read_gpaw_npz)
    rho = _read_or_named_error(reader, data, name)
    assert rho is not None
    assert rho.n_electrons == pytest.approx(4.0 if name == "CHGCAR" else 8.0, rel=0.01)

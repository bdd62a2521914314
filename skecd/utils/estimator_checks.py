"""skecd's estimator checks: scikit-learn's properties, on the input each estimator takes.

scikit-learn's common checks feed small numeric tables; most skecd estimators
take charge densities, voxel cubes, axis views or crystal graphs, so those checks
cannot reach them. As imbalanced-learn's ``check_samplers_*`` and nilearn's
``check_estimator(valid=True)`` do, the same properties are checked here on
*valid* input, built from the bundled real densities and their moduli:

- ``check_sample_order_invariance`` and ``check_subset_invariance``: each
  sample's output does not depend on the other samples or their order;
- ``check_one_sample``: one sample in, one row out (and fitting on one);
- ``check_fit_idempotent``: fitting twice gives the same output, and ``fit``
  returns ``self``;
- ``check_params_untouched``: ``fit`` and ``predict``/``transform`` leave the
  parameters as they were;
- ``check_memmap_input``, ``check_fortran_input``, ``check_int_input``:
  read-only memory-mapped arrays, Fortran-ordered arrays, integer values (grids
  for transformers, targets for regressors) give the same output;
- ``check_pickle``: a pickled and unpickled estimator gives the same output;
- ``check_regressor_learns``: a regressor fits a handful of real samples
  (training R^2 > 0.9); a model that predicts the mean fails it.

Use :func:`check_estimator` on one estimator, or :func:`yield_checks` to
parametrise a test (as ``tests/test_common.py`` does).
"""

from __future__ import annotations

import functools
import pickle

import joblib
import numpy as np
from sklearn.base import clone, is_regressor
from sklearn.metrics import r2_score
from sklearn.utils._testing import create_memmap_backed_data

__all__ = [
    "INPUT_KINDS",
    "check_estimator",
    "check_fit_idempotent",
    "check_fortran_input",
    "check_int_input",
    "check_memmap_input",
    "check_one_sample",
    "check_params_untouched",
    "check_pickle",
    "check_regressor_learns",
    "check_sample_order_invariance",
    "check_subset_invariance",
    "valid_data",
    "yield_checks",
]

#: The kinds of valid input :func:`valid_data` builds, and what each is.
INPUT_KINDS = {
    "densities": "paths of real GPAW .npz densities (featurisers, FusionRegressor)",
    "cubes": "real densities voxelised on 20^3 cubes, (n, 1, 20, 20, 20) float32",
    "views": "the axis views of real 30^3 cubes, (n, 3, 30, 30, 30) float32",
    "table": "Magpie features of the real compositions, (n, 132) float64",
    "graphs": "crystal graphs of the real structures (cutoff 5 A)",
    "local": "local density descriptors of the real densities, (n, 24, 64) float32",
    "local_table": "flattened local descriptors (24 x 64) joined to density descriptors and "
    "Magpie features, (n, 1536 + 159)",
}

# Small real materials of the bundled set (GPAW densities with K_VRH and G_VRH).
_MATERIALS = (
    "mp-1000", "mp-10020", "mp-1002206", "mp-1138", "mp-102", "mp-1022", "mp-101", "mp-10149",
)  # fmt: skip


@functools.cache
def _real_samples():
    """Paths and K_VRH (GPa) of the materials above."""
    from skecd.datasets import get_data_dir
    from skecd.datasets._base import _read_records

    records = {r["material_id"]: r for r in _read_records()}
    paths = [get_data_dir() / "ecd_gpaw" / f"{mid}.npz" for mid in _MATERIALS]
    return paths, np.array([records[mid]["K_VRH"] for mid in _MATERIALS], dtype=np.float64)


@functools.cache
def _valid_data(kind):
    from skecd.preprocessing import (
        AxisProjector,
        ChargeDensityDescriptor,
        ChargeDensityVoxelizer,
        CrystalGraphFeaturizer,
        LocalDensityFeaturizer,
        MagpieFeaturizer,
    )

    paths, y = _real_samples()
    if kind == "densities":
        X = list(paths)
    elif kind == "cubes":
        X = ChargeDensityVoxelizer(grid_size=20).fit_transform(paths)
    elif kind == "views":
        X = AxisProjector().fit_transform(ChargeDensityVoxelizer(grid_size=30).fit_transform(paths))
    elif kind == "table":
        X = MagpieFeaturizer().fit_transform(paths)
    elif kind == "graphs":
        X = CrystalGraphFeaturizer(cutoff=5.0).fit_transform(paths)
    elif kind == "local":
        X = LocalDensityFeaturizer(n_points=64).fit_transform(paths)
    elif kind == "local_table":
        X = np.hstack(
            [
                LocalDensityFeaturizer(n_points=64, flatten=True).fit_transform(paths),
                ChargeDensityDescriptor().fit_transform(paths),
                MagpieFeaturizer().fit_transform(paths),
            ]
        ).astype(np.float32)
    else:
        raise ValueError(f"unknown input kind {kind!r}; one of {sorted(INPUT_KINDS)}")
    return X, y


def valid_data(kind):
    """Return ``(X, y)`` of valid input of one kind, built from real bundled densities.

    Parameters
    ----------
    kind : {"densities", "cubes", "views", "table", "graphs"}
        See :data:`INPUT_KINDS`.

    Returns
    -------
    X : list or ndarray
        Eight samples (a fresh copy for lists; arrays are shared, do not modify).
    y : ndarray of shape (8,)
        Their bulk moduli K_VRH in GPa.
    """
    X, y = _valid_data(kind)
    return (list(X) if isinstance(X, list) else X), y.copy()


# ----------------------------------------------------------------------------- helpers
def _method(estimator):
    return "predict" if is_regressor(estimator) else "transform"


def _fit(estimator, X, y):
    return estimator.fit(X, y) if is_regressor(estimator) else estimator.fit(X)


def _output(estimator, X):
    return getattr(estimator, _method(estimator))(X)


def _take(X, index):
    if isinstance(X, np.ndarray):
        return X[np.asarray(index)]
    return [X[i] for i in index]


def _assert_same(a, b, what):
    """Assert two outputs are equal (to float rounding); object arrays compared item-wise."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{what}: shapes {a.shape} and {b.shape} differ"
    if a.dtype == object:
        for i, (u, v) in enumerate(zip(a, b)):
            for field in vars(u):
                x, z = getattr(u, field), getattr(v, field)
                if isinstance(x, np.ndarray):
                    np.testing.assert_allclose(x, z, rtol=1e-6, err_msg=f"{what}: sample {i}")
                else:
                    assert x == z, f"{what}: sample {i}: {field} {x!r} != {z!r}"
        return
    scale = max(float(np.max(np.abs(a))), 1e-12)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * scale, err_msg=what)


def _densities(X):
    """The samples as ChargeDensity objects (paths read), or None if they are not densities."""
    from skecd.io import ChargeDensity, load_density

    if isinstance(X, np.ndarray) or not X:
        return None
    if not all(isinstance(x, (str, ChargeDensity)) or hasattr(x, "__fspath__") for x in X):
        return None
    return [load_density(x, index=i) for i, x in enumerate(X)]


def _with_grids(densities, convert):
    from skecd.io import ChargeDensity

    return [
        ChargeDensity(
            d.structure,
            convert(d.total),
            spin=None if d.spin is None else convert(d.spin),
            source=d.source,
            metadata=dict(d.metadata),
        )
        for d in densities
    ]


# ------------------------------------------------------------------------------ checks
def check_sample_order_invariance(name, estimator, X, y):
    """Permuting the samples permutes the output rows, nothing else."""
    est = _fit(clone(estimator), X, y)
    out = _output(est, X)
    perm = np.random.default_rng(0).permutation(len(X))
    _assert_same(np.asarray(out)[perm], _output(est, _take(X, perm)), f"{name}: shuffled X")


def check_subset_invariance(name, estimator, X, y):
    """Each sample's output is the same whether it comes alone, in a batch or in all of X."""
    est = _fit(clone(estimator), X, y)
    out = np.asarray(_output(est, X))
    half = len(X) // 2
    parts = [_output(est, _take(X, range(half))), _output(est, _take(X, range(half, len(X))))]
    _assert_same(out, np.concatenate(parts), f"{name}: X in two batches")


def check_one_sample(name, estimator, X, y):
    """One sample in, one row out, equal to its row of the whole; featurisers fit on one."""
    est = _fit(clone(estimator), X, y)
    one = _output(est, _take(X, [0]))
    assert len(one) == 1, f"{name}: one sample gave {len(one)} rows"
    _assert_same(np.asarray(_output(est, X))[:1], one, f"{name}: one sample")
    if not is_regressor(estimator):
        _assert_same(_output(clone(estimator).fit(_take(X, [0])), _take(X, [0])), one, name)


def check_fit_idempotent(name, estimator, X, y):
    """``fit`` returns self, and fitting again on the same data gives the same output."""
    est = clone(estimator)
    assert _fit(est, X, y) is est, f"{name}: fit does not return self"
    first = _output(est, X)
    _fit(est, X, y)
    _assert_same(first, _output(est, X), f"{name}: fitted twice")


def check_params_untouched(name, estimator, X, y):
    """``fit`` and ``predict``/``transform`` leave every parameter as it was."""
    est = clone(estimator)
    before = {k: joblib.hash(v) for k, v in est.get_params(deep=False).items()}
    _fit(est, X, y)
    _output(est, X)
    after = {k: joblib.hash(v) for k, v in est.get_params(deep=False).items()}
    changed = sorted(k for k in before if before[k] != after.get(k))
    assert not changed, f"{name}: fit or {_method(est)} changed the parameters {changed}"


def check_memmap_input(name, estimator, X, y):
    """Read-only memory-mapped input (arrays, or the grids of densities) gives the same output."""
    est = _fit(clone(estimator), X, y)
    expected = _output(est, X)
    densities = _densities(X)
    mapped = create_memmap_backed_data(densities if densities is not None else X)
    _assert_same(expected, _output(est, mapped), f"{name}: read-only memmap input")
    _assert_same(expected, _output(_fit(clone(estimator), mapped, y), mapped), f"{name}: fit")


def check_fortran_input(name, estimator, X, y):
    """Fortran-ordered arrays (or density grids) give the same output as C-ordered ones."""
    densities = _densities(X)
    if densities is not None:
        X_c, X_f = (
            _with_grids(densities, np.ascontiguousarray),
            _with_grids(densities, np.asfortranarray),
        )
    elif isinstance(X, np.ndarray) and X.dtype != object:
        X_c, X_f = np.ascontiguousarray(X), np.asfortranarray(X)
    else:  # graphs: their feature arrays
        X_c, X_f = X, _fortran_graphs(X)
    est = _fit(clone(estimator), X_c, y)
    _assert_same(_output(est, X_c), _output(est, X_f), f"{name}: Fortran-ordered input")


def _fortran_graphs(X):
    import copy

    out = np.empty(len(X), dtype=object)
    for i, g in enumerate(X):
        g = copy.copy(g)
        g.atom_features = np.asfortranarray(g.atom_features)
        g.edge_features = np.asfortranarray(g.edge_features)
        out[i] = g
    return out


def check_int_input(name, estimator, X, y):
    """Integer values give the same result as the same values as floats.

    Regressors: integer targets. Transformers: integer density grids (or cubes).
    """
    if is_regressor(estimator):
        y_int = np.rint(y).astype(np.int64)
        a = _output(_fit(clone(estimator), X, y_int), X)
        b = _output(_fit(clone(estimator), X, y_int.astype(np.float64)), X)
        _assert_same(a, b, f"{name}: integer targets")
        return
    densities = _densities(X)
    if densities is not None:

        def as_int(grid):
            return np.rint(np.asarray(grid) * 1000).astype(np.int32) + 1  # milli-e/A^3

        X_int = _with_grids(densities, as_int)
        X_float = _with_grids(densities, lambda g: as_int(g).astype(np.float64))
    elif isinstance(X, np.ndarray) and X.dtype != object:
        X_int = np.rint(X * 1000).astype(np.int32)
        X_float = X_int.astype(np.float64)
    else:
        return  # graphs hold no values of the user's
    a = _output(_fit(clone(estimator), X_int, y), X_int)
    b = _output(_fit(clone(estimator), X_float, y), X_float)
    _assert_same(a, b, f"{name}: integer input")


def check_pickle(name, estimator, X, y):
    """A fitted estimator pickled and unpickled gives the same output."""
    est = _fit(clone(estimator), X, y)
    restored = pickle.loads(pickle.dumps(est))
    _assert_same(_output(est, X), _output(restored, X), f"{name}: after pickling")


def check_regressor_learns(name, estimator, X, y, min_r2=0.9):
    """The regressor fits a handful of real samples: training R^2 above ``min_r2``.

    A model that predicts the mean (R^2 = 0) or a constant fails this check.
    """
    est = _fit(clone(estimator), X, y)
    r2 = r2_score(y, est.predict(X))
    assert r2 > min_r2, f"{name}: training R^2 is {r2:.3f} on {len(X)} real samples (< {min_r2})"


_COMMON_CHECKS = (
    check_sample_order_invariance,
    check_subset_invariance,
    check_one_sample,
    check_fit_idempotent,
    check_params_untouched,
    check_memmap_input,
    check_fortran_input,
    check_int_input,
    check_pickle,
)


def yield_checks(estimator, kind, *, learn_params=None):
    """Yield ``(check_name, check)`` pairs, each ``check()`` runs one check on valid input.

    Parameters
    ----------
    estimator : estimator instance
        A transformer or a regressor, with small, seeded settings.
    kind : str
        The kind of valid input it takes (see :data:`INPUT_KINDS`).
    learn_params : dict, default=None
        For regressors: parameters set for :func:`check_regressor_learns` (more
        epochs, a learning rate that trains in a few seconds). ``None`` skips
        that check.

    Yields
    ------
    (str, callable)
    """
    name = type(estimator).__name__

    def bind(check, est):
        def run():
            X, y = valid_data(kind)
            return check(name, est, X, y)

        run.__name__ = check.__name__
        return run

    for check in _COMMON_CHECKS:
        yield check.__name__, bind(check, estimator)
    if is_regressor(estimator) and learn_params is not None:
        learner = clone(estimator).set_params(**learn_params)
        yield check_regressor_learns.__name__, bind(check_regressor_learns, learner)


def check_estimator(estimator, kind, *, learn_params=None):
    """Run every skecd check on ``estimator`` (raises ``AssertionError`` on the first failure).

    Parameters
    ----------
    estimator : estimator instance
    kind : str
        See :data:`INPUT_KINDS`.
    learn_params : dict, default=None
        See :func:`yield_checks`.

    Examples
    --------
    >>> from skecd.preprocessing import ChargeDensityVoxelizer
    >>> from skecd.utils.estimator_checks import check_estimator
    >>> check_estimator(ChargeDensityVoxelizer(grid_size=6), "densities")
    """
    for _, check in yield_checks(estimator, kind, learn_params=learn_params):
        check()

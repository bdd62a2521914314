"""Predictions with uncertainties and applicability warnings (``skecd predict``)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
from pymatgen.core import Structure

from ..io import check_structure
from ..models import predict_with_std
from ._data import read_input
from ._train import needs_density

__all__ = ["applicability_warnings", "predict_files", "predict_with_std"]

#: Largest spacing (A) of the density grid points that is not warned about (the training
#: densities of skecd's GPAW builder have 0.2 A or less).
MAX_GRID_SPACING = 0.5
#: Shortest distance (A) between two atoms not warned about (H2 has 0.74 A).
MIN_BOND = 0.7
#: Least share of the cell that the atoms' spheres (pymatgen's atomic radii) fill, not
#: warned about: a slab or molecule in a vacuum box.
MIN_PACKING = 0.1


def _crystal_system(structure):
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    sga = SpacegroupAnalyzer(structure, symprec=0.1)
    return sga.get_crystal_system(), sga.get_space_group_symbol()


def applicability_warnings(structure, density_source, metadata, prediction=None):
    """Reasons to trust a prediction less, from the training metadata of the model.

    Parameters
    ----------
    structure : pymatgen.core.Structure
    density_source : str or None
        Code of the input density (``"VASP"``, ``"GPAW"``, ...), None when the
        model reads no density.
    metadata : dict
        The ``metadata`` of the model's manifest (``coverage``, ``target_range``,
        ``targets`` and ``code_robust`` from ``skecd train``).
    prediction : dict of str to float, default=None
        The predicted moduli, checked against the training range and for sign.

    Returns
    -------
    list of str
    """
    cov = metadata.get("coverage") or {}
    out = []
    known = cov.get("elements")
    if known:
        new = sorted({el.symbol for el in structure.composition.elements} - set(known))
        if new:
            out.append(f"element(s) {', '.join(new)} never seen in training")
    sources = cov.get("density_sources")
    # a model whose inputs were measured to agree across codes (registry ``code_robust``,
    # benchmarks/vasp_vs_gpaw.py) is not warned about; the others are
    robust = metadata.get("code_robust", False)
    if density_source is not None and sources and density_source not in sources and not robust:
        out.append(
            f"{density_source} density but the model was trained on "
            f"{'/'.join(sorted(sources))} densities (see the user guide, 'Predict your own "
            "materials')"
        )
    systems = cov.get("crystal_systems")
    if systems:
        system, group = _crystal_system(structure)
        if system not in systems:
            out.append(
                f"crystal system {system} ({group}) not in training ({', '.join(sorted(systems))})"
            )
    ranges = metadata.get("target_range") or {}
    for target, value in (prediction or {}).items():
        if value < 0:
            out.append(f"{target} {value:.3g} GPa is negative: not physical, do not use it")
        elif target in ranges and not ranges[target][0] <= value <= ranges[target][1]:
            lo, hi = ranges[target]
            out.append(f"{target} outside the training range ({lo:.3g} to {hi:.3g} GPa)")
    return out


def _sample_of(path, density, species=None):
    """Read ``path``; compute a density from a structure when the model needs one."""
    obj, source = read_input(path, species=species)
    if isinstance(obj, Structure):
        if not density:
            return obj, obj, None
        from ..density import compute_density, import_gpaw

        try:
            import_gpaw()
        except ImportError:
            raise ImportError(
                "this model reads charge densities; computing one from a structure needs GPAW: "
                "pip install 'skecd[dft]' (or give a CHGCAR, .npz or cube file)"
            ) from None
        rho = compute_density(obj)
        return rho, rho.structure, "GPAW"
    return obj, obj.structure, source if density else None


def _input_warnings(sample, structure):
    """Warnings about the input itself: its electron count, occupancies, atoms, cell and grid."""
    from ..io import electron_count_problem

    out = []
    if hasattr(sample, "total"):
        problem = electron_count_problem(sample)
        if problem:
            out.append(problem)
        spacing = (structure.lattice.abc / np.asarray(sample.grid_shape)).max()
        if spacing > MAX_GRID_SPACING:
            out.append(
                f"grid {'x'.join(map(str, sample.grid_shape))} is coarse ({spacing:.2g} A between "
                f"points; the training densities have at most {MAX_GRID_SPACING:g} A)"
            )
    if not structure.is_ordered:
        out.append("partial occupancies: the model was trained on ordered crystals")
    if len(structure) > 1:
        dist = structure.distance_matrix
        np.fill_diagonal(dist, np.inf)
        if dist.min() < MIN_BOND:
            out.append(f"atoms {dist.min():.3g} A apart (less than {MIN_BOND:g} A)")
    packing = sum(
        4 / 3 * np.pi * (el.atomic_radius or 1.0) ** 3 * amount
        for el, amount in structure.composition.element_composition.items()
    )
    if packing / structure.volume < MIN_PACKING:
        out.append(
            f"the atoms fill {packing / structure.volume:.1%} of the cell (vacuum or a "
            "molecule?): the model was trained on bulk crystals"
        )
    return out


def _predict_one(estimator, path, targets, metadata, density, species=None, interval=None):
    import warnings

    start = time.perf_counter()
    try:
        sample, structure, source = _sample_of(path, density, species)
        check_structure(structure, "its structure")  # coinciding atoms: no symmetry, no model
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y, std = predict_with_std(estimator, [sample])
        bad = [t for j, t in enumerate(targets) if not np.isfinite(y[0, j])]
        if bad:
            raise ValueError(
                f"the model predicted a non-finite {', '.join(bad)} ({y[0].tolist()}): the "
                "model file or this input is broken"
            )
        model_warnings = [
            _sample_free(str(w.message)) for w in caught if issubclass(w.category, UserWarning)
        ]
        clipped = any("clipped" in m for m in model_warnings)
        row = {"id": str(path), "formula": structure.composition.reduced_formula}
        for j, t in enumerate(targets):
            row[t] = float(y[0, j])
            # every member clipped to one bound: their agreement is no spread
            row[f"{t}_std"] = float("nan") if clipped else float(std[0, j])
        if interval is not None:
            lower, upper = estimator.interval(y, std, confidence=interval)
            for j, t in enumerate(targets):
                row[f"{t}_lower"], row[f"{t}_upper"] = float(lower[0, j]), float(upper[0, j])
        row["density_source"] = source or ""
        predicted = {t: row[t] for t in targets}
        notes = _input_warnings(sample, structure) + model_warnings
        notes += applicability_warnings(structure, source, metadata, predicted)
        row["warnings"] = "; ".join(notes)
        row["seconds"] = round(time.perf_counter() - start, 2)
        return row, None
    except Exception as exc:  # one bad input must not stop the others; reported by name
        message = " ".join(str(exc).split()) or type(exc).__name__
        return None, f"{path}: {message}"


def _sample_free(message):
    """A model's warning about "samples [0]" of a one-sample call, said of the input."""
    return re.sub(r"samples \[0\] \(1 in all\)", "this input", message)


def predict_files(
    estimator, manifest, paths, *, interval=None, n_jobs=1, progress=True, species=None
):
    """Predict every input file; failures are returned, not raised.

    Parameters
    ----------
    estimator : estimator
        A fitted model (from :func:`skecd.load_model`).
    manifest : dict
        Its manifest (targets, training coverage).
    paths : list of path-like
        Input files (see :func:`skecd.inference.read_input`).
    interval : float, default=None
        Also give the calibrated interval of this confidence (``<target>_lower``,
        ``<target>_upper``); the model must have them
        (:class:`~skecd.models.ConformalIntervalRegressor`, as ``skecd train --cv``
        saves).
    n_jobs : int, default=1
        Inputs processed in parallel (joblib processes).
    progress : bool, default=True
        A progress bar on standard error.
    species : list of str, default=None
        Elements of the atom types of VASP 4 files (see :func:`skecd.io.read_chgcar`).

    Returns
    -------
    rows : list of dict
        One per input that succeeded, in input order: ``id``, ``formula``, each
        target and its ``_std`` (and ``_lower``, ``_upper`` with ``interval``),
        ``density_source``, ``warnings``, ``seconds``.
    errors : list of str
        One line per input that failed, naming the file.
    """
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    metadata = manifest.get("metadata") or {}
    targets = metadata.get("targets") or ["K_VRH", "G_VRH"]
    density = metadata.get("needs_density")
    if density is None:
        density = needs_density(estimator)
    paths = [Path(p) for p in paths]
    if interval is not None and not hasattr(estimator, "interval"):
        raise ValueError(
            "this model has no calibrated intervals: train it with cross-validation "
            "(skecd train --cv 5) or use a shipped model"
        )
    jobs = (
        delayed(_predict_one)(estimator, p, targets, metadata, density, species, interval)
        for p in paths
    )
    results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    rows, errors = [], []
    for row, error in tqdm(results, total=len(paths), desc="predict", disable=not progress):
        if error is None:
            rows.append(row)
        else:
            errors.append(error)
    return rows, errors

"""Loaders of the data bundled with skecd (read offline from the package directory)."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np
from pymatgen.core import Structure
from sklearn.utils import Bunch

from ..io import read_gpaw_npz

__all__ = [
    "get_data_dir",
    "get_sample_chgcar_paths",
    "load_fcc_elastic",
    "load_fcc_elastic_structures",
]

_DATA_DIR = Path(__file__).resolve().parent / "data"
_STRUCTURES_FILE = "fcc_fm3m_elastic.json.gz"
_DENSITY_DIR = "ecd_gpaw"
_MANIFEST_FILE = "MANIFEST.json"
#: The one place of the target names: bulk and shear moduli (Voigt-Reuss-Hill, GPa).
TARGET_NAMES = ("K_VRH", "G_VRH")


def get_data_dir() -> Path:
    """Return the directory holding the data bundled with skecd.

    It contains ``fcc_fm3m_elastic.json.gz`` (the labelled structures),
    ``ecd_gpaw/`` (one GPAW density ``<material_id>.npz`` per material and
    ``MANIFEST.json``), ``chgcar/`` (real VASP CHGCAR files) and ``README.md``
    (provenance and licences).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> from skecd.datasets import get_data_dir
    >>> (get_data_dir() / "README.md").is_file()
    True
    """
    return _DATA_DIR


def get_sample_chgcar_paths() -> dict[str, Path]:
    """Return the paths of the real VASP CHGCAR files bundled for examples and tests.

    Returns
    -------
    dict of str to pathlib.Path
        File stem (for example ``"Si_fcc"``) to the path of the gzipped CHGCAR,
        which :func:`skecd.io.read_chgcar` and pymatgen read as it is. Origins and
        licences are in ``get_data_dir() / "README.md"``.

    Examples
    --------
    >>> from skecd.datasets import get_sample_chgcar_paths
    >>> from skecd.io import read_chgcar
    >>> rho = read_chgcar(get_sample_chgcar_paths()["Si_fcc"])
    >>> rho.grid_shape
    (28, 28, 28)
    """
    return {
        p.name.removesuffix(".CHGCAR.gz"): p
        for p in sorted((_DATA_DIR / "chgcar").glob("*.CHGCAR.gz"))
    }


def get_sample_gpaw_twin_paths() -> dict[str, Path]:
    """Return the GPAW twins of the bundled VASP CHGCARs: the same structures' densities.

    Each twin is the density of the structure read from the CHGCAR of that name,
    computed by skecd with the settings of the bundled densities, for comparing the two
    codes (``benchmarks/vasp_vs_gpaw.py``). Both Li CHGCARs share one structure and one
    twin; Fe3O4's CHGCAR is a reference-type density and has none.

    Returns
    -------
    dict of str to pathlib.Path
        CHGCAR name (as in :func:`get_sample_chgcar_paths`) to the ``.npz`` path.

    Examples
    --------
    >>> from skecd.datasets import get_sample_gpaw_twin_paths
    >>> sorted(get_sample_gpaw_twin_paths())
    ['Li_bcc_nospin', 'Li_bcc_spin', 'Si_fcc', 'TiIr_mp-1235']
    """
    twins = {p.stem: p for p in sorted((_DATA_DIR / "chgcar_gpaw").glob("*.npz"))}
    if "Li_bcc_nospin" in twins:
        twins["Li_bcc_spin"] = twins["Li_bcc_nospin"]
    return dict(sorted(twins.items()))


@lru_cache(maxsize=1)
def _read_records() -> tuple[dict, ...]:
    path = _DATA_DIR / _STRUCTURES_FILE
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return tuple(json.load(fh))


def _read_manifest() -> dict:
    with open(_DATA_DIR / _DENSITY_DIR / _MANIFEST_FILE, encoding="utf-8") as fh:
        return json.load(fh)


def _readme_section(title_prefix: str) -> str:
    """Return the section of the data README whose ``## `` heading starts with the prefix."""
    text = (_DATA_DIR / "README.md").read_text(encoding="utf-8")
    for section in re.split(r"\n(?=## )", text):
        if section.startswith(f"## {title_prefix}"):
            return section.strip()
    raise LookupError(f"No section '## {title_prefix}' in {_DATA_DIR / 'README.md'}")


def _settings_text(manifest: dict) -> str:
    settings = "\n".join(f"- {key}: {value}" for key, value in manifest["settings"].items())
    code = ", ".join(f"{name} {version}" for name, version in manifest["code"].items())
    return f"{settings}\n- code: {code}"


def load_fcc_elastic_structures(return_X_y=False):
    """Load the 371 labelled Fm-3m structures with their DFT elastic moduli.

    These are all the materials of the bundled set, including the ones for which
    no charge density is shipped; feed them (or your own records in the same
    format) to ``skecd density`` (:mod:`skecd.density`) to compute densities.

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(structures, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With fields

        structures : list of pymatgen.core.Structure
            The relaxed PBE structures as published by the Materials Project.
        target : ndarray of shape (n_materials, 2)
            Voigt-Reuss-Hill bulk and shear moduli ``K_VRH``, ``G_VRH`` in GPa.
        target_names : list of str
            ``["K_VRH", "G_VRH"]``.
        material_ids, formulas, sources : list of str
            Materials Project ids, formulas, and the origin of each row.
        filename : pathlib.Path
            The gzipped JSON file (a list of records with ``material_id``,
            ``formula``, ``structure`` as ``Structure.as_dict()``, ``K_VRH``,
            ``G_VRH``, ``source``), which ``skecd density`` reads as it is.
        DESCR : str
            Provenance and licences.
    (structures, target) : tuple
        If ``return_X_y`` is True.

    Examples
    --------
    >>> from skecd.datasets import load_fcc_elastic_structures
    >>> raw = load_fcc_elastic_structures()
    >>> raw.target.shape
    (371, 2)
    """
    records = _read_records()
    structures = [Structure.from_dict(r["structure"]) for r in records]
    target = np.array([[r[name] for name in TARGET_NAMES] for r in records], dtype=np.float64)
    if return_X_y:
        return structures, target
    descr = (
        "Fm-3m elastic moduli (raw labelled structures)\n"
        "==============================================\n\n"
        f"{len(records)} materials of space group Fm-3m with DFT (PBE) Voigt-Reuss-Hill bulk and "
        "shear moduli in GPa.\n\n" + _readme_section("fcc_fm3m_elastic.json.gz")
    )
    return Bunch(
        structures=structures,
        target=target,
        target_names=list(TARGET_NAMES),
        material_ids=[r["material_id"] for r in records],
        formulas=[r["formula"] for r in records],
        sources=[r["source"] for r in records],
        filename=_DATA_DIR / _STRUCTURES_FILE,
        DESCR=descr,
    )


def load_fcc_elastic(return_X_y=False):
    """Load the Fm-3m elastic-moduli dataset with its GPAW valence charge densities.

    Every material of :func:`load_fcc_elastic_structures` that has a bundled
    density (369 of 371; the two Tc compounds have none because GPAW ships no Tc
    PAW setup; ``excluded`` lists them) is returned, read offline from the
    package data with :func:`skecd.io.read_gpaw_npz`.

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With fields

        data : list of :class:`skecd.io.ChargeDensity`
            The valence pseudo densities (e/A^3, float32 as GPAW wrote them) on
            GPAW's grid over each material's primitive standard cell, with
            ``metadata`` ``n_valence``, ``energy`` and, when spin-polarised,
            ``magmom``.
        target : ndarray of shape (n_materials, 2)
            ``K_VRH`` and ``G_VRH`` in GPa.
        target_names : list of str
            ``["K_VRH", "G_VRH"]``.
        material_ids, formulas : list of str
            Materials Project ids and reduced formulas.
        structures : list of pymatgen.core.Structure
            The relaxed Materials Project structures (as published, not reduced
            to the primitive cell used for the densities).
        filenames : list of pathlib.Path
            The ``.npz`` file of each density (skecd's estimators also take paths).
        excluded : dict of str to str
            Material id to the reason it is left out.
        DESCR : str
            Provenance, licences and the DFT settings.
    (data, target) : tuple
        If ``return_X_y`` is True.

    Examples
    --------
    >>> from skecd.datasets import load_fcc_elastic
    >>> ds = load_fcc_elastic()
    >>> ds.target.shape
    (369, 2)
    >>> ds.target_names
    ['K_VRH', 'G_VRH']
    """
    manifest = _read_manifest()
    failed = {f["material_id"]: f for f in manifest["failed"]}
    density_dir = _DATA_DIR / _DENSITY_DIR
    kept, excluded = [], {}
    for record in _read_records():
        mid = record["material_id"]
        path = density_dir / f"{mid}.npz"
        if path.is_file():
            kept.append((record, path))
        elif mid in failed:
            excluded[mid] = f"{record['formula']}: no density ({failed[mid]['error']})"
        else:
            raise FileNotFoundError(
                f"The bundled density of {mid} ({record['formula']}) is missing: {path} "
                f"(not listed as failed in {density_dir / _MANIFEST_FILE}); "
                "the installation is incomplete."
            )
    data = [read_gpaw_npz(path) for _, path in kept]
    target = np.array(
        [[record[name] for name in TARGET_NAMES] for record, _ in kept], dtype=np.float64
    )
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        target_names=list(TARGET_NAMES),
        material_ids=[record["material_id"] for record, _ in kept],
        formulas=[record["formula"] for record, _ in kept],
        structures=[Structure.from_dict(record["structure"]) for record, _ in kept],
        filenames=[path for _, path in kept],
        excluded=excluded,
        DESCR=_fcc_elastic_descr(len(kept), excluded, manifest, [r for r, _ in kept]),
    )


def _fcc_elastic_descr(n_kept: int, excluded: dict, manifest: dict, records: list) -> str:
    left_out = "\n".join(f"- {mid}: {why}" for mid, why in excluded.items()) or "- none"
    # Counted from the data, because the provenance text below was written by hand.
    sources = Counter(record["source"] for record in records)
    by_source = "\n".join(f"- {n} rows: {source}" for source, n in sources.most_common())
    return (
        "Fm-3m elastic moduli with GPAW valence charge densities\n"
        "=======================================================\n\n"
        f"{n_kept} materials of space group Fm-3m (lanthanides and actinides excluded): "
        "the valence charge density of each (input) and its DFT Voigt-Reuss-Hill bulk and "
        "shear moduli K_VRH, G_VRH in GPa (targets).\n\n"
        f"Left out (no density):\n{left_out}\n\n"
        f"Rows by source of the elastic moduli (counted in the loaded data):\n{by_source}\n\n"
        "DFT settings of the densities (skecd.density recomputes them with these):\n"
        f"{_settings_text(manifest)}\n\n"
        "Provenance and licences\n"
        "-----------------------\n\n"
        f"{_readme_section('fcc_fm3m_elastic.json.gz')}\n\n{_readme_section('ecd_gpaw/')}\n"
    )

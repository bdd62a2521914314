"""The extended loader: densities found in the package and the source checkout, the rest named."""

from __future__ import annotations

import numpy as np
import pytest

from skecd.datasets import CRYSTAL_SYSTEMS, crystal_system, load_elastic


def test_fcc_subset_holds_the_bundled_set(tmp_path):
    from skecd.datasets import load_fcc_elastic

    bundled = load_fcc_elastic()
    fcc = load_elastic(space_groups=225, data_home=tmp_path, missing="ignore")
    assert set(bundled.material_ids) <= set(fcc.material_ids)
    # the rest of space group 225 in the extended labels is named, not dropped
    assert not set(fcc.missing) & set(bundled.material_ids)
    assert all("Tc" in why for why in fcc.excluded.values())
    assert len(fcc.data) == len(fcc.material_ids) == len(fcc.target)
    row = fcc.material_ids.index(bundled.material_ids[0])
    np.testing.assert_allclose(fcc.target[row], bundled.target[0])
    assert set(fcc.crystal_systems) == {"cubic"}


def test_missing_densities_are_named_with_the_command(tmp_path):
    with pytest.warns(UserWarning, match=r"no density yet.*skecd density .* --existing"):
        data = load_elastic(crystal_systems="monoclinic", data_home=tmp_path)
    assert data.missing  # most monoclinic cells are still to build
    assert len(data.data) + len(data.missing) + len(data.excluded) == 202
    with pytest.raises(FileNotFoundError, match="no density yet"):
        load_elastic(crystal_systems="monoclinic", data_home=tmp_path, missing="raise")


def test_crystal_systems_and_bad_arguments():
    assert [crystal_system(n) for n in (1, 3, 16, 75, 143, 168, 195)] == list(CRYSTAL_SYSTEMS)
    with pytest.raises(ValueError, match="1 to 230"):
        crystal_system(231)
    with pytest.raises(ValueError, match="unknown crystal system"):
        load_elastic(crystal_systems="cubical")
    with pytest.raises(ValueError, match="missing must be"):
        load_elastic(missing="drop")


def _triclinic_with_density():
    """Ids of triclinic materials whose density the source tree holds (few: fast to load)."""
    data = load_elastic(crystal_systems="triclinic", missing="ignore")
    if not data.material_ids:
        pytest.skip("no triclinic density in this tree")
    return data


def test_a_damaged_density_is_skipped_with_a_warning_naming_it(tmp_path, monkeypatch):
    import skecd.datasets._extended as ext

    full = _triclinic_with_density()
    mid = full.material_ids[0]
    home = tmp_path / "ecd_gpaw_extended"
    home.mkdir()
    (home / f"{mid}.npz").write_bytes(full.filenames[0].read_bytes()[:500])  # truncated copy
    # the copy in the data home is read first; the good one elsewhere is then used
    both = load_elastic(crystal_systems="triclinic", data_home=tmp_path, missing="ignore")
    assert both.material_ids == full.material_ids
    assert not both.damaged
    # damaged everywhere: skipped with a warning naming the file, listed in ``damaged``
    monkeypatch.setattr(ext, "_density_dirs", lambda data_home: [home])
    with pytest.warns(
        UserWarning, match=rf"skipped 1 materials whose density file is damaged: .*{mid}.npz"
    ):
        data = load_elastic(crystal_systems="triclinic", missing="ignore")
    assert mid not in data.material_ids
    assert str(home / f"{mid}.npz") in data.damaged[mid]
    with pytest.raises(ValueError, match=rf"{mid}.npz"):
        load_elastic(crystal_systems="triclinic", missing="ignore", damaged="raise")
    with pytest.raises(ValueError, match="damaged must be"):
        load_elastic(damaged="skip")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('[{"material_id": "mp-1", "error": "bad\x01"}', "not valid JSON"),
        ('{"material_id": "mp-1"}', "not a JSON list"),
        ('[{"error": "no id"}]', "entry 0 has no material_id"),
    ],
)
def test_a_bad_failures_file_is_named_and_ignored(tmp_path, text, match):
    home = tmp_path / "ecd_gpaw_extended"
    home.mkdir()
    (home / "failures.json").write_text(text)
    with pytest.warns(UserWarning, match=rf"{home / 'failures.json'}.*{match}"):
        data = load_elastic(crystal_systems="triclinic", data_home=tmp_path, missing="ignore")
    assert len(data.data) == len(data.material_ids)

"""Tests of hepviz.features, with values computed by hand."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepviz import sources
from hepviz.errors import ConfigError, MissingBranchError
from hepviz.features import Feature, Recipe, detect_schema, muon_met_recipe


@pytest.fixture
def nano_events():
    # Event 1 has its muons out of pt order on purpose.
    return ak.Array(
        {
            "MET_pt": np.array([10.0, 20.0, 30.0, 40.0], dtype=np.float32),
            "nMuon": np.array([0, 1, 2, 3], dtype=np.int32),
            "Muon_pt": [[], [25.0], [12.0, 50.0], [40.0, 30.0, 20.0]],
        }
    )


@pytest.fixture
def tutorial_events():
    return ak.Array(
        {
            "MET_px": [3.0, 0.0, -6.0],
            "MET_py": [4.0, 0.0, 8.0],
            "NMuon": [1, 0, 2],
            "Muon_Px": [[3.0], [], [1.0, 6.0]],
            "Muon_Py": [[4.0], [], [0.0, -8.0]],
        }
    )


def test_nanoaod_muon_met_by_hand(nano_events):
    recipe = muon_met_recipe(nano_events.fields)
    assert recipe.feature_names == ["met", "n_muons", "muon1_pt", "muon2_pt"]
    out = recipe.apply(nano_events)
    np.testing.assert_array_equal(out["met"], [10, 20, 30, 40])
    np.testing.assert_array_equal(out["n_muons"], [0, 1, 2, 3])
    np.testing.assert_array_equal(out["muon1_pt"], [0, 25, 50, 40])
    # One-muon event: second-muon pt is 0.
    np.testing.assert_array_equal(out["muon2_pt"], [0, 0, 12, 30])
    assert all(v.dtype == np.float64 for v in out.values())


def test_tutorial_met_magnitude_and_muon_pt_from_components(tutorial_events):
    recipe = muon_met_recipe(tutorial_events.fields)
    assert recipe.name == "muon_met_tutorial"
    out = recipe.apply(tutorial_events)
    np.testing.assert_allclose(out["met"], [5.0, 0.0, 10.0])
    np.testing.assert_array_equal(out["n_muons"], [1, 0, 2])
    np.testing.assert_allclose(out["muon1_pt"], [5.0, 0.0, 10.0])
    np.testing.assert_allclose(out["muon2_pt"], [0.0, 0.0, 1.0])


def test_count_from_jagged_when_no_counter():
    arrays = ak.Array({"MET_pt": [1.0, 2.0], "Muon_pt": [[1.0, 2.0], []]})
    recipe = muon_met_recipe(arrays.fields)
    assert recipe.features[1] == Feature("n_muons", "count", ("Muon_pt",))
    np.testing.assert_array_equal(recipe.apply(arrays)["n_muons"], [2, 0])


def test_nth_matches_pad_none_reference_on_random_events():
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 5, 2000)
    pt = ak.unflatten(rng.exponential(30, counts.sum()), counts)
    arrays = ak.Array({"Muon_pt": pt})
    ordered = ak.sort(pt, axis=1, ascending=False)
    for index in (0, 1, 3):
        expected = ak.fill_none(ak.pad_none(ordered, index + 1)[:, index], -1.0)
        got = Recipe((Feature("x", "nth", ("Muon_pt",), index, -1.0),)).apply(arrays)
        np.testing.assert_array_equal(got["x"], ak.to_numpy(expected))


def test_nth_on_sliced_chunk(nano_events):
    chunk = nano_events[2:]
    out = muon_met_recipe(chunk.fields).apply(chunk)
    np.testing.assert_array_equal(out["muon1_pt"], [50, 40])
    np.testing.assert_array_equal(out["muon2_pt"], [12, 30])


def test_nth_of_non_pt_branch_keeps_stored_order():
    arrays = ak.Array({"Muon_eta": [[0.5, -2.0], [1.0]]})
    feature = Feature("muon2_eta", "nth", ("Muon_eta",), index=1, fill=-9.0)
    out = Recipe((feature,)).apply(arrays)
    np.testing.assert_array_equal(out["muon2_eta"], [-2, -9])


def test_nth_with_missing_values_falls_back():
    arrays = ak.Array({"Jet_pt": [[10.0, None, 30.0], None, [5.0]]})
    feature = Feature("jet1_pt", "nth", ("Jet_pt",))
    out = Recipe((feature,)).apply(arrays)
    np.testing.assert_array_equal(out["jet1_pt"], [30, 0, 5])


def test_sum_gives_ht():
    arrays = ak.Array({"Jet_pt": [[10.0, 20.0], [], [5.5]]})
    out = Recipe((Feature("ht", "sum", ("Jet_pt",)),)).apply(arrays)
    np.testing.assert_array_equal(out["ht"], [30.0, 0.0, 5.5])


def test_recipe_branches_are_unique_and_ordered(tutorial_events):
    recipe = muon_met_recipe(tutorial_events.fields)
    assert recipe.branches() == ["MET_px", "MET_py", "NMuon", "Muon_Px", "Muon_Py"]


def test_detect_schema():
    assert detect_schema(["MET_pt", "nMuon", "Muon_pt"]) == "nanoaod"
    assert detect_schema(["MET_px", "MET_py", "Muon_Px", "Muon_Py"]) == "tutorial"
    assert detect_schema(["px1", "py1"]) is None


def test_unknown_schema_raises_missing_branch_with_closest():
    with pytest.raises(MissingBranchError) as info:
        muon_met_recipe(["MET_pT", "Muon_pt", "nMuon"])
    assert info.value.missing == "MET_pt"
    assert "MET_pT" in info.value.closest


def test_apply_without_branch_raises(nano_events):
    recipe = Recipe((Feature("ht", "sum", ("Jet_pt",)),))
    with pytest.raises(MissingBranchError, match="Jet_pt"):
        recipe.apply(nano_events)


def test_feature_validation():
    with pytest.raises(ConfigError, match="kind"):
        Feature("x", "mean", ("a",))
    with pytest.raises(ConfigError, match="2 branch"):
        Feature("met", "magnitude", ("MET_px",))


def test_value_of_jagged_branch_is_refused(nano_events):
    with pytest.raises(ConfigError, match="list per event"):
        Recipe((Feature("x", "value", ("Muon_pt",)),)).apply(nano_events)


def test_tiny_files_and_real_hzz(tiny_nanoaod_root, tiny_tutorial_root, shared_data):
    for path in (tiny_nanoaod_root, tiny_tutorial_root):
        names = list(sources.list_trees(path)[0].branches)
        recipe = muon_met_recipe(names)
        out = recipe.apply(sources.read_arrays(path, None, recipe.branches()))
        assert all(len(v) == 300 and np.isfinite(v).all() for v in out.values())
        assert (out["muon1_pt"] >= out["muon2_pt"]).all()
    hzz = shared_data / "uproot-HZZ.root"
    recipe = muon_met_recipe(sources.list_trees(hzz)[0].branches)
    arrays = sources.read_arrays(hzz, None, recipe.branches())
    out = recipe.apply(arrays)
    px, py = ak.to_numpy(arrays["MET_px"][0]), ak.to_numpy(arrays["MET_py"][0])
    assert out["met"][0] == pytest.approx(np.hypot(px, py))
    np.testing.assert_array_equal(out["n_muons"], ak.num(arrays["Muon_Px"]))


@pytest.mark.parametrize("name, unit", [
    ("met", "GeV"), ("muon1_pt", "GeV"), ("muon2_pt", "GeV"), ("MET_px", "GeV"),
    ("Muon_pt_1", "GeV"), ("dimuon_mass", "GeV"), ("n_muons", ""), ("nMuon", ""),
    ("Muon_eta_1", ""), ("Muon_pt_count", ""), ("Jet_pt_sum", "GeV"),
])
def test_unit_of_feature_names(name, unit):
    from hepviz.features import unit_of

    assert unit_of(name) == unit


def test_a_table_of_the_four_features_is_taken_as_it_is():
    import awkward as ak

    from hepviz.features import detect_schema, muon_met_recipe

    columns = ["met", "n_muons", "muon1_pt", "muon2_pt", "run"]
    assert detect_schema(columns) == "flat"
    recipe = muon_met_recipe(columns)
    table = ak.Array({"met": [10.0, 20.0], "n_muons": [1, 2], "muon1_pt": [30.0, 40.0],
                      "muon2_pt": [0.0, 25.0], "run": [1, 1]})
    out = recipe.apply(table)
    assert recipe.feature_names == ["met", "n_muons", "muon1_pt", "muon2_pt"]
    np.testing.assert_allclose(out["muon2_pt"], [0.0, 25.0])

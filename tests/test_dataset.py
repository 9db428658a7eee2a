"""Tests of hepviz.dataset: building, notes, saving, checks and the split."""

from __future__ import annotations

import numpy as np
import pytest

from hepviz.dataset import (
    EventSet,
    SampleSpec,
    build_eventset,
    check_trainable,
    split_indices,
)
from hepviz.errors import (
    DatasetError,
    EmptyDatasetError,
    MissingBranchError,
    UnreadableFileError,
)
from hepviz.features import Feature, Recipe, muon_met_recipe

FEATURES = ["met", "n_muons", "muon1_pt", "muon2_pt"]


def small_eventset(n=50, seed=0) -> EventSet:
    rng = np.random.default_rng(seed)
    return EventSet(
        X=rng.normal(size=(n, 2)),
        y=np.arange(n) % 2,
        weight=np.ones(n),
        process=np.arange(n) % 2,
        feature_names=["a", "b"],
        process_names=["bkg", "sig"],
        notes=["a note"],
    )


def test_build_mixes_nanoaod_and_tutorial(tiny_nanoaod_root, tiny_tutorial_root):
    calls = []
    es = build_eventset(
        [
            SampleSpec(str(tiny_nanoaod_root), 1, "dy"),
            SampleSpec(str(tiny_tutorial_root), 0, "ttbar"),
        ],
        muon_met_recipe,
        progress=lambda fraction, message: calls.append((fraction, message)),
    )
    assert es.n_events == 600 and es.feature_names == FEATURES
    assert es.X.dtype == np.float32 and es.y.dtype == np.int8
    assert es.process.dtype == np.int16 and es.weight.dtype == np.float64
    assert (es.y[:300] == 1).all() and (es.y[300:] == 0).all()
    assert es.process_names == ["dy", "ttbar"]
    np.testing.assert_array_equal(es.weight, 1.0)
    assert es.notes == []
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("Reading tiny_tutorial.root" in m for _, m in calls)


def test_weight_branch_and_max_events(tiny_nanoaod_root):
    es = build_eventset(
        [SampleSpec(str(tiny_nanoaod_root), 1, "dy", weight_branch="genWeight")],
        muon_met_recipe,
        max_events=100,
    )
    assert es.n_events == 100
    assert set(np.unique(es.weight)) <= {-1.0, 1.0} and (es.weight < 0).any()


def test_non_finite_events_are_dropped_with_a_note(tmp_path):
    path = tmp_path / "nan.csv"
    path.write_text("met,ht\n1.0,2.0\nnan,3.0\n4.0,inf\n5.0,6.0\n")
    recipe = Recipe(
        (Feature("met", "value", ("met",)), Feature("ht", "value", ("ht",)))
    )
    es = build_eventset([SampleSpec(str(path), 0, "bkg")], recipe)
    np.testing.assert_array_equal(es.X, [[1, 2], [5, 6]])
    (note,) = es.notes
    assert "dropped 2 of 4 events" in note
    assert "met (1)" in note and "ht (1)" in note and "nan.csv" in note


def test_all_events_dropped_is_empty(tmp_path):
    path = tmp_path / "allnan.csv"
    path.write_text("met,x\nnan,1\ninf,2\n")
    recipe = Recipe((Feature("met", "value", ("met",)),))
    with pytest.raises(EmptyDatasetError, match="No events left"):
        build_eventset([SampleSpec(str(path), 0, "bkg")], recipe)


def test_tree_without_events_is_refused(empty_tree_root):
    with pytest.raises(EmptyDatasetError, match="holds no events"):
        build_eventset([SampleSpec(str(empty_tree_root), 1, "dy")], muon_met_recipe)


def test_no_samples_and_bad_label(tiny_nanoaod_root):
    with pytest.raises(EmptyDatasetError):
        build_eventset([], muon_met_recipe)
    with pytest.raises(DatasetError, match="label"):
        build_eventset([SampleSpec(str(tiny_nanoaod_root), 2, "dy")], muon_met_recipe)


def test_file_without_recipe_branches(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("MET_pT,Muon_pt\n1,2\n3,4\n")
    with pytest.raises(MissingBranchError, match="other.csv.*Closest names: MET_pT"):
        build_eventset([SampleSpec(str(path), 1, "x")], muon_met_recipe)


def test_truncated_file_is_unreadable(truncated_root):
    with pytest.raises(UnreadableFileError):
        build_eventset([SampleSpec(str(truncated_root), 1, "x")], muon_met_recipe)


def test_save_load_round_trip_and_hash(tmp_path):
    es = small_eventset()
    path = es.save(tmp_path / "sets" / "es.npz")
    assert [p.name for p in path.parent.iterdir()] == ["es.npz"]  # no temp left
    back = EventSet.load(path)
    np.testing.assert_array_equal(back.X, es.X)
    np.testing.assert_array_equal(back.process, es.process)
    assert back.feature_names == ["a", "b"] and back.notes == ["a note"]
    assert back.content_hash() == es.content_hash()

    changed = small_eventset()
    changed.X[0, 0] += 1.0
    assert changed.content_hash() != es.content_hash()
    renamed = small_eventset()
    renamed.feature_names = ["a", "c"]
    assert renamed.content_hash() != es.content_hash()


def test_load_of_non_dataset_is_refused(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_text("not a zip")
    with pytest.raises(UnreadableFileError, match="not a saved hepviz dataset"):
        EventSet.load(path)


def test_subset_and_shape_check():
    es = small_eventset()
    sub = es.subset(np.array([0, 3]))
    assert sub.n_events == 2 and sub.y.tolist() == [0, 1]
    with pytest.raises(DatasetError, match="shape"):
        EventSet(np.zeros((3, 2)), np.zeros(2), np.ones(3), np.zeros(3), ["a", "b"], [])


def test_check_trainable():
    check_trainable(small_eventset(n=50))
    es = small_eventset(n=50)
    es.y[:] = 1
    with pytest.raises(DatasetError, match="no background events"):
        check_trainable(es)
    with pytest.raises(DatasetError, match="at least 20"):
        check_trainable(small_eventset(n=30))


def test_split_is_stratified_seeded_and_disjoint():
    y = np.r_[np.ones(100), np.zeros(400)].astype(np.int8)
    split = split_indices(500, y, seed=7)
    assert (len(split.train), len(split.val), len(split.test)) == (300, 100, 100)
    for part in (split.train, split.val, split.test):
        assert y[part].mean() == pytest.approx(0.2)
    everything = np.concatenate([split.train, split.val, split.test])
    np.testing.assert_array_equal(np.sort(everything), np.arange(500))
    again = split_indices(500, y, seed=7)
    np.testing.assert_array_equal(again.test, split.test)
    assert not np.array_equal(split_indices(500, y, seed=8).test, split.test)


def test_split_rejects_bad_fractions():
    with pytest.raises(Exception, match="add up to 1"):
        split_indices(10, np.zeros(10), fractions=(0.5, 0.2, 0.2))

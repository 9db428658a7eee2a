"""Tests of hepviz.sources: format by content, tree listing, reading, bad input."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pandas as pd
import pytest

from hepviz import sources
from hepviz.errors import (
    ConfigError,
    DatasetError,
    HepvizError,
    MissingBranchError,
    UnreadableFileError,
)

RNTUPLE_FILE = "Run2012BC_DoubleMuParked_Muons_1000evts_rntuple_v1-0-0-0.root"


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "events.csv"
    pd.DataFrame(
        {"met": [10.0, 20.0, 30.5], "n_muons": [0, 1, 2], "w": [1.0, 0.5, 2.0]}
    ).to_csv(path, index=False)
    return path


@pytest.fixture
def parquet_file(tmp_path):
    path = tmp_path / "events.parquet"
    ak.to_parquet(
        ak.Array({"MET_pt": [5.0, 6.0, 7.0], "Muon_pt": [[30.0, 10.0], [], [4.0]]}),
        path,
    )
    return path


# Format detection ------------------------------------------------------------------


def test_detect_format_by_content(tiny_nanoaod_root, csv_file, parquet_file):
    assert sources.detect_format(tiny_nanoaod_root) == "root"
    assert sources.detect_format(csv_file) == "csv"
    assert sources.detect_format(parquet_file) == "parquet"


def test_root_file_named_csv_is_read_as_root(root_named_csv):
    assert sources.detect_format(root_named_csv) == "root"
    arrays = sources.read_arrays(root_named_csv, None, ["MET_pt"])
    assert len(arrays) == 300


def test_csv_named_root_is_read_as_csv(tmp_path):
    path = tmp_path / "table.root"
    path.write_text("a,b\n1,2\n3,4\n")
    arrays = sources.read_arrays(path, None, ["b"])
    assert arrays["b"].tolist() == [2, 4]


def test_text_named_root_is_refused_with_claim_and_content(text_named_root):
    with pytest.raises(UnreadableFileError) as info:
        sources.detect_format(text_named_root)
    message = str(info.value)
    assert "named like a ROOT file" in message
    assert "plain text" in message


def test_binary_junk_is_refused(tmp_path):
    path = tmp_path / "image.parquet"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    with pytest.raises(UnreadableFileError, match="Parquet file.*binary data"):
        sources.list_trees(path)


def test_empty_file_is_refused(empty_file):
    with pytest.raises(UnreadableFileError, match="empty"):
        sources.list_trees(empty_file)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(UnreadableFileError, match="No file"):
        sources.detect_format(tmp_path / "nowhere.root")


# ROOT ------------------------------------------------------------------------------


def test_list_trees_reports_readable_types(tiny_nanoaod_root):
    (info,) = sources.list_trees(tiny_nanoaod_root)
    assert (info.name, info.kind, info.num_entries) == ("Events", "TTree", 300)
    assert info.branches["MET_pt"] == "float32"
    assert info.branches["Muon_pt"] == "var * float32"
    assert "nMuon" in info.branches


def test_read_arrays_keeps_jagged_branches(tiny_nanoaod_root):
    arrays = sources.read_arrays(tiny_nanoaod_root, "Events", ["nMuon", "Muon_pt"])
    assert arrays.fields == ["nMuon", "Muon_pt"]
    np.testing.assert_array_equal(ak.num(arrays["Muon_pt"]), arrays["nMuon"])


def test_entry_stop_limits_events(tiny_nanoaod_root):
    assert len(sources.read_arrays(tiny_nanoaod_root, None, ["MET_pt"], 7)) == 7


def test_iterate_arrays_covers_all_events(tiny_nanoaod_root):
    chunks = list(sources.iterate_arrays(tiny_nanoaod_root, None, ["Muon_pt"], 100))
    assert [len(c) for c in chunks] == [100, 100, 100]
    whole = sources.read_arrays(tiny_nanoaod_root, None, ["Muon_pt"])
    assert ak.all(ak.concatenate(chunks)["Muon_pt"] == whole["Muon_pt"])


def test_missing_branch_names_closest(tiny_nanoaod_root):
    with pytest.raises(MissingBranchError) as info:
        sources.read_arrays(tiny_nanoaod_root, None, ["Muon_Pt"])
    assert isinstance(info.value, KeyError)
    assert "Muon_pt" in info.value.closest
    assert "tree 'Events'" in str(info.value)


def test_unknown_tree_lists_the_trees(tiny_nanoaod_root):
    with pytest.raises(ConfigError, match="Events"):
        sources.read_arrays(tiny_nanoaod_root, "Muons", ["MET_pt"])


def test_truncated_root_file_is_refused(truncated_root):
    with pytest.raises(UnreadableFileError, match="truncated"):
        sources.list_trees(truncated_root)
    with pytest.raises(UnreadableFileError, match="truncated"):
        sources.read_arrays(truncated_root, None, ["MET_pt"])


def test_tree_with_zero_events_reads_as_empty(empty_tree_root):
    (info,) = sources.list_trees(empty_tree_root)
    assert info.num_entries == 0
    assert len(sources.read_arrays(empty_tree_root, None, ["MET_pt"])) == 0


def test_list_trees_dedupes_cycles_and_finds_several(tmp_path):
    import uproot

    path = tmp_path / "two.root"
    with uproot.recreate(path) as f:
        f["a"] = {"x": np.arange(3.0)}
        f.mktree("b", {"y": "int32"})
        f["b"].extend({"y": np.arange(5, dtype=np.int32)})
    infos = {t.name: t for t in sources.list_trees(path)}
    assert set(infos) == {"a", "b"}
    assert infos["b"].num_entries == 5
    # Without a tree name the larger of two non-'Events' trees is read.
    assert len(sources.read_arrays(path, None, ["y"])) == 5


# Real files --------------------------------------------------------------------------


def test_real_nanoaod_files(shared_data):
    (dy,) = sources.list_trees(shared_data / "uproot-small-dy-withoffsets.root")
    assert (dy.name, dy.num_entries) == ("tree", 501)
    assert dy.branches["Muon_pt"] == "var * float32"
    ttbar = sources.read_arrays(
        shared_data / "nanoAOD_2015_CMS_Open_Data_ttbar.root",
        None,
        ["MET_pt", "nMuon", "Muon_pt"],
    )
    assert len(ttbar) == 200
    assert ak.all(ak.num(ttbar["Muon_pt"]) == ttbar["nMuon"])


def test_real_tutorial_file(shared_data):
    arrays = sources.read_arrays(
        shared_data / "uproot-HZZ.root", "events", ["NMuon", "Muon_Px", "MET_px"]
    )
    assert len(arrays) == 2421
    assert ak.all(ak.num(arrays["Muon_Px"]) == arrays["NMuon"])


def test_real_rntuple(shared_data):
    path = shared_data / RNTUPLE_FILE
    (info,) = sources.list_trees(path)
    assert (info.kind, info.num_entries) == ("RNTuple", 1000)
    assert info.branches["Muon_pt"] == "var * float32"
    arrays = sources.read_arrays(path, None, ["nMuon", "Muon_pt"], entry_stop=50)
    assert arrays.fields == ["nMuon", "Muon_pt"]
    assert ak.all(ak.num(arrays["Muon_pt"]) == arrays["nMuon"])
    chunks = list(sources.iterate_arrays(path, None, ["Muon_pt"], step_size=400))
    assert sum(len(c) for c in chunks) == 1000


def test_real_zmumu_lists_string_branch(shared_data):
    (info,) = sources.list_trees(shared_data / "uproot-Zmumu.root")
    assert info.branches["Type"] == "string"
    assert info.branches["pt1"] == "float64"


# Tables --------------------------------------------------------------------------


def test_csv_list_and_read(csv_file):
    (info,) = sources.list_trees(csv_file)
    assert (info.kind, info.num_entries) == ("table", 3)
    assert info.branches == {"met": "float64", "n_muons": "int64", "w": "float64"}
    arrays = sources.read_arrays(csv_file, None, ["met", "n_muons"], entry_stop=2)
    assert arrays.tolist() == [{"met": 10.0, "n_muons": 0}, {"met": 20.0, "n_muons": 1}]


def test_csv_with_semicolons(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("x;y\n1;2\n3;4\n5;6\n")
    assert sources.read_arrays(path, None, ["y"])["y"].tolist() == [2, 4, 6]


def test_csv_text_column_is_refused(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("met,process\n1.0,ttbar\n2.0,dy\n")
    assert sources.list_trees(path)[0].branches["process"] == "string"
    with pytest.raises(DatasetError, match="'process'.*text.*'ttbar'"):
        sources.read_arrays(path, None, ["met", "process"])
    assert sources.read_arrays(path, None, ["met"])["met"].tolist() == [1.0, 2.0]


def test_csv_missing_column(csv_file):
    with pytest.raises(MissingBranchError, match="closest|Closest"):
        sources.read_arrays(csv_file, None, ["mett"])


def test_csv_ragged_rows_are_refused(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3,4\n5,6,7,8\n")
    with pytest.raises(UnreadableFileError, match="same number of columns"):
        sources.read_arrays(path, None, ["a"])


def test_csv_iterate_in_chunks(tmp_path):
    path = tmp_path / "long.csv"
    pd.DataFrame({"x": np.arange(25.0)}).to_csv(path, index=False)
    chunks = list(sources.iterate_arrays(path, None, ["x"], step_size=10))
    assert [len(c) for c in chunks] == [10, 10, 5]
    assert ak.concatenate(chunks)["x"].tolist() == list(np.arange(25.0))


def test_parquet_list_read_iterate(parquet_file):
    (info,) = sources.list_trees(parquet_file)
    assert info.num_entries == 3
    assert info.branches["Muon_pt"] == "var * float64"
    arrays = sources.read_arrays(parquet_file, None, ["Muon_pt"], entry_stop=2)
    assert arrays["Muon_pt"].tolist() == [[30.0, 10.0], []]
    chunks = list(sources.iterate_arrays(parquet_file, None, ["MET_pt"], 2))
    assert [len(c) for c in chunks] == [2, 1]
    with pytest.raises(MissingBranchError):
        sources.read_arrays(parquet_file, None, ["MET"])


def test_truncated_parquet_is_refused(parquet_file, tmp_path):
    data = parquet_file.read_bytes()
    path = tmp_path / "cut.parquet"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableFileError, match="Parquet"):
        sources.read_arrays(path, None, ["MET_pt"])


def test_every_user_error_is_a_hepviz_error():
    for cls in (UnreadableFileError, MissingBranchError, DatasetError, ConfigError):
        assert issubclass(cls, HepvizError)


def test_resolve_tree_picks_what_read_arrays_reads(tiny_nanoaod_root, csv_file):
    assert sources.resolve_tree(tiny_nanoaod_root).name == "Events"
    assert sources.resolve_tree(csv_file).kind == "table"
    with pytest.raises(ConfigError):
        sources.resolve_tree(tiny_nanoaod_root, "nope")

"""The command line runs the same library code as the pages."""

from __future__ import annotations

import pytest

from hepviz.__main__ import main
from hepviz.cli import parse_file_spec
from hepviz.errors import ConfigError
from hepviz.runs import RunStore


def test_inspect_lists_trees_and_branch_types(tiny_nanoaod_root, capsys):
    assert main(["inspect", str(tiny_nanoaod_root)]) == 0
    out = capsys.readouterr().out
    assert "Events (TTree, 300 entries)" in out
    assert "MET_pt" in out and "float32" in out


def test_inspect_of_a_broken_file_is_an_error_message(text_named_root, capsys):
    assert main(["inspect", str(text_named_root)]) == 2
    assert "error:" in capsys.readouterr().err


def test_file_spec_reads_path_class_and_process():
    spec = parse_file_spec("/data/dy.root:signal:dy")
    assert (spec.path, spec.label, spec.process) == ("/data/dy.root", 1, "dy")
    spec = parse_file_spec("/data/tt.root:background")
    assert (spec.label, spec.process) == (0, "tt")
    with pytest.raises(ConfigError, match="PATH:signal"):
        parse_file_spec("/data/tt.root")


def test_train_runs_a_job_to_the_end_and_stores_it(tmp_path, tiny_nanoaod_root,
                                                   make_nanoaod_root, capsys):
    background = make_nanoaod_root(tmp_path / "bkg.root", seed=3, met_scale=60.0)
    home = tmp_path / "home"
    status = main(["train", "--home", str(home), "--epochs", "2", "--depth", "2",
                   "--file", f"{tiny_nanoaod_root}:signal",
                   "--file", f"{background}:background"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "epoch   2" in out and "finished" in out
    (record,) = RunStore(home).list_runs()
    assert record.status == "finished"

import multiprocessing
import sqlite3

import numpy as np
import pytest
import torch

from hepviz.dataset import EventSet
from hepviz.errors import ConfigError, DatasetError, RunNotFoundError
from hepviz.models import ModelConfig, build_model
from hepviz.runs import RunStore, default_home, write_atomic

torch.set_num_threads(1)


def tiny_eventset(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return EventSet(
        X=rng.normal(size=(n, 2)).astype(np.float32),
        y=(np.arange(n) % 2).astype(np.int8),
        weight=np.ones(n),
        process=(np.arange(n) % 2).astype(np.int16),
        feature_names=["met", "n_muons"],
        process_names=["ttbar", "dy"],
    )


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "home")


def new_run(store, config=None):
    return store.create_run("first", config or {"model": {}}, "abc")


def test_default_home_from_env_or_cwd(monkeypatch, tmp_path):
    monkeypatch.setenv("HEPVIZ_HOME", str(tmp_path / "h"))
    assert default_home() == tmp_path / "h"
    monkeypatch.delenv("HEPVIZ_HOME")
    monkeypatch.chdir(tmp_path)
    assert default_home() == tmp_path / ".hepviz"


def test_database_is_in_wal_mode(store):
    with sqlite3.connect(store.db_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_dataset_is_stored_once_by_content_hash(store):
    es = tiny_eventset()
    digest = store.save_dataset(es)
    mtime = store.dataset_path(digest).stat().st_mtime_ns
    assert store.save_dataset(tiny_eventset()) == digest
    assert store.dataset_path(digest).stat().st_mtime_ns == mtime
    assert store.has_dataset(digest) and not store.has_dataset("0" * 16)
    loaded = store.load_dataset(digest)
    np.testing.assert_array_equal(loaded.X, es.X)
    assert loaded.feature_names == es.feature_names
    with pytest.raises(DatasetError, match="Data page"):
        store.load_dataset("0" * 16)


def test_new_run_is_queued_with_its_config(store):
    run_id = new_run(store, {"model": {"width": 8}})
    record = store.get(run_id)
    assert record.status == "queued" and record.name == "first"
    assert record.config == {"model": {"width": 8}}
    assert store.load_json(run_id, "config.json") == {"model": {"width": 8}}
    assert record.progress == 0.0 and record.error is None


def test_status_progress_and_listing(store):
    first = new_run(store)
    second = new_run(store)
    store.set_status(first, "failed", error="Only 3 signal events")
    store.set_progress(second, 0.3, "epoch 3/10")
    assert [r.id for r in store.list_runs()] == [second, first]
    assert store.get(first).error == "Only 3 signal events"
    assert store.get(second).message == "epoch 3/10"
    with pytest.raises(ConfigError):
        store.set_status(first, "exploded")
    with pytest.raises(RunNotFoundError):
        store.get("nope")
    with pytest.raises(RunNotFoundError):
        store.set_progress("nope", 0.1, "")


def test_metrics_become_one_row_per_epoch(store):
    run_id = new_run(store)
    assert store.metrics(run_id).empty
    store.log_metrics(run_id, 2, {"train_loss": 0.5, "val_auc": 0.8})
    store.log_metrics(run_id, 1, {"epoch": 1, "train_loss": 0.7, "val_auc": 0.6})
    df = store.metrics(run_id)
    assert list(df["epoch"]) == [1, 2]
    assert list(df["train_loss"]) == [0.7, 0.5]
    assert set(df.columns) == {"epoch", "train_loss", "val_auc"}


def _log_many(home, run_id, offset):
    s = RunStore(home)
    for epoch in range(offset, offset + 30):
        s.log_metrics(run_id, epoch, {"loss": float(epoch)})


def test_two_processes_write_to_one_store(store):
    run_id = new_run(store)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_log_many, args=(store.home, run_id, k * 100))
             for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=30)
    assert [p.exitcode for p in procs] == [0, 0]
    assert len(store.metrics(run_id)) == 60


def test_cancel_flag(store):
    run_id = new_run(store)
    assert not store.cancel_requested(run_id)
    store.request_cancel(run_id)
    assert store.cancel_requested(run_id)


def test_model_round_trips_as_state_dict(store):
    cfg = ModelConfig(n_inputs=2, width=4, depth=1)
    run_id = new_run(store, {"model": cfg.to_dict()})
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    store.save_model(run_id, model)
    loaded = store.load_model(run_id)
    x = torch.randn(5, 2)
    torch.testing.assert_close(loaded(x), model(x))
    state = torch.load(store.run_dir(run_id) / "model.pt", weights_only=True)
    assert set(state) == set(model.state_dict())


def test_predictions_round_trip(store):
    run_id = new_run(store)
    with pytest.raises(RunNotFoundError, match="predictions"):
        store.load_predictions(run_id)
    store.save_predictions(
        run_id, score=np.array([0.1, 0.9]), y=np.array([0, 1], dtype=np.int8),
        weight=np.ones(2), process=np.array([0, 1], dtype=np.int16),
        split=np.array(["test", "train"]), process_names=np.array(["tt", "dy"]))
    pred = store.load_predictions(run_id)
    assert pred["split"].tolist() == ["test", "train"]
    assert pred["process_names"] == ["tt", "dy"]
    assert pred["score"].dtype == np.float64


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "a.json"
    write_atomic(path, lambda fh: fh.write(b"old"))

    def broken(fh):
        fh.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(path, broken)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_delete_refuses_active_runs_and_removes_finished_ones(store):
    run_id = new_run(store)
    store.log_metrics(run_id, 1, {"loss": 1.0})
    with pytest.raises(ConfigError, match="cancel it first"):
        store.delete_run(run_id)
    store.set_status(run_id, "finished")
    store.delete_run(run_id)
    assert store.list_runs() == []
    assert not (store.home / "runs" / run_id).exists()
    assert store.metrics(run_id).empty


def test_run_ids_cannot_escape_the_store(store):
    with pytest.raises(RunNotFoundError):
        store.run_dir("../etc")


def test_dataset_names_and_the_last_active_dataset_survive_a_new_store(tmp_path):
    from hepviz.dataset import EventSet

    es = EventSet(X=np.zeros((4, 1), np.float32), y=np.array([0, 1, 0, 1], np.int8),
                  weight=np.ones(4), process=np.zeros(4, np.int16),
                  feature_names=["x"], process_names=["p"], notes=[])
    store = RunStore(tmp_path)
    digest = store.save_dataset(es)
    assert store.dataset_name(digest) == f"dataset {digest[:8]}"
    assert store.last_dataset() is None
    store.name_dataset(digest, "uploaded: dy, ttbar")
    store.set_last_dataset(digest)

    reopened = RunStore(tmp_path)  # as after a server restart
    assert reopened.dataset_name(digest) == "uploaded: dy, ttbar"
    assert reopened.last_dataset() == digest
    reopened.dataset_path(digest).unlink()
    assert reopened.last_dataset() is None


def test_uploads_are_kept_once_per_content_under_their_own_name(tmp_path):
    store = RunStore(tmp_path)
    first = store.save_upload("../../dy.root", b"root-bytes")
    again = store.save_upload("dy.root", b"root-bytes")
    other = store.save_upload("dy.root", b"other-bytes")
    assert first == again and first.name == "dy.root"  # no path escapes the store
    assert first.read_bytes() == b"root-bytes"
    assert other != first and other.read_bytes() == b"other-bytes"
    assert first.parent.parent == tmp_path / "uploads"

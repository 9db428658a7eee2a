"""Background jobs end to end: real worker processes on a tiny dataset."""

import fcntl
import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch

from hepviz import jobs, worker
from hepviz.dataset import EventSet
from hepviz.errors import ConfigError, DatasetError
from hepviz.models import ModelConfig
from hepviz.runs import RunStore
from hepviz.training import TrainConfig

torch.set_num_threads(1)


def tiny_eventset(n=300, one_class=False, seed=0):
    rng = np.random.default_rng(seed)
    y = np.zeros(n, dtype=np.int8) if one_class else (np.arange(n) % 2).astype(np.int8)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    X[:, 0] += 2.0 * y  # separable enough for a clear AUC
    return EventSet(X, y, np.ones(n), y.astype(np.int16),
                    ["met", "n_muons", "muon1_pt"], ["ttbar", "dy"])


def wait_for(store, run_id, statuses, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = store.get(run_id)
        if record.status in statuses:
            return record
        time.sleep(0.1)
    log = store.log_path(run_id).read_text()
    raise AssertionError(f"run still {store.get(run_id).status}; log:\n{log}")


MODEL = ModelConfig(n_inputs=99, width=8, depth=2)


@pytest.fixture(scope="module")
def submitted(tmp_path_factory):
    """Three jobs started at once, so their start-up costs overlap."""
    mp = pytest.MonkeyPatch()
    mp.setenv("HEPVIZ_MAX_JOBS", "3")
    store = RunStore(tmp_path_factory.mktemp("home"))
    good = store.save_dataset(tiny_eventset())
    bad = store.save_dataset(tiny_eventset(one_class=True))
    runs = {
        "finished": jobs.submit(store, good, MODEL, TrainConfig(epochs=2,
                                batch_size=64), name="quick"),
        "cancel": jobs.submit(store, good, MODEL, TrainConfig(epochs=100_000,
                              batch_size=64)),
        "one_class": jobs.submit(store, bad, MODEL, TrainConfig(epochs=1)),
    }
    yield store, runs
    for run_id in runs.values():
        jobs.cancel(store, run_id, wait=2.0)
    mp.undo()


def test_submitted_job_finishes_with_metrics_and_artifacts(submitted):
    store, runs = submitted
    run_id = runs["finished"]
    record = wait_for(store, run_id, {"finished", "failed"})
    assert record.status == "finished", record.error
    assert record.progress == 1.0 and record.message.startswith("finished: test AUC")
    assert record.config["model"]["n_inputs"] == 3  # resolved from the data

    df = store.metrics(run_id)
    assert list(df["epoch"]) == [1, 2]
    assert {"train_loss", "val_loss", "val_auc", "seconds"} <= set(df.columns)

    folder = store.run_dir(run_id)
    for name in ("config.json", "scaler.json", "model.pt", "history.json",
                 "predictions.npz", "probes.json", "worker.log"):
        assert (folder / name).exists(), name
    pred = store.load_predictions(run_id)
    assert set(pred["split"]) == {"train", "test"}
    assert len(pred["score"]) == int(0.8 * 300)
    probes = store.load_probes(run_id)
    assert [e["epoch"] for e in probes["epochs"]] == [1, 2]
    assert probes["final"]["layers"][0]["hist"]["activation"]["counts"]
    model = store.load_model(run_id)
    assert model(torch.zeros(4, 3)).shape == (4,)
    scaler = store.load_scaler(run_id)
    assert len(scaler.parameters()) == 3


def test_cancel_stops_a_running_job(submitted):
    store, runs = submitted
    run_id = runs["cancel"]
    deadline = time.monotonic() + 60
    while store.metrics(run_id).empty and time.monotonic() < deadline:
        time.sleep(0.1)
    assert store.get(run_id).status == "running"
    jobs.cancel(store, run_id, wait=10.0)
    record = store.get(run_id)
    assert record.status == "cancelled"
    assert record.message.startswith("cancelled after epoch")


def test_one_class_dataset_fails_with_a_clear_error(submitted):
    store, runs = submitted
    record = wait_for(store, runs["one_class"], {"finished", "failed"})
    assert record.status == "failed"
    assert "no signal events" in record.error


def test_submit_refuses_bad_settings_before_starting(tmp_path):
    store = RunStore(tmp_path)
    digest = store.save_dataset(tiny_eventset(n=50))
    with pytest.raises(ConfigError):
        jobs.submit(store, digest, ModelConfig(width=0), TrainConfig())
    with pytest.raises(ConfigError, match="scaler"):
        jobs.submit(store, digest, MODEL, TrainConfig(), scaler="log")
    with pytest.raises(DatasetError):
        jobs.submit(store, "0" * 16, MODEL, TrainConfig())
    assert store.list_runs() == []


def test_reap_marks_runs_with_a_dead_worker_as_failed(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run("ghost", {}, "abc")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store.set_pid(run_id, dead.pid)
    store.set_status(run_id, "running")
    store.log_path(run_id).write_text("loading\nKilled\n")
    assert jobs.reap(store) == [run_id]
    record = store.get(run_id)
    assert record.status == "failed" and "Killed" in record.error


def test_queued_job_waits_for_a_free_slot(tmp_path, monkeypatch):
    monkeypatch.setenv("HEPVIZ_MAX_JOBS", "1")
    monkeypatch.setattr(jobs, "SLOT_POLL_S", 0.01)
    store = RunStore(tmp_path)
    run_id = store.create_run("waiting", {}, "abc")
    with open(store.home / "slots" / "slot-0.lock", "a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another job holds the only slot
        asked = []
        with jobs.job_slot(store, run_id, lambda: len(asked.append(1) or asked) > 5
                           ) as got:
            assert got is False
        assert store.get(run_id).message.startswith("queued: waiting")
    with jobs.job_slot(store, run_id, lambda: True) as got:
        assert got is True


def test_max_jobs_must_be_positive(monkeypatch):
    monkeypatch.setenv("HEPVIZ_MAX_JOBS", "zero")
    with pytest.raises(ConfigError):
        jobs.max_jobs()


def test_unexpected_error_is_recorded_with_its_type(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    digest = store.save_dataset(tiny_eventset(n=100))
    config = {"model": MODEL.to_dict(), "train": TrainConfig(epochs=1).to_dict(),
              "scaler": "zscore", "dataset_hash": digest, "feature_names": None}
    run_id = store.create_run("boom", config, digest)

    def broken(cfg):
        raise RuntimeError("out of cheese")

    monkeypatch.setattr(worker, "build_model", broken)
    assert worker.run_job(store, run_id, threading.Event()) == 1
    record = store.get(run_id)
    assert record.status == "failed"
    assert record.error == "RuntimeError: out of cheese"
    assert json.loads((store.run_dir(run_id) / "scaler.json").read_text())


def test_unknown_feature_is_a_config_error(tmp_path):
    store = RunStore(tmp_path)
    digest = store.save_dataset(tiny_eventset(n=100))
    config = {"model": MODEL.to_dict(), "train": TrainConfig(epochs=1).to_dict(),
              "scaler": "zscore", "dataset_hash": digest, "feature_names": ["eta"]}
    run_id = store.create_run("typo", config, digest)
    assert worker.run_job(store, run_id, threading.Event()) == 1
    assert "eta" in store.get(run_id).error and "met" in store.get(run_id).error


def test_finished_workers_leave_no_zombie_processes(submitted):
    store, runs = submitted
    record = wait_for(store, runs["finished"], {"finished", "failed"})
    deadline = time.monotonic() + 10
    state = None
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{record.pid}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return  # exited and collected by its parent
        time.sleep(0.1)  # still finishing, or a zombie nobody waits for
    pytest.fail(f"worker {record.pid} left behind in state {state}")

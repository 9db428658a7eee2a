"""Background training jobs: submit, cancel, and reap workers that died.

``submit`` registers a queued run and starts ``python -m hepviz.worker`` in its own
session, so the job outlives the Streamlit script run, page switches and browser
reloads; its output goes to the run's worker.log. At most ``HEPVIZ_MAX_JOBS`` (1 by
default: the dashboard shares two cores with the job) train at once; the others
wait, queued, for a slot: a lock file held with ``fcntl.flock`` that the kernel
releases when the worker exits, however it exits.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from hepviz.errors import ConfigError, DatasetError
from hepviz.runs import ACTIVE, RunStore

if TYPE_CHECKING:  # torch costs seconds to import; reap() and cancel() need none
    from hepviz.models import ModelConfig
    from hepviz.training import TrainConfig

logger = logging.getLogger(__name__)

# Popen objects of the workers this process started: polling them reaps zombies.
_CHILDREN: dict[str, subprocess.Popen] = {}
SLOT_POLL_S = 0.2
NEVER_STARTED_S = 60.0


def max_jobs() -> int:
    """How many jobs may train at once: $HEPVIZ_MAX_JOBS, default 1."""
    raw = os.environ.get("HEPVIZ_MAX_JOBS", "1")
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise ConfigError(
            f"HEPVIZ_MAX_JOBS must be a whole number of at least 1; got {raw!r}."
        )
    return n


def submit(
    store: RunStore,
    dataset_hash: str,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    scaler: str = "zscore",
    name: str | None = None,
    feature_names: list[str] | None = None,
) -> str:
    """Queue a training run on a stored dataset and start its worker; return its id.

    ``model_cfg.n_inputs`` is replaced by the number of features the worker finds.
    ``feature_names`` picks a subset of the dataset's features (all by default).
    """
    from hepviz.scaling import SCALERS

    model_cfg.validate()
    train_cfg.validate()
    if scaler not in SCALERS:
        raise ConfigError(
            f"Unknown scaler '{scaler}'. Choose one of: {', '.join(SCALERS)}."
        )
    if not store.has_dataset(dataset_hash):
        raise DatasetError(
            f"No stored dataset with hash {dataset_hash}. Build it on the Data page."
        )
    config = {
        "model": model_cfg.to_dict(),
        "train": train_cfg.to_dict(),
        "scaler": scaler,
        "dataset_hash": dataset_hash,
        "feature_names": list(feature_names) if feature_names else None,
    }
    if name is None:
        name = f"{model_cfg.architecture} {model_cfg.depth}x{model_cfg.width}"
    run_id = store.create_run(name, config, dataset_hash)
    _spawn(store, run_id)
    return run_id


def _spawn(store: RunStore, run_id: str) -> None:
    package_root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_root, env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "hepviz.worker", "--home", str(store.home), run_id]
    try:
        with open(store.log_path(run_id), "ab") as log:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, env=env, close_fds=True,
            )
    except OSError as err:
        store.set_status(run_id, "failed",
                         error=f"Could not start the training process: {err}")
        raise
    _CHILDREN[run_id] = proc
    # Wait on the child from a daemon thread, so that a worker which ends is reaped
    # at once instead of staying a zombie under a long-lived dashboard.
    threading.Thread(target=proc.wait, name=f"reap-{run_id}", daemon=True).start()
    store.set_pid(run_id, proc.pid)
    logger.info("run %s: worker pid %d", run_id, proc.pid)


def cancel(store: RunStore, run_id: str, wait: float = 5.0) -> None:
    """Stop a queued or running job; returns once it stopped or ``wait`` ran out.

    The worker checks the cancel flag before every batch, so it normally stops
    within one batch. If it does not answer in ``wait`` seconds it gets SIGTERM,
    and if it is gone without reporting, the run is marked cancelled here.
    """
    record = store.get(run_id)
    if record.status not in ACTIVE:
        return
    store.request_cancel(run_id)
    if _wait_inactive(store, run_id, wait):
        return
    pid = store.get(run_id).pid
    if pid is not None and _alive(pid, run_id):
        logger.warning("run %s: worker %d ignored the cancel flag; SIGTERM", run_id,
                       pid)
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
        if _wait_inactive(store, run_id, 2.0):
            return
    if store.get(run_id).status in ACTIVE:
        store.set_progress(run_id, store.get(run_id).progress, "cancelled")
        store.set_status(run_id, "cancelled")


def _wait_inactive(store: RunStore, run_id: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        if store.get(run_id).status not in ACTIVE:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _alive(pid: int, run_id: str) -> bool:
    """Whether ``pid`` is still the worker of ``run_id`` (not a zombie, not reused)."""
    child = _CHILDREN.get(run_id)
    if child is not None and child.pid == pid:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path(f"/proc/{pid}")
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = (proc / "cmdline").read_bytes()
    except (OSError, IndexError):
        return True  # no /proc (macOS): trust the signal check
    return state != "Z" and run_id.encode() in cmdline


def reap(store: RunStore) -> list[str]:
    """Mark queued or running runs whose worker is gone as failed; return their ids."""
    for run_id, child in list(_CHILDREN.items()):
        if child.poll() is not None:  # ended and collected: forget it
            del _CHILDREN[run_id]
    reaped = []
    for record in store.list_runs():
        if record.status not in ACTIVE:
            continue
        if record.pid is None:
            if time.time() - record.created < NEVER_STARTED_S:
                continue
            error = "The training process never started. Submit the run again."
        elif _alive(record.pid, record.id):
            continue
        else:
            error = (
                f"The training process (pid {record.pid}) stopped without reporting "
                f"a result{_last_log_line(store, record.id)}. See "
                f"{store.log_path(record.id)} for details."
            )
        # Re-read: a worker that just finished has written its status before exiting.
        if store.get(record.id).status in ACTIVE:
            store.set_status(record.id, "failed", error=error)
            store.set_progress(record.id, record.progress, "failed")
            reaped.append(record.id)
    return reaped


def _last_log_line(store: RunStore, run_id: str) -> str:
    try:
        lines = store.log_path(run_id).read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return f" (last log line: {lines[-1].strip()[:200]})" if lines else ""


@contextmanager
def job_slot(
    store: RunStore, run_id: str, should_stop: Callable[[], bool]
) -> Iterator[bool]:
    """Hold one of ``max_jobs()`` slot locks while the block runs.

    Yields True once a slot is held, or False if ``should_stop`` answered True
    while waiting (the job was cancelled while queued).
    """
    n = max_jobs()
    waiting_noted = False
    while True:
        for i in range(n):
            fh = open(store.home / "slots" / f"slot-{i}.lock", "a+b")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                continue
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
                fh.close()
            return
        if should_stop():
            yield False
            return
        if not waiting_noted:
            store.set_progress(run_id, 0.0, f"queued: waiting for one of {n} job slots")
            waiting_noted = True
        time.sleep(SLOT_POLL_S)

"""The run store: a SQLite registry of runs and metrics, and a folder per run.

Layout under the home folder (``HEPVIZ_HOME``, else ``./.hepviz``)::

    runs.sqlite                 registry (runs) and per-epoch metrics, WAL mode
    datasets/<hash>.npz         each EventSet once, by content hash
    slots/slot-<i>.lock         job slots (hepviz.jobs)
    runs/<run_id>/
        config.json             model, train, scaler, dataset_hash, feature_names
        scaler.json             fitted scaler (kind and parameters)
        model.pt                state_dict only; loaded with weights_only=True
        history.json            the training history, one dict per epoch
        predictions.npz         score, y, weight, process, split per event
        probes.json             per-epoch layer summaries and final histograms
        worker.log              the worker's log, tracebacks included
        cancel                  present once a cancel was requested

Every process opens its own short-lived SQLite connection per call, so the
dashboard and several workers can share the store. Every file is written to a
temporary name in its folder and moved into place, so a reader never sees half a
file.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hepviz.errors import ConfigError, DatasetError, RunNotFoundError

if TYPE_CHECKING:  # torch and pandas cost seconds to import; pages may not need them
    import pandas as pd
    from torch import nn

    from hepviz.dataset import EventSet

logger = logging.getLogger(__name__)

STATUSES = ("queued", "running", "finished", "failed", "cancelled")
ACTIVE = ("queued", "running")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    config TEXT NOT NULL,
    dataset_hash TEXT NOT NULL,
    error TEXT,
    progress REAL NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    pid INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    name TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, epoch, name)
);
"""


def default_home() -> Path:
    """The store's folder: $HEPVIZ_HOME, else .hepviz in the working directory."""
    env = os.environ.get("HEPVIZ_HOME")
    return Path(env) if env else Path.cwd() / ".hepviz"


def write_atomic(path: Path, write: Callable[[io.BufferedWriter], Any]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: Path, obj: Any) -> Path:
    data = json.dumps(obj, indent=1, allow_nan=True).encode()
    return write_atomic(path, lambda fh: fh.write(data))


@dataclass
class RunRecord:
    """One row of the registry."""

    id: str
    name: str
    status: str
    created: float
    updated: float
    config: dict
    dataset_hash: str
    error: str | None
    progress: float
    message: str
    pid: int | None = None


class RunStore:
    """Registry, metrics and artifacts of training runs under one home folder."""

    def __init__(self, home: str | os.PathLike | None = None) -> None:
        self.home = Path(home) if home is not None else default_home()
        self.home = self.home.resolve()
        for sub in ("datasets", "runs", "slots"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        self.db_path = self.home / "runs.sqlite"
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.db_path, timeout=30.0)
        try:
            db.execute("PRAGMA busy_timeout = 30000")
            with db:  # one transaction, committed on success
                yield db
        finally:
            db.close()

    # Datasets ---------------------------------------------------------------------

    def dataset_path(self, dataset_hash: str) -> Path:
        return self.home / "datasets" / f"{dataset_hash}.npz"

    def save_dataset(self, es: EventSet) -> str:
        """Store ``es`` once under its content hash and return the hash."""
        digest = es.content_hash()
        path = self.dataset_path(digest)
        if not path.exists():
            es.save(path)
        return digest

    def has_dataset(self, dataset_hash: str) -> bool:
        return self.dataset_path(dataset_hash).exists()

    def load_dataset(self, dataset_hash: str) -> EventSet:
        from hepviz.dataset import EventSet

        if not self.has_dataset(dataset_hash):
            raise DatasetError(
                f"No stored dataset with hash {dataset_hash} in {self.home}. "
                "Build the dataset again on the Data page."
            )
        return EventSet.load(self.dataset_path(dataset_hash))

    def save_upload(self, name: str, content: bytes) -> Path:
        """Keep an uploaded file under uploads/<content hash>/<name>, so that it
        outlives the upload widget, a page switch and a server restart."""
        digest = hashlib.sha256(content).hexdigest()[:16]
        path = self.home / "uploads" / digest / Path(name).name
        if not path.exists():
            write_atomic(path, lambda fh: fh.write(content))
        return path

    def name_dataset(self, dataset_hash: str, name: str) -> None:
        """Give a stored dataset the label users see (where its events came from)."""
        write_json_atomic(self.dataset_path(dataset_hash).with_suffix(".json"),
                          {"name": name})

    def dataset_name(self, dataset_hash: str) -> str:
        """The dataset's label, or its hash when it was never named."""
        path = self.dataset_path(dataset_hash).with_suffix(".json")
        try:
            return json.loads(path.read_text())["name"]
        except (OSError, ValueError, KeyError):
            return f"dataset {dataset_hash[:8]}"

    def set_last_dataset(self, dataset_hash: str) -> None:
        """Remember the dataset made active last, for sessions that name none."""
        write_json_atomic(self.home / "last_dataset.json", {"hash": dataset_hash})

    def last_dataset(self) -> str | None:
        """The dataset made active last, if it is still stored."""
        try:
            found = json.loads((self.home / "last_dataset.json").read_text())["hash"]
        except (OSError, ValueError, KeyError):
            return None
        return found if self.has_dataset(found) else None

    # Registry ---------------------------------------------------------------------

    def create_run(self, name: str, config: dict, dataset_hash: str) -> str:
        """Register a queued run, write its config.json, and return its id."""
        run_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        now = time.time()
        self.run_dir(run_id, must_exist=False).mkdir(parents=True)
        write_json_atomic(self.run_dir(run_id) / "config.json", config)
        with self._connect() as db:
            db.execute(
                "INSERT INTO runs (id, name, status, created, updated, config, "
                "dataset_hash, message) VALUES (?, ?, 'queued', ?, ?, ?, ?, 'queued')",
                (run_id, name or run_id, now, now, json.dumps(config), dataset_hash),
            )
        return run_id

    def _record(self, row: sqlite3.Row) -> RunRecord:
        return RunRecord(
            id=row["id"], name=row["name"], status=row["status"],
            created=row["created"], updated=row["updated"],
            config=json.loads(row["config"]), dataset_hash=row["dataset_hash"],
            error=row["error"], progress=row["progress"], message=row["message"],
            pid=row["pid"],
        )

    def _select(self, where: str = "", args: tuple = ()) -> list[RunRecord]:
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute(
                f"SELECT * FROM runs {where} ORDER BY created DESC, id DESC", args
            ).fetchall()
        return [self._record(r) for r in rows]

    def get(self, run_id: str) -> RunRecord:
        found = self._select("WHERE id = ?", (run_id,))
        if not found:
            raise RunNotFoundError(
                f"No run '{run_id}' in {self.home}. Pick a run from the list."
            )
        return found[0]

    def list_runs(self) -> list[RunRecord]:
        """All runs, newest first."""
        return self._select()

    def _update(self, run_id: str, **values: Any) -> None:
        values["updated"] = time.time()
        columns = ", ".join(f"{k} = ?" for k in values)
        with self._connect() as db:
            cur = db.execute(f"UPDATE runs SET {columns} WHERE id = ?",
                             (*values.values(), run_id))
        if cur.rowcount == 0:
            raise RunNotFoundError(f"No run '{run_id}' in {self.home}.")

    def set_status(self, run_id: str, status: str, error: str | None = None) -> None:
        if status not in STATUSES:
            raise ConfigError(
                f"Unknown run status '{status}'; expected one of {', '.join(STATUSES)}."
            )
        self._update(run_id, status=status, error=error)

    def set_progress(self, run_id: str, fraction: float, message: str) -> None:
        self._update(run_id, progress=float(min(max(fraction, 0.0), 1.0)),
                     message=message)

    def set_pid(self, run_id: str, pid: int | None) -> None:
        self._update(run_id, pid=pid)

    def set_config(self, run_id: str, config: dict) -> None:
        """Replace the config (e.g. with n_inputs resolved from the data)."""
        write_json_atomic(self.run_dir(run_id) / "config.json", config)
        self._update(run_id, config=json.dumps(config))

    # Metrics ----------------------------------------------------------------------

    def log_metrics(self, run_id: str, epoch: int, metrics: dict[str, float]) -> None:
        rows = [(run_id, int(epoch), k, None if v is None else float(v))
                for k, v in metrics.items() if k != "epoch"]
        with self._connect() as db:
            db.executemany(
                "INSERT OR REPLACE INTO metrics (run_id, epoch, name, value) "
                "VALUES (?, ?, ?, ?)", rows)

    def metrics(self, run_id: str) -> pd.DataFrame:
        """One row per epoch, one column per metric, sorted by epoch."""
        import pandas as pd

        with self._connect() as db:
            rows = db.execute(
                "SELECT epoch, name, value FROM metrics WHERE run_id = ?", (run_id,)
            ).fetchall()
        if not rows:
            return pd.DataFrame({"epoch": pd.Series(dtype=int)})
        long = pd.DataFrame(rows, columns=["epoch", "name", "value"])
        wide = long.pivot(index="epoch", columns="name", values="value")
        wide.columns.name = None
        return wide.sort_index().reset_index()

    # Cancellation -----------------------------------------------------------------

    def request_cancel(self, run_id: str) -> None:
        """Ask the run's worker to stop; it checks the flag before every batch."""
        self._update(run_id, cancel_requested=1)
        write_atomic(self.run_dir(run_id) / "cancel", lambda fh: fh.write(b"1"))

    def cancel_requested(self, run_id: str) -> bool:
        # A file check costs microseconds, cheap enough for every batch.
        return (self.home / "runs" / run_id / "cancel").exists()

    # Folders and artifacts --------------------------------------------------------

    def run_dir(self, run_id: str, must_exist: bool = True) -> Path:
        if not run_id or "/" in run_id or run_id.startswith("."):
            raise RunNotFoundError(f"'{run_id}' is not a run id.")
        path = self.home / "runs" / run_id
        if must_exist and not path.is_dir():
            raise RunNotFoundError(
                f"No folder for run '{run_id}' in {self.home}. "
                "Pick a run from the list."
            )
        return path

    def delete_run(self, run_id: str) -> None:
        """Remove a run's registry rows, metrics and folder; refuses active runs."""
        record = self.get(run_id)
        if record.status in ACTIVE:
            raise ConfigError(
                f"Run '{record.name}' is {record.status}; cancel it first, then delete."
            )
        with self._connect() as db:
            db.execute("DELETE FROM metrics WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(self.run_dir(run_id, must_exist=False), ignore_errors=True)

    def save_json(self, run_id: str, filename: str, obj: Any) -> Path:
        return write_json_atomic(self.run_dir(run_id) / filename, obj)

    def load_json(self, run_id: str, filename: str) -> Any:
        path = self.run_dir(run_id) / filename
        if not path.exists():
            raise RunNotFoundError(
                f"Run '{run_id}' has no {filename} yet; wait until it has finished."
            )
        return json.loads(path.read_text())

    def save_model(self, run_id: str, model: nn.Module) -> Path:
        """Write the model's state_dict (tensors only, on CPU) to model.pt."""
        import torch

        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        return write_atomic(self.run_dir(run_id) / "model.pt",
                            lambda fh: torch.save(state, fh))

    def load_model(self, run_id: str) -> nn.Module:
        """Rebuild the run's network from config.json and its weights, eval mode."""
        import torch

        from hepviz.models import ModelConfig, build_model

        path = self.run_dir(run_id) / "model.pt"
        if not path.exists():
            raise RunNotFoundError(
                f"Run '{run_id}' has no saved model; only finished runs have one."
            )
        config = self.load_json(run_id, "config.json")
        model = build_model(ModelConfig.from_dict(config["model"]))
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
        return model.eval()

    def load_scaler(self, run_id: str):
        """The scaler fitted on this run's training split."""
        from hepviz.scaling import scaler_from_dict

        return scaler_from_dict(self.load_json(run_id, "scaler.json"))

    def save_predictions(self, run_id: str, **arrays: np.ndarray) -> Path:
        """Write per-event arrays (score, y, weight, process, split) as one npz."""
        return write_atomic(self.run_dir(run_id) / "predictions.npz",
                            lambda fh: np.savez(fh, **arrays))

    def load_predictions(self, run_id: str) -> dict:
        """score (float64), y (int8), weight (float64), process (int16), split
        (str: "train" or "test") per event, and process_names (list of str)."""
        path = self.run_dir(run_id) / "predictions.npz"
        if not path.exists():
            raise RunNotFoundError(
                f"Run '{run_id}' has no predictions; only finished runs have them."
            )
        with np.load(path, allow_pickle=False) as data:
            out = {k: data[k] for k in data.files}
        if "process_names" in out:
            out["process_names"] = out["process_names"].tolist()
        return out

    def load_probes(self, run_id: str) -> dict:
        """{"epochs": [{"epoch", "layers": [summary per layer]}], "final": probe
        result with histograms on test events (None until finished), "split"}."""
        return self.load_json(run_id, "probes.json")

    def log_path(self, run_id: str) -> Path:
        return self.run_dir(run_id, must_exist=False) / "worker.log"

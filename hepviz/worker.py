"""One training job in its own process: ``python -m hepviz.worker --home H RUN_ID``.

Started by hepviz.jobs.submit. It waits for a job slot, then: loads the dataset by
hash, checks both classes are present, splits it (seeded), fits the scaler on the
training split only, builds and trains the model while writing metrics, progress
and layer probes each epoch, and finally saves the checkpoint, the probes on test
events and the predictions on the test and training splits. A HepvizError ends the
run as failed with its message; anything else as failed with the exception type,
and its traceback goes to the run's worker.log.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading

import numpy as np
import torch

from hepviz.dataset import EventSet, check_trainable, split_indices
from hepviz.errors import ConfigError, HepvizError
from hepviz.evaluation import weighted_auc
from hepviz.jobs import job_slot
from hepviz.models import ModelConfig, build_model
from hepviz.probes import probe, probe_summary
from hepviz.runs import RunStore
from hepviz.scaling import make_scaler
from hepviz.training import TrainConfig, pick_device, predict, train

logger = logging.getLogger(__name__)

EPOCH_PROBE_EVENTS = 2000  # validation events probed after every epoch
FINAL_PROBE_EVENTS = 5000  # test events probed at the end, with full histograms


def _select_features(es: EventSet, names: list[str] | None) -> EventSet:
    if not names:
        return es
    missing = [n for n in names if n not in es.feature_names]
    if missing:
        raise ConfigError(
            f"Features {', '.join(missing)} are not in the dataset; it has "
            f"{', '.join(es.feature_names)}. Pick features from that list."
        )
    cols = [es.feature_names.index(n) for n in names]
    return EventSet(es.X[:, cols], es.y, es.weight, es.process, list(names),
                    es.process_names, es.notes)


def _sample(idx: np.ndarray, n: int, seed: int) -> np.ndarray:
    if len(idx) <= n:
        return idx
    return np.sort(np.random.default_rng(seed).choice(idx, n, replace=False))


def run_training(store: RunStore, run_id: str, stop: threading.Event) -> None:
    """Train the run's model and write every artifact; see the module docstring."""
    record = store.get(run_id)
    config = dict(record.config)
    model_cfg = ModelConfig.from_dict(config["model"])
    train_cfg = TrainConfig.from_dict(config["train"])
    store.set_status(run_id, "running")
    store.set_progress(run_id, 0.0, "loading the dataset")

    es = _select_features(store.load_dataset(record.dataset_hash),
                          config.get("feature_names"))
    check_trainable(es)
    split = split_indices(es.n_events, es.y, seed=train_cfg.seed)

    # Scaler statistics from the training split only: no information leaks from
    # the validation and test events into the inputs.
    scaler = make_scaler(config.get("scaler", "zscore")).fit(es.X[split.train])
    store.save_json(run_id, "scaler.json", scaler.to_dict())
    X = scaler.transform(es.X)  # (n_events, n_features) float32

    model_cfg.n_inputs = X.shape[1]
    config["model"] = model_cfg.to_dict()
    config["feature_names"] = es.feature_names
    config["device"] = str(pick_device(train_cfg.device))
    store.set_config(run_id, config)
    torch.manual_seed(train_cfg.seed)
    model = build_model(model_cfg)

    tr, va, te = split.train, split.val, split.test
    probe_idx = _sample(va, EPOCH_PROBE_EVENTS, train_cfg.seed)
    probes = {"epoch_split": "validation", "final_split": "test",
              "epochs": [], "final": None}

    def on_epoch(h: dict) -> None:
        store.log_metrics(run_id, h["epoch"], h)
        summary = probe_summary(probe(model, X[probe_idx], es.y[probe_idx]))
        probes["epochs"].append({"epoch": h["epoch"], **summary})
        store.save_json(run_id, "probes.json", probes)
        store.set_progress(
            run_id, h["epoch"] / train_cfg.epochs,
            f"epoch {h['epoch']}/{train_cfg.epochs}: val AUC {h['val_auc']:.3f}")

    def should_stop() -> bool:
        return stop.is_set() or store.cancel_requested(run_id)

    store.set_progress(run_id, 0.0, f"epoch 0/{train_cfg.epochs}")
    history = train(model, X[tr], es.y[tr], es.weight[tr], X[va], es.y[va],
                    es.weight[va], train_cfg, on_epoch=on_epoch,
                    should_stop=should_stop)
    store.save_json(run_id, "history.json", history)
    store.save_model(run_id, model)
    if should_stop():
        done = len(history)
        store.set_progress(run_id, done / train_cfg.epochs,
                           f"cancelled after epoch {done}/{train_cfg.epochs}")
        store.set_status(run_id, "cancelled")
        return

    store.set_progress(run_id, 1.0, "probing layers and scoring events")
    final_idx = _sample(te, FINAL_PROBE_EVENTS, train_cfg.seed)
    probes["final"] = probe(model, X[final_idx], es.y[final_idx])
    store.save_json(run_id, "probes.json", probes)

    idx = np.concatenate([te, tr])
    score = predict(model, X[idx])  # test events first
    store.save_predictions(
        run_id,
        score=score,
        y=es.y[idx],
        weight=es.weight[idx],
        process=es.process[idx],
        split=np.array(["test"] * len(te) + ["train"] * len(tr)),
        process_names=np.array(es.process_names, dtype=str),
    )
    test_auc = weighted_auc(es.y[te], score[:len(te)], es.weight[te])
    store.set_progress(run_id, 1.0, f"finished: test AUC {test_auc:.3f}")
    store.set_status(run_id, "finished")


def run_job(store: RunStore, run_id: str, stop: threading.Event) -> int:
    """Wait for a slot, train, and record the outcome; returns an exit status."""
    try:
        with job_slot(store, run_id, lambda: stop.is_set()
                      or store.cancel_requested(run_id)) as got_slot:
            if not got_slot:
                store.set_progress(run_id, 0.0, "cancelled while queued")
                store.set_status(run_id, "cancelled")
                return 0
            run_training(store, run_id, stop)
        return 0
    except HepvizError as err:
        logger.error("run %s failed: %s", run_id, err)
        store.set_progress(run_id, store.get(run_id).progress, "failed")
        store.set_status(run_id, "failed", error=str(err))
        return 1
    except Exception as err:
        logger.exception("run %s failed with an unexpected error", run_id)
        store.set_progress(run_id, store.get(run_id).progress, "failed")
        store.set_status(run_id, "failed", error=f"{type(err).__name__}: {err}")
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hepviz.worker",
                                     description="Run one queued training job.")
    parser.add_argument("--home", required=True, help="run store folder")
    parser.add_argument("run_id")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # One thread keeps the dashboard responsive on small machines.
    torch.set_num_threads(int(os.environ.get("HEPVIZ_TORCH_THREADS", "1")))

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    store = RunStore(args.home)
    store.set_pid(args.run_id, os.getpid())
    logger.info("run %s: worker pid %d", args.run_id, os.getpid())
    return run_job(store, args.run_id, stop)


if __name__ == "__main__":
    raise SystemExit(main())

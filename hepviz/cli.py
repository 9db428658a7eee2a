"""``python -m hepviz inspect|train``: the dashboard's jobs without a browser.

``inspect`` lists the trees and branches of an event file. ``train`` builds the
muon + MET features of the bundled sample (or of files given as
``PATH:signal|background[:process]``), queues a run in the same run store and
worker as the Train page, and follows it epoch by epoch; the run then appears in
the dashboard.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from hepviz.errors import ConfigError, HepvizError

logger = logging.getLogger(__name__)


def add_inspect_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("inspect", help="list trees and branches of a file")
    parser.add_argument("path")
    return parser


def inspect_main(args: argparse.Namespace) -> int:
    from hepviz.sources import detect_format, list_trees

    try:
        fmt = detect_format(args.path)
        trees = list_trees(args.path)
    except HepvizError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    out = [f"{args.path}: {fmt}"]
    for tree in trees:
        out.append(f"  {tree.name} ({tree.kind}, {tree.num_entries:,} entries)")
        out.extend(f"    {name:<32} {kind}" for name, kind in tree.branches.items())
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def add_train_parser(subparsers) -> argparse.ArgumentParser:
    from hepviz.samples import DEFAULT_PRESET, PRESETS

    parser = subparsers.add_parser(
        "train", help="train a network on the bundled sample or on files")
    parser.add_argument("--preset", choices=list(PRESETS), default=DEFAULT_PRESET,
                        help="bundled-sample preset (ignored with --file)")
    parser.add_argument("--file", action="append", default=[], metavar="SPEC",
                        help="PATH:signal|background[:process]; repeat per file")
    parser.add_argument("--architecture", choices=["mlp", "resnet"], default="mlp")
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--no-batch-norm", action="store_true")
    parser.add_argument("--activation", choices=["relu", "tanh", "sigmoid"],
                        default="relu")
    parser.add_argument("--scaler", default="zscore")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default=None)
    parser.add_argument("--home", default=None,
                        help="run store folder (default $HEPVIZ_HOME or ./.hepviz)")
    parser.add_argument("--no-wait", action="store_true",
                        help="queue the run and return at once")
    return parser


def parse_file_spec(spec: str):
    """``PATH:signal|background[:process]`` to a SampleSpec."""
    from pathlib import Path

    from hepviz.dataset import SampleSpec

    parts = spec.rsplit(":", 2)
    if len(parts) == 3 and parts[1] in ("signal", "background"):
        path, label, process = parts
    elif len(parts) >= 2 and parts[-1] in ("signal", "background"):
        path, label = spec.rsplit(":", 1)
        process = Path(path).stem
    else:
        raise ConfigError(
            f"--file '{spec}' is not PATH:signal|background[:process], "
            "e.g. --file dy.root:signal:dy"
        )
    return SampleSpec(path=path, label=int(label == "signal"), process=process)


def train_main(args: argparse.Namespace) -> int:
    from hepviz import jobs, samples
    from hepviz.dataset import build_eventset, check_trainable
    from hepviz.features import muon_met_recipe
    from hepviz.models import ModelConfig
    from hepviz.runs import RunStore
    from hepviz.training import TrainConfig

    store = RunStore(args.home)
    try:
        if args.file:
            specs = [parse_file_spec(spec) for spec in args.file]
        else:
            specs = samples.bundled_samples(args.preset)
        eventset = build_eventset(specs, muon_met_recipe)
        check_trainable(eventset)
        dataset_hash = store.save_dataset(eventset)
        model_cfg = ModelConfig(
            architecture=args.architecture, n_inputs=eventset.X.shape[1],
            width=args.width, depth=args.depth, batch_norm=not args.no_batch_norm,
            activation=args.activation)
        train_cfg = TrainConfig(learning_rate=args.lr, epochs=args.epochs,
                                batch_size=args.batch_size, seed=args.seed)
        run_id = jobs.submit(store, dataset_hash, model_cfg, train_cfg,
                             scaler=args.scaler, name=args.name)
    except HepvizError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    sys.stdout.write(f"run {run_id} queued on {eventset.n_events:,} events "
                     f"(store {store.home})\n")
    if args.no_wait:
        return 0
    return _follow(store, run_id)


def _follow(store, run_id: str) -> int:
    """Print each new epoch's metrics until the run ends; Ctrl-C cancels it."""
    from hepviz import jobs

    shown = 0
    try:
        while True:
            jobs.reap(store)
            record = store.get(run_id)
            history = store.metrics(run_id)
            for _, row in history.iloc[shown:].iterrows():
                sys.stdout.write(
                    f"epoch {int(row['epoch']):>3}  train loss {row['train_loss']:.4f}"
                    f"  val loss {row['val_loss']:.4f}  val AUC {row['val_auc']:.4f}\n")
            shown = len(history)
            if record.status not in ("queued", "running"):
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        jobs.cancel(store, run_id)
        sys.stderr.write(f"run {run_id} cancelled\n")
        return 130
    outcome = f"failed: {record.error}" if record.error else record.message
    sys.stdout.write(f"run {run_id} {record.status} ({outcome})\n")
    return 0 if record.status == "finished" else 1


def add_parser(subparsers) -> None:
    """Register ``inspect`` and ``train``."""
    add_inspect_parser(subparsers).set_defaults(_main=inspect_main)
    add_train_parser(subparsers).set_defaults(_main=train_main)

"""The EventSet (features, labels, weights, processes) and its seeded split.

build_eventset reads each sample file chunk by chunk, applies a feature recipe,
drops events with non-finite values (saying how many and where) and stacks the
result. An EventSet saves to one .npz file, written atomically, and carries a
content hash so that runs can refer to the exact data they were trained on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import awkward as ak
import numpy as np

from hepviz import sources
from hepviz.errors import (
    ConfigError,
    DatasetError,
    EmptyDatasetError,
    MissingBranchError,
    UnreadableFileError,
)
from hepviz.features import Recipe

logger = logging.getLogger(__name__)

MIN_EVENTS_PER_CLASS = 20
CLASS_NAMES = {0: "background", 1: "signal"}


@dataclass
class SampleSpec:
    """One input file and its class: label 1 for signal, 0 for background."""

    path: str
    label: int
    process: str
    tree: str | None = None
    weight_branch: str | None = None


@dataclass
class EventSet:
    """Events ready for training.

    X is (n_events, n_features) float32; y (n_events,) int8 with 1 = signal;
    weight (n_events,) float64; process (n_events,) int16 indexing process_names.
    """

    X: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    process: np.ndarray
    feature_names: list[str]
    process_names: list[str]
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.X = np.ascontiguousarray(self.X, dtype=np.float32)
        self.y = np.asarray(self.y, dtype=np.int8)
        self.weight = np.asarray(self.weight, dtype=np.float64)
        self.process = np.asarray(self.process, dtype=np.int16)
        self.feature_names = [str(n) for n in self.feature_names]
        self.process_names = [str(n) for n in self.process_names]
        self.notes = [str(n) for n in self.notes]
        if self.X.ndim != 2 or self.X.shape[1] != len(self.feature_names):
            raise DatasetError(
                f"X has shape {self.X.shape}; expected (n_events, "
                f"{len(self.feature_names)}) to match the feature names."
            )
        n = self.X.shape[0]
        for name in ("y", "weight", "process"):
            if getattr(self, name).shape != (n,):
                raise DatasetError(
                    f"{name} has shape {getattr(self, name).shape}; expected ({n},)."
                )

    @property
    def n_events(self) -> int:
        return int(self.X.shape[0])

    def subset(self, idx: np.ndarray) -> EventSet:
        """The events at idx (indices or a boolean mask), with the same names."""
        return EventSet(
            self.X[idx],
            self.y[idx],
            self.weight[idx],
            self.process[idx],
            list(self.feature_names),
            list(self.process_names),
            list(self.notes),
        )

    def content_hash(self) -> str:
        """A hex digest of the arrays and names (not the notes)."""
        h = hashlib.sha256()
        for array in (self.X, self.y, self.weight, self.process):
            h.update(str((array.dtype.str, array.shape)).encode())
            h.update(np.ascontiguousarray(array).tobytes())
        h.update(json.dumps([self.feature_names, self.process_names]).encode())
        return h.hexdigest()[:16]

    def save(self, path: str | os.PathLike) -> Path:
        """Write to an .npz file; a reader never sees a half-written file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(
                    fh,
                    X=self.X,
                    y=self.y,
                    weight=self.weight,
                    process=self.process,
                    feature_names=np.array(self.feature_names, dtype=str),
                    process_names=np.array(self.process_names, dtype=str),
                    notes=np.array(self.notes, dtype=str),
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> EventSet:
        """Read an EventSet written by save()."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(
                    data["X"],
                    data["y"],
                    data["weight"],
                    data["process"],
                    data["feature_names"].tolist(),
                    data["process_names"].tolist(),
                    data["notes"].tolist(),
                )
        except (OSError, ValueError, KeyError) as err:
            raise UnreadableFileError(
                f"{path.name} is not a saved hepviz dataset ({err}). Build the "
                f"dataset again from its event files."
            ) from err


# Building ----------------------------------------------------------------------------


def _event_weights(chunk: ak.Array, branch: str | None) -> np.ndarray:
    if branch is None:
        return np.ones(len(chunk))
    column = chunk[branch]
    if column.ndim > 1:
        raise ConfigError(
            f"Weight branch {branch!r} holds a list per event; pick a branch with "
            f"one number per event, e.g. genWeight."
        )
    return ak.to_numpy(column).astype(np.float64)


def _drop_non_finite(X, w, names, where: str) -> tuple[np.ndarray, str | None]:
    """Mask of events to keep and a note on those dropped, if any."""
    bad = ~np.isfinite(X)
    keep = ~bad.any(axis=1) & np.isfinite(w)
    n_dropped = int((~keep).sum())
    if n_dropped == 0:
        return keep, None
    parts = [f"{names[j]} ({int(bad[:, j].sum())})" for j in np.flatnonzero(bad.any(0))]
    if not np.isfinite(w).all():
        parts.append(f"weight ({int((~np.isfinite(w)).sum())})")
    note = (
        f"dropped {n_dropped} of {len(keep)} events with NaN or infinite values "
        f"in {', '.join(parts)} from {where}"
    )
    return keep, note


def build_eventset(
    samples: list[SampleSpec],
    recipe: Recipe | Callable[[list[str]], Recipe],
    progress: Callable[[float, str], None] | None = None,
    max_events: int | None = None,
) -> EventSet:
    """Read every sample, compute its features and stack them into an EventSet.

    Args:
        samples: files with their class label and process name.
        recipe: one Recipe for all files, or a function from a file's branch names
            to its Recipe (e.g. muon_met_recipe) so that schemas can be mixed.
        progress: called with (fraction 0..1, message) while reading and building.
        max_events: read at most this many events from each sample.

    Raises:
        EmptyDatasetError: no samples, a sample tree without events, or no events
            left after dropping non-finite values.
        DatasetError: labels other than 0/1, or files giving different features.
        MissingBranchError, UnreadableFileError: from reading the files.
    """
    report = progress or (lambda fraction, message: None)
    if not samples:
        raise EmptyDatasetError("No event files given. Add at least one file.")
    for s in samples:
        if s.label not in (0, 1):
            raise DatasetError(
                f"{Path(s.path).name} has label {s.label!r}; expected 1 (signal) or "
                f"0 (background)."
            )
    if max_events is not None and max_events < 1:
        raise ConfigError(f"max_events is {max_events}; expected 1 or more.")

    # Look at every file first: tree, entries and recipe, for progress and checks.
    report(0.0, "Opening files")
    plans = []
    for s in samples:
        info = sources.resolve_tree(s.path, s.tree)
        name = Path(s.path).name
        if info.num_entries == 0:
            raise EmptyDatasetError(
                f"Tree '{info.name}' in {name} holds no events. Remove this file or "
                f"pick another tree."
            )
        try:
            r = recipe if isinstance(recipe, Recipe) else recipe(list(info.branches))
        except MissingBranchError as err:
            err.args = (f"{name}: {err}",)  # say which of several files lacks it
            raise
        n = info.num_entries
        if max_events is not None:
            n = min(n, max_events)
        plans.append((s, info, r, n))
    feature_names = plans[0][2].feature_names
    for s, _, r, _ in plans[1:]:
        if r.feature_names != feature_names:
            raise DatasetError(
                f"{Path(s.path).name} gives features {r.feature_names}, but "
                f"{Path(plans[0][0].path).name} gives {feature_names}. Use one recipe "
                f"that yields the same features for every file."
            )

    process_names = list(dict.fromkeys(s.process for s in samples))
    total = sum(n for *_, n in plans)
    done = 0
    parts: list[tuple[np.ndarray, np.ndarray, int, int]] = []
    notes: list[str] = []
    for s, info, r, n in plans:
        name = Path(s.path).name
        where = name if info.kind == "table" else f"{name} (tree '{info.name}')"
        branches = r.branches()
        if s.weight_branch is not None and s.weight_branch not in branches:
            branches.append(s.weight_branch)
        read = 0
        for chunk in sources.iterate_arrays(s.path, info.name, branches):
            chunk = chunk[: n - read]
            read += len(chunk)
            report(0.95 * (done + read) / total, f"Reading {name}: {read:,} of {n:,}")
            columns = r.apply(chunk)
            X = np.column_stack([columns[f] for f in feature_names]).astype(np.float32)
            w = _event_weights(chunk, s.weight_branch)
            keep, note = _drop_non_finite(X, w, feature_names, where)
            if note:
                notes.append(note)
                X, w = X[keep], w[keep]
            parts.append((X, w, s.label, process_names.index(s.process)))
            if read >= n:
                break
        done += n

    report(0.97, "Stacking features")
    n_kept = sum(len(X) for X, *_ in parts)
    if n_kept == 0:
        raise EmptyDatasetError(
            f"No events left: all {total} events had NaN or infinite feature values. "
            f"Check the branches the recipe uses."
        )
    es = EventSet(
        X=np.concatenate([X for X, *_ in parts]),
        y=np.concatenate([np.full(len(X), label, np.int8) for X, _, label, _ in parts]),
        weight=np.concatenate([w for _, w, *_ in parts]),
        process=np.concatenate([np.full(len(X), p, np.int16) for X, *_, p in parts]),
        feature_names=feature_names,
        process_names=process_names,
        notes=notes,
    )
    for note in notes:
        logger.info("%s", note)
    report(1.0, f"Built {es.n_events:,} events with {len(feature_names)} features")
    return es


# Checks and split --------------------------------------------------------------------


def check_trainable(es: EventSet) -> None:
    """Raise DatasetError unless both classes have enough events to train on."""
    counts = {label: int((es.y == label).sum()) for label in (0, 1)}
    missing = [CLASS_NAMES[label] for label, n in counts.items() if n == 0]
    if missing:
        raise DatasetError(
            f"The dataset has no {missing[0]} events (signal: {counts[1]}, "
            f"background: {counts[0]}). Mark at least one file as {missing[0]}."
        )
    for label, n in counts.items():
        if n < MIN_EVENTS_PER_CLASS:
            raise DatasetError(
                f"Only {n} {CLASS_NAMES[label]} events; at least "
                f"{MIN_EVENTS_PER_CLASS} per class are needed to train and test. "
                f"Add events or files."
            )


@dataclass
class Split:
    """Index arrays of the training, validation and test events."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def split_indices(
    n_events: int,
    y: np.ndarray,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    seed: int = 0,
) -> Split:
    """A seeded split that keeps the signal fraction the same in every part."""
    y = np.asarray(y)
    if y.shape != (n_events,):
        raise DatasetError(f"y has shape {y.shape}; expected ({n_events},).")
    f = np.asarray(fractions, dtype=np.float64)
    if f.shape != (3,) or (f < 0).any() or f[0] <= 0 or not np.isclose(f.sum(), 1.0):
        raise ConfigError(
            f"Split fractions {tuple(fractions)} must be three non-negative numbers "
            f"(train > 0) that add up to 1."
        )

    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_train = int(round(f[0] * len(idx)))
        n_val = int(round(f[1] * len(idx)))
        cuts = np.split(idx, [n_train, min(n_train + n_val, len(idx))])
        for part, chunk in zip(parts, cuts):
            part.append(chunk)
    train, val, test = (np.sort(np.concatenate(p)).astype(np.int64) for p in parts)
    return Split(train, val, test)

"""Weighted per-class histograms of features, binned here, never sent as raw points.

Bins come from boost-histogram with Weight storage, so each bin carries the sum of
weights and the sum of squared weights (its statistical error). The default range
runs from the 0.5th to the 99.5th percentile so that a few far outliers do not
squeeze the bulk into one bin; integer-valued features such as n_muons get one bin
per integer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import boost_histogram as bh
import numpy as np

from hepviz.errors import ConfigError, DatasetError

logger = logging.getLogger(__name__)

MAX_INTEGER_BINS = 100  # wider integer spans are binned as continuous values
PERCENTILES = (0.5, 99.5)
PARALLEL_FILL = 1_000_000


@dataclass
class FeatureHistogram:
    """Signal and background histograms of one feature on shared bin edges.

    With density=True each class integrates to 1 over the shown range, so the two
    shapes compare; errors are scaled alike.
    """

    name: str
    edges: np.ndarray
    signal: np.ndarray
    background: np.ndarray
    signal_err: np.ndarray
    background_err: np.ndarray
    density: bool
    discrete: bool

    @property
    def centers(self) -> np.ndarray:
        return 0.5 * (self.edges[1:] + self.edges[:-1])


def _edges(x: np.ndarray, bins: int, range_) -> tuple[np.ndarray, bool]:
    """Bin edges and whether the feature is binned one integer per bin."""
    if range_ is not None:
        lo, hi = (float(v) for v in range_)
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ConfigError(
                f"Histogram range {range_} must be finite with low < high."
            )
        return np.linspace(lo, hi, bins + 1), False
    if len(x) == 0:
        return np.linspace(0.0, 1.0, bins + 1), False
    lo, hi = float(x.min()), float(x.max())
    if np.array_equal(x, np.round(x)) and hi - lo < MAX_INTEGER_BINS:
        return np.arange(lo - 0.5, hi + 1.0), True
    lo, hi = np.percentile(x, PERCENTILES)
    if lo == hi:  # (almost) constant: centre a unit-wide range on it
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, bins + 1), False


def _fill(edges, x, category, w, n_categories: int, density: bool):
    """Histograms of several categories in one pass: (values, errors) for each.

    A second, integer axis holds the category (the class label, or which of several
    columns a value came from). Edges are always uniform (integer features get
    unit-wide bins centred on each value), so a Regular axis computes each bin
    index directly instead of searching the edges as a Variable axis would.
    """
    h = bh.Histogram(
        bh.axis.Regular(len(edges) - 1, edges[0], edges[-1]),
        bh.axis.Integer(0, n_categories, underflow=False, overflow=False),
        storage=bh.storage.Weight(),
    )
    # threads=0: every core, worth it only above about a million values
    h.fill(x, category, weight=w, threads=0 if len(x) > PARALLEL_FILL else None)
    view = h.view()  # in-range bins only; values outside the range are not shown
    out = []
    for c in range(n_categories):
        values = np.asarray(view.value[:, c], dtype=np.float64)
        errors = np.sqrt(np.asarray(view.variance[:, c], dtype=np.float64))
        if density:
            total = values.sum()
            # Negative weights can cancel a class out; then there is no shape.
            scale = (1.0 / (total * np.diff(edges)) if total > 0
                     else np.zeros(len(values)))
            values, errors = values * scale, errors * scale
        out.append((values, errors))
    return out


def feature_histogram(
    x,
    y,
    weight=None,
    bins: int = 40,
    range: tuple[float, float] | None = None,  # noqa: A002 - numpy's name
    density: bool = True,
    name: str = "",
) -> FeatureHistogram:
    """Histogram one feature per class (y = 1 signal, 0 background).

    Args:
        x: feature values (n_events,); NaN and infinite values are left out.
        y: class labels (n_events,).
        weight: event weights (n_events,), default 1.
        bins: number of bins for continuous features.
        range: (low, high); default from the 0.5/99.5 percentiles, or one bin per
            integer for integer-valued features.
        density: normalise each class to unit area over the shown range.
    """
    x = np.asarray(x).ravel()
    y = np.asarray(y).ravel()
    w = np.ones(len(x)) if weight is None else np.asarray(weight, np.float64).ravel()
    if not (len(x) == len(y) == len(w)):
        raise DatasetError(
            f"Histogram of {name or 'a feature'}: {len(x)} values, {len(y)} labels "
            f"and {len(w)} weights; expected one of each per event."
        )
    if bins < 1:
        raise ConfigError(f"bins is {bins}; expected 1 or more.")

    finite = np.isfinite(x) & np.isfinite(w)
    if not finite.all():
        x, y, w = x[finite], y[finite], w[finite]
    edges, discrete = _edges(x, int(bins), range)
    y = (y == 1).astype(np.int8)  # signal in column 1, everything else in 0
    (background, background_err), (signal, signal_err) = _fill(
        edges, x, y, w, 2, density)
    return FeatureHistogram(
        name, edges, signal, background, signal_err, background_err, density, discrete
    )


def feature_histograms(
    X, y, weight, feature_names: list[str], **kw
) -> list[FeatureHistogram]:
    """feature_histogram for every column of X (n_events, n_features)."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != len(feature_names):
        raise DatasetError(
            f"X has shape {X.shape}; expected (n_events, {len(feature_names)})."
        )
    return [
        feature_histogram(X[:, j], y, weight, name=name, **kw)
        for j, name in enumerate(feature_names)
    ]


@dataclass
class Overlay:
    """Several distributions on shared bin edges, e.g. theory against detector."""

    edges: np.ndarray
    values: dict[str, np.ndarray]
    errors: dict[str, np.ndarray]
    density: bool


def overlay_histograms(
    columns: dict[str, np.ndarray],
    weight=None,
    bins: int = 40,
    range: tuple[float, float] | None = None,  # noqa: A002 - numpy's name
    density: bool = True,
) -> Overlay:
    """Histogram each named column (all of one length) on the same edges.

    The default range is taken from all columns together, as in feature_histogram.
    """
    names = list(columns)
    x = np.concatenate([np.asarray(columns[n], dtype=np.float64) for n in names])
    n_events = len(x) // max(len(names), 1)
    if any(len(columns[n]) != n_events for n in names):
        raise DatasetError(
            f"Columns {names} have lengths {[len(columns[n]) for n in names]}; "
            "expected one value per event in each."
        )
    w = np.ones(n_events) if weight is None else np.asarray(weight, np.float64)
    w = np.tile(w, len(names))
    category = np.repeat(np.arange(len(names), dtype=np.int8), n_events)
    finite = np.isfinite(x) & np.isfinite(w)
    if not finite.all():
        x, w, category = x[finite], w[finite], category[finite]
    edges, _ = _edges(x, int(bins), range)
    filled = _fill(edges, x, category, w, len(names), density)
    return Overlay(edges, {n: v for n, (v, _) in zip(names, filled)},
                   {n: e for n, (_, e) in zip(names, filled)}, density)

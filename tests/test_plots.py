"""Figures carry binned numbers only, with the axes physicists expect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hepviz.evaluation import RocCurve
from hepviz.histograms import feature_histogram, overlay_histograms
from hepviz.plots import (
    MAX_EPOCH_LINES,
    histogram_figure,
    layer_histograms_figure,
    overlay_figure,
    per_layer_figure,
    roc_figure,
)


def _hist():
    rng = np.random.default_rng(0)
    x = rng.exponential(30.0, 10_000)
    y = (rng.random(10_000) < 0.5).astype(np.int8)
    return feature_histogram(x, y, bins=25, name="met")


def test_histogram_sends_one_value_per_bin_and_names_units():
    fig = histogram_figure(_hist(), unit="GeV")
    assert [len(trace.y) for trace in fig.data] == [25, 25]  # not 10,000 points
    assert fig.layout.xaxis.title.text == "met [GeV]"
    assert fig.layout.yaxis.title.text == "(1/N) dN/dx [1/GeV]"


def test_overlay_has_one_trace_per_level():
    levels = {"theory": np.arange(10.0), "detector": np.arange(10.0)}
    overlay = overlay_histograms(levels, bins=5)
    fig = overlay_figure(overlay, "MET", "MET", unit="GeV")
    assert [trace.name for trace in fig.data] == ["theory", "detector"]


@pytest.mark.parametrize("convention, x, y", [
    ("rejection", [0.5, 1.0], [0.9, 0.0]),
    ("inverse", [0.5, 1.0], [10.0, 1.0]),
    ("tpr", [0.1, 1.0], [0.5, 1.0]),
])
def test_roc_conventions(convention, x, y):
    roc = RocCurve(signal_eff=np.array([0.0, 0.5, 1.0]),
                   background_eff=np.array([0.0, 0.1, 1.0]),
                   thresholds=np.array([1.0, 0.5, 0.0]), auc=0.9)
    trace = roc_figure({"run": roc}, convention=convention).data[0]
    assert "AUC 0.900" in trace.name
    np.testing.assert_allclose(trace.x[-2:], x)
    np.testing.assert_allclose(trace.y[-2:], y)
    if convention == "inverse":  # eff_b = 0 has no finite rejection: left out
        assert len(trace.x) == 2


def test_per_layer_figure_keeps_first_and_last_epochs_when_there_are_many():
    table = pd.DataFrame([{"epoch": e, "layer": f"l{k}", "grad_norm": 10.0 ** -k}
                          for e in range(1, 21) for k in range(4)])
    fig = per_layer_figure(table, "grad_norm", "", "", log_y=True)
    names = [trace.name for trace in fig.data]
    assert len(names) == MAX_EPOCH_LINES
    assert names[0] == "epoch 1" and names[-1] == "epoch 20"


def test_layer_histograms_stack_one_row_per_layer():
    edges = [np.linspace(0, 1, 5)] * 3
    counts = [np.array([1, 2, 3, 4])] * 3
    fig = layer_histograms_figure(["a", "b", "c"], edges, counts, "t", "x")
    assert list(fig.layout.yaxis.ticktext) == ["a", "b", "c"]
    assert max(max(trace.y) for trace in fig.data) <= 3  # rows 0..2, peaks < 1

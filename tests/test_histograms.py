"""Tests of hepviz.histograms against numpy.histogram and by hand."""

from __future__ import annotations

import numpy as np
import pytest

from hepviz.errors import ConfigError, DatasetError
from hepviz.histograms import feature_histogram, feature_histograms


def test_weighted_counts_and_errors_by_hand():
    x = np.array([0.5, 0.5, 1.5, 2.5, 0.5])
    y = np.array([1, 1, 1, 0, 0])
    w = np.array([2.0, 1.0, 3.0, 1.0, -0.5])
    h = feature_histogram(x, y, w, bins=3, range=(0, 3), density=False)
    np.testing.assert_array_equal(h.edges, [0, 1, 2, 3])
    np.testing.assert_array_equal(h.signal, [3.0, 3.0, 0.0])
    np.testing.assert_allclose(h.signal_err, [np.sqrt(5.0), 3.0, 0.0])
    np.testing.assert_array_equal(h.background, [-0.5, 0.0, 1.0])
    assert not h.density and not h.discrete


def test_density_gives_unit_area_per_class():
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(0, 1, 1000), rng.normal(2, 1, 3000)]
    y = np.r_[np.ones(1000), np.zeros(3000)]
    h = feature_histogram(x, y, bins=30)
    widths = np.diff(h.edges)
    assert (h.signal * widths).sum() == pytest.approx(1.0)
    assert (h.background * widths).sum() == pytest.approx(1.0)
    expected, _ = np.histogram(x[y == 1], bins=h.edges, density=True)
    np.testing.assert_allclose(h.signal, expected)


def test_robust_range_ignores_far_outliers():
    rng = np.random.default_rng(1)
    x = np.r_[rng.uniform(0, 100, 1000), 1e6]
    h = feature_histogram(x, np.ones(len(x)), bins=20)
    assert h.edges[0] >= 0 and h.edges[-1] < 200
    assert len(h.edges) == 21


def test_integer_feature_gets_one_bin_per_value():
    x = np.array([0, 1, 1, 2, 2, 2, 4], dtype=np.float32)
    y = np.array([1, 1, 0, 1, 0, 0, 1])
    h = feature_histogram(x, y, density=False)
    assert h.discrete
    np.testing.assert_array_equal(h.edges, [-0.5, 0.5, 1.5, 2.5, 3.5, 4.5])
    np.testing.assert_array_equal(h.signal, [1, 1, 1, 0, 1])
    np.testing.assert_array_equal(h.background, [0, 1, 2, 0, 0])


def test_constant_and_non_finite_values():
    x = np.array([3.3, 3.3, np.nan, np.inf, 3.3])
    h = feature_histogram(x, np.array([1, 0, 1, 0, 1]), bins=4)
    assert np.isfinite(h.signal).all() and np.isfinite(h.background).all()
    assert h.edges[0] < 3.3 < h.edges[-1]
    assert (h.signal * np.diff(h.edges)).sum() == pytest.approx(1.0)


def test_empty_class_gives_zeros():
    h = feature_histogram(np.array([1.5, 2.5]), np.array([1, 1]), bins=5)
    np.testing.assert_array_equal(h.background, 0.0)


def test_feature_histograms_per_column():
    rng = np.random.default_rng(2)
    X = np.column_stack([rng.normal(size=200), rng.integers(0, 3, 200)])
    y = np.arange(200) % 2
    hs = feature_histograms(X, y, None, ["met", "n_muons"], bins=10)
    assert [h.name for h in hs] == ["met", "n_muons"]
    assert len(hs[0].signal) == 10 and hs[1].discrete


def test_bad_input():
    with pytest.raises(DatasetError, match="one of each"):
        feature_histogram(np.arange(3.0), np.array([0, 1]))
    with pytest.raises(ConfigError, match="range"):
        feature_histogram(np.arange(3.0), np.array([0, 1, 1]), range=(2, 1))
    with pytest.raises(DatasetError, match="expected"):
        feature_histograms(np.zeros((3, 2)), np.zeros(3), None, ["only_one"])


def test_overlay_puts_columns_on_shared_edges_with_their_own_counts():
    from hepviz.histograms import overlay_histograms

    gen = np.array([1.0, 2.0, 2.0, 3.0])
    reco = np.array([1.0, 1.0, 3.0, 3.0])
    overlay = overlay_histograms({"gen": gen, "reco": reco}, bins=2, range=(0, 4),
                                 density=False)
    np.testing.assert_allclose(overlay.edges, [0, 2, 4])
    np.testing.assert_allclose(overlay.values["gen"], [1, 3])
    np.testing.assert_allclose(overlay.values["reco"], [2, 2])
    np.testing.assert_allclose(overlay.errors["gen"], np.sqrt([1, 3]))

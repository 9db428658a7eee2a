import numpy as np
import pytest
from sklearn import metrics

from hepviz.errors import ConfigError, DatasetError
from hepviz.evaluation import (
    background_rejection_at,
    overtraining_test,
    roc_curve,
    weighted_auc,
)


def scored(n=5000, seed=0, shift=1.0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    score = rng.normal(size=n) + shift * y
    w = rng.uniform(0.2, 2.0, n)
    return y, score, w


def test_auc_of_perfect_classifier_is_one():
    y = np.array([0, 0, 1, 1])
    roc = roc_curve(y, np.array([0.1, 0.2, 0.8, 0.9]))
    assert roc.auc == 1.0
    assert background_rejection_at(roc, 0.5) == np.inf
    assert background_rejection_at(roc, 0.5, convention="complement") == 1.0


def test_auc_of_random_classifier_is_one_half():
    y, score, w = scored(n=20000, shift=0.0)
    assert roc_curve(y, score, w).auc == pytest.approx(0.5, abs=0.02)


def test_weighted_auc_matches_sklearn():
    y, score, w = scored()
    expected = metrics.roc_auc_score(y, score, sample_weight=w)
    assert roc_curve(y, score, w).auc == pytest.approx(expected, rel=1e-12)
    assert weighted_auc(y, score, w) == pytest.approx(expected, rel=1e-12)


def test_curve_is_thinned_to_real_operating_points():
    y, score, w = scored()
    fpr, tpr, _ = metrics.roc_curve(y, score, sample_weight=w)
    roc = roc_curve(y, score, w, n_points=200)
    assert len(fpr) > 200 >= len(roc.signal_eff) > 150
    assert roc.signal_eff[0] == 0 and roc.signal_eff[-1] == pytest.approx(1)
    assert roc.background_eff[-1] == pytest.approx(1)
    assert np.all(np.diff(roc.signal_eff) >= 0)
    assert np.all(np.isfinite(roc.thresholds))
    # Every kept point lies on sklearn's curve.
    pairs = set(zip(fpr.round(12), tpr.round(12)))
    assert all((f, t) in pairs for f, t in
               zip(roc.background_eff.round(12), roc.signal_eff.round(12)))


def test_small_curve_is_kept_whole():
    y, score, w = scored(n=50)
    fpr, tpr, _ = metrics.roc_curve(y, score, sample_weight=w)
    roc = roc_curve(y, score, w)
    np.testing.assert_array_equal(roc.signal_eff, tpr)
    np.testing.assert_array_equal(roc.background_eff, fpr)


def test_rejection_conventions_at_a_working_point():
    # eff_s = 0.5 is reached at threshold 0.7 where 1 of 4 background events passes.
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    score = np.array([0.9, 0.8, 0.4, 0.3, 0.7, 0.2, 0.1, 0.05])
    roc = roc_curve(y, score)
    assert background_rejection_at(roc, 0.5) == pytest.approx(4.0)
    assert background_rejection_at(roc, 0.5, "complement") == pytest.approx(0.75)
    np.testing.assert_allclose(roc.background_rejection, 1 - roc.background_eff)
    with pytest.raises(ConfigError):
        background_rejection_at(roc, 0.0)


def test_negative_weights_give_an_auc_where_sklearn_refuses():
    y, score, _ = scored(n=400)
    w = np.random.default_rng(1).normal(1.0, 1.0, 400)
    with pytest.raises(ValueError):
        metrics.roc_auc_score(y, score, sample_weight=w)
    fpr, tpr, _ = metrics.roc_curve(y, score, sample_weight=w)
    roc = roc_curve(y, score, w)
    assert roc.auc == pytest.approx(np.trapezoid(tpr, fpr))
    assert 0.5 < roc.auc < 1.0


def test_one_class_is_a_clear_error():
    with pytest.raises(DatasetError, match="signal"):
        roc_curve(np.ones(5, dtype=int), np.linspace(0, 1, 5))


def test_overtraining_test_flags_different_distributions():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    same = overtraining_test(rng.random(2000), y, rng.random(2000), y)
    assert same["signal_p_value"] > 0.01 and same["background_p_value"] > 0.01
    train_score = rng.random(2000) ** 0.3  # pushed towards 1: learned by heart
    shifted = overtraining_test(train_score, y, rng.random(2000), y)
    assert shifted["signal_p_value"] < 1e-6
    assert 0 < shifted["signal_ks"] <= 1

"""Tests of hepviz.scaling against plain numpy and scikit-learn."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.preprocessing import (
    MinMaxScaler as SkMinMax,
)
from sklearn.preprocessing import (
    RobustScaler as SkRobust,
)
from sklearn.preprocessing import (
    StandardScaler,
)

from hepviz.errors import ConfigError, DatasetError
from hepviz.scaling import SCALERS, make_scaler, scaler_from_dict


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    return np.column_stack(
        [rng.exponential(30, 500), rng.normal(5, 2, 500), rng.integers(0, 4, 500)]
    ).astype(np.float32)


def test_zscore_of_a_known_column_by_hand():
    # mu = 2, population sigma = sqrt(((1-2)^2 + 0 + (3-2)^2) / 3) = sqrt(2/3)
    scaler = make_scaler("zscore").fit(np.array([[1.0], [2.0], [3.0]]))
    (params,) = scaler.parameters()
    assert params["mu"] == pytest.approx(2.0)
    assert params["sigma"] == pytest.approx(np.sqrt(2 / 3))
    out = scaler.transform(np.array([[1.0], [2.0], [3.0]]))
    np.testing.assert_allclose(out[:, 0], [-np.sqrt(1.5), 0, np.sqrt(1.5)], rtol=1e-6)


def test_zscore_matches_numpy_formula_and_standard_scaler(X):
    eps = 1e-8
    out = make_scaler("zscore", eps=eps).fit_transform(X)
    assert out.dtype == np.float32
    X64 = X.astype(np.float64)
    expected = (X64 - X64.mean(0)) / (X64.std(0) + eps)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out, StandardScaler().fit_transform(X64), atol=1e-5)


def test_zscore_statistics_accumulate_in_float64():
    # 1e6 values of 1e4 + noise: a float32 running sum would drift visibly.
    rng = np.random.default_rng(1)
    x = (1e4 + rng.normal(0, 1, 1_000_000)).astype(np.float32)[:, None]
    (params,) = make_scaler("zscore").fit(x).parameters()
    assert params["mu"] == pytest.approx(np.mean(x, dtype=np.float64), abs=1e-9)
    assert params["sigma"] == pytest.approx(np.std(x, dtype=np.float64), rel=1e-9)


def test_constant_column_scales_to_zero_not_nan():
    X = np.column_stack([np.full(10, 0.1, np.float32), np.arange(10.0)])
    out = make_scaler("zscore").fit_transform(X)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[:, 0], 0.0)
    for kind in ("minmax", "robust"):
        assert np.isfinite(make_scaler(kind).fit_transform(X)).all()


def test_minmax_and_robust_wrap_sklearn(X):
    np.testing.assert_allclose(
        make_scaler("minmax").fit_transform(X),
        SkMinMax().fit_transform(X.astype(np.float64)),
        atol=1e-6,
    )
    np.testing.assert_allclose(
        make_scaler("robust").fit_transform(X),
        SkRobust().fit_transform(X.astype(np.float64)),
        atol=1e-5,
    )


def test_none_only_casts(X):
    out = make_scaler("none").fit_transform(X.astype(np.float64))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, X)


@pytest.mark.parametrize("kind", SCALERS)
def test_dict_round_trip_through_json(kind, X):
    scaler = make_scaler(kind).fit(X[:300])
    d = json.loads(json.dumps(scaler.to_dict()))
    again = scaler_from_dict(d)
    assert again.kind == kind
    np.testing.assert_array_equal(again.transform(X[300:]), scaler.transform(X[300:]))
    assert again.parameters() == scaler.parameters()


def test_parameters_per_feature(X):
    params = make_scaler("robust").fit(X).parameters()
    assert len(params) == 3 and set(params[0]) == {"median", "iqr"}
    assert params[1]["median"] == pytest.approx(np.median(X[:, 1]), rel=1e-6)
    assert set(make_scaler("minmax").fit(X).parameters()[2]) == {"min", "max"}


def test_errors(X):
    with pytest.raises(ConfigError, match="Unknown scaler"):
        make_scaler("pca")
    with pytest.raises(ConfigError, match="not fitted"):
        make_scaler("zscore").transform(X)
    with pytest.raises(DatasetError, match="fitted on 3 features"):
        make_scaler("zscore").fit(X).transform(X[:, :2])
    with pytest.raises(DatasetError, match="NaN"):
        make_scaler("zscore").fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(ConfigError, match="kind"):
        scaler_from_dict({"kind": "magic"})
    bad = make_scaler("zscore").fit(X).to_dict()
    bad["mu"] = bad["mu"][:2]
    with pytest.raises(ConfigError, match="features"):
        scaler_from_dict(bad)

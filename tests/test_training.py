import numpy as np
import pytest
import torch

from hepviz.errors import ConfigError, DatasetError
from hepviz.models import ModelConfig, build_model
from hepviz.training import (
    TrainConfig,
    pick_device,
    predict,
    train,
    training_weights,
)

torch.set_num_threads(1)


def toy(n=400, seed=0):
    """Two Gaussian features; signal when x0 + x1 > 0 (linearly separable)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int8)
    w = rng.uniform(0.5, 1.5, size=n)
    return X, y, w


def fit(seed=0, epochs=3, **kw):
    X, y, w = toy()
    torch.manual_seed(seed)
    model = build_model(ModelConfig(n_inputs=2, width=16, depth=2))
    cfg = TrainConfig(epochs=epochs, batch_size=64, learning_rate=1e-2, seed=seed)
    history = train(model, X[:300], y[:300], w[:300], X[300:], y[300:], w[300:],
                    cfg, **kw)
    return model, history


def test_pick_device_falls_back_to_cpu_and_refuses_missing_devices():
    assert pick_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        assert pick_device("auto").type in ("mps", "cpu")
        with pytest.raises(ConfigError, match="not available"):
            pick_device("cuda")


def test_balanced_weights_give_each_class_half_the_events():
    y = np.array([1, 0, 0, 0, 0, 0])
    w = training_weights(y, np.array([2.0, 1, 1, 1, 1, 1]), balance_classes=True)
    assert w[y == 1].sum() == pytest.approx(3.0)
    assert w[y == 0].sum() == pytest.approx(3.0)
    np.testing.assert_allclose(w[y == 0], 0.6)


def test_unbalanced_weights_are_normalised_to_mean_one():
    y = np.array([1, 0, 0, 0])
    w = training_weights(y, np.array([2.0, 2, 2, 2]), balance_classes=False)
    np.testing.assert_allclose(w, 1.0)


def test_negative_weights_abs_zero_and_keep():
    y = np.array([1, 1, 0, 0])
    w = np.array([2.0, -1.0, 1.0, 1.0])
    # abs: [2, 1, 1, 1] sums to 5, scaled to mean one (sum 4).
    np.testing.assert_allclose(training_weights(y, w, False, "abs"), [1.6, .8, .8, .8])
    np.testing.assert_allclose(training_weights(y, w, False, "zero"), [2, 0, 1, 1])
    kept = training_weights(y, w, True, "keep")
    assert kept[1] < 0 and kept[y == 1].sum() == pytest.approx(2.0)
    with pytest.raises(DatasetError, match="class 1"):
        training_weights(y, np.array([1.0, -2.0, 1.0, 1.0]), True, "keep")


def test_loss_decreases_on_separable_toy_problem():
    _, history = fit(epochs=4)
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    assert set(history[0]) == {"epoch", "train_loss", "val_loss", "val_auc", "seconds"}
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["val_loss"] < 0.4
    assert history[-1]["val_auc"] > 0.95


def test_seeded_runs_are_reproducible():
    m1, h1 = fit(seed=3, epochs=2)
    m2, h2 = fit(seed=3, epochs=2)
    for a, b in zip(h1, h2):
        assert a["train_loss"] == b["train_loss"]
        assert a["val_auc"] == b["val_auc"]
    for (k, v1), v2 in zip(m1.state_dict().items(), m2.state_dict().values()):
        torch.testing.assert_close(v1, v2, rtol=0, atol=0, msg=k)


def test_on_epoch_sees_each_record():
    seen = []
    _, history = fit(epochs=2, on_epoch=seen.append)
    assert seen == history


def test_should_stop_is_checked_every_batch():
    calls = []

    def stop():
        calls.append(1)
        return len(calls) >= 3  # stop before the third batch of epoch 1

    _, history = fit(epochs=5, should_stop=stop)
    assert history == [] and len(calls) == 3


def test_predict_returns_float64_probabilities():
    model, _ = fit(epochs=1)
    X, _, _ = toy(n=50, seed=1)
    score = predict(model, X, batch_size=16)
    assert score.dtype == np.float64 and score.shape == (50,)
    assert np.all((score >= 0) & (score <= 1))
    assert not model.training


def test_non_finite_loss_raises_config_error():
    X, y, w = toy()
    X[5, 0] = np.nan
    model = build_model(ModelConfig(n_inputs=2, width=4, depth=1))
    with pytest.raises(ConfigError, match="diverged"):
        train(model, X, y, w, X, y, w, TrainConfig(epochs=1))


@pytest.mark.parametrize("bad", [
    dict(learning_rate=0), dict(epochs=0), dict(batch_size=0),
    dict(optimizer="lbfgs"), dict(device="tpu"), dict(negative_weights="flip"),
])
def test_train_config_validate(bad):
    with pytest.raises(ConfigError):
        TrainConfig(**bad).validate()


def test_sgd_optimizer_trains():
    X, y, w = toy()
    model = build_model(ModelConfig(n_inputs=2, width=8, depth=1))
    cfg = TrainConfig(epochs=2, optimizer="sgd", learning_rate=0.05, batch_size=64)
    history = train(model, X, y, None, X, y, None, cfg)
    assert history[-1]["val_auc"] > 0.9


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_trains_and_probes_on_cuda():
    from hepviz.probes import probe

    X, y, w = toy()
    model = build_model(ModelConfig(n_inputs=2, width=8, depth=2))
    history = train(model, X, y, w, X, y, w, TrainConfig(epochs=1, device="cuda"))
    assert next(model.parameters()).device.type == "cuda"
    assert predict(model, X).dtype == np.float64 and history[0]["val_auc"] > 0.5
    assert probe(model, X[:100], y[:100])["layers"][0]["weight_grad_norm"] > 0

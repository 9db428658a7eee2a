import json

import numpy as np
import pytest
import torch
from torch import nn

from hepviz.errors import DatasetError
from hepviz.models import ModelConfig, build_model
from hepviz.probes import probe, probe_summary

torch.set_num_threads(1)


def events(n=200, n_inputs=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_inputs)).astype(np.float32)
    return X, (X[:, 0] > 0).astype(np.int8)


def mlp(**kw):
    torch.manual_seed(0)
    return build_model(ModelConfig(n_inputs=4, width=8, depth=2, **kw))


def test_every_layer_is_probed_in_call_order():
    result = probe(mlp(), *events())
    assert [layer["name"] for layer in result["layers"]] == [
        "layer1.fc", "layer1.bn", "layer1.act",
        "layer2.fc", "layer2.bn", "layer2.act", "output",
    ]
    assert result["n_events"] == 200


def test_resnet_layers_are_labelled_by_block():
    torch.manual_seed(0)
    model = build_model(ModelConfig(architecture="resnet", n_inputs=4, width=8,
                                    depth=2, batch_norm=False))
    names = [layer["name"] for layer in probe(model, *events())["layers"]]
    assert names == ["input.fc", "input.act", "block1.fc1", "block1.act1",
                     "block1.fc2", "block1.act2", "block2.fc1", "block2.act1",
                     "block2.fc2", "block2.act2", "output"]


def test_result_is_strict_json_and_histograms_count_every_value():
    result = probe(mlp(), *events(), n_bins=10)
    json.dumps(result, allow_nan=False)
    act = result["layers"][2]
    assert act["n_units"] == 8
    assert sum(act["hist"]["activation"]["counts"]) == 200 * 8
    assert len(act["hist"]["activation"]["edges"]) == 11
    fc = result["layers"][0]
    assert sum(fc["hist"]["weight"]["counts"]) == 8 * 4
    assert act["hist"]["weight"] is None and act["weight_grad_norm"] is None


def test_gradients_match_a_manual_backward_pass():
    model = mlp()
    X, y = events()
    result = probe(model, X, y)

    model.eval()
    loss = nn.functional.binary_cross_entropy_with_logits(
        model(torch.from_numpy(X)), torch.from_numpy(y).float())
    loss.backward()
    by_name = {layer["name"]: layer for layer in result["layers"]}
    assert result["loss"] == pytest.approx(loss.item(), rel=1e-6)
    for name, module in (("layer1.fc", model.layer1.fc), ("output", model.output)):
        expected = module.weight.grad.norm().item()
        assert by_name[name]["weight_grad_norm"] == pytest.approx(expected, rel=1e-5)


def test_probe_leaves_mode_and_grads_alone():
    model = mlp()
    model.train()
    probe(model, *events())
    assert model.training
    assert all(p.grad is None for p in model.parameters())


def test_dead_relu_units_are_counted():
    model = mlp(batch_norm=False)
    with torch.no_grad():
        model.layer1.fc.bias[:3] = -1e3  # three units never fire
    layer = probe(model, *events())["layers"][1]
    assert layer["name"] == "layer1.act"
    assert layer["frac_dead"] == pytest.approx(3 / 8)
    assert layer["frac_saturated"] >= 3 / 8


def test_saturated_sigmoid_is_reported():
    model = mlp(batch_norm=False, activation="sigmoid")
    with torch.no_grad():
        model.layer1.fc.weight.mul_(1e4)
    layer = probe(model, *events())["layers"][1]
    assert layer["kind"] == "Sigmoid"
    assert layer["frac_saturated"] > 0.95


def test_vanishing_gradient_shows_in_weight_gradient_norms():
    torch.manual_seed(0)
    model = build_model(ModelConfig(n_inputs=4, width=16, depth=10,
                                    batch_norm=False, activation="sigmoid"))
    layers = {layer["name"]: layer for layer in probe(model, *events())["layers"]}
    assert layers["layer1.fc"]["weight_grad_norm"] < (
        1e-3 * layers["layer10.fc"]["weight_grad_norm"])


def test_summary_drops_histograms():
    summary = probe_summary(probe(mlp(), *events()))
    assert all("hist" not in layer for layer in summary["layers"])
    first = summary["layers"][0]
    assert {"name", "mean", "std", "frac_dead", "grad_norm"} <= set(first)


def test_too_few_events_is_a_clear_error():
    with pytest.raises(DatasetError, match="at least 2"):
        probe(mlp(), *events(n=1))


def test_histogram_matches_numpy():
    from hepviz.probes import _histogram

    values = np.random.default_rng(3).normal(size=(500, 7)).astype(np.float32)
    hist = _histogram(values, 12)
    counts, edges = np.histogram(values, bins=12, range=(values.min(), values.max()))
    np.testing.assert_array_equal(hist["counts"], counts)
    np.testing.assert_allclose(hist["edges"], edges, rtol=1e-6)
    constant = _histogram(np.full(10, 2.0), 4)
    assert sum(constant["counts"]) == 10 and constant["edges"][0] == 1.5


def test_log_gradient_histogram_shows_orders_of_magnitude_and_counts_zeros():
    from hepviz.probes import LOG_RANGE, _log_magnitude_histogram

    values = np.array([0.0, 0.0, 3e-12, -3e-12, 1e-3, 1e3, 1e5])
    hist = _log_magnitude_histogram(values)
    edges = np.asarray(hist["edges"])
    counts = np.asarray(hist["counts"])
    assert edges[0] == LOG_RANGE[0] and edges[-1] == LOG_RANGE[1]
    assert hist["zeros"] == 2
    assert counts.sum() == 5
    assert counts[np.searchsorted(edges, np.log10(3e-12)) - 1] == 2
    assert counts[-1] == 2  # 1e3 and 1e5 both land in the top bin (clipped)


def test_deep_plain_network_gradients_sit_orders_of_magnitude_lower_at_the_input():
    torch.manual_seed(0)
    model = build_model(ModelConfig(architecture="mlp", depth=20, width=32,
                                    batch_norm=False, activation="relu"))
    X = np.random.default_rng(0).normal(size=(500, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int8)
    acts = [layer for layer in probe(model, X, y)["layers"] if layer["kind"] == "ReLU"]

    def typical_log(layer):
        h = layer["hist"]["log_abs_gradient"]
        edges = np.asarray(h["edges"])
        return np.average(0.5 * (edges[1:] + edges[:-1]), weights=h["counts"])

    assert typical_log(acts[-1]) - typical_log(acts[0]) > 4  # > 4 decades apart

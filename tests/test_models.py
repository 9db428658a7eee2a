import pytest
import torch
from torch import nn

from hepviz.errors import ConfigError
from hepviz.models import ModelConfig, ResidualBlock, build_model, model_summary

torch.set_num_threads(1)


def first_layer_grad_norm(model: nn.Module, first: nn.Linear) -> float:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(256, 4, generator=g)
    y = (x[:, 0] > 0).float()
    loss = nn.functional.binary_cross_entropy_with_logits(model(x), y)
    loss.backward()
    return first.weight.grad.norm().item()


@pytest.mark.parametrize("arch", ["mlp", "resnet"])
@pytest.mark.parametrize("batch_norm", [True, False])
def test_forward_gives_one_logit_per_event(arch, batch_norm):
    cfg = ModelConfig(architecture=arch, n_inputs=5, width=8, depth=2,
                      batch_norm=batch_norm, dropout=0.1)
    model = build_model(cfg)
    assert model(torch.randn(7, 5)).shape == (7,)


@pytest.mark.parametrize("bad", [
    dict(architecture="cnn"), dict(activation="gelu"), dict(width=0),
    dict(depth=0), dict(n_inputs=0), dict(dropout=1.0), dict(width=2.5),
    dict(depth=10_000),
])
def test_validate_rejects_out_of_range_settings(bad):
    with pytest.raises(ConfigError):
        build_model(ModelConfig(**bad))


def test_config_round_trips_through_dict_and_rejects_unknown_keys():
    cfg = ModelConfig(architecture="resnet", width=16)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="colour"):
        ModelConfig.from_dict({"colour": "red"})


def test_summary_of_mlp_counts_parameters_by_hand():
    model = build_model(ModelConfig(n_inputs=4, width=64, depth=2, batch_norm=True))
    rows = model_summary(model, n_inputs=4)
    by_name = {r["layer"]: r for r in rows}
    assert [r["layer"] for r in rows] == [
        "layer1.fc", "layer1.bn", "layer1.act",
        "layer2.fc", "layer2.bn", "layer2.act", "output",
    ]
    assert by_name["layer1.fc"]["n_params"] == 4 * 64 + 64 == 320
    assert by_name["layer1.bn"]["n_params"] == 2 * 64  # gamma and beta
    assert by_name["layer1.act"]["n_params"] == 0
    assert by_name["layer2.fc"]["n_params"] == 64 * 64 + 64
    assert by_name["output"]["n_params"] == 65
    assert by_name["layer1.fc"]["output_shape"] == "(n, 64)"
    assert by_name["output"]["output_shape"] == "(n, 1)"
    total = sum(p.numel() for p in model.parameters())
    assert sum(r["n_params"] for r in rows) == total


def test_summary_names_residual_block_layers():
    model = build_model(ModelConfig(architecture="resnet", n_inputs=3, width=8,
                                    depth=2, batch_norm=False))
    names = [r["layer"] for r in model_summary(model, 3)]
    assert names[:3] == ["input.fc", "input.act", "block1.fc1"]
    assert "block2.act2" in names and names[-1] == "output"
    assert not any("proj" in n for n in names)


def test_projection_used_only_when_widths_differ():
    same = ResidualBlock(8, 8, batch_norm=False)
    wider = ResidualBlock(4, 8, batch_norm=False)
    assert same.proj is None
    assert isinstance(wider.proj, nn.Linear) and wider.proj.bias is None
    assert wider.proj.weight.shape == (8, 4)
    assert wider(torch.randn(5, 4)).shape == (5, 8)


def test_residual_block_adds_identity_skip_before_activation():
    block = ResidualBlock(3, 3, activation="relu", batch_norm=False)
    with torch.no_grad():
        for fc in (block.fc1, block.fc2):
            fc.weight.zero_()
            fc.bias.zero_()
    a = torch.tensor([[1.0, -2.0, 3.0]])
    # Main path is zero, so out = relu(0 + a): the block learns the identity.
    torch.testing.assert_close(block(a), torch.tensor([[1.0, 0.0, 3.0]]))


def test_residual_block_with_projection_matches_formula():
    torch.manual_seed(0)
    block = ResidualBlock(2, 3, activation="tanh", batch_norm=False)
    a = torch.randn(4, 2)
    z2 = block.fc2(torch.tanh(block.fc1(a)))
    expected = torch.tanh(z2 + a @ block.proj.weight.T)
    torch.testing.assert_close(block(a), expected)


def test_batch_norm_is_affine_and_starts_as_plain_normalisation():
    model = build_model(ModelConfig(n_inputs=2, width=4, depth=1))
    bn = model.layer1.bn
    assert bn.affine
    torch.testing.assert_close(bn.weight.detach(), torch.ones(4))  # gamma
    torch.testing.assert_close(bn.bias.detach(), torch.zeros(4))  # beta


def test_sigmoid_mlp_gradient_vanishes_where_resnet_keeps_it():
    # Same number of Linear layers (13) and the same sigmoid activation: only the
    # skip connections differ.
    torch.manual_seed(0)
    mlp = build_model(ModelConfig(architecture="mlp", depth=13, width=32,
                                  batch_norm=False, activation="sigmoid"))
    torch.manual_seed(0)
    resnet = build_model(ModelConfig(architecture="resnet", depth=6, width=32,
                                     batch_norm=False, activation="sigmoid"))
    g_mlp = first_layer_grad_norm(mlp, mlp.layer1.fc)
    g_res = first_layer_grad_norm(resnet, resnet.input.fc)
    assert g_mlp < 1e-3 * g_res


def test_relu_resnet_keeps_first_layer_gradient_alive():
    torch.manual_seed(0)
    resnet = build_model(ModelConfig(architecture="resnet", depth=6, width=32,
                                     batch_norm=False, activation="relu"))
    g_first = first_layer_grad_norm(resnet, resnet.input.fc)
    assert g_first > 0.1 * resnet.output.weight.grad.norm().item()

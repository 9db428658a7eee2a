"""Networks for event classification: a batch-norm MLP and a residual network.

Both map a batch of scaled features (n_events, n_inputs) to one logit per event.
Layers carry stable dotted names ("layer1.fc", "block2.act2", "output") that the
probes and the Activations page use as labels.

Batch normalisation follows Ioffe and Szegedy (arXiv:1502.03167): normalise each
unit over the batch, z_norm = (z - mu) / sqrt(sigma^2 + eps), then scale and shift,
z~ = gamma * z_norm + beta (``nn.BatchNorm1d`` with ``affine=True``; gamma starts at
1 and beta at 0). The residual block follows He et al. (arXiv:1512.03385):
a[l+2] = g(W[l+2] g(W[l+1] a[l] + b[l+1]) + b[l+2] + K a[l]), with K the identity
when the widths match and a learned bias-free projection when they differ.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from hepviz.errors import ConfigError
from hepviz.settings import Settings

logger = logging.getLogger(__name__)

ARCHITECTURES = ("mlp", "resnet")
ACTIVATIONS = ("relu", "tanh", "sigmoid")
MAX_WIDTH = 4096
MAX_DEPTH = 128


@dataclass
class ModelConfig(Settings):
    """Settings of a network; ``depth``: hidden layers (mlp) or blocks (resnet)."""

    kind: ClassVar[str] = "model"

    architecture: str = "mlp"
    n_inputs: int = 4
    width: int = 64
    depth: int = 4
    batch_norm: bool = True
    activation: str = "relu"
    dropout: float = 0.0

    def validate(self) -> None:
        """Raise ConfigError naming the first setting out of its allowed range."""
        if self.architecture not in ARCHITECTURES:
            raise ConfigError(
                f"Unknown architecture '{self.architecture}'. "
                f"Choose one of: {', '.join(ARCHITECTURES)}."
            )
        if self.activation not in ACTIVATIONS:
            raise ConfigError(
                f"Unknown activation '{self.activation}'. "
                f"Choose one of: {', '.join(ACTIVATIONS)}."
            )
        for field, value, top in (
            ("n_inputs", self.n_inputs, None),
            ("width", self.width, MAX_WIDTH),
            ("depth", self.depth, MAX_DEPTH),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(
                    f"Model {field} must be a whole number of at least 1; "
                    f"got {value!r}."
                )
            if top is not None and value > top:
                raise ConfigError(
                    f"Model {field} must be at most {top}; got {value}. "
                    "Pick a smaller network."
                )
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ConfigError(
                f"Dropout must be in [0, 1); got {self.dropout}. "
                "Use 0 to switch it off."
            )


def _activation(name: str) -> nn.Module:
    # A fresh module per position, never in-place: hooks then see every output
    # under its own name, and autograd keeps the value the probes read.
    return {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[name]()


class DenseBlock(nn.Module):
    """fc -> (bn) -> act -> (dropout): one hidden layer of the MLP."""

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: str,
        batch_norm: bool,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.fc = nn.Linear(n_in, n_out)
        self.bn = nn.BatchNorm1d(n_out) if batch_norm else None
        self.act = _activation(activation)
        self.drop = nn.Dropout(dropout) if dropout > 0 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.fc(x)
        if self.bn is not None:
            z = self.bn(z)
        a = self.act(z)
        return self.drop(a) if self.drop is not None else a


class ResidualBlock(nn.Module):
    """out = g(W2 g(W1 a + b1) + b2 + K a), K identity or a bias-free projection.

    With batch norm, each linear output is normalised before its activation
    (and z2 before the skip is added), as in He et al.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: str = "relu",
        batch_norm: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.fc1 = nn.Linear(n_in, n_out)
        self.bn1 = nn.BatchNorm1d(n_out) if batch_norm else None
        self.act1 = _activation(activation)
        self.drop = nn.Dropout(dropout) if dropout > 0 else None
        self.fc2 = nn.Linear(n_out, n_out)
        self.bn2 = nn.BatchNorm1d(n_out) if batch_norm else None
        # K: identity when shapes agree, else a learned n_out x n_in matrix.
        self.proj = nn.Linear(n_in, n_out, bias=False) if n_in != n_out else None
        self.act2 = _activation(activation)

    def forward(self, a: torch.Tensor) -> torch.Tensor:  # a: (n_events, n_in)
        z1 = self.fc1(a)
        if self.bn1 is not None:
            z1 = self.bn1(z1)
        a1 = self.act1(z1)
        if self.drop is not None:
            a1 = self.drop(a1)
        z2 = self.fc2(a1)
        if self.bn2 is not None:
            z2 = self.bn2(z2)
        skip = self.proj(a) if self.proj is not None else a
        return self.act2(z2 + skip)  # (n_events, n_out)


class EventClassifier(nn.Module):
    """Hidden layers or residual blocks, then one Linear to a logit per event."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.config = cfg
        n = cfg.n_inputs
        if cfg.architecture == "mlp":
            for i in range(cfg.depth):
                block = DenseBlock(n, cfg.width, cfg.activation, cfg.batch_norm,
                                   cfg.dropout)
                self.add_module(f"layer{i + 1}", block)
                n = cfg.width
        else:
            self.add_module("input", DenseBlock(n, cfg.width, cfg.activation,
                                                cfg.batch_norm))
            for i in range(cfg.depth):
                block = ResidualBlock(cfg.width, cfg.width, cfg.activation,
                                      cfg.batch_norm, cfg.dropout)
                self.add_module(f"block{i + 1}", block)
        self.output = nn.Linear(cfg.width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (n_events, n_inputs)
        for name, module in self.named_children():
            if name != "output":
                x = module(x)
        return self.output(x).squeeze(-1)  # (n_events,) logits


def build_model(cfg: ModelConfig) -> nn.Module:
    """Validate ``cfg`` and build its network (initial weights from torch's RNG)."""
    cfg.validate()
    return EventClassifier(cfg)


def model_summary(model: nn.Module, n_inputs: int) -> list[dict]:
    """One row per leaf layer in call order: layer, kind, output_shape, n_params.

    ``n_params`` counts trainable parameters owned by that layer (a Linear(4, 64)
    has 4 * 64 + 64 = 320; a BatchNorm1d(64) has gamma and beta, 128); running
    statistics are buffers, not parameters. ``n`` in a shape is the batch size.
    """
    rows: list[dict] = []
    hooks = []
    names = {m: name for name, m in model.named_modules()}

    def record(module: nn.Module, _inputs, output) -> None:
        shape = ", ".join(["n", *(str(s) for s in output.shape[1:])])
        rows.append({
            "layer": names[module],
            "kind": type(module).__name__,
            "output_shape": f"({shape})",
            "n_params": sum(p.numel() for p in module.parameters(recurse=False)
                            if p.requires_grad),
        })

    for module in model.modules():
        if not list(module.children()):
            hooks.append(module.register_forward_hook(record))
    was_training = model.training
    model.eval()  # batch norm in eval mode accepts any batch size
    try:
        device = next(model.parameters()).device
        with torch.no_grad():
            model(torch.zeros(2, n_inputs, device=device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return rows

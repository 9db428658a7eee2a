"""Look inside a network: activations, gradients and weights of every layer.

``probe`` runs one forward pass with hooks on every Linear, BatchNorm1d and
activation module, keeps their detached outputs, then takes the gradient of the
cross-entropy with respect to those outputs and to each layer's weights. Only after
the pass are the tensors reduced to small histograms and summary numbers (reducing
inside the hooks costs about 3.7x more; PERFORMANCE.md). A residual block's output
is its ``act2`` output, so blocks are not hooked twice.

The result holds only lists, floats, ints, strings and None: ``json.dumps`` takes it
as is. The gradient norms are what the vanishing-gradient demo plots: in a deep
sigmoid MLP without batch norm they fall by orders of magnitude towards the input
(Hochreiter 1991; He et al., arXiv:1512.03385), in a residual network they do not.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch import nn

from hepviz.errors import DatasetError

logger = logging.getLogger(__name__)

ACTIVATION_KINDS = (nn.ReLU, nn.Tanh, nn.Sigmoid)
PROBED_KINDS = (nn.Linear, nn.BatchNorm1d, *ACTIVATION_KINDS)

# Where an activation passes (almost) no gradient: sigma' < 0.01, tanh' < 0.02.
SATURATION = {"Sigmoid": 0.01, "Tanh": 0.01}
# log10 range of the magnitude histograms; values beyond land in the end bins.
LOG_RANGE = (-20.0, 2.0)


def _histogram(values: np.ndarray, n_bins: int) -> dict:
    values = values.ravel()
    lo, hi = float(values.min()), float(values.max())
    if not hi > lo:  # a constant: one visible bin around it
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, n_bins + 1)
    # Bin indices and bincount: a few times faster than np.histogram on 1e6 values.
    idx = ((values - lo) * (n_bins / (hi - lo))).astype(np.intp)
    np.clip(idx, 0, n_bins - 1, out=idx)  # the maximum belongs to the last bin
    counts = np.bincount(idx, minlength=n_bins)
    return {"counts": counts.tolist(), "edges": edges.tolist()}


def _log_magnitude_histogram(values: np.ndarray) -> dict:
    """Histogram of log10|value| on fixed edges, shared by every layer and run.

    A vanishing gradient is a shift by orders of magnitude from layer to layer, which
    a linear axis squeezes into one spike at zero; exact zeros (dead ReLU units) are
    counted apart in "zeros".
    """
    magnitude = np.abs(values.ravel())
    nonzero = magnitude[magnitude > 0]
    lo, hi = LOG_RANGE
    n_bins = int((hi - lo) * 4)  # quarter decades
    logs = np.clip(np.log10(nonzero), lo, hi - 1e-9)
    idx = ((logs - lo) * (n_bins / (hi - lo))).astype(np.intp)
    counts = np.bincount(idx, minlength=n_bins)
    return {"counts": counts.tolist(),
            "edges": np.linspace(lo, hi, n_bins + 1).tolist(),
            "zeros": int(magnitude.size - nonzero.size)}


def _saturated_fraction(kind: str, a: np.ndarray) -> float | None:
    if kind == "ReLU":
        return float(np.mean(a <= 0))
    if kind == "Sigmoid":
        cut = SATURATION[kind]
        return float(np.mean((a < cut) | (a > 1 - cut)))
    if kind == "Tanh":
        return float(np.mean(np.abs(a) > 1 - SATURATION[kind]))
    return None


def _norm(a: torch.Tensor) -> float:
    # On the CPU: MPS has no float64.
    return float(torch.linalg.vector_norm(a.detach().cpu(), dtype=torch.float64))


def probe(
    model: nn.Module,
    X: np.ndarray,
    y: np.ndarray,
    n_bins: int = 40,
    weight: np.ndarray | None = None,
) -> dict:
    """Activation and gradient summaries of every layer on events ``X``.

    Args:
        model: a network from hepviz.models; left in the mode it was in.
        X: scaled features (n_events, n_features); a few thousand events suffice.
        y: labels (n_events,), 1 signal and 0 background, for the loss.
        n_bins: bins of each histogram.
        weight: optional per-event weights of the loss.

    Returns:
        {"n_events", "loss", "n_bins", "layers": [per-layer dict, in call order]}.
        Each layer dict: name, kind, n_units, mean, std (of the outputs),
        frac_dead (units whose output is the same for every event; for ReLU, units
        never active), frac_saturated (outputs where the activation passes almost
        no gradient; None for Linear and BatchNorm1d), grad_norm (|dL/d output|),
        weight_norm and weight_grad_norm (None without weights), and "hist" with
        "activation", "gradient", "weight", "weight_gradient" histograms, each
        {"counts": [...], "edges": [...]} or None, and "log_abs_gradient": counts
        of log10|dL/d output| on the fixed LOG_RANGE edges plus "zeros".
    """
    if len(X) < 2:
        raise DatasetError(
            f"Probing needs at least 2 events; got {len(X)}. Use a larger split."
        )
    device = next(model.parameters()).device
    names = {m: name for name, m in model.named_modules()}
    probed = [m for m in model.modules() if isinstance(m, PROBED_KINDS)]
    outputs: list[tuple[nn.Module, torch.Tensor]] = []

    def keep(module: nn.Module, _inputs, output: torch.Tensor) -> None:
        outputs.append((module, output))

    hooks = [m.register_forward_hook(keep) for m in probed]
    was_training = model.training
    model.eval()  # running batch-norm statistics, no dropout: the deployed model
    try:
        x = torch.as_tensor(np.asarray(X), dtype=torch.float32, device=device)
        target = torch.as_tensor(np.asarray(y), dtype=torch.float32, device=device)
        with torch.enable_grad():
            logits = model(x)
            per_event = nn.functional.binary_cross_entropy_with_logits(
                logits, target, reduction="none")
            if weight is None:
                loss = per_event.mean()
            else:
                w = torch.as_tensor(np.asarray(weight), dtype=torch.float32,
                                    device=device)
                loss = (per_event * w).sum() / w.sum()
            weighted = [m for m in probed if getattr(m, "weight", None) is not None]
            tensors = [out for _, out in outputs] + [m.weight for m in weighted]
            grads = torch.autograd.grad(loss, tensors, allow_unused=True)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)

    act_grads = grads[:len(outputs)]
    weight_grads = dict(zip(weighted, grads[len(outputs):]))
    layers = []
    for (module, out), grad in zip(outputs, act_grads):
        layers.append(_reduce(names[module], module, out, grad,
                              weight_grads.get(module), n_bins))
    return {"n_events": len(X), "loss": loss.item(), "n_bins": n_bins,
            "layers": layers}


def _reduce(name, module, out, grad, weight_grad, n_bins) -> dict:
    kind = type(module).__name__
    a = out.detach().cpu().numpy()  # (n_events, n_units)
    g = np.zeros_like(a) if grad is None else grad.detach().cpu().numpy()
    spread = a.max(axis=0) - a.min(axis=0)
    layer = {
        "name": name,
        "kind": kind,
        "n_units": int(a.shape[1]) if a.ndim > 1 else 1,
        "mean": float(a.mean(dtype=np.float64)),
        "std": float(a.std(dtype=np.float64)),
        "frac_dead": float(np.mean(spread == 0)),
        "frac_saturated": _saturated_fraction(kind, a),
        "grad_norm": 0.0 if grad is None else _norm(grad),
        "weight_norm": None,
        "weight_grad_norm": None,
        "hist": {
            "activation": _histogram(a, n_bins),
            "gradient": _histogram(g, n_bins),
            "log_abs_gradient": _log_magnitude_histogram(g),
            "weight": None,
            "weight_gradient": None,
        },
    }
    weight = getattr(module, "weight", None)
    if weight is not None:
        wv = weight.detach().cpu().numpy()
        wg = (np.zeros_like(wv) if weight_grad is None
              else weight_grad.detach().cpu().numpy())
        layer["weight_norm"] = _norm(weight)
        layer["weight_grad_norm"] = 0.0 if weight_grad is None else _norm(weight_grad)
        layer["hist"]["weight"] = _histogram(wv, n_bins)
        layer["hist"]["weight_gradient"] = _histogram(wg, n_bins)
    return layer


def probe_summary(result: dict) -> dict:
    """The probe result without histograms: a few numbers per layer, for each epoch."""
    return {
        **{k: v for k, v in result.items() if k != "layers"},
        "layers": [{k: v for k, v in layer.items() if k != "hist"}
                   for layer in result["layers"]],
    }

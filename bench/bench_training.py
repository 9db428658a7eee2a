"""Benchmark the training loop and the probes against their slow alternatives.

Prints ratios measured within one run (absolute times drift on shared machines):
  1. one epoch of hepviz.training.train (randperm + slicing of prebuilt tensors)
     against DataLoader(TensorDataset, shuffle=True) with the same model and loss;
  2. hepviz.probes.probe (hooks, forward + backward, reductions) against a plain
     forward pass and against a forward + backward pass without hooks.

    python bench/bench_training.py --events 200000
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from timing import best_of
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from hepviz.models import ModelConfig, build_model
from hepviz.probes import probe
from hepviz.training import TrainConfig, train


def dataloader_epoch(model, X, y, w, batch_size: int) -> None:
    loader = DataLoader(TensorDataset(torch.from_numpy(X), torch.from_numpy(y),
                                      torch.from_numpy(w)),
                        batch_size=batch_size, shuffle=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss(reduction="none")
    model.train()
    for xb, yb, wb in loader:
        loss = (loss_fn(model(xb), yb) * wb).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--probe-events", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.events, 4)).astype(np.float32)
    y = (X[:, 0] + 0.5 * rng.normal(size=args.events) > 0).astype(np.float32)
    w = np.ones(args.events, dtype=np.float32)
    X_val, y_val = X[:1000], y[:1000]  # tiny: the epoch time is the training loop
    cfg = ModelConfig(n_inputs=4, width=64, depth=4, batch_norm=True)
    torch.manual_seed(0)
    model = build_model(cfg)

    # Warm-up: the first call pays the imports (sklearn.metrics alone takes ~2 s).
    train(model, X[:2048], y[:2048], w[:2048], X_val, y_val, None,
          TrainConfig(epochs=1))
    fast = best_of(lambda: train(model, X, y, w, X_val, y_val, None,
                               TrainConfig(epochs=1, batch_size=args.batch_size)),
                 args.repeat)
    slow = best_of(lambda: dataloader_epoch(model, X, y, w, args.batch_size),
                 args.repeat)
    print(f"epoch, {args.events} events, MLP 4x64+BN, batch {args.batch_size}:")
    print(f"  randperm slicing {fast:.2f} s, DataLoader {slow:.2f} s, "
          f"ratio {slow / fast:.2f}x")

    n = min(args.probe_events, args.events)
    resnet = build_model(ModelConfig(architecture="resnet", width=64, depth=4))
    for name, m in (("MLP 4x64+BN", model), ("resnet 4 blocks", resnet)):
        m.eval()
        xt, yt = torch.from_numpy(X[:n]), torch.from_numpy(y[:n])

        def forward(m=m, xt=xt):
            with torch.no_grad():
                m(xt)

        def forward_backward(m=m, xt=xt, yt=yt):
            nn.functional.binary_cross_entropy_with_logits(m(xt), yt).backward()

        t_fwd = best_of(forward, args.repeat)
        t_fb = best_of(forward_backward, args.repeat)
        t_probe = best_of(lambda m=m: probe(m, X[:n], y[:n]), args.repeat)
        print(f"probe, {n} events, {name}: {t_probe:.3f} s = "
              f"{t_probe / t_fwd:.1f}x a plain forward ({t_fwd:.3f} s), "
              f"{t_probe / t_fb:.1f}x forward+backward ({t_fb:.3f} s)")


if __name__ == "__main__":
    main()

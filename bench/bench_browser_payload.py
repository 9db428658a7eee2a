"""Benchmark: what the dashboard sends to the browser, and how fast it bins.

Run from the repository root: `PYTHONPATH=. python bench/bench_browser_payload.py`.
Ratios are measured within one run (PERFORMANCE.md targets in brackets):
- histogram filling: hepviz.histograms (boost-histogram) against np.histogram on the
  same 10M values [6.6x];
- histogram JSON: counts per bin as drawn by hepviz.plots against px.histogram on
  1M raw values [1,400x];
- ROC JSON: hepviz.evaluation.roc_curve (thinned) against sklearn's full curve on 1M
  events [800x].
"""

from __future__ import annotations

import numpy as np
import plotly.express as px
import plotly.graph_objects as go
from sklearn.metrics import roc_curve as sk_roc_curve
from timing import best_of

from hepviz.evaluation import roc_curve
from hepviz.histograms import feature_histogram
from hepviz.plots import histogram_figure, roc_figure


def json_bytes(fig: go.Figure) -> int:
    return len(fig.to_json().encode())


def main() -> None:
    rng = np.random.default_rng(0)
    n = 10_000_000
    x = rng.exponential(40.0, n)
    y = (rng.random(n) < 0.5).astype(np.int8)
    w = np.ones(n)

    t_numpy = best_of(lambda: (np.histogram(x[y == 1], bins=40, range=(0, 200)),
                               np.histogram(x[y == 0], bins=40, range=(0, 200))))
    t_ours = best_of(lambda: feature_histogram(x, y, w, bins=40, range=(0, 200)))
    print(f"binning 10M values per class: np.histogram {t_numpy * 1e3:.0f} ms, "
          f"hepviz {t_ours * 1e3:.0f} ms, ratio {t_numpy / t_ours:.1f}x")

    m = 1_000_000
    raw = px.histogram(x=x[:m], color=y[:m].astype(str), nbins=40)
    binned = histogram_figure(feature_histogram(x[:m], y[:m], w[:m], bins=40))
    print(f"histogram of 1M events as JSON: raw {json_bytes(raw) / 1e6:.1f} MB, "
          f"binned {json_bytes(binned) / 1e3:.1f} kB, "
          f"ratio {json_bytes(raw) / json_bytes(binned):.0f}x")

    score = np.clip(rng.normal(0.4 + 0.2 * y[:m], 0.2), 0, 1)
    fpr, tpr, _ = sk_roc_curve(y[:m], score, drop_intermediate=False)
    full = go.Figure(go.Scatter(x=tpr, y=1 - fpr))
    thinned = roc_figure({"run": roc_curve(y[:m], score)})
    print(f"ROC of 1M events as JSON: full {json_bytes(full) / 1e6:.1f} MB, "
          f"hepviz {json_bytes(thinned) / 1e3:.1f} kB, "
          f"ratio {json_bytes(full) / json_bytes(thinned):.0f}x")


if __name__ == "__main__":
    main()

"""Benchmark: k-th muon pt on the offsets vs ak.pad_none, and zscore vs StandardScaler.

Run from the repository root: `PYTHONPATH=. python bench/bench_features.py`. Times drift
between runs on shared machines; the printed ratios are measured in one run.
"""

from __future__ import annotations

import awkward as ak
import numpy as np
from timing import best_of

from hepviz.features import Feature, Recipe
from hepviz.scaling import make_scaler

N_EVENTS = 1_000_000
REPEATS = 5




def muon_events(n: int, seed: int = 0) -> ak.Array:
    rng = np.random.default_rng(seed)
    counts = rng.poisson(1.5, n)
    flat = rng.exponential(30.0, counts.sum()).astype(np.float32)
    # Sorted by descending pt within each event, as NanoAOD stores muons.
    pt = ak.sort(ak.unflatten(flat, counts), axis=1, ascending=False)
    return ak.Array({"Muon_pt": pt})


def baseline_muon_pts(arrays: ak.Array) -> tuple[np.ndarray, np.ndarray]:
    padded = ak.pad_none(arrays["Muon_pt"], 2, axis=1)
    first = ak.to_numpy(ak.fill_none(padded[:, 0], 0.0)).astype(np.float64)
    second = ak.to_numpy(ak.fill_none(padded[:, 1], 0.0)).astype(np.float64)
    return first, second


def main() -> None:
    arrays = muon_events(N_EVENTS)
    recipe = Recipe(
        (
            Feature("muon1_pt", "nth", ("Muon_pt",), index=0),
            Feature("muon2_pt", "nth", ("Muon_pt",), index=1),
        )
    )
    ours = recipe.apply(arrays)
    first, second = baseline_muon_pts(arrays)
    np.testing.assert_array_equal(ours["muon1_pt"], first)
    np.testing.assert_array_equal(ours["muon2_pt"], second)
    t_ours = best_of(lambda: recipe.apply(arrays))
    t_base = best_of(lambda: baseline_muon_pts(arrays))
    print(
        f"leading + second muon pt, {N_EVENTS:,} events: pad_none+fill_none "
        f"{t_base * 1e3:.1f} ms, offsets {t_ours * 1e3:.1f} ms, "
        f"ratio {t_base / t_ours:.1f}x"
    )

    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(1)
    X = rng.exponential(20.0, (N_EVENTS, 8)).astype(np.float32)
    t_z = best_of(lambda: make_scaler("zscore").fit_transform(X), 3)
    t_sk = best_of(lambda: StandardScaler().fit_transform(X), 3)
    print(
        f"z-score {N_EVENTS:,} x 8 float32, fit + transform: StandardScaler "
        f"{t_sk * 1e3:.0f} ms, hepviz zscore {t_z * 1e3:.0f} ms, "
        f"ratio {t_sk / t_z:.1f}x"
    )


if __name__ == "__main__":
    main()

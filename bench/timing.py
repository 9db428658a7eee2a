"""Timing shared by the benchmarks: the fastest of several runs.

The minimum is the run least disturbed by other load on a shared machine; the
benchmarks report ratios of two such times measured in the same process.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def best_of(fn: Callable[[], object], repeats: int = 5) -> float:
    """Fastest of ``repeats`` calls of ``fn``, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)

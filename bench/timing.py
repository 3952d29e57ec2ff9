"""How benchmarks time a call: warm it once, then the median of repeated runs, in milliseconds."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_ms(call: Callable[[], object], repeats: int) -> float:
    """Return the median wall time of ``call`` over ``repeats`` runs after one warm-up run."""
    call()  # warm the page cache and the connection
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000

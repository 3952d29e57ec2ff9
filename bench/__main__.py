"""``make bench``: run every benchmark, print figures and ratios, write ``bench/results.json``
and draw the compared figures in ``bench/results.svg``.

Each benchmark module exposes ``run(record)``; ``record(name, value)`` stores one figure.
Every figure that compares is measured against its baseline in the same run and reported as a
ratio, so the numbers hold whatever machine runs them. Timing belongs here, never in tests.
Choose benchmarks with ``python -m bench sandbox signature`` (default: all).
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

from bench import chart

BENCHMARKS = (
    "sandbox_bench",
    "resolve_bench",
    "pane_bench",
    "dynamics_bench",
    "salesforce_bench",
    "signature_bench",
    "saving_bench",
)
RESULTS = Path(__file__).with_name("results.json")
CHART = Path(__file__).with_name("results.svg")


def main(argv: list[str]) -> int:
    chosen = [f"{name}_bench" for name in argv] or list(BENCHMARKS)
    results: dict[str, float] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}

    def record(name: str, value: float) -> None:
        results[name] = float(value)
        print(f"  {name:<55} {value:,.4g}", flush=True)

    for name in chosen:
        if not (Path(__file__).parent / f"{name}.py").exists():
            print(f"(skipping {name}: not present)")
            continue
        print(f"== {name}", flush=True)
        started = time.monotonic()
        importlib.import_module(f"bench.{name}").run(record)
        print(f"   done in {time.monotonic() - started:.1f} s", flush=True)
        RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"figures written to {RESULTS}")
    if chart.draw(results, CHART):
        print(f"charts drawn in {CHART}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

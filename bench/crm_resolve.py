"""Resolving an open item through a CRM adapter, batched against the naive way, for any CRM.

Used by the benchmarks that run a real adapter against its loopback emulator with latency
injected (``dynamics_bench``, ``salesforce_bench``): round trips dominate there, as they do in
production. Figures, for an item with 1 and with 50 addresses (sender, three known contacts,
strangers): CRM round trips and wall time to resolve it (match every address, then the accounts
and related items of the matched contacts) ours against one query per address then the same
context, and the naive/ours ratios of both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bench.timing import median_ms
from crm_adapters import CrmAdapter
from crm_adapters.sandbox import SeedReport

Record = Callable[[str, float], None]
LATENCY_SECONDS = 0.05
ROUNDS = 5


def items(report: SeedReport) -> dict[str, list[str]]:
    """Return the benchmark's two items: one known sender, and 50 people of whom 4 are known."""
    known = [
        report.single_address,
        report.shared_address,
        report.second_field_address,
        report.third_field_address,
    ]
    return {
        "1_address": [report.single_address],
        "50_addresses": known + [f"someone{i}@partner{i % 7}.example" for i in range(46)],
    }


def resolve(adapter: CrmAdapter, addresses: Sequence[str], *, naive: bool) -> None:
    """Match the addresses, then read the matched contacts' accounts and related items."""
    if naive:
        matched = {}
        for address in addresses:
            matched.update(adapter.match_contacts([address]))
    else:
        matched = adapter.match_contacts(addresses)
    ids = list(dict.fromkeys(c.id for found in matched.values() for c in found))
    adapter.contact_context(ids, ids[0] if ids else None)


def measure(record: Record, prefix: str, adapter: CrmAdapter, report: SeedReport) -> None:
    """Record ``{prefix}.resolve_<item>_<way>_{round_trips,ms}`` and the naive/ours ratios."""
    for label, addresses in items(report).items():
        figures: dict[str, float] = {}
        for way, naive in (("batched", False), ("naive", True)):
            before = adapter.round_trips
            resolve(adapter, addresses, naive=naive)
            figures[f"{way}_round_trips"] = adapter.round_trips - before
            figures[f"{way}_ms"] = median_ms(
                lambda a=addresses, n=naive: resolve(adapter, a, naive=n), ROUNDS
            )
        for name, value in figures.items():
            record(f"{prefix}.resolve_{label}_{name}", value)
        for unit in ("ms", "round_trips"):
            record(
                f"{prefix}.resolve_{label}_naive_over_batched_{unit}",
                figures[f"naive_{unit}"] / figures[f"batched_{unit}"],
            )

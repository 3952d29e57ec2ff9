"""Resolving an open item in Dynamics 365: the real adapter against the Dataverse emulator.

The emulator answers over TLS on loopback with 50 ms added to every reply, about what a rep far
from their Dataverse region sees, so round trips dominate as they do in production.

Figures, for an item with 1 and with 50 addresses (sender, three known contacts, strangers):
CRM round trips and wall time to resolve it (match every address, then the accounts and related
items of the matched contacts), ours against the naive way (one query per address, then the
same context), and the naive/ours ratios.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence

from bench.sandbox_cache import seeded_sandbox
from bench.timing import median_ms
from crm_adapters.dynamics import DynamicsAdapter
from tests.emulators.dataverse import DataverseEmulator

Record = Callable[[str, float], None]
LATENCY_SECONDS = 0.05
ROUNDS = 5


def run(record: Record) -> None:
    contacts = int(os.environ.get("SIDEPANE_BENCH_DYNAMICS_CONTACTS", "5000"))
    path, report = seeded_sandbox(contacts)
    started = time.monotonic()
    with DataverseEmulator.from_sandbox(path) as emulator:
        print(f"    emulator loaded in {time.monotonic() - started:.1f} s", flush=True)
        emulator.latency = LATENCY_SECONDS
        adapter = DynamicsAdapter(
            emulator.url, token=lambda _refresh: "bench", verify=emulator.ca_file
        )
        known = [
            report.single_address,
            report.shared_address,
            report.second_field_address,
            report.third_field_address,
        ]
        items = {
            "1_address": [report.single_address],
            "50_addresses": known + [f"someone{i}@partner{i % 7}.example" for i in range(46)],
        }

        def resolve(addresses: Sequence[str], naive: bool) -> None:
            if naive:
                matched = {}
                for address in addresses:
                    matched.update(adapter.match_contacts([address]))
            else:
                matched = adapter.match_contacts(addresses)
            ids = list(dict.fromkeys(c.id for found in matched.values() for c in found))
            adapter.contact_context(ids, ids[0] if ids else None)

        for label, addresses in items.items():
            figures: dict[str, float] = {}
            for way, naive in (("batched", False), ("naive", True)):
                before = adapter.round_trips
                resolve(addresses, naive)
                figures[f"{way}_round_trips"] = adapter.round_trips - before
                figures[f"{way}_ms"] = median_ms(lambda a=addresses, n=naive: resolve(a, n), ROUNDS)
            for name, value in figures.items():
                record(f"dynamics.resolve_{label}_{name}", value)
            record(
                f"dynamics.resolve_{label}_naive_over_batched_ms",
                figures["naive_ms"] / figures["batched_ms"],
            )
            record(
                f"dynamics.resolve_{label}_naive_over_batched_round_trips",
                figures["naive_round_trips"] / figures["batched_round_trips"],
            )
        adapter.close()

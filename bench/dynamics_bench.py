"""Resolving an open item in Dynamics 365: the real adapter against the Dataverse emulator.

The emulator answers over TLS on loopback with 50 ms added to every reply, about what a rep far
from their Dataverse region sees. The figures are `bench.crm_resolve`'s, under ``dynamics.``.
"""

from __future__ import annotations

import os
import time

from bench import crm_resolve
from bench.sandbox_cache import seeded_sandbox
from crm_adapters.dynamics import DynamicsAdapter
from tests.emulators.dataverse import DataverseEmulator


def run(record: crm_resolve.Record) -> None:
    contacts = int(os.environ.get("SIDEPANE_BENCH_EMULATOR_CONTACTS", "5000"))
    path, report = seeded_sandbox(contacts)
    started = time.monotonic()
    with DataverseEmulator.from_sandbox(path) as emulator:
        print(f"    emulator loaded in {time.monotonic() - started:.1f} s", flush=True)
        emulator.latency = crm_resolve.LATENCY_SECONDS
        adapter = DynamicsAdapter(
            emulator.url, token=lambda _refresh: "bench", verify=emulator.ca_file
        )
        try:
            crm_resolve.measure(record, "dynamics", adapter, report)
        finally:
            adapter.close()

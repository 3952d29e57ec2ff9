"""Resolving an open item in Salesforce: the real adapter (simple-salesforce) and its emulator.

The emulator answers over TLS on loopback with 50 ms added to every reply. The figures are
`bench.crm_resolve`'s, under ``salesforce.``.
"""

from __future__ import annotations

import os
import time

from bench import crm_resolve
from bench.sandbox_cache import seeded_sandbox
from crm_adapters.salesforce import SalesforceAdapter
from tests.emulators.salesforce import SalesforceEmulator


def run(record: crm_resolve.Record) -> None:
    contacts = int(os.environ.get("SIDEPANE_BENCH_EMULATOR_CONTACTS", "5000"))
    path, report = seeded_sandbox(contacts)
    started = time.monotonic()
    with SalesforceEmulator.from_sandbox(str(path)) as emulator:
        print(f"    emulator loaded in {time.monotonic() - started:.1f} s", flush=True)
        emulator.latency = crm_resolve.LATENCY_SECONDS
        adapter = SalesforceAdapter(
            emulator.url,
            access_token=emulator.issue_access_token(),
            email_fields={"email1": "Email", "email2": "Email2__c", "email3": "Email3__c"},
            verify=emulator.ca_file,
        )
        try:
            crm_resolve.measure(record, "salesforce", adapter, report)
        finally:
            adapter.close()

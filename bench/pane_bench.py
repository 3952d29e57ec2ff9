"""Opening an item in the pane, end to end through the fragment endpoint, at benchmark scale.

Figures: time to render the whole pane (Contacts, Account and Related items) for an email with 1
and with 31 addresses, the CRM round trips each costs (two by design, whatever the number of
people), and as a baseline the same 31-address item opened the naive way a pane without batching
would: one match query per address, then accounts and related items per matched contact.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from bench.demo_app import demo_app
from bench.sandbox_cache import seeded_sandbox
from bench.timing import median_ms
from crm_adapters.sandbox import SandboxAdapter

Record = Callable[[str, float], None]
ROUNDS = 40


def run(record: Record) -> None:
    contacts = int(os.environ.get("SIDEPANE_BENCH_CONTACTS", "1000000"))
    path, report = seeded_sandbox(contacts)
    with demo_app(path) as app:
        client = app.test_client()
        headers = {"Authorization": "Bearer demo:bench"}
        known = [report.shared_address, report.second_field_address, report.third_field_address]
        strangers = [f"someone{i}@partner{i % 5}.example" for i in range(27)]
        sender = {"address": report.single_address, "name": ""}

        def item(addresses: list[str]) -> dict[str, object]:
            people = [{"address": a, "name": ""} for a in addresses]
            return {"type": "message", "mode": "read", "from": sender, "to": people}

        def open_pane(body: dict[str, object]) -> int:
            answer = client.post("/pane/view", json={"item": body}, headers=headers)
            assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
            found = re.search(r'data-crm-round-trips="(\d+)"', answer.get_data(as_text=True))
            assert found, "the pane reports its round trips"
            return int(found.group(1))

        one, many = item([]), item(known + strangers)
        record("pane.open_1_address_ms", median_ms(lambda: open_pane(one), ROUNDS))
        record("pane.open_31_addresses_ms", median_ms(lambda: open_pane(many), ROUNDS))
        record("pane.crm_round_trips_1_address", open_pane(one))
        record("pane.crm_round_trips_31_addresses", open_pane(many))

        adapter = SandboxAdapter(path, environment_id="contoso")
        addresses = [report.single_address, *known, *strangers]

        def naive() -> int:
            before = adapter.round_trips
            matched = [c for a in addresses for c in adapter.match_contacts([a])[a]]
            for contact in matched:
                adapter.get_accounts([contact.id])
            if matched:
                adapter.related_activities(matched[0].id, 10)
            return adapter.round_trips - before

        def batched() -> int:
            before = adapter.round_trips
            matches = adapter.match_contacts(addresses)
            ids = [found[0].id for found in matches.values() if found]
            adapter.contact_context(ids, ids[0] if ids else None, related_limit=10)
            return adapter.round_trips - before

        naive_ms, batched_ms = median_ms(naive, ROUNDS), median_ms(batched, ROUNDS)
        record("pane.crm_31_naive_ms", naive_ms)
        record("pane.crm_31_batched_ms", batched_ms)
        record("pane.crm_31_naive_over_batched", naive_ms / batched_ms)
        record("pane.crm_round_trips_31_naive", naive())
        adapter.close()

"""Resolving an open item through the real API, against the sandbox at benchmark scale.

Figures: API latency to resolve an item with 1 and with 31 addresses (one sender + 30
recipients), the CRM round trips each costs (constant by design), and the same 31-address item
resolved the naive way (one CRM query per address) as a baseline ratio.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from bench.demo_app import demo_app
from bench.sandbox_cache import seeded_sandbox
from bench.timing import median_ms
from crm_adapters.sandbox import SandboxAdapter

Record = Callable[[str, float], None]
ROUNDS = 60


def run(record: Record) -> None:
    contacts = int(os.environ.get("SIDEPANE_BENCH_CONTACTS", "1000000"))
    path, report = seeded_sandbox(contacts)
    with demo_app(path) as app:
        client = app.test_client()
        headers = {"Authorization": "Bearer demo:bench"}
        strangers = [{"address": f"someone{i}@partner{i % 5}.example"} for i in range(27)]
        known = [{"address": a} for a in (report.shared_address, report.second_field_address)]
        one = {"item": {"from": {"address": report.single_address}}}
        many = {"item": {"from": {"address": report.single_address}, "to": known + strangers}}
        many["item"]["cc"] = [{"address": report.third_field_address}]

        def resolve(body: dict[str, object]) -> dict[str, object]:
            answer = client.post("/api/items/resolve", json=body, headers=headers)
            assert answer.status_code == 200, answer.get_data(as_text=True)
            result: dict[str, object] = answer.get_json()
            return result

        record("resolve.api_1_address_ms", median_ms(lambda: resolve(one), ROUNDS))
        record("resolve.api_31_addresses_ms", median_ms(lambda: resolve(many), ROUNDS))
        record("resolve.crm_round_trips_1_address", float(str(resolve(one)["crm_round_trips"])))
        record("resolve.crm_round_trips_31_addresses", float(str(resolve(many)["crm_round_trips"])))

        addresses = [report.single_address, report.third_field_address]
        addresses += [r["address"] for r in known + strangers]
        adapter = SandboxAdapter(path)
        batched = median_ms(lambda: adapter.match_contacts(addresses), ROUNDS)
        naive = median_ms(lambda: [adapter.match_contacts([a]) for a in addresses], ROUNDS)
        adapter.close()
        record("resolve.match_31_batched_ms", batched)
        record("resolve.match_31_naive_ms", naive)
        record("resolve.match_31_naive_over_batched", naive / batched)

"""The API fuzzed from its own OpenAPI document: whatever arrives, no 5xx, and answers match it.

Each documented operation gets generated requests, valid and invalid (schemathesis' positive and
negative modes), with a real token; every answer must be below 500, errors must have the one
error shape, and every answer must conform to the document.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

EXAMPLES_PER_OPERATION = 40


def test_no_server_errors(app, auth):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    rep = auth("fuzzer")
    admin = auth("fuzzing-admin", roles=["Sidepane.Admin"])  # the admin calls get past the role
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 13

    for operation in operations:
        fuzz(operation, admin if operation.path.startswith("/api/admin/") else rep)


def fuzz(operation, headers: dict[str, str]) -> None:
    """Call one operation with generated requests, valid and invalid, as ``headers``' caller."""
    both = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @given(case=both)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case):
        case.headers = {**(case.headers or {}), **headers}
        response = case.call()
        where = f"{case.method} {case.formatted_path}"
        assert response.status_code < 500, f"{where}: {response.text}"
        if response.status_code >= 400:
            # The one error shape; a few answers add members (the refused setting's field).
            assert {"error", "message"} <= set(response.json()), where
            assert set(response.json()) <= {"error", "message", "field", "version"}, where
        case.validate_response(response, checks=[schemathesis.checks.response_schema_conformance])

    call()

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
    headers = auth("fuzzer")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9

    for operation in operations:
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
        def fuzz(case):
            case.headers = {**(case.headers or {}), **headers}
            response = case.call()
            where = f"{case.method} {case.formatted_path}"
            assert response.status_code < 500, f"{where}: {response.text}"
            if response.status_code >= 400:
                assert set(response.json()) == {"error", "message"}, where
            case.validate_response(
                response, checks=[schemathesis.checks.response_schema_conformance]
            )

        fuzz()

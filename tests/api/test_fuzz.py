"""The API fuzzed from its own OpenAPI document: whatever arrives, no 5xx, and answers match it."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]


@pytest.fixture
def api_schema(app, auth):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    headers = auth("fuzzer")

    @schema.auth()
    class EntraToken:
        def get(self, case, context):
            return headers["Authorization"]

        def set(self, case, data, context):
            case.headers = {**(case.headers or {}), "Authorization": data}

    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case):
    response = case.call()
    assert response.status_code < 500, f"{case.method} {case.path}: {response.text}"
    if response.status_code >= 400 and response.status_code != 405:
        body = response.json()
        assert set(body) == {"error", "message"}, body
    case.validate_response(response, checks=[schemathesis.checks.response_schema_conformance])

"""Property-based fuzzing of the server's OpenAPI schema with schemathesis: no 5xx, ever.

Uses schemathesis' Python API with hypothesis directly (not its pytest plugin, whose
fixture integration breaks with newer pytest releases), one hypothesis run per operation.
"""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402


def test_no_server_errors_on_any_operation(launch: Any) -> None:
    server = launch("--workers", "1")
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/verify", "/v1/reward", "/get_reward", "/v1/checks", "/healthz"}
    for op in operations:

        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=op.as_strategy())
        def run(case: Any) -> None:
            response = case.call(timeout=30)
            case.validate_response(response, checks=(not_a_server_error,))

        run()

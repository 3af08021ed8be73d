"""Schemathesis fuzzes every ``/api`` operation of the real app from its published OpenAPI schema:
no answer is a 500, and every answer matches the schema (status code, content type, body).

Bounded: :data:`EXAMPLES` per operation, well under two minutes in all. Runs are created with
``start=false`` and event streams read with ``follow=false``, so fuzzing launches no training and
never waits on a live stream.
"""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from tests.web.conftest import JSON, queued_run  # noqa: E402

from retroml.runs.service import RunService  # noqa: E402
from retroml.web.server import create_app  # noqa: E402

EXAMPLES = 20
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _fuzz(operation: Any, answered: list[int]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    def fuzz(case: Any) -> None:
        if case.method == "POST" and case.path == "/api/runs":
            case.query = {**(case.query or {}), "start": "false"}
        if case.path.endswith("/events"):
            case.query = {**(case.query or {}), "follow": "false"}
        response = case.call_and_validate(headers=JSON, checks=CHECKS)
        answered.append(response.status_code)

    fuzz()


def test_no_500s_and_every_answer_matches_the_schema(service: RunService) -> None:
    queued_run(service)
    # Schemathesis calls the app by the name "testserver": allowed the way `--allowed-host` allows a name.
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(service, allowed_hosts=["testserver"]))
    answered: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        _fuzz(operation, answered)
    assert len(operations) >= 15 and len(answered) >= len(operations)
    assert not [status for status in answered if status >= 500]

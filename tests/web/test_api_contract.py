"""The API contract: every JSON route declares its response model, and the models match what they publish."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from retroml.store import metrics
from retroml.web.api.run_models import Metric

# Routes whose answer is not a JSON document: files, images and the event stream.
NOT_JSON = {
    "/api/games/{game_id}/thumbnail",
    "/api/runs/{run_id}/events",
    "/api/videos/{video_id}/file",
    "/api/videos/{video_id}/poster",
    "/api/videos/{video_id}/pack/{name}",
}


def test_every_json_route_declares_its_response_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    untyped = []
    for path, operations in paths.items():
        for method, operation in operations.items():
            if path in NOT_JSON or method == "delete":
                continue
            success = next(code for code in operation["responses"] if code.startswith("2"))
            schema = operation["responses"][success].get("content", {}).get("application/json", {}).get("schema", {})
            # A model is a $ref to components/schemas; a dict[str, Any] answer would be a bare object.
            if "$ref" not in json.dumps(schema):
                untyped.append(f"{method.upper()} {path}")
    assert untyped == []


def test_the_metric_model_has_every_column_of_the_metrics_table() -> None:
    assert list(Metric.model_fields) == [column.name for column in metrics.columns]

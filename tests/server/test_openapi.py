"""The OpenAPI document the service serves is the one checked into docs/openapi.json, so a
client generator working from the repository gets the routes the service has."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from server.openapi import openapi_document, render
from tests.helpers import ROOT, colour_project
from tests.server.conftest import bearer

REGENERATE = ".venv/bin/python -m server.openapi docs/openapi.json"


def test_the_served_document_is_the_checked_in_one(client: TestClient) -> None:
    served = client.get("/openapi.json")
    assert served.status_code == 200
    checked_in = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert render(served.json()) == checked_in, (
        f"docs/openapi.json is out of date with the routes: regenerate it with `{REGENERATE}` "
        "(from the repository root) and commit it"
    )


DOCUMENT = openapi_document()
ROUTES = [
    f"{method.upper()} {path}"
    for path, operations in DOCUMENT["paths"].items()
    if path.startswith("/v1/")
    for method in operations
]


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_documents_its_json_errors(route: str) -> None:
    method, path = route.split(" ", 1)
    responses = DOCUMENT["paths"][path][method.lower()]["responses"]
    for code in ("401", "422", "429"):
        assert code in responses, f"{route} does not document {code}"
        assert "ErrorBody" in json.dumps(responses[code]), f"{route}: {code} is not an ErrorBody"


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_declares_the_bearer_key_it_needs(route: str) -> None:
    """A client generated from the document takes the key (it answered 401 to every call)."""
    method, path = route.split(" ", 1)
    assert DOCUMENT["paths"][path][method.lower()]["security"] == [{"apiKey": []}]
    scheme = DOCUMENT["components"]["securitySchemes"]["apiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")


#: Routes whose answer is one of the Python API's typed results, and the result's name.
TYPED = {
    "GET /v1/jobs/{job_id}": "JobRecord",
    "POST /v1/jobs/{job_id}/cancel": "JobRecord",
    "POST /v1/estimate": "JobEstimate",
    "GET /v1/billing": "Billing",
    "GET /v1/cluster": "ClusterStatus",
    "GET /v1/metrics": "RenderMetrics",
    "GET /v1/nodes": "NodeMetrics",
    "GET /v1/cache": "CacheStats",
    "GET /v1/cluster/pools": "PoolStatus",
}


def _answer_schema(route: str) -> dict[str, Any]:
    """The 200 answer's schema of ``route``, its references resolvable on their own."""
    method, path = route.split(" ", 1)
    answer = DOCUMENT["paths"][path][method.lower()]["responses"]["200"]
    schema = answer["content"]["application/json"]["schema"]
    return {**schema, "components": DOCUMENT["components"]}


@pytest.mark.parametrize("route", sorted(TYPED))
def test_typed_answers_are_described_by_their_result(route: str) -> None:
    """A client generated from the document got an untyped object for a JobRecord, a
    JobEstimate, ClusterStatus...: their 200 answers had no schema."""
    assert f"#/components/schemas/{TYPED[route]}" in json.dumps(_answer_schema(route))


def test_real_answers_match_the_documented_schemas(
    client: TestClient, user_key: str, operator_key: str
) -> None:
    # Given a job submitted and cancelled through the service
    project = {"project": colour_project(1.0)}
    submitted = client.post("/v1/jobs", json=project, headers=bearer(user_key))
    assert submitted.status_code == 201, submitted.text
    job = submitted.json()["id"]
    # When every typed route answers
    answers = {
        "POST /v1/jobs/{job_id}/cancel": client.post(
            f"/v1/jobs/{job}/cancel", headers=bearer(user_key)
        ),
        "GET /v1/jobs/{job_id}": client.get(f"/v1/jobs/{job}", headers=bearer(user_key)),
        "POST /v1/estimate": client.post("/v1/estimate", json=project, headers=bearer(user_key)),
        "GET /v1/billing": client.get("/v1/billing", headers=bearer(user_key)),
    }
    operator_routes = ("/v1/cluster", "/v1/cluster/pools", "/v1/metrics", "/v1/nodes", "/v1/cache")
    for route in (f"GET {path}" for path in operator_routes):
        answers[route] = client.get(route.split(" ")[1], headers=bearer(operator_key))
    # Then each is what docs/openapi.json says it is
    for route, answer in answers.items():
        assert answer.status_code == 200, f"{route}: {answer.text}"
        errors = list(Draft202012Validator(_answer_schema(route)).iter_errors(answer.json()))
        assert not errors, f"{route}: {errors[0].json_path}: {errors[0].message}"

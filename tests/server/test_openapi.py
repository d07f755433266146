"""The OpenAPI document the service serves is the one checked into docs/openapi.json, so a
client generator working from the repository gets the routes the service has."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from server.openapi import openapi_document, render
from tests.helpers import ROOT

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

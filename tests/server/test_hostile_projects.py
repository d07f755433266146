"""Hostile projects through the HTTP service, property-based (bounded, repeatable): whatever a
client puts in ``project`` (mutations of a valid Timeline Studio or OpenTimelineIO document:
wrong types, NaN, huge numbers, deep nesting, missing fields), ``POST /v1/estimate`` answers
an estimate or a 4xx with a one-line JSON error, never a 500 or a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from bench.fuzz_strategies import otio_documents, studio_documents
from tests.server.conftest import bearer

BOUNDED = settings(
    max_examples=40,
    derandomize=True,
    database=None,  # nothing written into the checkout
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,  # the client answers each example afresh
    ],
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies"
    ":hypothesis.errors.HypothesisDeprecationWarning"
)


@pytest.fixture
def hostile(api_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(api_app, raise_server_exceptions=False) as running:
        yield running


def _answered_plainly(answer: Any) -> None:
    """An estimate, or a 4xx with one line naming the problem."""
    assert answer.status_code == 200 or 400 <= answer.status_code < 500, answer.text[:500]
    assert "Traceback" not in answer.text and 'File "' not in answer.text
    if answer.status_code != 200:
        error = answer.json()["error"]
        assert isinstance(error, str) and error and "\n" not in error


@BOUNDED
@given(document=studio_documents())
def test_a_hostile_studio_project_is_estimated_or_refused_in_one_line(
    hostile: TestClient, user_key: str, document: dict[str, Any]
) -> None:
    body = json.dumps({"project": document}, allow_nan=True)
    answer = hostile.post(
        "/v1/estimate",
        content=body,
        headers={"Content-Type": "application/json", **bearer(user_key)},
    )
    _answered_plainly(answer)


@BOUNDED
@given(document=otio_documents())
def test_a_hostile_otio_project_is_estimated_or_refused_in_one_line(
    hostile: TestClient, user_key: str, document: dict[str, Any]
) -> None:
    # An OTIO document travels as its JSON text.
    body = json.dumps({"project": json.dumps(document, allow_nan=True)})
    answer = hostile.post(
        "/v1/estimate",
        content=body,
        headers={"Content-Type": "application/json", **bearer(user_key)},
    )
    _answered_plainly(answer)

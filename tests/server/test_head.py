"""``HEAD`` on the API's GET resources over a real uvicorn: the headers GET answers, no body
(RFC 9110); they answered 405, and an event stream must not hold a HEAD open."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from orchestrator.api import CloudRenderingAPI
from orchestrator.job_record import JobRecord, JobState
from tests.server.conftest import ServerCluster, bearer
from tests.server.test_events import user_of

pytestmark = pytest.mark.timeout(60)


def test_every_get_resource_answers_head_with_gets_headers(
    live_server: str,
    api_app: FastAPI,
    server_cluster: ServerCluster,
    user_key: str,
    other_user_key: str,
) -> None:
    # Given a queued job of alice's (nothing runs it: its stream would wait for ever)
    api: CloudRenderingAPI = api_app.state.api
    api.store.create(JobRecord(id="headjob", user=user_of(server_cluster, user_key)), {})
    assert api.store.state("headjob") is JobState.QUEUED
    with httpx.Client(base_url=live_server, headers=bearer(user_key), timeout=10) as client:
        for path in ("/v1/jobs/headjob", "/v1/jobs", "/v1/billing", "/v1/dashboard/snapshot"):
            got, head = client.get(path), client.head(path)
            assert (head.status_code, head.content) == (got.status_code, b""), path
            assert head.headers["content-type"] == got.headers["content-type"], path
            assert head.headers["content-length"] == got.headers["content-length"], path
        # The event stream answers its headers and ends, instead of streaming to nobody
        events = client.head("/v1/jobs/headjob/events")
        assert events.status_code == 200 and events.content == b""
        assert events.headers["content-type"].startswith("text/event-stream")
        # Refusals are GET's: no key, another user's job, an unknown one, a POST-only route
        assert httpx.head(f"{live_server}/v1/jobs/headjob").status_code == 401
        other = httpx.head(f"{live_server}/v1/jobs/headjob", headers=bearer(other_user_key))
        assert other.status_code == 404 and other.content == b""
        assert client.head("/v1/jobs/nosuchjob").status_code == 404
        assert client.head("/v1/cluster/scale").status_code == 405

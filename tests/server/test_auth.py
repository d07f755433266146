"""Who may ask what: API keys, roles, the rate limit and CORS, over the app in this process
and over a real uvicorn."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from fastapi.testclient import TestClient

from common.errors import RenderError
from common.settings import Settings
from orchestrator.api import CloudRenderingAPI
from orchestrator.api_keys import KeyStore
from server.app import create_app
from tests.server.conftest import ServerCluster, bearer

pytestmark = pytest.mark.timeout(120)


def _one_line_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert "\n" not in body["error"] and "Traceback" not in body["error"]
    return str(body["error"])


def test_health_needs_no_key(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"ok": True}
    assert client.head("/healthz").status_code == 200  # it was 405: a HEAD probe failed


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "an API key is needed"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "must be 'Bearer <API key>'"),
        ({"Authorization": "Bearer"}, "must be 'Bearer <API key>'"),
        ({"Authorization": "Bearer cr_000000000000_" + "a" * 43}, "not valid"),
        ({"Authorization": "Bearer not-a-key"}, "not valid"),
    ],
)
def test_requests_without_a_valid_key_get_401(
    client: TestClient, headers: dict[str, str], message: str
) -> None:
    response = client.get("/v1/jobs", headers=headers)
    assert message in _one_line_error(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-key"}])
def test_a_body_is_not_read_before_the_key_is_checked(
    client: TestClient, headers: dict[str, str]
) -> None:
    """Without a valid key a body is refused unread: 401, not its JSON's problems (parsing
    a large body runs on the event loop, which anyone could otherwise keep busy)."""
    headers = {**headers, "Content-Type": "application/json"}
    response = client.post("/v1/jobs", content=b"{not json", headers=headers)
    _one_line_error(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_key_over_its_rate_is_refused_before_its_body_is_read(
    client: TestClient, key_store: KeyStore
) -> None:
    _, slow = key_store.create("gina", rate_per_minute=1)
    headers = {**bearer(slow), "Content-Type": "application/json"}
    assert client.post("/v1/estimate", content=b"{not json", headers=headers).status_code == 400
    refused = client.post("/v1/estimate", content=b"{not json", headers=headers)
    assert "requests per minute" in _one_line_error(refused, 429)


def test_a_revoked_key_is_refused_on_its_next_request(
    client: TestClient, key_store: KeyStore
) -> None:
    record, key = key_store.create("dave")
    assert client.get("/v1/jobs", headers=bearer(key)).status_code == 200
    key_store.revoke(record.id)
    assert "not valid" in _one_line_error(client.get("/v1/jobs", headers=bearer(key)), 401)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/cluster"),
        ("GET", "/v1/cluster/pools"),
        ("POST", "/v1/cluster/pause"),
        ("POST", "/v1/cluster/resume"),
        ("POST", "/v1/cluster/emergency-stop"),
        ("GET", "/v1/metrics"),
        ("GET", "/v1/nodes"),
    ],
)
def test_user_keys_get_403_on_operator_routes(
    client: TestClient, user_key: str, operator_key: str, method: str, path: str
) -> None:
    refused = client.request(method, path, headers=bearer(user_key))
    assert "operator key" in _one_line_error(refused, 403)
    if method == "GET":
        assert client.get(path, headers=bearer(operator_key)).status_code == 200


def test_the_query_key_is_not_accepted_by_ordinary_routes(
    client: TestClient, user_key: str
) -> None:
    # ?key= is for EventSource streams only: URLs end up in logs and browser history.
    _one_line_error(client.get(f"/v1/jobs?key={user_key}"), 401)


def test_a_key_over_its_rate_gets_429_with_retry_after(
    client: TestClient, key_store: KeyStore, user_key: str
) -> None:
    _, slow = key_store.create("erin", rate_per_minute=3)
    for _ in range(3):
        assert client.get("/v1/jobs", headers=bearer(slow)).status_code == 200
    refused = client.get("/v1/jobs", headers=bearer(slow))
    assert "rate of 3 requests per minute" in _one_line_error(refused, 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 20
    # Buckets are per key: another key is not held back.
    assert client.get("/v1/jobs", headers=bearer(user_key)).status_code == 200


def test_the_service_default_rate_applies_to_keys_without_their_own(
    server_cluster: ServerCluster, key_store: KeyStore
) -> None:
    settings = dataclasses.replace(server_cluster.settings, api_rate_per_minute=2)
    app = create_app(settings, api=CloudRenderingAPI(settings=settings))
    _, key = key_store.create("frank")
    with TestClient(app) as local:
        codes = [local.get("/v1/jobs", headers=bearer(key)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_cors_allows_the_editor_origin_only(client: TestClient, user_key: str) -> None:
    for origin in ("tauri://localhost", "http://tauri.localhost"):
        preflight = client.options(
            "/v1/jobs",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == origin
        answer = client.get("/v1/jobs", headers={"Origin": origin, **bearer(user_key)})
        assert answer.headers["access-control-allow-origin"] == origin
        # Errors too, so the editor can show them.
        refused = client.get("/v1/cluster", headers={"Origin": origin, **bearer(user_key)})
        assert refused.status_code == 403
        assert refused.headers["access-control-allow-origin"] == origin
    evil = client.get("/v1/jobs", headers={"Origin": "https://evil.example", **bearer(user_key)})
    assert "access-control-allow-origin" not in evil.headers
    # Its preflight is refused in JSON, as every error is
    refused = client.options(
        "/v1/jobs",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Disallowed CORS origin" in _one_line_error(refused, 400)
    assert "access-control-allow-origin" not in refused.headers


def test_auth_over_a_real_socket(live_server: str, user_key: str, operator_key: str) -> None:
    with httpx.Client(base_url=live_server, timeout=10) as http:
        assert http.get("/healthz").json() == {"ok": True}
        _one_line_error(http.get("/v1/jobs"), 401)
        assert http.get("/v1/jobs", headers=bearer(user_key)).json() == {"jobs": []}
        _one_line_error(http.get("/v1/cluster", headers=bearer(user_key)), 403)
        cluster = http.get("/v1/cluster", headers=bearer(operator_key)).json()
        assert cluster["slots"] == 1 and cluster["active_jobs"] == 0


@pytest.mark.parametrize(
    ("raw", "origins"),
    [
        (None, ("tauri://localhost", "http://tauri.localhost", "https://tauri.localhost")),
        (
            "https://editor.example/, http://localhost:1420",
            ("https://editor.example", "http://localhost:1420"),
        ),
        ("none", ()),
    ],
)
def test_cors_origins_come_from_the_environment(raw: str | None, origins: tuple[str, ...]) -> None:
    env = {} if raw is None else {"CLOUDRENDER_API_CORS_ORIGINS": raw}
    assert Settings.from_env(env).api_cors_origins == origins


def test_a_malformed_origin_is_a_one_line_error() -> None:
    with pytest.raises(RenderError, match="'editor.example' is not an origin"):
        Settings.from_env({"CLOUDRENDER_API_CORS_ORIGINS": "editor.example"})

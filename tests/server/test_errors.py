"""Hostile and malformed requests: every one gets a one-line JSON error with the right status,
never a traceback, and oversized bodies are refused before they are read whole."""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import ClientDisconnect, Request

from common.errors import ClusterError
from orchestrator.api import CloudRenderingAPI
from orchestrator.cluster_errors import map_redis_errors
from server.app import create_app
from server.errors import MAX_ERROR_CHARS, MAX_PROBLEM_CHARS, answer_for
from server.limits import declared_length
from tests.helpers import colour_project
from tests.server.conftest import ServerCluster, bearer, serving

pytestmark = pytest.mark.timeout(120)

#: The small body limit of this module's app, so "huge" is cheap to send.
LIMIT = 64 * 1024
_PROJECT = colour_project(1.0)


@pytest.fixture
def small_app(server_cluster: ServerCluster) -> FastAPI:
    settings = dataclasses.replace(server_cluster.settings, api_max_body_bytes=LIMIT)
    return create_app(settings, api=CloudRenderingAPI(settings=settings))


@pytest.fixture
def small(small_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(small_app, raise_server_exceptions=False) as running:
        yield running


def _json(body: Any) -> bytes:
    return json.dumps(body).encode()


JSON = {"Content-Type": "application/json"}

#: (name, method, path, raw body, extra headers, status, words the error must contain)
CASES: list[tuple[str, str, str, bytes | None, dict[str, str], int, str]] = [
    ("malformed JSON", "POST", "/v1/jobs", b'{"project": {', JSON, 400, "not valid JSON"),
    ("trailing garbage", "POST", "/v1/jobs", b'{"project": {}} x', JSON, 400, "not valid JSON"),
    ("empty body", "POST", "/v1/jobs", b"", JSON, 422, "body"),
    ("a list, not an object", "POST", "/v1/jobs", b"[1, 2]", JSON, 422, "body"),
    ("project missing", "POST", "/v1/jobs", _json({"priority": "high"}), JSON, 422, "project"),
    (
        "priority wrong type",
        "POST",
        "/v1/jobs",
        _json({"project": _PROJECT, "priority": 5}),
        JSON,
        422,
        "priority",
    ),
    (
        "priority unknown",
        "POST",
        "/v1/jobs",
        _json({"project": _PROJECT, "priority": "asap"}),
        JSON,
        422,
        "priority",
    ),
    (
        "chunk_frames a string",
        "POST",
        "/v1/jobs",
        _json({"project": _PROJECT, "chunk_frames": "10"}),
        JSON,
        422,
        "chunk_frames",
    ),
    (
        "chunk_frames zero",
        "POST",
        "/v1/jobs",
        _json({"project": _PROJECT, "chunk_frames": 0}),
        JSON,
        422,
        "chunk_frames",
    ),
    (
        "max_cost NaN",
        "POST",
        "/v1/jobs",
        b'{"project": {}, "max_cost": NaN}',
        JSON,
        422,
        "max_cost",
    ),
    (
        "unknown field",
        "POST",
        "/v1/jobs",
        _json({"project": _PROJECT, "outptu": "x.mp4"}),
        JSON,
        422,
        "outptu: unknown field",
    ),
    (
        "project a number",
        "POST",
        "/v1/jobs",
        _json({"project": 42}),
        JSON,
        422,
        "project",
    ),
    (
        "project a string that is not OTIO",
        "POST",
        "/v1/jobs",
        _json({"project": "/etc/passwd"}),
        JSON,
        400,
        "OpenTimelineIO",
    ),
    (
        "project with no tracks",
        "POST",
        "/v1/jobs",
        _json({"project": {"hello": "world"}}),
        JSON,
        400,
        "",
    ),
    (
        "output name with folders",
        "POST",
        "/v1/jobs",
        _json({"project": _PROJECT, "output_name": "../../x.mp4"}),
        JSON,
        400,
        "output_name",
    ),
    (
        "deadline not a time",
        "POST",
        "/v1/jobs",
        _json({"project": _PROJECT, "deadline": "tomorrow-ish"}),
        JSON,
        400,
        "deadline",
    ),
    (
        "deadline already past",
        "POST",
        "/v1/jobs",
        _json({"project": _PROJECT, "deadline": "2001-09-09T01:46:40Z"}),
        JSON,
        400,
        "has passed",
    ),
    ("non-UTF-8 body", "POST", "/v1/jobs", b'{"project": "\xff\xfe"}', JSON, 400, "UTF-8"),
    (
        "a number too long to read",  # it was told "not UTF-8, or nested too deeply"
        "POST",
        "/v1/jobs",
        b'{"project": {}, "chunk_frames": ' + b"9" * 5000 + b"}",
        JSON,
        400,
        "number of over 4300 digits",
    ),
    (
        "JSON without a Content-Type is read as JSON",  # it was 422 "body: Input should be..."
        "POST",
        "/v1/jobs",
        _json({"project": {}}),
        {},
        400,
        "project: not a timeline this renders",
    ),
    (
        "a lone surrogate in the job's name",  # valid JSON, but no character: no answer holds it
        "POST",
        "/v1/jobs",
        _json({"project": {**_PROJECT, "metadata": {"name": "film \ud800"}}}),
        JSON,
        422,
        "project.metadata.name holds a lone UTF-16 surrogate",
    ),
    (
        "a lone surrogate in the output name",
        "POST",
        "/v1/jobs",
        _json({"project": _PROJECT, "output_name": "\udfff.mp4"}),
        JSON,
        422,
        "output_name holds a lone UTF-16 surrogate",
    ),
    (
        "deeply nested",
        "POST",
        "/v1/jobs",
        b'{"project": ' + b"[" * 20000 + b"]" * 20000 + b"}",
        JSON,
        400,
        "",
    ),
    (
        "not JSON at all",
        "POST",
        "/v1/jobs",
        b"project=x",
        {"Content-Type": "application/x-www-form-urlencoded"},
        415,
        "send JSON",
    ),
    (
        "a crf of NaN",  # Python's JSON reads NaN; int(nan) raised: a 500
        "POST",
        "/v1/jobs",
        b'{"project": ' + _json(_PROJECT) + b', "settings": {"crf": NaN}}',
        JSON,
        400,
        "settings.crf: nan must be a whole number from 0 to 63",
    ),
    ("huge body", "POST", "/v1/jobs", b"x" * (LIMIT + 1), JSON, 413, "at most 65536 bytes"),
    ("bad Content-Length", "POST", "/v1/jobs", b"{}", {**JSON, "Content-Length": "abc"}, 400, ""),
    (
        "a Content-Length of 5000 digits",  # int() refuses over 4300 digits: it answered 500
        "POST",
        "/v1/jobs",
        b"{}",
        {**JSON, "Content-Length": "9" * 5000},
        413,
        "at most 65536 bytes",
    ),
    (
        "an asset's Content-Length of 5000 digits",
        "PUT",
        "/v1/assets/" + "a" * 64 + ".png",
        b"x",
        {"Content-Length": "9" * 5000},
        413,
        "at most",
    ),
    ("traversal in a job id", "GET", "/v1/jobs/..%2F..%2Fetc%2Fpasswd", None, {}, 404, ""),
    ("dots as a job id", "GET", "/v1/jobs/..", None, {}, 404, ""),
    ("odd bytes in a job id", "GET", "/v1/jobs/%00%ff", None, {}, 404, "no job"),
    ("a long job id", "GET", "/v1/jobs/" + "a" * 5000, None, {}, 404, "no job"),
    ("traversal in a cancel", "POST", "/v1/jobs/..%2Fx/cancel", None, {}, 404, ""),
    ("unknown route", "GET", "/v1/nothing", None, {}, 404, "no such route"),
    (
        "an output name ending in a newline",  # it was "unknown container .mp4"
        "POST",
        "/v1/jobs",
        _json({"project": _PROJECT, "output_name": "video.mp4\n"}),
        JSON,
        400,
        "output_name 'video.mp4\\n' must be a file name",
    ),
    (
        "an asset name ending in a newline",  # it was stored, and answered under that name
        "PUT",
        "/v1/assets/" + "a" * 64 + ".png%0A",
        b"x",
        {},
        400,
        "is not an asset name",
    ),
    (
        "a dashboard file name longer than a file name may be",  # no key needed: it was a 500
        "GET",
        "/dashboard/" + "a" * 5000 + ".js",
        None,
        {},
        404,
        "no dashboard file",
    ),
    ("a NUL in a dashboard file name", "GET", "/dashboard/a%00.js", None, {}, 404, "no dashboard"),
    ("wrong method", "DELETE", "/v1/jobs", None, {}, 405, "not allowed"),
    ("limit too large", "GET", "/v1/jobs?limit=100000", None, {}, 422, "limit"),
    ("limit not a number", "GET", "/v1/jobs?limit=many", None, {}, 422, "limit"),
    ("state unknown", "GET", "/v1/jobs?state=exploded", None, {}, 422, "state"),
    ("billing days negative", "GET", "/v1/billing?days=-3", None, {}, 422, "days"),
    (
        "scale with both",
        "POST",
        "/v1/cluster/scale",
        _json({"pool": "a", "slots": 2}),
        JSON,
        403,
        "operator",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_hostile_input_gets_a_one_line_json_error(
    small: TestClient,
    user_key: str,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
    status: int,
    words: str,
) -> None:
    answer = small.request(method, path, content=body, headers={**headers, **bearer(user_key)})
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()["error"]
    assert isinstance(error, str) and error and "\n" not in error
    assert "Traceback" not in answer.text and 'File "' not in answer.text
    assert words in error


def test_a_validation_error_lists_every_problem(small: TestClient, user_key: str) -> None:
    doc = colour_project(1.0)
    doc["tracks"][0]["clips"] += [
        {"id": f"bad{i}", "start_time": 0, "end_time": -1, "source": "Generated"} for i in range(8)
    ]
    answer = small.post("/v1/jobs", json={"project": doc}, headers=bearer(user_key))
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"].startswith(f"{len(body['problems'])} problems:")
    assert "and 3 more" in body["error"] and len(body["problems"]) >= 8


def test_an_oversized_chunked_body_is_refused_without_waiting_for_its_end(
    small_app: FastAPI, user_key: str
) -> None:
    """A body without Content-Length is counted as it arrives: the 413 comes once the limit is
    passed, while the client is still sending (it never finishes here)."""
    with serving(small_app) as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=20) as raw:
            raw.sendall(
                b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Authorization: Bearer {user_key}\r\n".encode()
                + b"Transfer-Encoding: chunked\r\n\r\n"
            )
            block = b" " * 4096
            try:
                for _ in range(LIMIT // len(block) + 2):
                    raw.sendall(b"1000\r\n" + block + b"\r\n")
            except OSError:
                pass  # the server may answer and close while the rest is still being sent
            # No terminating chunk: a server waiting for the whole body would never answer.
            answer = read_response(raw)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b"at most 65536 bytes" in answer
        with httpx.Client(base_url=url, timeout=10) as http:
            assert http.get("/healthz").json() == {"ok": True}  # still serving


def read_response(raw: socket.socket) -> bytes:
    """One HTTP response off a raw socket: its head, then as many body bytes as it declares
    (the head and the body may arrive in separate packets)."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        got = raw.recv(65536)
        if not got:
            return answer
        answer += got
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        got = raw.recv(65536)
        if not got:
            break
        body += got
    return head + b"\r\n\r\n" + body


def test_a_declared_oversized_body_is_refused_before_it_is_sent(
    small_app: FastAPI, user_key: str
) -> None:
    with serving(small_app) as url, httpx.Client(base_url=url, timeout=30) as http:
        answer = http.post(
            "/v1/jobs", content=b"{" * (LIMIT * 4), headers={**JSON, **bearer(user_key)}
        )
        assert answer.status_code == 413
        assert answer.json() == {
            "error": "a request body may be at most 65536 bytes (CLOUDRENDER_API_MAX_BODY_BYTES)"
        }


def test_an_error_quotes_a_huge_input_only_in_part(small: TestClient, user_key: str) -> None:
    doc = colour_project(1.0)
    doc["tracks"][0]["clips"][0]["source"] = {"File": "x" * (LIMIT // 2) + ".mp4"}
    answer = small.post("/v1/jobs", json={"project": doc}, headers=bearer(user_key))
    assert answer.status_code == 400
    body = answer.json()
    assert len(body["error"]) <= MAX_ERROR_CHARS and "characters)" in body["error"]
    assert all(len(p) <= MAX_PROBLEM_CHARS for p in body.get("problems", []))
    assert len(answer.content) < 10_000


@pytest.mark.parametrize(
    ("error", "status", "words"),
    [
        (redis.ConnectionError("refused"), 503, "cannot be reached"),
        (redis.ResponseError("WRONGTYPE"), 500, "refused a command"),
    ],
)
def test_redis_trouble_is_told_apart_from_a_redis_that_refused(
    error: Exception, status: int, words: str
) -> None:
    request = Request({"type": "http", "method": "GET", "path": "/v1/jobs", "headers": [],
                       "query_string": b""})  # fmt: skip
    answer = answer_for(request, error)
    assert answer.status_code == status and words in bytes(answer.body).decode()


def test_api_answers_are_private_and_never_sniffed(client: TestClient, user_key: str) -> None:
    for answer in (
        client.get("/v1/jobs", headers=bearer(user_key)),
        client.get("/v1/jobs"),  # refused: 401
        client.get("/v1/jobs/none", headers=bearer(user_key)),  # 404
    ):
        assert answer.headers["cache-control"] == "no-store", answer.status_code
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert "cache-control" not in client.get("/healthz").headers


@pytest.mark.parametrize(
    ("error", "status", "words"),
    [
        (redis.ConnectionError("refused"), 503, "cannot be reached"),
        (redis.ResponseError("WRONGTYPE"), 500, "refused a command"),
    ],
)
def test_the_python_apis_cluster_error_is_answered_as_the_redis_failure_it_wraps(
    error: Exception, status: int, words: str
) -> None:
    # The API raises ClusterError (not redis-py's exceptions): still a 5xx, never a 400 that
    # would tell a client its request was wrong, and never the cluster's Redis URL.
    with pytest.raises(ClusterError) as info, map_redis_errors("redis://svc:pw@10.0.0.5:6379/0"):
        raise error
    request = Request({"type": "http", "method": "GET", "path": "/v1/jobs", "headers": [],
                       "query_string": b""})  # fmt: skip
    answer = answer_for(request, info.value)
    body = bytes(answer.body).decode()
    assert answer.status_code == status and words in body and "10.0.0.5" not in body


def test_a_path_is_logged_with_its_control_characters_escaped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A client that hangs up mid-body had its path written raw into the service log: an
    ANSI escape cleared the operator's terminal, a direction override hid the rest."""
    path = "/v1/jobs/\x1b[2J\u202eevil\x00/cancel"
    scope = {"type": "http", "method": "POST", "path": path, "headers": [], "query_string": b""}
    with caplog.at_level(logging.INFO, logger="cloudrender.server"):
        answer = answer_for(Request(scope), ClientDisconnect())
    assert answer.status_code == 400
    (line,) = [r.getMessage() for r in caplog.records if "client left" in r.getMessage()]
    assert line.isprintable(), repr(line)
    assert "/v1/jobs/\\x1b[2J\\u202eevil\\x00/cancel" in line


@pytest.mark.parametrize(
    ("header", "length"),
    [
        ("12", 12),
        ("0007", 7),
        ("\u00b2", None),  # str.isdigit() takes it; int() refuses it
        ("\u0661", None),  # an Arabic-Indic one: no HTTP length
        ("", None),
        ("-1", None),
        (" 1", None),
        ("9" * 5000, 10**18),  # past any limit, without int() of 5000 digits
    ],
)
def test_a_declared_length_is_ascii_digits_and_bounded(header: str, length: int | None) -> None:
    assert declared_length(header) == length

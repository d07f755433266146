"""``cloudrender serve`` and ``cloudrender keys``, run as users run them (subprocesses)."""

from __future__ import annotations

import json
import re
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
import redis

from orchestrator.api_keys import API_KEYS
from tests.helpers import CLI, colour_project
from tests.server.conftest import bearer

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("blank", ["", "   "])
def test_keys_create_refuses_a_blank_project(cli: CLI, redis_url: str, blank: str) -> None:
    """``--project ""`` made a key bound to no project without a word."""
    made = cli("keys", "create", "alice", "--project", blank, "--broker", redis_url)
    assert made.returncode == 2, made.stderr
    assert "argument --project: is empty" in made.stderr
    assert made.stdout == ""
    assert redis.Redis.from_url(redis_url).hlen(API_KEYS) == 0, "a key was made"


def test_keys_create_list_revoke(cli: CLI, redis_url: str) -> None:
    made = cli(
        "keys",
        "create",
        "alice",
        "--project",
        "film",
        "--max-jobs",
        "2",
        "--label",
        "laptop",
        "--broker",
        redis_url,
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"cr_[0-9a-f]{12}_[A-Za-z0-9_-]+", key)
    key_id = key.split("_")[1]
    assert f"created key {key_id} for user alice (user, project film)" in made.stderr
    ops = cli("keys", "create", "root", "--role", "operator", "--broker", redis_url)
    assert ops.returncode == 0

    listed = cli("keys", "list", "--broker", redis_url)
    assert listed.returncode == 0
    assert key_id in listed.stdout and "laptop" in listed.stdout and "operator" in listed.stdout
    secret = key.split("_", 2)[2]
    as_json = cli("keys", "list", "--json", "--broker", redis_url)
    records = json.loads(as_json.stdout)
    assert {r["user"] for r in records} == {"alice", "root"}
    assert secret not in listed.stdout + as_json.stdout  # never printed again
    assert all("sha256" not in r for r in records)

    revoked = cli("keys", "revoke", key_id, "--broker", redis_url)
    assert revoked.returncode == 0 and f"revoked key {key_id} (user alice, user)" in revoked.stdout
    again = json.loads(cli("keys", "list", "--json", "--broker", redis_url).stdout)
    assert next(r for r in again if r["id"] == key_id)["revoked_at"] is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["keys", "create", "bad name"], "user 'bad name' must be"),
        (["keys", "create", "a", "--role", "admin"], "invalid choice"),
        (["keys", "create", "a", "--max-jobs", "0"], "must be at least 1"),
        (["keys", "revoke", "000000000000"], "no API key '000000000000'"),
    ],
)
def test_keys_errors_are_one_line(cli: CLI, redis_url: str, args: list[str], message: str) -> None:
    done = cli(*args, "--broker", redis_url)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    with redis.Redis.from_url(redis_url) as client:
        assert client.hlen(API_KEYS) == 0


def test_serve_answers_with_a_key_made_by_the_cli(cli: CLI, redis_url: str, tmp_path: Path) -> None:
    key = cli("keys", "create", "alice", "--broker", redis_url).stdout.strip().splitlines()[-1]
    server = cli.start(
        "serve", "--port", "0", "--broker", redis_url, "--storage", tmp_path.as_uri()
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match, line
        with httpx.Client(base_url=match.group(0), timeout=10) as http:
            assert http.get("/healthz").json() == {"ok": True}
            assert http.get("/v1/jobs").status_code == 401
            jobs = http.get("/v1/jobs", headers={"Authorization": f"Bearer {key}"})
            assert jobs.json() == {"jobs": []}
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
        assert server.returncode == 0, err
        assert "Traceback" not in err
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()


def test_serve_stops_promptly_ending_open_event_streams_cleanly(
    cli: CLI, redis_url: str, tmp_path: Path
) -> None:
    """Open event streams held SIGTERM for uvicorn's whole graceful timeout (10 s), were then
    cut mid-answer (the client saw a broken chunked body) and logged an ERROR traceback each."""
    ops = cli("keys", "create", "ops", "--role", "operator", "--broker", redis_url)
    key = ops.stdout.strip().splitlines()[-1]
    server = cli.start(
        "serve", "--port", "0", "--broker", redis_url, "--storage", tmp_path.as_uri()
    )
    ends: list[str] = []

    def follow(url: str, path: str) -> None:
        try:
            with httpx.stream("GET", url + path, headers=bearer(key), timeout=60) as answer:
                for _ in answer.iter_lines():
                    pass
            ends.append("clean")
        except httpx.HTTPError as exc:
            ends.append(type(exc).__name__)

    try:
        assert server.stdout is not None
        match = re.search(r"http://127\.0\.0\.1:(\d+)", server.stdout.readline())
        assert match
        submitted = httpx.post(
            match.group(0) + "/v1/jobs",
            json={"project": colour_project(0.5)},
            headers=bearer(key),
            timeout=30,
        )
        assert submitted.status_code == 201, submitted.text  # queued: no worker takes it
        paths = ["/v1/dashboard/events", f"/v1/jobs/{submitted.json()['id']}/events"]
        streams = [threading.Thread(target=follow, args=(match.group(0), p)) for p in paths]
        for stream in streams:
            stream.start()
        time.sleep(2)
        stopping = time.monotonic()
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
        took = time.monotonic() - stopping
        for stream in streams:
            stream.join(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0, err
    assert "Traceback" not in err and "ERROR" not in err, err
    assert ends == ["clean", "clean"]
    assert took < 8  # the streams end within their 5 s key recheck, not the 10 s timeout


def test_serve_refuses_to_start_without_storage_or_redis(cli: CLI, redis_url: str) -> None:
    no_storage = cli.with_env(CLOUDRENDER_STORAGE_URL=None)("serve", "--broker", redis_url)
    assert no_storage.returncode == 2 and "no storage" in no_storage.stderr
    unreachable = cli("serve", "--broker", "redis://127.0.0.1:1/0", "--storage", "file:///tmp")
    assert (
        unreachable.returncode == 3 and "cannot talk to the cluster's Redis" in unreachable.stderr
    )
    assert "Traceback" not in no_storage.stderr + unreachable.stderr

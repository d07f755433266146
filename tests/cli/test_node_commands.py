"""`cloudrender worker` and `cloudrender orchestrator` as an operator runs them on one host, and
`render --broker` against them: distinct node names, the orchestrator never counted as a render
slot, a storage URL output delivered by the cluster, and a clear error, not a hang, when no
orchestrator runs."""

from __future__ import annotations

import json
import os
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.project import read_project
from cli import job_follow
from cli.arguments import PROCESSES_PER_CORE
from cli.render_command import render_distributed
from common.errors import RenderError
from common.names import QUEUE_ORCHESTRATOR, QUEUE_RENDER
from orchestrator import keys
from orchestrator.job_record import JobState
from orchestrator.job_store import JobStore
from tests.helpers import CLI, colour_project, end_with_signal, subprocess_env
from tests.media import decode_rgb, write_project

pytestmark = pytest.mark.timeout(240)
HOST = socket.gethostname()


def wait_for(found: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := found()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return value


class Nodes:
    """Node processes started with the command line, their logs in a directory; stop() all."""

    def __init__(self, cli: CLI, logs: Path) -> None:
        self.cli, self.logs = cli, logs
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, *args: str) -> subprocess.Popen[str]:
        log = open(self.logs / f"{args[0]}-{len(self.procs)}.log", "w")  # noqa: SIM115
        proc = self.cli.start(*args, stdout=log, stderr=subprocess.STDOUT)
        log.close()  # the child holds its own descriptor
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[str]) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # warm shutdown: the heartbeat is withdrawn
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            self.stop(proc)


@pytest.fixture
def env(redis_url: str, tmp_path: Path) -> dict[str, str]:
    media, out = tmp_path / "media", tmp_path / "out"
    media.mkdir()
    out.mkdir()
    return {
        "CLOUDRENDER_BROKER_URL": redis_url,
        "CLOUDRENDER_STORAGE_URL": (tmp_path / "storage").as_uri(),
        "CLOUDRENDER_MEDIA_ROOTS": str(media),
        "CLOUDRENDER_OUTPUT_ROOTS": str(out),
    }


@pytest.fixture
def nodes(cli: CLI, env: dict[str, str], tmp_path: Path) -> Iterator[Nodes]:
    logs = tmp_path / "logs"
    logs.mkdir()
    started = Nodes(cli.with_env(**env), logs)
    try:
        yield started
    finally:
        started.stop_all()


def heartbeats(redis_url: str) -> dict[str, dict[str, Any]]:
    return JobStore.from_url(redis_url).heartbeats()


def test_a_worker_and_an_orchestrator_on_one_host_are_two_nodes(
    cli: CLI, nodes: Nodes, env: dict[str, str], redis_url: str
) -> None:
    nodes.start("worker", "--concurrency", "1")
    nodes.start("orchestrator")
    names = {f"render@{HOST}", f"orchestrator@{HOST}"}
    wait_for(lambda: names <= set(heartbeats(redis_url)), "both heartbeats")

    status = json.loads(cli.with_env(**env)("cluster", "status", "--json").stdout)
    roles = {n["name"]: (n["role"], n["concurrency"]) for n in status["nodes"]}
    assert roles == {f"render@{HOST}": ("render", 1), f"orchestrator@{HOST}": ("orchestrator", 2)}
    assert status["slots"] == 1  # the orchestrator's two processes plan, they do not render
    text = cli.with_env(**env)("cluster", "status").stdout
    assert text.startswith("1 slot on 1 node (+1 not rendering)")

    # A second worker on the same host is a node of its own, named with its pid.
    second = nodes.start("worker", "--concurrency", "1")
    wait_for(lambda: f"render-{second.pid}@{HOST}" in heartbeats(redis_url), "second worker")
    assert json.loads(cli.with_env(**env)("cluster", "status", "--json").stdout)["slots"] == 2

    nodes.stop_all()
    assert heartbeats(redis_url) == {}  # each withdrew its own heartbeat, none another's


def test_render_on_a_cluster_delivers_to_a_url_and_needs_an_orchestrator(
    cli: CLI, nodes: Nodes, env: dict[str, str], redis_url: str, tmp_path: Path
) -> None:
    nodes.start("worker", "--concurrency", "1")
    orchestrator = nodes.start("orchestrator")
    wait_for(lambda: len(heartbeats(redis_url)) == 2, "the worker and the orchestrator")
    run = cli.with_env(**env)
    timeline = write_project(tmp_path / "media" / "p.json", colour_project(0.5, "#aa6622"))
    url = (tmp_path / "out" / "film.mp4").as_uri()

    done = run("render", str(timeline), "-o", url, "--broker", redis_url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(decode_rgb(tmp_path / "out" / "film.mp4")) == 15
    assert not (tmp_path / "file:").exists()
    jobs = JobStore.from_url(redis_url).recent()

    nodes.stop(orchestrator)
    began = time.monotonic()
    again = run("render", str(timeline), "-o", str(tmp_path / "out" / "b.mp4"), cwd=tmp_path)
    assert time.monotonic() - began < 30  # seconds, not forever
    assert again.returncode == 2
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1 and "no orchestrator is running" in lines[0]
    assert "start one with `cloudrender orchestrator --broker URL`" in lines[0]
    assert JobStore.from_url(redis_url).recent() == jobs  # nothing half-submitted


def fake_beat(store: JobStore, name: str, queues: list[str], ttl: int) -> None:
    now = time.time()
    payload = {"name": name, "concurrency": 1, "pid": 1, "since": now, "time": now}
    store.redis.set(keys.node(name), json.dumps({**payload, "queues": queues}), ex=ttl)


def test_an_orchestrator_lost_after_the_submit_cancels_the_job(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDRENDER_STORAGE_URL", (tmp_path / "storage").as_uri())
    monkeypatch.setattr(job_follow, "ORCHESTRATOR_PATIENCE", 1.0)
    store = JobStore.from_url(redis_url)
    fake_beat(store, "render@elsewhere", [QUEUE_RENDER], 60)
    fake_beat(store, "orchestrator@elsewhere", [QUEUE_ORCHESTRATOR], 1)  # about to vanish
    project = read_project(colour_project(0.5), base_dir=str(tmp_path))
    began = time.monotonic()
    with pytest.raises(RenderError, match="no orchestrator is running") as info:
        render_distributed(project, str(tmp_path / "x.mp4"), workers=1, broker_url=redis_url)
    assert time.monotonic() - began < 10
    (job,) = store.recent()
    assert f"(job {job} cancelled)" in str(info.value)
    record = store.get(job)
    assert record.state is JobState.CANCELLED and "no orchestrator" in (record.error or "")
    assert not (tmp_path / "x.mp4").exists()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_render_on_a_cluster_ended_by_a_signal_cancels_its_job(
    cli: CLI, nodes: Nodes, env: dict[str, str], redis_url: str, tmp_path: Path, signum: int
) -> None:
    """A closed SSH session (SIGHUP) or a CI timeout (SIGTERM) ends the render as Ctrl-C does:
    the job rendered on, billed, with nobody waiting for it."""
    nodes.start("worker", "--concurrency", "1")
    nodes.start("orchestrator")
    wait_for(lambda: len(heartbeats(redis_url)) == 2, "the worker and the orchestrator")
    timeline = write_project(tmp_path / "media" / "p.json", colour_project(600, "#226688"))
    render = cli.with_env(**env).start(
        "render", str(timeline), "-o", str(tmp_path / "out" / "x.mp4"), "--broker", redis_url,
        "--quiet", cwd=tmp_path,
    )  # fmt: skip
    store = JobStore.from_url(redis_url)
    try:
        job = wait_for(lambda: next(iter(store.recent()), None), "the job")
        wait_for(lambda: store.state(job) is JobState.RENDERING, "the job to render")
    finally:
        err = end_with_signal(render, signum)
    assert render.returncode == 128 + signum, err
    assert f"terminated by {signal.Signals(signum).name}" in err
    assert store.state(job) is JobState.CANCELLED


NO_TERMINAL = (
    "error: the dashboard needs a terminal (standard input and output must be a TTY; over ssh use "
    "ssh -t); instead, use the web dashboard (`cloudrender serve`, then its / page), "
    "`cloudrender cluster status` or `cloudrender status JOB --watch`"
)


@pytest.mark.parametrize("stdin", [subprocess.DEVNULL, None], ids=["no-stdin", "piped-stdout"])
def test_the_dashboard_without_a_terminal_says_so_in_one_line(
    cli: CLI, redis_url: str, stdin: int | None
) -> None:
    """ssh without -t, cron, CI: curses failed with a traceback (cbreak() returned ERR)."""
    proc = cli.start("dashboard", "--broker", redis_url, stdin=stdin)
    out, err = proc.communicate(timeout=60)  # stdout is a pipe either way
    assert proc.returncode == 2, err
    assert (out, err.strip()) == ("", NO_TERMINAL)


def test_the_dashboard_on_a_terminal_curses_cannot_drive_says_so(cli: CLI, redis_url: str) -> None:
    if shutil.which("script") is None:
        pytest.skip("needs util-linux's script for a pseudo-terminal")
    command = f"{sys.executable} -m cli dashboard --broker {shlex.quote(redis_url)}"
    done = subprocess.run(
        ["script", "-qec", command, "/dev/null"],
        env=subprocess_env({**cli.env, "TERM": None}),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert done.returncode == 2, done.stdout
    assert (
        lines[-1]
        .strip()
        .startswith(
            "error: the dashboard cannot use this terminal (setupterm: could not find terminal); "
            "instead, use the web dashboard"
        )
    ), done.stdout
    assert "Traceback" not in done.stdout


def _few_open_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))


def test_a_worker_that_dies_of_an_unrecoverable_error_exits_non_zero(
    cli: CLI, env: dict[str, str]
) -> None:
    # Given a worker whose pool cannot start: more processes than its open files allow (each
    # child takes several pipes), and no more than --concurrency accepts on this machine
    count = str(min(40, PROCESSES_PER_CORE * (os.cpu_count() or 1)))
    proc = cli.with_env(**env).start("worker", "--concurrency", count, preexec_fn=_few_open_files)
    try:
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # Then its supervisor learns it failed (Celery's worker_main dropped the status: exit 0)
    assert "Unrecoverable error" in err, err
    assert proc.returncode != 0


def test_a_worker_for_a_queue_nothing_sends_to_is_refused(cli: CLI, env: dict[str, str]) -> None:
    # A typo in --queues started a worker that waited for ever on a queue no task goes to.
    for queues in ("rendr", "render,,audio", "render,bogus"):
        done = cli.with_env(**env)("worker", "--queues", queues)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "is not a queue (queues: render, audio, merge" in lines[0]


def test_a_result_backend_refusing_its_password_stops_a_node_with_exit_4(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong password in CLOUDRENDER_RESULT_BACKEND alone started a worker that said "ready"
    and failed every result; it now stops as a wrong broker password does: one line, exit 4."""
    import redis

    from cli.node_commands import _result_backend_refused

    host = redis_url.split("://", 1)[1].rsplit("@", 1)[-1].rsplit("/", 1)[0]
    with redis.Redis.from_url(redis_url) as admin:
        admin.acl_setuser("backend", enabled=True, passwords=["+right"], commands=["+@all"],
                          keys=["*"])  # fmt: skip
        try:
            monkeypatch.setenv("CLOUDRENDER_RESULT_BACKEND", f"redis://backend:wrong@{host}/1")
            assert _result_backend_refused(redis_url) == 4
            (line,) = capsys.readouterr().err.strip().splitlines()
            assert line.startswith(
                f"error: the cluster's Redis result backend at redis://backend:***@{host}/1 "
                "refused user 'backend': "
            )
            assert "wrong" not in line and "CLOUDRENDER_RESULT_BACKEND" in line
            # The right password, or the broker itself as the backend, passes
            monkeypatch.setenv("CLOUDRENDER_RESULT_BACKEND", f"redis://backend:right@{host}/1")
            assert _result_backend_refused(redis_url) is None
            monkeypatch.setenv("CLOUDRENDER_RESULT_BACKEND", redis_url)
            assert _result_backend_refused(redis_url) is None
        finally:
            admin.acl_deluser("backend")

"""Load test of the HTTP service: SSE followers and status polls against one ``serve`` process.

1. A private embedded cluster (``--workers`` render slots, at ``--worker-nice`` 19: in
   production they are other machines, so here they take only the CPU the API and its clients
   leave), file storage in a temporary directory, a user API key (its rate limit lifted).
2. One ``cloudrender serve`` process on a free port of 127.0.0.1.
3. A job that renders longer than the test (a flat-colour timeline at ``--size``, slow x264
   preset) for the key's user; the load starts once it renders.
4. For ``--seconds``: ``--clients`` concurrent SSE clients (in ``--sse-procs`` processes of
   their own) follow ``GET /v1/jobs/{id}/events`` from the start of its log, and status polls
   ``GET /v1/jobs/{id}`` go out at ``--rate`` per second, open loop (each on schedule whether
   or not the last one answered: a slow server shows as latency, not as fewer requests).
5. The job is cancelled: every SSE client must receive the ``cancelled`` event and see its
   stream end. Everything is stopped and removed.

Reported: poll latency p50/p99/max; SSE time to first event, events per client, ids strictly
increasing, clients that saw the end; errors (should be 0); the API process's peak RSS (VmHWM
from /proc) and CPU seconds. All of it runs on this one machine, clients included.

Run: ``.venv/bin/python bench/api_load.py [--seconds 60] [--clients 200] [--rate 50]
[--workers 1] [--worker-nice 19] [--sse-procs 2] [--size 1280x720] [--json]``. Exit status 1
on any error.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import redis

from bench.api_load_report import Polls, SseClient, figures, show
from bench.script import cloudrender_binary, emit, log
from bench.support import project, solid, video_track
from bench.throughput_project import parse_size
from common.errors import RenderError
from orchestrator.api import CloudRenderingAPI
from orchestrator.api_keys import KeyStore
from orchestrator.embedded import EmbeddedCluster
from orchestrator.job_events import TERMINAL_EVENTS
from orchestrator.job_record import JobState

USER = "loadtest"
#: The HTTP clients' connection limits (none: every follower holds its own connection).
LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=None)
TIMEOUT = httpx.Timeout(30.0, read=60.0)
#: Seconds the followers may take after the load before they are given up.
FOLLOWERS_GRACE = 60.0
#: The longest load: its job is at least four times as long, and a timeline is at most a day.
MAX_SECONDS = 86400 / 4


def main() -> int:
    """Run the load test and print its figures."""
    args = parse_args()
    width, height = args.size
    with tempfile.TemporaryDirectory(prefix="cloudrender-api-load-") as tmp:
        log(f"starting an embedded cluster with {args.workers} render slot(s)")
        with EmbeddedCluster(workers=args.workers) as cluster:
            assert cluster.workers is not None
            for pid in cluster.workers.pids():  # pool children inherit it
                os.setpriority(os.PRIO_PROCESS, pid, args.worker_nice)
            storage = f"file://{Path(tmp) / 'storage'}"
            with redis.Redis.from_url(cluster.broker_url, decode_responses=True) as client:
                # Its rate limit lifted: the load measures the service, not the limiter.
                _, secret = KeyStore(client).create(
                    USER, label="api load test", rate_per_minute=10**7
                )
            port = free_port()
            server = start_server(cluster.broker_url, storage, port, Path(tmp))
            try:
                base = f"http://127.0.0.1:{port}"
                wait_healthy(base, server)
                api = CloudRenderingAPI(cluster.broker_url, storage_url=storage)
                doc = long_project(job_seconds(args.seconds, (width, height)), (width, height))
                job = api.submit_job(
                    doc, output="load.mp4", local_delivery=False, chunk_frames=60, user=USER
                )
                wait_rendering(api, job)
                log(f"job {job} rendering; {args.clients} SSE clients, {args.rate} polls/s")
                result = asyncio.run(
                    load(base, secret, job, args, server.pid, lambda: cancel(api, job))
                )
                record = api.get_job_status(job)
                result["job"] = {
                    "state": str(record.state),
                    "frames_done": record.frames_done,
                    "frames": record.frames,
                }
            finally:
                stop_server(server)
    emit(result, args.json, show)
    return 1 if result["errors"] else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the load (60)")
    parser.add_argument("--clients", type=int, default=200, help="SSE clients (200)")
    parser.add_argument("--rate", type=float, default=50.0, help="status polls per second (50)")
    parser.add_argument("--workers", type=int, default=1, help="render slots (1)")
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=19,
        help="niceness of the render workers (19: they run on other machines in production)",
    )
    parser.add_argument(
        "--sse-procs", type=int, default=2, help="processes the SSE clients run in (2)"
    )
    parser.add_argument(
        "--size", type=parse_size, default=(1280, 720), help="the job's frame size (1280x720)"
    )
    parser.add_argument("--json", action="store_true", help="results as JSON on stdout")
    args = parser.parse_args(argv)
    # The job renders 4 x --seconds of timeline, which the loader caps at a day.
    if not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be above 0 and at most {MAX_SECONDS:g}")
    if args.clients < 0 or args.rate <= 0:
        parser.error("--clients must be 0 or more and --rate above 0")
    if args.workers < 1 or args.sse_procs < 1 or not -20 <= args.worker_nice <= 19:
        parser.error("--workers and --sse-procs must be at least 1, --worker-nice -20..19")
    return args


def job_seconds(load_seconds: float, size: tuple[int, int]) -> float:
    """Timeline seconds of a job that outlasts the load: four times it at 1280x720, more for
    smaller frames (which render faster), at most a day (the loader's limit)."""
    scale = max(1.0, 1280 * 720 / (size[0] * size[1]))
    return min(86400.0, 4 * load_seconds * scale)


def cancel(api: CloudRenderingAPI, job: str) -> str | None:
    """Cancel the job; what went wrong where it had already ended (None: cancelled)."""
    try:
        api.cancel_job(job)
    except RenderError as exc:
        return str(exc)
    return None


def long_project(seconds: float, size: tuple[int, int]) -> dict[str, Any]:
    """A flat-colour timeline of ``seconds`` at ``size``, slow enough to outlast the test."""
    clip = {"id": "c", "start_time": 0, "end_time": seconds, **solid("#3366ff")}
    return project([video_track("v", [clip])], size=size, settings={"export": {"preset": "slower"}})


def wait_rendering(api: CloudRenderingAPI, job: str, timeout: float = 120.0) -> None:
    """Return once the job renders (its log has events to replay); exit if it never does."""
    deadline = time.monotonic() + timeout
    while api.get_job_status(job).state is not JobState.RENDERING:
        if time.monotonic() > deadline:
            sys.exit(f"job {job} did not start rendering within {timeout:.0f} s")
        time.sleep(0.2)


# -- the server process -------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(broker: str, storage: str, port: int, tmp: Path) -> subprocess.Popen[bytes]:
    """``cloudrender serve`` on the cluster, in a process group of its own."""
    env = {**os.environ, "CLOUDRENDER_BROKER_URL": broker, "CLOUDRENDER_STORAGE_URL": storage}
    cmd = [*cloudrender_binary(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    log_file = (tmp / "server.log").open("wb")
    return subprocess.Popen(
        cmd, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_healthy(base: str, server: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Return once /healthz answers; exit if the server died or never answered."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the API server exited with status {server.returncode} while starting")
        try:
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    sys.exit(f"the API server did not answer {base}/healthz within {timeout:.0f} s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's group, SIGKILL after 15 s."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def process_memory(pid: int) -> tuple[int, float]:
    """Peak resident set (bytes, VmHWM) and CPU seconds so far of a process."""
    peak = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) * 1024
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return peak, cpu


# -- the load -----------------------------------------------------------------------------------


async def load(
    base: str, secret: str, job: str, args: argparse.Namespace, pid: int, cancel: Any
) -> dict[str, Any]:
    """Run the SSE clients (in --sse-procs processes of their own, so that parsing their events
    does not delay the polls' clock) and the polls for args.seconds, cancel the job, collect."""
    headers = {"Authorization": f"Bearer {secret}"}
    cpu_before = process_memory(pid)[1]
    context = multiprocessing.get_context("spawn")
    procs, pipes = [], []
    for share in split(args.clients, args.sse_procs):
        receiving, sending = context.Pipe(duplex=False)
        limit = args.seconds + FOLLOWERS_GRACE
        proc = context.Process(target=sse_process, args=(base, headers, job, share, limit, sending))
        proc.start()
        procs.append(proc)
        pipes.append(receiving)
    polls = Polls()
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=LIMITS, timeout=TIMEOUT
    ) as http:
        await poll_loop(http, job, args.rate, args.seconds, polls)
    log("load window over: cancelling the job")
    ended_early = await asyncio.to_thread(cancel)
    sse: list[SseClient] = []
    for proc, pipe in zip(procs, pipes, strict=True):
        if await asyncio.to_thread(pipe.poll, FOLLOWERS_GRACE + 30):
            sse += [SseClient(**fields) for fields in pipe.recv()]
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()
            proc.join()
    missing = args.clients - len(sse)
    sse += [SseClient(error="SSE: its process sent no results")] * missing
    peak, cpu_after = process_memory(pid)
    result = figures(sse, polls, args, peak, cpu_after - cpu_before)
    if ended_early:
        result["errors"].append(f"{ended_early}: it ended before the load; try a larger --size")
    return result


def split(total: int, parts: int) -> list[int]:
    """``total`` spread over ``parts`` near-equal shares (no empty share)."""
    parts = max(1, min(parts, total))
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def sse_process(
    base: str, headers: dict[str, str], job: str, count: int, limit: float, pipe: Any
) -> None:
    """A process of ``count`` SSE followers (given up after ``limit`` s); sends what each saw
    through ``pipe``."""
    clients = asyncio.run(followers(base, headers, job, count, limit))
    pipe.send([dataclasses.asdict(c) for c in clients])
    pipe.close()


async def followers(
    base: str, headers: dict[str, str], job: str, count: int, limit: float
) -> list[SseClient]:
    """Follow the job's events with ``count`` concurrent clients until its end."""
    clients = [SseClient() for _ in range(count)]
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=LIMITS, timeout=TIMEOUT
    ) as http:
        tasks = [asyncio.create_task(follow(http, job, c)) for c in clients]
        # Bounded: the job is cancelled when the load ends, and its end must come soon after.
        _, pending = await asyncio.wait(tasks, timeout=limit)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    return clients


async def follow(http: httpx.AsyncClient, job: str, client: SseClient) -> None:
    """One SSE follower: from the log's start to the job's end, ids checked on the way."""
    began = time.perf_counter()
    name, last = "", (-1, -1)
    try:
        async with http.stream("GET", f"/v1/jobs/{job}/events") as response:
            if response.status_code != 200:
                client.error = f"SSE: HTTP {response.status_code}"
                return
            async for line in response.aiter_lines():
                if line.startswith("id: "):
                    major, _, minor = line[4:].partition("-")
                    entry = (int(major), int(minor or 0))
                    client.ordered = client.ordered and entry > last
                    last = entry
                elif line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    client.events += 1
                    if client.first_event is None:
                        client.first_event = time.perf_counter() - began
                    if name in TERMINAL_EVENTS:
                        client.ended = True
    except (httpx.HTTPError, OSError) as exc:
        client.error = f"SSE: {type(exc).__name__}: {exc}"


async def poll_loop(
    http: httpx.AsyncClient, job: str, rate: float, seconds: float, polls: Polls
) -> None:
    """Send a status poll every 1/rate s for `seconds`, each in its own task."""
    began = time.perf_counter()
    tasks: list[asyncio.Task[None]] = []
    n = 0
    while (due := began + n / rate) < began + seconds:
        await asyncio.sleep(max(due - time.perf_counter(), 0))
        tasks.append(asyncio.create_task(poll(http, job, polls)))
        n += 1
        if n % int(rate * 10) == 0:
            log(f"{time.perf_counter() - began:.0f} s: {len(polls.latencies)} polls answered")
    await asyncio.gather(*tasks)


async def poll(http: httpx.AsyncClient, job: str, polls: Polls) -> None:
    """One status poll, timed."""
    began = time.perf_counter()
    try:
        response = await http.get(f"/v1/jobs/{job}")
        if response.status_code != 200 or response.json().get("id") != job:
            polls.errors.append(f"poll: HTTP {response.status_code}: {response.text[:200]}")
            return
    except (httpx.HTTPError, OSError, ValueError) as exc:
        polls.errors.append(f"poll: {type(exc).__name__}: {exc}")
        return
    polls.latencies.append(time.perf_counter() - began)


if __name__ == "__main__":
    sys.exit(main())

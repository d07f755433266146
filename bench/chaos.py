"""Chaos benchmark: lossless jobs rendered while workers die, stall, get pre-empted and Redis
restarts; the output must still equal a ``--direct`` render bit for bit.

Uses the chaos harness of ``tests/chaos`` (Redis with append-only persistence, an orchestrator
process, render workers of one slot each) and the heavy 640x360 blur timeline of
``tests/chaos/test_failover.py``. Every render worker is a spot instance with its own fake
metadata server (``tests/workers/test_spot.py``), so any of them can be sent a notice.

1. The timeline is rendered once with ``render_to_file`` (what ``--direct`` runs): the reference.
2. Baseline: a fresh cluster of W workers renders N lossless jobs (chunk_frames 4), no faults.
3. Chaos: a fresh cluster of the same size renders the same N jobs while a fault loop, driven
   by ``random.Random(seed)``, injects F faults at random moments (spread over the estimated
   remaining render time): SIGKILL a worker's whole process group and start a replacement;
   kill Redis and restart it from its append-only file; freeze a worker (SIGSTOP) for 7-10 s;
   send a spot notice to a worker and start a replacement. With F >= 4 every kind occurs.

Measured per job: completed, output decoded and compared with the reference frame by frame
(same frame count: no chunk twice, none missing), chunk attempts against chunks, and extra
work = frames rendered more than once / frames, i.e. sum over chunks of frames x (attempts - 1)
(speculative copies count as attempts; a spot hand-back takes its attempt back, so the frames
it had rendered are not counted; a killed attempt counts its whole chunk). Also
per run: wall time (first submit to last job finished, from the job records), progress events
seen (requeues by reason, speculative copies, retries) and, per kill, freeze or spot notice, how
and how soon the victim's chunk went elsewhere (lost-worker requeue, speculative copy,
hand-back: the first such progress event naming the victim). A run whose job records do not
change for 90 s is stopped and its dispatch bookkeeping reported. At the end ``/proc`` is searched
for any redis-server or celery process of this run (its temp dir, its Redis ports, or the marker
in its environment); the benchmark fails loudly if one is left.

Run: ``.venv/bin/python bench/chaos.py [--jobs N] [--seconds S] [--workers W] [--faults F]
[--seed N] [--json]``. Exit status 1 if a job did not complete or differs from the reference,
3 if processes were left behind. Results are recorded in docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import redis

from chunking.export import with_overrides
from chunking.studio import load_project
from orchestrator import keys
from orchestrator.api import CloudRenderingAPI
from orchestrator.embedded import LocalWorkers
from orchestrator.jobs import ChunkState, JobRecord, JobState
from tests.chaos.harness import ChaosCluster
from tests.chaos.test_failover import heavy_project, status
from tests.media import decode_rgb
from tests.workers.test_spot import Metadata
from workers.render import render_to_file

#: Environment variable whose value marks every process of one benchmark run.
MARKER = "CLOUDRENDER_CHAOS_RUN"
#: Settings that would send work to someone else's broker or storage.
FOREIGN_ENV = ("CLOUDRENDER_BROKER_URL", "CLOUDRENDER_RESULT_BACKEND", "CLOUDRENDER_STORAGE_URL")
#: The kinds of fault the loop injects.
KINDS = ("kill", "redis", "freeze", "spot")
#: Seconds a pre-empted worker may take to hand its chunk back and exit.
SPOT_EXIT_S = 30.0
#: Seconds between job status polls.
POLL_S = 0.25
#: Seconds without any change in the job records after which a run counts as stalled (longer
#: than orchestrator.health's 60 s for a running chunk that stopped reporting, plus ticks).
STALL_S = 90.0


def log(message: str) -> None:
    """Progress to stderr, so --json keeps stdout clean."""
    print(message, file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    """nproc, CPU model, Python version."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": sys.version.split()[0]}


# -- the cluster ---------------------------------------------------------------------------------


@dataclass
class Node:
    """One render worker and the metadata server that can pre-empt it."""

    worker: LocalWorkers
    metadata: Metadata
    noticed_at: float | None = None  # monotonic time of its spot notice
    exited_after: float | None = None  # seconds from the notice until its processes were gone

    @property
    def name(self) -> str:
        """The Celery node name that job records show."""
        return self.worker.hostname


class Fleet:
    """The render workers of one chaos cluster, every one a spot instance."""

    def __init__(self, cluster: ChaosCluster) -> None:
        self.cluster = cluster
        self.live: list[Node] = []
        self.leaving: list[Node] = []
        self.gone: list[Node] = []

    def add(self) -> Node:
        """Start one more worker with a metadata server of its own."""
        metadata = Metadata()
        env = {
            "CLOUDRENDER_SPOT_PROVIDER": "gcp",
            "CLOUDRENDER_SPOT_ENDPOINT": metadata.url,
            "CLOUDRENDER_SPOT_INTERVAL": "0.3",
        }
        try:
            node = Node(self.cluster.add_worker(env), metadata)
        except BaseException:
            metadata.close()
            raise
        self.live.append(node)
        return node

    def kill(self, node: Node) -> None:
        """SIGKILL a worker's process group (main process and pool)."""
        self.cluster.kill_worker(node.worker)
        self.live.remove(node)
        self.gone.append(node)

    def notice(self, node: Node) -> None:
        """Tell a worker that its instance is being pre-empted."""
        node.metadata.notice = True
        node.noticed_at = time.monotonic()
        self.live.remove(node)
        self.leaving.append(node)

    def reap(self) -> None:
        """Note pre-empted workers whose processes are gone."""
        for node in list(self.leaving):
            if node.noticed_at is None:
                continue
            waited = time.monotonic() - node.noticed_at
            if not node.worker.pids():
                node.exited_after = round(waited, 1)
            elif waited < SPOT_EXIT_S:
                continue
            node.worker.stop()  # reaps it, or stops one that did not leave by itself
            self.leaving.remove(node)
            self.gone.append(node)

    def close(self) -> None:
        """Wait for pre-empted workers to leave, then close every metadata server."""
        while self.leaving:
            self.reap()
            time.sleep(0.2)
        for node in self.live + self.gone:
            node.metadata.close()


class Events(threading.Thread):
    """Counts progress events per job, reconnecting when Redis restarts (events meanwhile are
    lost)."""

    def __init__(self, url: str) -> None:
        super().__init__(name="events", daemon=True)
        self.url = url
        self.stopped = threading.Event()
        self.counts: dict[str, Counter[str]] = {}
        self.recoveries: list[dict[str, Any]] = []
        self.reconnects = 0

    def run(self) -> None:
        """Listen until stopped."""
        while not self.stopped.is_set():
            client = redis.Redis.from_url(self.url)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(keys.PROGRESS)
                while not self.stopped.is_set():
                    message = pubsub.get_message(timeout=0.2)
                    if message is not None and message.get("type") == "message":
                        self.handle(json.loads(message["data"]))
            except redis.RedisError:
                self.reconnects += 1
                time.sleep(0.2)
            finally:
                pubsub.close()
                client.close()

    def handle(self, event: dict[str, Any]) -> None:
        """Count one event."""
        kind = str(event.get("event"))
        if kind == "chunk_requeued":
            kind = f"requeued_{event.get('reason')}"
        if kind.startswith("requeued_") or kind == "chunk_speculative":
            self.recoveries.append({**event, "kind": kind})
        self.counts.setdefault(str(event.get("job")), Counter())[kind] += 1

    def stop(self) -> None:
        """Stop listening."""
        self.stopped.set()
        self.join(timeout=5)


# -- one run -------------------------------------------------------------------------------------


@dataclass
class Setup:
    """What both runs share."""

    doc: dict[str, Any]
    base: Path
    frames: int
    reference: list[np.ndarray]
    jobs: int
    workers: int
    run_dir: Path
    ports: list[int] = field(default_factory=list)


def records_now(api: CloudRenderingAPI, jobs: list[str]) -> list[JobRecord] | None:
    """Every job's record, or None while Redis is unreachable."""
    found = [status(api, job) for job in jobs]
    return None if any(r is None for r in found) else [r for r in found if r is not None]


def busy_on(records: list[JobRecord] | None, name: str) -> bool | None:
    """Whether `name` runs a chunk now (None: unknown)."""
    if records is None:
        return None
    return any(c.state is ChunkState.RUNNING and c.node == name for r in records for c in r.chunks)


def fault_plan(rng: random.Random, count: int) -> list[str]:
    """`count` fault kinds in random order; every kind at least once when count allows."""
    if count < len(KINDS):
        return rng.sample(KINDS, count)
    kinds = list(KINDS) + [rng.choice(KINDS) for _ in range(count - len(KINDS))]
    rng.shuffle(kinds)
    return kinds


def inject(
    kind: str,
    rng: random.Random,
    cluster: ChaosCluster,
    fleet: Fleet,
    api: CloudRenderingAPI,
    jobs: list[str],
) -> dict[str, Any]:
    """Inject one fault; return what was done."""
    fault: dict[str, Any] = {"kind": kind, "time": time.time()}
    if kind == "redis":
        down = round(rng.uniform(0.5, 2.0), 2)
        fault["seconds"] = down
        cluster.restart_redis(down)
        return fault
    node = rng.choice(fleet.live)
    fault["worker"] = node.name.split("@")[0]
    fault["busy"] = busy_on(records_now(api, jobs), node.name)
    if kind == "kill":
        fleet.kill(node)
        fleet.add()
    elif kind == "freeze":
        fault["seconds"] = round(rng.uniform(7.0, 10.0), 2)
        cluster.freeze(node.worker, fault["seconds"])
    elif kind == "spot":
        fleet.notice(node)
        fleet.add()
        fault["node"] = node
    return fault


def run_cluster(
    label: str, setup: Setup, faults: int, rng: random.Random, expected: float | None
) -> dict[str, Any]:
    """Render the jobs on a fresh cluster, injecting `faults` faults; return the figures."""
    out_dir = setup.run_dir / label
    out_dir.mkdir()
    injected: list[dict[str, Any]] = []
    timed_out = False
    fleet: Fleet | None = None
    with ChaosCluster(workers=0, env={MARKER: setup.run_dir.name}) as cluster:
        setup.ports.append(cluster.redis.port)
        try:
            fleet = Fleet(cluster)
            for _ in range(setup.workers):
                fleet.add()
            api = CloudRenderingAPI(cluster.redis.url, storage_url=f"file://{out_dir / 'store'}")
            events = Events(cluster.redis.url)
            events.start()
            outputs = [out_dir / f"job{i}.mkv" for i in range(setup.jobs)]
            began = time.monotonic()
            jobs = [
                api.submit_job(setup.doc, output=str(out), chunk_frames=4, base_dir=str(setup.base))
                for out in outputs
            ]
            log(f"[{label}] {len(jobs)} jobs submitted on {setup.workers} workers")
            plan = fault_plan(rng, faults)
            records: list[JobRecord] | None = None
            limit = 300.0 + 4 * (expected or 120.0)
            diagnosis: dict[str, Any] | None = None

            def finished() -> bool:
                nonlocal records
                fleet.reap()
                records = records_now(api, jobs) or records
                return records is not None and all(r.state.finished for r in records)

            for number, kind in enumerate(plan):
                done = sum(r.frames_done for r in records or [])
                total = sum(r.frames for r in records or []) or setup.frames * setup.jobs
                elapsed = time.monotonic() - began
                share = done / total
                left = elapsed * (1 - share) / share if share > 0.05 else (expected or 60.0)
                gap = rng.uniform(0.3, 1.0) * left / (len(plan) - number + 1)
                until = time.monotonic() + gap
                while time.monotonic() < until and not finished():
                    time.sleep(POLL_S)
                if finished():
                    log(f"[{label}] jobs ended before fault {number + 1} of {len(plan)}")
                    break
                at = round(time.monotonic() - began, 1)
                fault = {"at": at, **inject(kind, rng, cluster, fleet, api, jobs)}
                injected.append(fault)
                who = f"{fault.get('worker', '')} busy={fault.get('busy')}"
                log(f"[{label}] fault {number + 1}/{len(plan)} at {at:.1f}s: {kind} {who}")
            last, changed = fingerprint(records), time.monotonic()
            while not finished():
                if fingerprint(records) != last:
                    last, changed = fingerprint(records), time.monotonic()
                stalled = time.monotonic() - changed > STALL_S
                if stalled or time.monotonic() - began > limit:
                    timed_out = True
                    why = f"no change for {STALL_S:.0f}s" if stalled else f"{limit:.0f}s passed"
                    log(f"[{label}] gave up: {why}")
                    diagnosis = diagnose(api, jobs)
                    break
                time.sleep(POLL_S)
            events.stop()
            final = records_now(api, jobs) or records or []
        finally:
            if fleet is not None:
                fleet.close()
    result = measure(label, setup, final, outputs, injected, events, timed_out)
    result["diagnosis"] = diagnosis
    return result


def fingerprint(records: list[JobRecord] | None) -> Any:
    """What changes while jobs make progress: states, frames, chunk states and attempts."""
    if records is None:
        return None
    return [
        (r.state, r.frames_done, [(c.state, c.attempts, c.frames_done) for c in r.chunks])
        for r in records
    ]


def diagnose(api: CloudRenderingAPI, jobs: list[str]) -> dict[str, Any]:
    """Dispatch bookkeeping of a stalled run: broker entries, pending lists, live nodes."""
    client = api.store.redis
    now = time.time()
    queued = []
    for member, score in client.zrange(keys.QUEUED, 0, -1, withscores=True):
        job, index = str(member).rsplit(":", 1)
        try:
            state = str(api.store.chunk(job, int(index)).state)
        except Exception as exc:  # noqa: BLE001 - report, do not fail the report
            state = repr(exc)
        queued.append({"chunk": str(member), "age_s": round(now - float(score), 1), "state": state})
    return {
        "queued": queued,
        "pending_lists": {job: int(client.llen(keys.pending(job))) for job in jobs},
        "live_nodes": [n.split("@")[0] for n in api.dispatcher.nodes()],
        "slots": api.dispatcher.slots(),
        "broker_lists": {
            str(k): int(client.llen(k)) for k in client.scan_iter(match="render*", count=100)
        },
    }


def measure(
    label: str,
    setup: Setup,
    records: list[JobRecord],
    outputs: list[Path],
    injected: list[dict[str, Any]],
    events: Events,
    timed_out: bool,
) -> dict[str, Any]:
    """The figures of one run."""
    jobs = []
    for record, out in zip(records, outputs, strict=True):
        chunks = record.chunks
        frames = sum(c.frames for c in chunks)
        rendered = sum(c.frames * c.attempts for c in chunks)
        again = sum(c.frames * max(c.attempts - 1, 0) for c in chunks)
        job: dict[str, Any] = {
            "id": record.id,
            "state": str(record.state),
            "completed": record.state is JobState.COMPLETED,
            "frames": record.frames,
            "chunks": len(chunks),
            "attempts": sum(c.attempts for c in chunks),
            "speculative_chunks": sum(1 for c in chunks if c.speculative),
            "crashed_on": sum(len(c.failed_nodes) for c in chunks),
            "frames_rendered": rendered,
            "frames_rendered_again": again,
            "extra_work": round(again / frames, 4) if frames else None,
            "wall_s": round(record.finished_at - record.submitted_at, 2)
            if record.finished_at
            else None,
            "error": record.error,
            "events": dict(events.counts.get(record.id, {})),
        }
        job["identical"], job["output_frames"], job["first_difference"] = compare(
            out, setup.reference, record
        )
        if not job["completed"]:
            job["chunk_states"] = [
                (c.index, str(c.state), (c.node or "").split("@")[0], c.attempts, c.error)
                for c in chunks
                if c.state is not ChunkState.DONE
            ]
        jobs.append(job)
    ends = [r.finished_at for r in records if r.finished_at]
    starts = [r.submitted_at for r in records]
    frames = sum(j["frames"] for j in jobs)
    again = sum(j["frames_rendered_again"] for j in jobs)
    faults = [{k: v for k, v in f.items() if k not in ("node", "time")} for f in injected]
    for fault, raw in zip(faults, injected, strict=True):
        if raw["kind"] == "spot":
            fault["exited_after_s"] = raw["node"].exited_after
            fault["chunk"] = recovery(raw, events.recoveries, ("requeued_evicted",))
        elif raw["kind"] in ("kill", "freeze"):
            kinds = ("requeued_lost", "chunk_speculative", "requeued_crashed")
            fault["chunk"] = recovery(raw, events.recoveries, kinds)
    return {
        "label": label,
        "jobs": jobs,
        "faults": faults,
        "faults_by_kind": dict(Counter(f["kind"] for f in faults)),
        "completed": sum(j["completed"] for j in jobs),
        "identical": sum(bool(j["identical"]) for j in jobs),
        "attempts": sum(j["attempts"] for j in jobs),
        "chunks": sum(j["chunks"] for j in jobs),
        "frames_rendered_again": again,
        "extra_work": round(again / frames, 4) if frames else None,
        "wall_s": round(max(ends) - min(starts), 2) if ends and not timed_out else None,
        "timed_out": timed_out,
        "event_reconnects": events.reconnects,
    }


def recovery(fault: dict[str, Any], events: list[dict[str, Any]], kinds: tuple[str, ...]) -> str:
    """How and how soon after a fault the victim's chunk went elsewhere (first such event)."""
    later = sorted(
        (float(e["time"]) - fault["time"], e["kind"])
        for e in events
        if str(e.get("node", "")).split("@")[0] == fault["worker"]
        and e["kind"] in kinds
        and float(e["time"]) >= fault["time"]
    )
    if not later:
        return "none seen"
    delay, kind = later[0]
    return f"{kind.removeprefix('chunk_')} after {delay:.1f}s"


def compare(
    out: Path, reference: list[np.ndarray], record: JobRecord
) -> tuple[bool | None, int | None, int | None]:
    """(bit-identical, frames in the output, first differing frame) of a finished job."""
    if record.state is not JobState.COMPLETED or not out.exists():
        return None, None, None
    ours = decode_rgb(out)
    pairs = enumerate(zip(ours, reference, strict=False))
    first = next((t for t, (a, b) in pairs if not np.array_equal(a, b)), None)
    same = len(ours) == len(reference) == record.frames and first is None
    if first is None and len(ours) != len(reference):
        first = min(len(ours), len(reference))
    return same, len(ours), first


# -- leftovers -----------------------------------------------------------------------------------


def leftovers(run_dir: Path, ports: list[int], marker: str) -> list[tuple[int, str]]:
    """Processes of this run still alive: our temp dir or Redis ports, or our marker."""
    needles = [str(run_dir).encode(), f"{MARKER}={marker}".encode()]
    # redis-server rewrites its command line to "redis-server 127.0.0.1:PORT" (and with it the
    # memory /proc shows as its environment), so it is found by its port.
    port_args = [f"--port\0{p}\0".encode() for p in ports]
    port_args += [f"127.0.0.1:{p}".encode() for p in ports]
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes()
            try:
                environ = Path(entry.path, "environ").read_bytes()
            except OSError:
                environ = b""
        except OSError:
            continue
        if not cmdline:
            continue  # a zombie, or a kernel thread
        ours = any(n in cmdline or n in environ for n in needles)
        ours = ours or (b"redis-server" in cmdline and any(p in cmdline for p in port_args))
        if ours:
            found.append((int(entry.name), cmdline.replace(b"\0", b" ").decode(errors="replace")))
    return found


# -- main ----------------------------------------------------------------------------------------


def table(baseline: dict[str, Any], chaos: dict[str, Any], faults: int) -> str:
    """The summary as text."""
    kinds = ", ".join(f"{k} {chaos['faults_by_kind'].get(k, 0)}" for k in KINDS)
    lines = [
        f"{'':28}{'baseline':>14}{'chaos':>14}",
        f"{'faults injected':28}{0:>14}{len(chaos['faults']):>14}   ({kinds}; planned {faults})",
    ]
    for key, name in (("completed", "jobs completed"), ("identical", "jobs bit-identical")):
        n = len(chaos["jobs"])
        lines.append(f"{name:28}{f'{baseline[key]}/{n}':>14}{f'{chaos[key]}/{n}':>14}")
    attempts = [f"{r['attempts']}/{r['chunks']}" for r in (baseline, chaos)]
    lines.append(f"{'chunk attempts / chunks':28}{attempts[0]:>14}{attempts[1]:>14}")
    lines.append(
        f"{'extra work':28}{pct(baseline['extra_work']):>14}{pct(chaos['extra_work']):>14}"
    )
    lines.append(f"{'wall time':28}{secs(baseline['wall_s']):>14}{secs(chaos['wall_s']):>14}")
    return "\n".join(lines)


def pct(value: float | None) -> str:
    """A fraction as a percentage."""
    return "-" if value is None else f"{100 * value:.1f}%"


def secs(value: float | None) -> str:
    """Seconds, or a dash."""
    return "-" if value is None else f"{value:.1f}s"


def main() -> int:
    """Run the baseline and the chaos run; print the figures; exit non-zero on any failure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=3, help="jobs per run (default 3)")
    parser.add_argument("--seconds", type=float, default=20.0, help="timeline seconds (default 20)")
    parser.add_argument("--workers", type=int, default=3, help="render workers (default 3)")
    parser.add_argument("--faults", type=int, default=8, help="faults to inject (default 8)")
    parser.add_argument("--seed", type=int, default=1, help="fault loop seed (default 1)")
    parser.add_argument("--json", action="store_true", help="results as JSON on stdout")
    args = parser.parse_args()
    if args.jobs < 1 or args.workers < 1 or args.faults < 0 or args.seconds <= 0:
        parser.error("--jobs and --workers must be at least 1, --faults 0 or more")
    if not Path("/proc/self/environ").exists():
        parser.error("needs /proc (Linux) to check for leftover redis-server/celery processes")
    for name in FOREIGN_ENV:
        os.environ.pop(name, None)
    marker = uuid.uuid4().hex[:12]
    run_dir = Path(tempfile.mkdtemp(prefix=f"cloudrender-chaos-bench-{marker}-"))
    os.environ[MARKER] = run_dir.name  # inherited by redis-server and the workers
    tempfile.tempdir = str(run_dir)  # the harness's Redis and worker dirs land in it
    ports: list[int] = []
    result: dict[str, Any] = {}
    try:
        media = run_dir / "media"
        media.mkdir()
        doc = heavy_project(media, args.seconds)
        timeline = load_project(doc, str(media))
        timeline = replace(timeline, export=with_overrides(timeline.export, lossless=True))
        began = time.perf_counter()
        render_to_file(timeline, str(run_dir / "direct.mkv"))
        direct_s = time.perf_counter() - began
        reference = decode_rgb(run_dir / "direct.mkv")
        log(f"direct render: {timeline.frames} frames in {direct_s:.1f}s")
        setup = Setup(doc, media, timeline.frames, reference, args.jobs, args.workers, run_dir)
        setup.ports = ports
        baseline = run_cluster("baseline", setup, 0, random.Random(args.seed), None)
        log(f"baseline: {baseline['completed']}/{args.jobs} in {secs(baseline['wall_s'])}")
        chaos = run_cluster(
            "chaos", setup, args.faults, random.Random(args.seed), baseline["wall_s"]
        )
        result = {
            "machine": machine(),
            "args": vars(args),
            "frames_per_job": timeline.frames,
            "chunk_frames": 4,
            "direct_s": round(direct_s, 2),
            "baseline": baseline,
            "chaos": chaos,
        }
    finally:
        tempfile.tempdir = None
        time.sleep(1.0)
        left = leftovers(run_dir, ports, run_dir.name)
        for pid, _ in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(run_dir, ignore_errors=True)
    result["leftover_processes"] = [f"{pid} {cmd}" for pid, cmd in left]
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print(report(result, args.faults))
    if left:
        log("FAIL: processes left behind:\n" + "\n".join(result["leftover_processes"]))
        return 3
    runs = (result["baseline"], result["chaos"])
    ok = all(r["completed"] == r["identical"] == args.jobs for r in runs)
    if not ok:
        log("FAIL: a job did not complete or differs from the --direct render")
    return 0 if ok else 1


def report(result: dict[str, Any], faults: int) -> str:
    """The human-readable summary."""
    baseline, chaos = result["baseline"], result["chaos"]
    m = result["machine"]
    lines = [
        f"machine: {m['nproc']} cores, {m['cpu']}, Python {m['python']}",
        f"jobs: {result['args']['jobs']} x {result['frames_per_job']} frames (chunk_frames 4), "
        f"{result['args']['workers']} workers, seed {result['args']['seed']}; "
        f"--direct {result['direct_s']}s",
        "",
        table(baseline, chaos, faults),
        "",
        "faults:",
    ]
    for f in chaos["faults"]:
        extra = {k: v for k, v in f.items() if k not in ("kind", "at")}
        lines.append(f"  {f['at']:>6.1f}s {f['kind']:<7} {extra}")
    lines.append("per job (chaos):")
    for j in chaos["jobs"]:
        lines.append(
            f"  {j['id']} {j['state']:<9} identical={j['identical']} frames={j['output_frames']}"
            f" attempts={j['attempts']}/{j['chunks']} speculative={j['speculative_chunks']}"
            f" extra={pct(j['extra_work'])} wall={secs(j['wall_s'])} events={j['events']}"
        )
        if j.get("chunk_states"):
            lines.append(f"    unfinished chunks: {j['chunk_states']}  error: {j['error']}")
    if chaos.get("diagnosis"):
        lines.append(f"stalled: {chaos['diagnosis']}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

"""Chaos benchmark: lossless jobs rendered while workers die, stall, get pre-empted and Redis
restarts; the output must still equal a ``--direct`` render bit for bit.

Uses the chaos cluster of ``bench.support`` (Redis with append-only persistence, an
orchestrator process, render workers of one slot each) and its heavy 640x360 blur timeline, as
``tests/chaos`` does. Every render worker is a spot instance with its own fake metadata service
(``workers.spot_fake.FakeMetadataService``), so any of them can be sent a notice.

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

The pieces: ``bench.chaos_faults`` (spot workers, fault plan, injection loop),
``bench.chaos_watch`` (job records, progress events, stall detection), ``bench.chaos_figures``
(the figures), ``bench.chaos_report`` (the summary); ``bench.leftovers`` is shared with
``scaling.py``.

Run: ``.venv/bin/python bench/chaos.py [--jobs N] [--seconds S] [--workers W] [--faults F]
[--seed N] [--json]``. Exit status 1 if a job did not complete or differs from the reference,
3 if processes were left behind. Results are recorded in docs/reliability.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from bench.chaos_faults import KINDS, MORE_KINDS, Fleet, FullDisk, fault_plan, inject_faults
from bench.chaos_figures import measure
from bench.chaos_report import report, secs
from bench.chaos_watch import Events, Watch, wait_for_jobs
from bench.leftovers import drop_foreign, kill, left_behind, require_proc
from bench.measure import machine
from bench.script import emit, exit_on_signals, log
from bench.support import ChaosCluster, decode_rgb, heavy_project
from chunking.timeline.export_overrides import with_overrides
from chunking.timeline.studio import load_project
from orchestrator.api import CloudRenderingAPI
from workers.render import render_to_file

#: Environment variable whose value marks every process of one benchmark run.
MARKER = "CLOUDRENDER_CHAOS_RUN"


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
    kinds: tuple[str, ...] = KINDS
    ports: list[int] = field(default_factory=list)


def run_cluster(
    label: str, setup: Setup, faults: int, rng: random.Random, expected: float | None
) -> dict[str, Any]:
    """Render the jobs on a fresh cluster, injecting `faults` faults; return the figures."""
    out_dir = setup.run_dir / label
    out_dir.mkdir()
    fleet: Fleet | None = None
    # A "disk" fault fills the store's own filesystem, never one the machine needs.
    disk = FullDisk(out_dir / "store") if faults and "disk" in setup.kinds else None
    # A "scratch" fault fills the filesystem the cluster's processes keep their temporary files
    # on (each LocalWorkers makes its folder, its TMPDIR, in this process's temp directory);
    # Redis's data stays outside it (its folder is made as the cluster object is).
    scratch = None
    if faults and "scratch" in setup.kinds:
        scratch = FullDisk(out_dir / "scratch", size_mb=1024)
    with contextlib.ExitStack() as stack:
        for full in (disk, scratch):
            if full is not None:
                stack.callback(full.close)
        cluster = ChaosCluster(workers=0, env={MARKER: setup.run_dir.name})
        outer = tempfile.tempdir
        if scratch is not None:
            tempfile.tempdir = str(scratch.root)
            stack.callback(setattr, tempfile, "tempdir", outer)
        stack.enter_context(cluster)
        setup.ports.append(cluster.redis.port)
        try:
            fleet = Fleet(cluster, disk, scratch)
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
            watch = Watch(api, jobs, fleet.reap)
            plan = fault_plan(rng, faults, setup.kinds)
            injected = inject_faults(
                label, plan, rng, cluster, fleet, watch, began, expected, setup.frames * setup.jobs
            )
            limit = 300.0 + 4 * (expected or 120.0)
            timed_out, diagnosis = wait_for_jobs(label, watch, began, limit)
            events.stop()
            final = watch.now() or watch.records or []
        finally:
            if fleet is not None:
                fleet.close()
    result = measure(label, setup.reference, final, outputs, injected, events, timed_out)
    result["diagnosis"] = diagnosis
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the baseline and the chaos run; print the figures; exit non-zero on any failure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=3, help="jobs per run (default 3)")
    parser.add_argument("--seconds", type=float, default=20.0, help="timeline seconds (default 20)")
    parser.add_argument("--workers", type=int, default=3, help="render workers (default 3)")
    parser.add_argument("--faults", type=int, default=8, help="faults to inject (default 8)")
    parser.add_argument("--seed", type=int, default=1, help="fault loop seed (default 1)")
    parser.add_argument(
        "--kinds",
        default=",".join(KINDS),
        help=f"fault kinds, comma-separated (default {','.join(KINDS)}; also "
        f"{','.join(MORE_KINDS)})",
    )
    parser.add_argument("--json", action="store_true", help="results as JSON on stdout")
    args = parser.parse_args(argv)
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    if not kinds or set(kinds) - {*KINDS, *MORE_KINDS}:
        parser.error(f"--kinds: choose among {', '.join((*KINDS, *MORE_KINDS))}")
    if args.jobs < 1 or args.workers < 1 or args.faults < 0 or args.seconds <= 0:
        parser.error(
            "--jobs and --workers must be at least 1, --faults 0 or more, --seconds above 0"
        )
    require_proc(parser)
    drop_foreign(os.environ)
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
        setup = Setup(
            doc, media, timeline.frames, reference, args.jobs, args.workers, run_dir, kinds
        )
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
        left = left_behind([str(run_dir).encode(), f"{MARKER}={run_dir.name}".encode()], ports)
        kill(pid for pid, _ in left)
        shutil.rmtree(run_dir, ignore_errors=True)
    result["leftover_processes"] = [f"{pid} {cmd}" for pid, cmd in left]
    emit(result, args.json, lambda r: print(report(r, args.faults)))
    if left:
        log("FAIL: processes left behind:\n" + "\n".join(result["leftover_processes"]))
        return 3
    runs = (result["baseline"], result["chaos"])
    ok = all(r["completed"] == r["identical"] == args.jobs for r in runs)
    if not ok:
        log("FAIL: a job did not complete or differs from the --direct render")
    return 0 if ok else 1


if __name__ == "__main__":
    exit_on_signals()  # stopped by timeout or kill: children stopped, temp dir removed
    sys.exit(main())

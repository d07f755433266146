"""Estimate accuracy: generated projects estimated, then rendered on a local cluster.

Generates, in a temporary directory, a test video and a logo per resolution and ``--projects``
Timeline Studio projects spanning the complexity range: 1 to 4 video layers (cut footage; a
colour-corrected picture-in-picture; a full-frame PNG logo; a translucent colour wash), effects
on the footage (none, vignette, blur, film grain, sharpen + glow), dissolves at the cuts, titles,
320x180 to 1280x720, 5 s to 2 min. A local cluster (a private Redis, ``--workers`` worker slots
and the orchestrator, as ``cloudrender render`` starts one) renders them one after another; before
each render the project is estimated through the real estimate path
(``orchestrator.api_estimate.estimate_job`` on this cluster's Redis, no pools file: the "this
cluster" option), so the throughput history learns from every finished render as a cluster does.
The first project is estimated cold: from the node benchmark, which the script runs and stores
first as ``cloudrender worker`` does at a node's first start (``--no-benchmark``: from the
prior); the rest warm.

Per project: estimated time (p10/p50/p90) and cost (p50) against the actual ones, as the job
records them (``accuracy``: time = finished_at - submitted_at, cost = actual_cost), and the
error distribution: median and 90th percentile of |error|, share within +-10 %, for the warm
projects and for all. ``--plot PNG`` draws estimate against actual.

``--only p05,p18`` renders only those projects of the run (the same recipes, the first named
cold); ``--rows FILE`` appends each project's row as it finishes (kept when the run is stopped).
Each row also has its chunks' timings and ``before_seconds``: the same estimate with one-chunk
jobs priced as before ``estimate_fit.lone_speedup``, against the same render.

Run: ``.venv/bin/python bench/estimate_accuracy.py [--quick] [--projects 22] [--workers 2]
[--seed 15] [--only p05,p18] [--rows RUN.jsonl] [--plot docs/cost-accuracy.png] [--json]``.
Results are in docs/cost.md; the table and distributions are ``bench/estimate_report.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.estimate_noise import calibration, repeat_split
from bench.estimate_projects import document, make_media, specs
from bench.estimate_report import distribution, plot, report
from bench.measure import media_machine
from bench.script import emit, exit_on_signals, log
from chunking.complexity import pipeline_parallelism
from chunking.timeline.project import read_project
from cli import WORKER_APP
from orchestrator import api_estimate
from orchestrator.api import CloudRenderingAPI
from orchestrator.api_estimate import accuracy, estimate_job, estimate_record
from orchestrator.embedded import EmbeddedCluster
from orchestrator.estimate_inputs import alone_chunks, idle_seconds
from orchestrator.job_record import JobState
from workers.job_policy import policy_env

# -- estimate, render, compare --------------------------------------------------------------------


def measure(api: CloudRenderingAPI, path: Path, output: Path) -> dict[str, Any]:
    """Estimate the project on this cluster, render it, and compare (as the job records it)."""
    timeline = read_project(str(path)).timeline
    estimate = estimate_job(
        api.store.redis, api.settings, timeline, slots=api.dispatcher.slots(), use_cache=False
    )
    top = estimate.headline
    assert top is not None
    # The same estimate by the static weights alone, without what the cluster learned per
    # feature: both against the same render, so the comparison is free of the machine's noise.
    static = estimate_job(
        api.store.redis,
        api.settings,
        timeline,
        slots=api.dispatcher.slots(),
        use_cache=False,
        learn_features=False,
    ).headline
    assert static is not None
    with before_lone_jobs():
        before = estimate_job(
            api.store.redis, api.settings, timeline, slots=api.dispatcher.slots(), use_cache=False
        ).headline
    assert before is not None
    job = api.submit_job(str(path), output=str(output), use_cache=False)
    record = api.wait(job)
    if record.state is not JobState.COMPLETED:
        sys.exit(f"job {job} ended {record.state}: {record.error}")
    record.estimate = estimate_record(estimate)
    compared = accuracy(record)
    assert compared is not None
    busy = sum(c.seconds or 0.0 for c in record.chunks)
    return {
        "frames": estimate.frames,
        "complexity": round(estimate.complexity, 4),
        "chunks": estimate.chunks,
        "source": top.option.source,
        "seconds_low": round(top.seconds.low, 2),
        "seconds_high": round(top.seconds.high, 2),
        "startup_seconds": round(
            (record.started_at or record.submitted_at) - record.submitted_at, 2
        ),
        "merge_seconds": (record.result or {}).get("merge_seconds"),
        # What the job waited besides planning, its chunks and the merge, and what the estimate
        # priced for it (learned from the jobs before).
        "idle_seconds": _rounded(
            idle_seconds(record, float((record.result or {}).get("merge_seconds") or 0.0)), 3
        ),
        "idle_estimated": round(estimate.overheads.idle_seconds, 3),
        # Seconds per complexity unit, estimated and as the chunks ran: the throughput error.
        "rate_estimated": round(top.option.seconds_per_unit, 4),
        # What the estimate's fit spends per chunk and per frame, and the chunk's parallelism.
        "per_chunk_estimated": round(top.option.seconds_per_chunk, 3),
        "per_frame_estimated": round(top.option.seconds_per_frame, 5),
        "parallelism": round(top.option.chunk_parallelism, 2),
        "rate_actual": round(busy / (estimate.frames * estimate.complexity), 4),
        # What the chunks took, for bench/estimate_replay.py to price again under other weights.
        "busy_seconds": round(busy, 3),
        # Each chunk's frames, slot-seconds, start and end (from the job's start), in plan
        # order: where a job's busy seconds went, and which chunks ran alone.
        "chunk_seconds": [
            [c.frames, _rounded(c.seconds, 3), *_since(record.started_at, c)] for c in record.chunks
        ],
        # The timeline's pipeline parallelism as the model reads it, against how much faster
        # its lone chunks ran than those beside another (None: not both kinds ran).
        "pipeline": round(pipeline_parallelism(timeline), 2),
        "alone_speedup": _rounded(alone_chunks(record.chunks).get("alone_speedup")),
        "load": round(os.getloadavg()[0], 1),
        "corrections": {name: round(f, 3) for name, f in estimate.corrections.items()},
        "static_seconds": round(static.seconds.p50, 3),
        "static_seconds_error_pct": _error(static.seconds.p50, compared["actual_seconds"]),
        "static_cost_error_pct": _error(static.cost.p50, compared["actual_cost"]),
        # The same estimate as before one-chunk jobs were measured against the others' rate.
        "before_seconds": round(before.seconds.p50, 3),
        "before_seconds_error_pct": _error(before.seconds.p50, compared["actual_seconds"]),
        **compared,
    }


@contextlib.contextmanager
def before_lone_jobs() -> Iterator[None]:
    """Estimates inside price as before 2026-12-07's fifth session: every job in the rate's
    fit, a one-chunk job at the speed-up the tail chunks of longer jobs measured (this process
    runs the estimate, so the comparison is against the same render)."""
    with (
        mock.patch.object(
            api_estimate, "beside_jobs", lambda timings, measured=None: list(timings)
        ),
        mock.patch.object(api_estimate, "lone_speedup", lambda *args, **kwargs: None),
    ):
        yield


def _error(estimate: float, actual: float) -> float | None:
    """(estimate - actual) / actual in %, as ``accuracy`` reports it."""
    return round(100 * (estimate - actual) / actual, 2) if actual > 0 else None


def _since(began: float | None, chunk: Any) -> list[float | None]:
    """A chunk's start and end in seconds from its job's start (None: not known)."""
    return [
        None if began is None or t is None else round(t - began, 3)
        for t in (chunk.started_at, chunk.finished_at)
    ]


def _rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def ready(api: CloudRenderingAPI, slots: int, timeout: float = 60.0) -> None:
    """Wait until the workers' heartbeats show every slot: an estimate plans for the live ones."""
    until = time.monotonic() + timeout
    while api.dispatcher.slots() < slots:
        if time.monotonic() > until:
            sys.exit(f"the cluster's heartbeats show {api.dispatcher.slots()} of {slots} slots")
        time.sleep(0.2)


def benchmark_node(api: CloudRenderingAPI, threads: int, slots: int) -> None:
    """The node benchmark, stored for the local class, as ``cloudrender worker`` runs it at a
    node's first start: what the cold estimate is made from."""
    from orchestrator.node_class import node_class_name, record_benchmark
    from workers.benchmark import run_benchmark

    log("running the node benchmark (a 1080p slice), as a worker's first start does")
    result = run_benchmark(threads=threads, slots=slots)
    record_benchmark(api.store.redis, node_class_name(None), result)
    log(
        f"node benchmark: {result.seconds_per_unit:.4f} s per unit per slot; alone "
        f"{result.seconds:.2f} s, beside the other slots {result.beside_seconds:.2f} s, alone "
        f"again {result.alone_again_seconds:.2f} s: {result.alone_cores:.2f} cores for a lone chunk"
    )


def pick(recipes: list[dict[str, Any]], names: str) -> list[dict[str, Any]]:
    """The recipes named in `names` (comma-separated, "p16,p18"), in the run's order: the same
    projects as in a whole run (same seed), fewer of them; an unknown name is an error."""
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    known = {r["name"] for r in recipes}
    missing = [n for n in wanted if n not in known]
    if missing or not wanted:
        raise SystemExit(
            f"--only: no project {', '.join(missing) or '(none named)'} in this run "
            f"({recipes[0]['name']}..{recipes[-1]['name']})"
        )
    return [r for r in recipes if r["name"] in wanted]


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Generate, estimate and render every project; return the measurements."""
    recipes = specs(5 if args.quick else args.projects, args.seed)
    if args.only:
        recipes = pick(recipes, args.only)
    if args.quick:
        args.repeat = min(args.repeat, 1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="cloudrender-estimates-") as tmp:
        directory = Path(tmp)
        make_media(directory, recipes)
        storage = directory / "storage"
        storage.mkdir()
        threads = max(1, (os.cpu_count() or 1) // args.workers)
        env = {
            "CLOUDRENDER_ENCODER_THREADS": str(threads),
            "OPENBLAS_NUM_THREADS": str(threads),
            "OMP_NUM_THREADS": str(threads),
            **policy_env(storage_url=storage.as_uri(), media_roots=[tmp], output_roots=[tmp]),
        }
        log(f"starting a local cluster with {args.workers} worker slot(s)")
        with EmbeddedCluster(workers=args.workers, env=env, beat=True, app=WORKER_APP) as cluster:
            api = CloudRenderingAPI(cluster.broker_url, storage_url=storage.as_uri())
            ready(api, args.workers)
            if not args.no_benchmark:
                benchmark_node(api, threads, args.workers)
            # The first projects once more at the end: how much the same render varies from one
            # run to the next on this machine, a floor under any estimate's error.
            again = [dict(r, name=f"{r['name']}.2") for r in recipes[1 : 1 + args.repeat]]
            for n, recipe in enumerate(recipes + again):
                path = directory / f"{recipe['name'].split('.')[0]}.json"
                path.write_text(json.dumps(document(recipe)))
                row = {**recipe, "size": "x".join(map(str, recipe["size"])), "cold": n == 0}
                row["repeat"] = n >= len(recipes)
                row.update(measure(api, path, directory / f"{recipe['name']}.mp4"))
                log(
                    f"{row['name']} {row['size']} {row['seconds']}s {row['layers']} layer(s) "
                    f"{row['effects']}: {row['estimated_seconds']:.1f} s estimated, "
                    f"{row['actual_seconds']:.1f} s actual ({row['seconds_error_pct']:+.1f} %)"
                )
                rows.append(row)
                if args.rows:
                    # Each row as it is measured: a run stopped by its time limit keeps them.
                    with open(args.rows, "a", encoding="utf-8") as out:
                        out.write(json.dumps(row) + "\n")
    first = {r["name"]: r for r in rows if not r["repeat"]}
    noise = [
        100 * abs(r["actual_seconds"] / first[r["name"].split(".")[0]]["actual_seconds"] - 1)
        for r in rows
        if r["repeat"]
    ]
    repeats = repeat_split(rows)
    rows = [r for r in rows if not r["repeat"]]
    warm = [r for r in rows if not r["cold"]]
    return {
        "repeat_difference_pct": [round(d, 1) for d in noise],
        "repeats": repeats,
        "machine": media_machine(),
        "params": {"workers": args.workers, "seed": args.seed, "projects": len(rows)},
        "projects": rows,
        "time_warm": distribution([r["seconds_error_pct"] for r in warm]),
        "cost_warm": distribution([r["cost_error_pct"] for r in warm]),
        "time_warm_static": distribution([r["static_seconds_error_pct"] for r in warm]),
        "cost_warm_static": distribution(
            [r["static_cost_error_pct"] for r in warm if r["static_cost_error_pct"] is not None]
        ),
        "time_warm_before": distribution([r["before_seconds_error_pct"] for r in warm]),
        "time_all": distribution([r["seconds_error_pct"] for r in rows]),
        "cost_all": distribution([r["cost_error_pct"] for r in rows]),
        "in_range": round(sum(1 for r in rows if r["seconds_in_range"]) / len(rows), 3),
        "range": calibration(rows),
    }


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 projects: a smoke run")
    parser.add_argument("--projects", type=int, default=22)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument(
        "--repeat", type=int, default=3, help="render the first N warm projects again (noise)"
    )
    parser.add_argument(
        "--only",
        help="only these projects of the run, comma-separated (p01,p16,p18): the first is cold",
    )
    parser.add_argument("--rows", help="append each project's measurements to this JSON-lines file")
    parser.add_argument("--plot", help="write the estimate-vs-actual scatter to this PNG")
    parser.add_argument(
        "--no-benchmark",
        action="store_true",
        help="no node benchmark first: the cold estimate uses the prior",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.projects < 1 or args.workers < 1 or args.repeat < 0:
        parser.error("--projects and --workers must be at least 1, --repeat 0 or more")
    began = time.perf_counter()
    result = benchmark(args)
    result["run_seconds"] = round(time.perf_counter() - began, 1)
    if args.plot:
        plot(result, args.plot)
    emit(result, args.json, report)


if __name__ == "__main__":
    exit_on_signals()  # stopped by timeout or kill: children stopped, temp dir removed
    main()

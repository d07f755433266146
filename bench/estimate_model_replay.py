"""Replay a recorded estimate-accuracy run through the whole estimate, without rendering.

``bench/estimate_accuracy.py --rows RUN.jsonl`` (or ``--json``) keeps, per project, what the
job measured: planning, merge and idle seconds, each chunk's frames, slot-seconds, start and
end, and the node benchmark's figures in its printed line. This rebuilds the job records a
cluster would have kept (one node, the run's slots) and prices each project again through
``orchestrator.api_estimate.estimate_job`` as it stands now, fed the jobs before it (newest
first), as the cluster learned them during the run: the fit, the lone-chunk speed-ups, the
overheads, the per-feature corrections and the schedule are today's code, the renders the
recorded ones. So a change to the model is judged against the same renders, free of the
machine's noise between runs (``bench/estimate_replay.py`` replays the weights alone).

Limits: a project priced before three jobs finished is priced, as the run did, by the node
class's history (the chunks' rate, as ``orchestrator.costing`` learns it) or, cold, by the
benchmark given with ``--benchmark``; the audio task's seconds are the recorded cost's share
besides the chunks and the merge.

The warm projects' errors are also given for the odd and the even ones apart: a change that
helps one half and not the other is tuned to projects, not a cause.

Run: ``.venv/bin/python bench/estimate_model_replay.py ROWS.jsonl [--benchmark
SPU,ALONE,BESIDE,AGAIN] [--seed 15] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.estimate_projects import document, make_media, specs
from bench.estimate_report import distribution
from bench.script import emit
from chunking.complexity import complexity, complexity_parts, pipeline_parallelism
from chunking.timeline.project import read_project
from common.settings import Settings
from orchestrator import api_estimate, estimate_options
from orchestrator.costing import Throughput
from orchestrator.estimate_fit import JobTiming
from orchestrator.estimate_inputs import alone_chunks, chunk_gap, slot_starts
from orchestrator.job_record import ChunkRecord
from workers.benchmark_result import BenchmarkResult

#: The hourly rate a slot was billed at in the recorded runs (actual cost = node-seconds x it).
HOURLY_RATE = 0.1
#: Frames of the node benchmark's slice (workers.benchmark.run_benchmark's default).
SLICE_FRAMES = 16


def read_rows(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The projects of a run in the order they rendered, and its seed: a ``--rows`` file (one
    JSON object a line; seed 15, the bench's default) or a ``--json`` file (its "projects",
    without the repeats it does not keep)."""
    text = path.read_text()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()], 15
    run = json.loads(text)
    return list(run["projects"]), int(run["params"]["seed"])


def chunk_records(row: dict[str, Any], began: float) -> list[ChunkRecord]:
    """The job's chunks as its record kept them: one node, in plan order."""
    found, start = [], 0
    for index, (frames, seconds, since, until) in enumerate(row["chunk_seconds"]):
        found.append(
            ChunkRecord(
                index=index,
                start=start,
                end=start + int(frames),
                node="node",
                started_at=None if since is None else began + float(since),
                finished_at=None if until is None else began + float(until),
                seconds=seconds,
            )
        )
        start += int(frames)
    return found


def timing(row: dict[str, Any], parts: dict[str, float]) -> JobTiming:
    """What ``recent_timings`` would read of the recorded job (``parts``: units per frame by
    feature, as its estimate split them)."""
    chunks = chunk_records(row, 0.0)
    merge = float(row["merge_seconds"])
    # The job's node-seconds are its billed seconds: chunks, the audio task and the merge.
    node_seconds = float(row["actual_cost"]) * 3600 / HOURLY_RATE
    units = row["frames"] * row["complexity"]
    total = sum(parts.values())
    return JobTiming(
        frames=row["frames"],
        startup_seconds=float(row["startup_seconds"]),
        merge_seconds=merge,
        busy_seconds=max(node_seconds - merge, 0.0),
        rendered_frames=row["frames"],
        units=units,
        chunks=len(chunks),
        chunk_gap=chunk_gap(chunks),
        idle_seconds=row.get("idle_seconds"),
        pipeline=float(row["pipeline"]),
        parts={k: v * units / total for k, v in parts.items()} if total > 0 else {},
        **alone_chunks(chunks),
        **slot_starts(chunks),
    )


def history(rows: list[dict[str, Any]]) -> Throughput | None:
    """The node class's rate as ``orchestrator.costing`` learned it from these jobs' chunks
    (oldest first), each chunk's units its share of the job's."""
    found = Throughput(0.025, 0)
    for row in rows:
        for frames, seconds, *_ in row["chunk_seconds"]:
            if seconds:
                found = found.observe(float(seconds), int(frames), float(row["complexity"]))
    return found if found.samples else None


def bench_record(spu: float, alone: float, beside: float, again: float) -> BenchmarkResult:
    """The node benchmark as the run printed it: 2 slots on 2 vCPUs, the slice's units and
    pipeline parallelism as the weights give them now (its media generated here)."""
    from chunking.timeline.studio import load_project
    from workers.benchmark_slice import make_source, slice_project

    with tempfile.TemporaryDirectory(prefix="cloudrender-replay-") as tmp:
        directory = Path(tmp)
        make_source(directory / "source.mp4", 64, 64, SLICE_FRAMES)
        sliced = load_project(slice_project(1920, 1080, SLICE_FRAMES), str(directory))
        units, pipeline = complexity(sliced), pipeline_parallelism(sliced)
    return BenchmarkResult(
        frames=SLICE_FRAMES,
        width=1920,
        height=1080,
        units=units,
        seconds=alone,
        cpu_seconds=alone,  # not printed: the cores come from the slots' renders
        fps=SLICE_FRAMES / alone,
        slot_seconds_per_frame=spu * units,
        seconds_per_unit=spu,
        stages={},
        encoder="libx264",
        hardware=False,
        gpu=False,
        gpu_model="",
        vcpus=2,
        slots=2,
        fingerprint="",
        measured_at=0.0,
        pipeline=pipeline,
        beside_seconds=beside,
        alone_again_seconds=again,
    )


@contextmanager
def recorded(
    before: list[dict[str, Any]], parts: dict[str, dict[str, float]], bench: BenchmarkResult
) -> Iterator[None]:
    """``estimate_job`` fed the recorded jobs `before` (oldest first) instead of a cluster's."""
    timings = [timing(r, parts[r["name"]]) for r in reversed(before)][:20]
    learned = history(before)

    def throughput(module: Any, client: Any, name: str, speed: Any) -> tuple[float, float, str]:
        if learned is not None:
            return learned.seconds_per_unit, 0.15, "history"
        return bench.seconds_per_unit, 0.2, "benchmark"

    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(api_estimate, "recent_timings", lambda s: timings))
        stack.enter_context(mock.patch.object(api_estimate, "live_slots", lambda s: 2))
        stack.enter_context(
            mock.patch.object(estimate_options, "load_benchmark", lambda c, n: bench)
        )
        stack.enter_context(mock.patch.object(estimate_options, "_class_throughput", throughput))
        yield


def recipes_of(rows: list[dict[str, Any]], seed: int) -> dict[str, dict[str, Any]]:
    """The recipe of each recorded project (``estimate_projects.specs`` of the run's seed),
    checked against what the row says it was."""
    count = 1 + max(int(r["name"][1:].split(".")[0]) for r in rows)
    recipes = {r["name"]: r for r in specs(count, seed)}
    for row in rows:
        recipe = recipes[row["name"].split(".")[0]]
        size = "x".join(map(str, recipe["size"]))
        said = (row.get("size"), row.get("seconds"), row.get("layers"), row.get("effects"))
        if said != (size, recipe["seconds"], recipe["layers"], recipe["effects"]):
            raise ValueError(
                f"project {row['name']}: the row says {said}, seed {seed} makes "
                f"{(size, recipe['seconds'], recipe['layers'], recipe['effects'])} (--seed?)"
            )
    return recipes


def replay(rows: list[dict[str, Any]], bench: BenchmarkResult, seed: int = 15) -> dict[str, Any]:
    """Each project priced again on the jobs before it; its error against the recorded render."""
    recipes = recipes_of(rows, seed)
    used = [recipes[name] for name in sorted({r["name"].split(".")[0] for r in rows})]
    settings = Settings.from_env({"CLOUDRENDER_HOURLY_RATE": str(HOURLY_RATE)})
    found = []
    with tempfile.TemporaryDirectory(prefix="cloudrender-replay-") as tmp:
        directory = Path(tmp)
        make_media(directory, used)
        timelines = {
            recipe["name"]: read_project(document(recipe), base_dir=str(directory)).timeline
            for recipe in used
        }
        parts = {r["name"]: complexity_parts(timelines[r["name"].split(".")[0]]) for r in rows}
        for i, row in enumerate(rows):
            timeline = timelines[row["name"].split(".")[0]]
            with recorded(rows[:i], parts, bench):
                estimate = api_estimate.estimate_job(
                    mock.MagicMock(), settings, timeline, slots=2, now=0.0
                )
            top = estimate.headline
            assert top is not None
            actual = float(row["actual_seconds"])
            found.append(
                {
                    "name": row["name"],
                    "cold": bool(row.get("cold")),
                    "repeat": bool(row.get("repeat")),
                    "chunks": estimate.chunks,
                    "recorded_pct": row.get("seconds_error_pct"),
                    "estimated_seconds": round(top.seconds.p50, 3),
                    "actual_seconds": actual,
                    "error_pct": round(100 * (top.seconds.p50 - actual) / actual, 2),
                    "in_range": top.seconds.low <= actual <= top.seconds.high,
                    "rate": round(top.option.seconds_per_unit, 5),
                    "per_chunk": round(top.option.seconds_per_chunk, 3),
                    "per_frame": round(top.option.seconds_per_frame, 5),
                    "slot_start": round(estimate.overheads.slot_start_seconds, 3),
                    "parallelism": round(top.option.chunk_parallelism, 2),
                    "source": top.option.source,
                    # The rate per unit of the static weights the estimate came to (its
                    # learned per-feature corrections folded in).
                    "static_rate": round(
                        top.option.seconds_per_unit * estimate.complexity / complexity(timeline), 5
                    ),
                }
            )
    return summary(found)


def summary(found: list[dict[str, Any]]) -> dict[str, Any]:
    """The rows and the warm projects' distributions: all, odd and even (two halves)."""
    warm = [r for r in found if not r["cold"] and not r["repeat"]]
    # Two halves, to tell a change that helps throughout from one tuned to a few projects.
    halves = {
        "odd": [r for r in warm if int(r["name"][1:3]) % 2],
        "even": [r for r in warm if not int(r["name"][1:3]) % 2],
    }
    return {
        "projects": found,
        "time_warm": distribution([r["error_pct"] for r in warm]),
        "time_warm_recorded": distribution(
            [r["recorded_pct"] for r in warm if r["recorded_pct"] is not None]
        ),
        **{f"time_warm_{k}": distribution([r["error_pct"] for r in v]) for k, v in halves.items()},
        "in_range": round(sum(r["in_range"] for r in warm) / max(len(warm), 1), 3),
    }


def report(result: dict[str, Any]) -> None:
    """Per project and the distributions."""
    print(
        f"{'project':8} {'ch':>3} {'rate':>8} {'chunk':>6} {'frame':>8} {'start':>6} "
        f"{'static':>8} {'par':>5} {'est s':>7} {'act s':>7} {'err':>7} {'recorded':>8}"
    )
    for r in result["projects"]:
        print(
            f"{r['name']:8} {r['chunks']:3} {r['rate']:8.5f} {r['per_chunk']:6.3f} "
            f"{r['per_frame']:8.5f} {r['slot_start']:6.3f} {r['static_rate']:8.5f} "
            f"{r['parallelism']:5.2f} "
            f"{r['estimated_seconds']:7.2f} {r['actual_seconds']:7.2f} {r['error_pct']:+6.1f}% "
            f"{r['recorded_pct'] or 0.0:+7.1f}%"
        )
    for name in ("time_warm_recorded", "time_warm", "time_warm_odd", "time_warm_even"):
        d = result[name]
        if not d["count"]:
            continue
        print(
            f"{name:19} n={d['count']:2}: median |error| {d['median_abs']:.1f} %, p90 "
            f"{d['p90_abs']:.1f} %, mean {d['mean']:+.1f} %, within +-10 %: "
            f"{100 * d['within']:.0f} %"
        )
    print(f"actual inside p10-p90: {100 * result['in_range']:.0f} %")


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, replay, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rows", type=Path, help="--rows JSONL (or --json) of estimate_accuracy")
    parser.add_argument(
        "--benchmark",
        default="0.0193,1.54,1.50,1.15",
        help="the run's node benchmark: s/unit, alone s, beside s, alone again s",
    )
    parser.add_argument("--seed", type=int, default=None, help="the run's (default: its, or 15)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        spu, alone, beside, again = (float(v) for v in args.benchmark.split(","))
    except ValueError:
        raise SystemExit(f"error: --benchmark {args.benchmark!r}: four numbers") from None
    try:
        rows, seed = read_rows(args.rows)
        result = replay(rows, bench_record(spu, alone, beside, again), args.seed or seed)
    except (OSError, ValueError, KeyError) as exc:
        raise SystemExit(f"error: {args.rows}: {exc!r} (not estimate_accuracy.py rows?)") from None
    emit(result, args.json, report)


if __name__ == "__main__":
    main()

"""Distributed scaling: ``--direct`` against 1..N local Celery workers, with the overhead split.

Generates the three-layer 1080p timeline of ``render_throughput.py``
(``bench.throughput_project``) once in a temporary directory, then renders it as subprocesses
with ``--json``:

    direct      cloudrender render project.json -o out.mp4 --direct --json
    N workers   cloudrender render project.json -o out.mp4 --workers N --json   (N = 1 .. max)

Each run is measured three ways: the whole subprocess (``perf_counter`` around it: what a user
waits for), the JSON ``seconds`` (direct: ``render_to_file``; distributed: cluster start to
cluster stop) and the CPU seconds of the subprocess and all its children (``RUSAGE_CHILDREN``:
the CLI, Redis, the Celery workers), which shared-machine noise barely moves. Also recorded:
how many cores' worth of CPU other processes used meanwhile (``/proc/stat``). Reported per run:
speedup against direct, parallel efficiency = speedup / min(workers, cores), worker
utilisation = sum of chunk task seconds / (workers x JSON seconds), and the orchestration
overhead = (1-worker time - direct time) / direct time, by wall time and by CPU time.

The 1-worker overhead is split into:

    fixed       a 1-frame timeline (same media) rendered with 1 worker minus --direct (median
                of --probe-repeat runs): cluster start and stop, submitting, one chunk task,
                merging one segment, fetching the output; of which cluster start-up and stop
                are timed in this process with ``orchestrator.embedded.EmbeddedCluster``
    per chunk   sum of the chunk tasks' seconds minus the direct render's seconds; of which
                "chunk start" is measured in this process: a fresh ``Compositor`` opening its
                sources (index of every packet) and compositing the chunk's first frame (seek,
                decode pre-roll from the keyframe, still-layer set-up) minus a steady frame
    merge       merge_seconds of the full run minus that of the 1-frame probe
    rest        dispatch gaps between tasks, result polling, output copy, noise

Runs are repeated in interleaved rounds (``--repeat``; the fastest is kept) and each waits up to
``--wait-quiet`` seconds for the machine to be quiet. Every subprocess gets a private marker in
its environment; after each run ``/proc`` is searched for processes that carry it (the private
redis-server and celery workers inherit it) and the benchmark fails loudly, after killing them,
if any is left. ``CLOUDRENDER_BROKER_URL`` and friends are removed from the children's
environment, so the private cluster is always used, never a system Redis.

The pieces: ``bench.scaling_runs`` (the measured subprocess runs), ``bench.scaling_probes``
(in-process cluster and chunk start costs), ``bench.scaling_analysis`` (ratios, breakdown,
targets), ``bench.scaling_report`` (the tables); ``bench.measure`` and ``bench.leftovers`` are
shared with the other benchmarks.

Run: ``.venv/bin/python bench/scaling.py [--seconds N] [--max-workers N] [--size WxH]
[--preset P] [--repeat R] [--probe-repeat R] [--wait-quiet S] [--json]``. Results are recorded
in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.leftovers import require_proc
from bench.measure import QUIET_CORES, media_machine
from bench.scaling_analysis import analyse
from bench.scaling_probes import chunk_start_costs, cluster_lifecycle
from bench.scaling_report import print_table
from bench.scaling_runs import interleaved, median_of
from bench.script import emit, exit_on_signals, log
from bench.throughput_project import (
    FPS,
    GOP,
    add_timeline_args,
    check_seconds,
    inputs_record,
    make_media,
    write_project,
)


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Generate the timeline, run direct and 1..N workers, probe the fixed costs, analyse."""
    began = time.perf_counter()
    width, height = args.size
    frames = round(args.seconds * FPS)
    cores = os.cpu_count() or 1
    import orchestrator

    result: dict[str, Any] = {
        "machine": media_machine(),
        "code": str(Path(orchestrator.__file__).resolve().parent.parent),
        "params": {
            "seconds": args.seconds,
            "frames": frames,
            "size": [width, height],
            "fps": FPS,
            "gop": GOP,
            "preset": args.preset,
            "max_workers": args.max_workers,
            "repeat": args.repeat,
            "probe_repeat": args.probe_repeat,
            "wait_quiet": args.wait_quiet,
        },
    }
    with tempfile.TemporaryDirectory(prefix="cloudrender-scaling-") as tmp:
        directory = Path(tmp)
        make_media(directory, width, height, frames)
        project = directory / "project.json"
        write_project(project, width, height, args.seconds, args.preset, 0.0)
        probe_project = directory / "probe.json"  # one frame, same media
        write_project(probe_project, width, height, 1 / FPS, args.preset, 0.0)
        result["inputs"] = inputs_record(directory, began)

        configs: list[int | None] = [None, *range(1, args.max_workers + 1)]
        result["direct"], *runs = interleaved(
            project, directory, configs, args.repeat, args.wait_quiet
        )
        result["runs"] = runs

        log(f"fixed costs: 1-frame timeline, direct and 1 worker, {args.probe_repeat} times each")
        result["probe"] = {
            "direct": median_of(probe_project, directory, None, args.probe_repeat),
            "one_worker": median_of(probe_project, directory, 1, args.probe_repeat),
        }
        log("cluster start and stop, in-process")
        result["cluster"] = cluster_lifecycle(1, args.probe_repeat)
        log("chunk start costs, in-process")
        starts = sorted({int(c["start"]) for run in runs for c in run["chunks"]} | {0})
        result["chunk_starts"] = chunk_start_costs(project, starts)
    result["analysis"] = analyse(
        result["direct"], runs, result["probe"], result["cluster"], result["chunk_starts"], cores
    )
    result["benchmark_seconds"] = round(time.perf_counter() - began, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_timeline_args(parser, seconds=20.0)
    parser.add_argument(
        "--max-workers",
        type=int,
        default=os.cpu_count() or 1,
        help="distributed runs with 1..N workers (default: cores)",
    )
    parser.add_argument(
        "--repeat", type=int, default=2, help="rounds of runs, fastest kept (default 2)"
    )
    parser.add_argument(
        "--probe-repeat", type=int, default=3, help="1-frame probe runs (median; default 3)"
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=60.0,
        metavar="S",
        help=f"before each run wait up to S s for others to use < {QUIET_CORES} cores (default 60)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    check_seconds(parser, args.seconds)
    if args.max_workers < 1 or args.repeat < 1 or args.probe_repeat < 1:
        parser.error("--max-workers, --repeat and --probe-repeat must be at least 1")
    require_proc(parser)
    emit(benchmark(args), args.json, print_table)
    return 0


if __name__ == "__main__":
    exit_on_signals()  # stopped by timeout or kill: children stopped, temp dir removed
    sys.exit(main())

"""The measured renders of ``scaling.py``: ``cloudrender render --json`` subprocesses.

Each run gets a private marker in its environment (inherited by the private redis-server and
Celery workers), a directory of its own (its segment cache starts empty: nothing reused from
another run or from the user's renders) and no external broker or storage settings; after
it, any process still carrying the marker or working in its directory is killed and the
benchmark fails (``bench.leftovers``). Runs are measured
by ``bench.measure.run_timed``: wall, CPU seconds of the whole process tree, others' load.
"""

from __future__ import annotations

import json
import shlex
import shutil
import statistics
import sys
import uuid
from pathlib import Path
from typing import Any

from bench.leftovers import child_env, ensure_no_leftovers
from bench.measure import run_timed, wait_for_quiet
from bench.script import log, render_command

#: Environment variable whose value marks every process of one benchmark run.
MARKER = "CLOUDRENDER_SCALING_RUN"


def render(project: Path, workdir: Path, workers: int | None) -> dict[str, Any]:
    """One ``cloudrender render --json`` subprocess (workers None: --direct), timed and checked."""
    marker = uuid.uuid4().hex
    run_dir = workdir / f"run-{marker[:8]}"
    run_dir.mkdir()
    output = run_dir / "out.mp4"
    mode = ["--direct"] if workers is None else ["--workers", str(workers)]
    cmd = render_command(project, output, mode)
    env = child_env(MARKER, marker)
    # An empty segment cache each run: the default one (~/.cache, shared with the user's own
    # renders and with the other runs here) would let a run reuse chunks another rendered.
    env["CLOUDRENDER_EMBEDDED_DIR"] = str(run_dir / "embedded")
    # The private Redis's directory in here too: it drops the marker but keeps this directory.
    env["TMPDIR"] = str(run_dir)
    what = shlex.join(cmd)
    try:
        timed = run_timed(cmd, env=env)
        ensure_no_leftovers(MARKER, marker, what, run_dir)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    done = timed.done
    if done.returncode != 0:
        sys.exit(f"{what} failed ({done.returncode}):\n{done.stderr.strip()}")
    summary: dict[str, Any] = json.loads(done.stdout)
    summary["wall"] = round(timed.wall, 3)
    summary["cpu"] = round(timed.cpu, 3)
    # Cores' worth of CPU other processes used during the run; steal: what the hypervisor took.
    summary["others_cores"] = round(timed.others_cores, 2)
    summary["steal_cores"] = round(timed.steal_cores, 2)
    summary["command"] = what
    return summary


def interleaved(
    project: Path, workdir: Path, configs: list[int | None], repeat: int, quiet: float
) -> list[dict[str, Any]]:
    """Each configuration `repeat` times, rounds interleaved; per configuration the fastest run."""
    runs: dict[int | None, list[dict[str, Any]]] = {c: [] for c in configs}
    for round_ in range(repeat):
        for config in configs:
            waited, level = wait_for_quiet(quiet)
            log(
                f"round {round_ + 1}/{repeat}: "
                + (f"{config} worker(s)" if config else "direct")
                + f" (waited {waited:g} s for quiet; others at {level:.2f} cores)"
            )
            run = render(project, workdir, config)
            run["quiet_wait"], run["others_before"] = waited, level
            runs[config].append(run)
    best = []
    for config in configs:
        fastest = min(runs[config], key=lambda r: float(r["wall"]))
        fastest["walls"] = [r["wall"] for r in runs[config]]
        fastest["cpus"] = [r["cpu"] for r in runs[config]]
        best.append(fastest)
    return best


def median_of(project: Path, workdir: Path, workers: int | None, repeat: int) -> dict[str, Any]:
    """Median wall, JSON seconds and merge seconds of `repeat` runs (for the short probe)."""
    runs = [render(project, workdir, workers) for _ in range(repeat)]
    return {
        "wall": round(statistics.median(r["wall"] for r in runs), 3),
        "seconds": round(statistics.median(r["seconds"] for r in runs), 3),
        "merge_seconds": round(statistics.median(r.get("merge_seconds", 0.0) for r in runs), 3),
        "cpu": round(statistics.median(r["cpu"] for r in runs), 3),
        "walls": [r["wall"] for r in runs],
    }

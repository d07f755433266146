"""Distributed scaling: ``--direct`` against 1..N local Celery workers, with the overhead split.

Generates the three-layer 1080p timeline of ``render_throughput.py`` (its functions, imported)
once in a temporary directory, then renders it as subprocesses with ``--json``:

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

Run: ``.venv/bin/python bench/scaling.py [--seconds N] [--max-workers N] [--size WxH]
[--preset P] [--repeat R] [--probe-repeat R] [--wait-quiet S] [--json]``. Results are recorded
in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import resource
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from render_throughput import (
    FPS,
    GOP,
    cloudrender_binary,
    log,
    machine,
    make_logo,
    make_source,
    parse_size,
    write_project,
)

#: Environment variable whose value marks every process of one benchmark run.
MARKER = "CLOUDRENDER_SCALING_RUN"
#: Settings that would send a render to someone else's broker or storage.
FOREIGN_ENV = ("CLOUDRENDER_BROKER_URL", "CLOUDRENDER_RESULT_BACKEND", "CLOUDRENDER_STORAGE_URL")
#: How long leftover children may take to disappear after their CLI exited.
LEFTOVER_GRACE_S = 3.0
#: Frames composited after a chunk's first one to measure the steady per-frame cost.
STEADY_FRAMES = 6
#: Other processes' CPU use (cores) below which the machine counts as quiet before a run.
QUIET_CORES = 0.3
#: Other processes' CPU use (cores) during a run above which its wall time is not trusted.
NOISY_CORES = 0.2
#: Targets of the issue.
TARGET_OVERHEAD = 0.03
TARGET_EFFICIENCY = 0.90


# -- processes ---------------------------------------------------------------------------------


def marked_processes(marker: str) -> list[tuple[int, str]]:
    """Live processes (pid, command line) whose environment carries this run's marker."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            stat = Path(entry.path, "stat").read_bytes()
            if stat[stat.rfind(b")") + 2 :].split()[0] in (b"Z", b"X"):
                continue  # a zombie holds no resources and has no environment left
            environ = Path(entry.path, "environ").read_bytes().split(b"\0")
            if needle not in environ:
                continue
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, IndexError):
            continue  # exited while we looked, or not ours to read
        found.append((int(entry.name), cmdline.decode("utf-8", "replace").strip()))
    return found


def ensure_no_leftovers(marker: str, what: str) -> None:
    """Fail loudly (after killing them by pid) if processes of this run outlived it."""
    deadline = time.monotonic() + LEFTOVER_GRACE_S
    left = marked_processes(marker)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = marked_processes(marker)
    if not left:
        return
    for pid, _ in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    listing = "\n".join(f"  {pid}: {cmd}" for pid, cmd in left)
    sys.exit(f"LEFTOVER PROCESSES after {what} (now killed):\n{listing}")


def child_env(marker: str) -> dict[str, str]:
    """This environment with the run marker and without any external broker or storage."""
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}
    env[MARKER] = marker
    return env


@contextmanager
def marked_environ(marker: str) -> Iterator[None]:
    """Mark (and clean) os.environ while this process starts a cluster itself."""
    saved = dict(os.environ)
    for key in FOREIGN_ENV:
        os.environ.pop(key, None)
    os.environ[MARKER] = marker
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# -- runs --------------------------------------------------------------------------------------


def render(project: Path, workdir: Path, workers: int | None) -> dict[str, Any]:
    """One ``cloudrender render --json`` subprocess (workers None: --direct), timed and checked."""
    output = workdir / f"out-{uuid.uuid4().hex[:8]}.mp4"
    mode = ["--direct"] if workers is None else ["--workers", str(workers)]
    cmd = [*cloudrender_binary(), "render", str(project), "-o", str(output), *mode, "--json"]
    marker = uuid.uuid4().hex
    cpu_before, busy_before = children_cpu(), machine_cpu()
    began = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=child_env(marker), check=False)
    wall = time.perf_counter() - began
    cpu = children_cpu() - cpu_before
    busy, steal = (after - before for after, before in zip(machine_cpu(), busy_before, strict=True))
    what = shlex.join(cmd)
    ensure_no_leftovers(marker, what)
    output.unlink(missing_ok=True)
    if done.returncode != 0:
        sys.exit(f"{what} failed ({done.returncode}):\n{done.stderr.strip()}")
    summary: dict[str, Any] = json.loads(done.stdout)
    summary["wall"] = round(wall, 3)
    summary["cpu"] = round(cpu, 3)
    # Cores' worth of CPU other processes used during the run; steal: what the hypervisor took.
    summary["others_cores"] = round(max(0.0, busy - cpu) / wall, 2)
    summary["steal_cores"] = round(steal / wall, 2)
    summary["command"] = what
    return summary


def children_cpu() -> float:
    """User + system CPU seconds of every reaped descendant of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_cpu() -> tuple[float, float]:
    """CPU seconds all processes of this machine used since boot, and the VM's steal time."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


def wait_for_quiet(limit: float) -> tuple[float, float]:
    """Wait up to `limit` s for 2 s in a row of other processes using < QUIET_CORES cores.

    Returns the seconds waited and the last level seen (cores' worth of CPU).
    """
    began = time.monotonic()
    calm, level = 0, 0.0
    while limit > 0:
        before = machine_cpu()[0]
        time.sleep(1.0)
        level = machine_cpu()[0] - before  # this process only sleeps meanwhile
        calm = calm + 1 if level < QUIET_CORES else 0
        if calm >= 2 or time.monotonic() - began >= limit:
            break
    return round(time.monotonic() - began, 1), round(level, 2)


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


def cluster_lifecycle(workers: int, repeat: int) -> dict[str, Any]:
    """Median seconds to start and stop EmbeddedCluster and its Redis alone, in-process."""
    from orchestrator.embedded import EmbeddedCluster, EmbeddedRedis

    times: dict[str, list[float]] = {
        "start": [],
        "stop": [],
        "workers_stop": [],
        "redis_start": [],
        "redis_stop": [],
    }
    for _ in range(repeat):
        marker = uuid.uuid4().hex
        with marked_environ(marker):
            threads = str(max(1, (os.cpu_count() or 1) // workers))  # as orchestrator.distributed
            env = {"CLOUDRENDER_ENCODER_THREADS": threads, "OMP_NUM_THREADS": threads}
            cluster = EmbeddedCluster(workers=workers, env=env)
            t0 = time.perf_counter()
            cluster.start()
            t1 = time.perf_counter()
            if cluster.workers is not None:
                cluster.workers.stop()  # what cluster.stop() does first; then it stops Redis
            t2 = time.perf_counter()
            cluster.stop()
            t3 = time.perf_counter()
            redis = EmbeddedRedis()
            redis.start()
            t4 = time.perf_counter()
            redis.stop()
            t5 = time.perf_counter()
        ensure_no_leftovers(marker, f"EmbeddedCluster(workers={workers})")
        for key, value in (
            ("start", t1 - t0),
            ("stop", t3 - t1),
            ("workers_stop", t2 - t1),
            ("redis_start", t4 - t3),
            ("redis_stop", t5 - t4),
        ):
            times[key].append(round(value, 3))
    medians: dict[str, Any] = {k: round(statistics.median(v), 3) for k, v in times.items()}
    return {**medians, "starts": times["start"], "stops": times["stop"]}


def chunk_start_costs(project: Path, starts: list[int]) -> dict[int, dict[str, float]]:
    """Per chunk start: sources opened, first frame, steady frame, decode pre-roll (in-process)."""
    from chunking.loader import load
    from workers.compositor import Compositor
    from workers.sources import VideoSource

    timeline = load(str(project))
    costs: dict[int, dict[str, float]] = {}
    for start in sorted(set(starts)):
        compositor = Compositor(timeline)
        try:
            began = time.perf_counter()
            compositor.open_range(start, timeline.frames)
            opened = time.perf_counter()
            compositor.frame(start)
            first = time.perf_counter()
            steady_end = min(start + 1 + STEADY_FRAMES, timeline.frames)
            for t in range(start + 1, steady_end):
                compositor.frame(t)
            steady = (time.perf_counter() - first) / max(1, steady_end - start - 1)
            preroll = 0
            for source in compositor.sources.values():
                if isinstance(source, VideoSource):
                    wanted = source.pts[min(start, len(source.pts) - 1)]
                    key = source.keyframes[bisect.bisect_right(source.keyframes, wanted) - 1]
                    preroll += bisect.bisect_left(source.pts, wanted) - source.pts.index(key)
        finally:
            compositor.close()
        costs[start] = {
            "open": round(opened - began, 3),
            "first_frame": round(first - opened, 3),
            "steady_frame": round(steady, 3),
            # What starting here costs beyond compositing one more frame mid-chunk.
            "excess": round(opened - began + first - opened - steady, 3),
            "preroll_frames": preroll,
        }
    return costs


# -- analysis ----------------------------------------------------------------------------------


def analyse(
    direct: dict[str, Any],
    runs: list[dict[str, Any]],
    probe: dict[str, Any],
    lifecycle: dict[str, Any],
    starts: dict[int, dict[str, float]],
    cores: int,
) -> dict[str, Any]:
    """Speedups, efficiencies, CPU overheads, utilisation and the 1-worker overhead breakdown."""
    rows = []
    for run in [direct, *runs]:
        w = int(run.get("workers", 0))
        chunks = run.get("chunks", [])
        chunk_starts = [int(c["start"]) for c in chunks]
        busy = sum(float(c["seconds"]) for c in chunks)
        speedup = direct["wall"] / run["wall"]
        speedup_json = direct["seconds"] / run["seconds"]
        rows.append(
            {
                "label": "direct" if w == 0 else f"{w} worker" + ("s" if w > 1 else ""),
                "workers": w,
                "chunk_count": run.get("chunk_count", 1),
                "wall": run["wall"],
                "seconds": run["seconds"],
                "fps": run["fps"],
                "cpu": run["cpu"],
                "cores_used": round(run["cpu"] / run["wall"], 2),
                "others_cores": run["others_cores"],
                "steal_cores": run["steal_cores"],
                "speedup_wall": round(speedup, 3),
                "speedup_seconds": round(speedup_json, 3),
                "efficiency_wall": round(speedup / min(max(w, 1), cores), 3),
                "efficiency_seconds": round(speedup_json / min(max(w, 1), cores), 3),
                "overhead_wall": round(
                    (max(w, 1) * run["wall"] - direct["wall"]) / direct["wall"], 4
                ),
                "overhead_cpu": round((run["cpu"] - direct["cpu"]) / direct["cpu"], 4),
                "merge_seconds": run.get("merge_seconds", 0.0),
                "chunk_seconds_sum": round(busy, 3),
                "utilisation": round(busy / (w * run["seconds"]), 3) if w else None,
                "chunk_start_cost": round(sum(starts[s]["excess"] for s in chunk_starts), 3),
                "preroll_frames": sum(int(starts[s]["preroll_frames"]) for s in chunk_starts),
                "chunk_seconds": [c["seconds"] for c in chunks],
                "chunk_starts": chunk_starts,
                "walls": run["walls"],
                "cpus": run["cpus"],
            }
        )
    one = next((r for r in runs if int(r["workers"]) == 1), None)
    breakdown: dict[str, Any] = {}
    if one is not None:
        total = one["wall"] - direct["wall"]
        fixed = probe["one_worker"]["wall"] - probe["direct"]["wall"]
        per_chunk = sum(float(c["seconds"]) for c in one["chunks"]) - direct["seconds"]
        # Direct pays one chunk start too (opening at frame 0): only the extra starts count.
        start_costs = sum(starts[int(c["start"])]["excess"] for c in one["chunks"])
        start_extra = start_costs - starts[0]["excess"]
        merge_extra = one["merge_seconds"] - probe["one_worker"]["merge_seconds"]
        breakdown = {
            "direct_wall": direct["wall"],
            "one_worker_wall": one["wall"],
            "overhead_seconds": round(total, 3),
            "overhead_fraction": round(total / direct["wall"], 4),
            "overhead_fraction_seconds": round(
                (one["seconds"] - direct["seconds"]) / direct["seconds"], 4
            ),
            "overhead_fraction_cpu": round((one["cpu"] - direct["cpu"]) / direct["cpu"], 4),
            "chunk_count": one["chunk_count"],
            "fixed": round(fixed, 3),
            "fixed_cpu": round(probe["one_worker"]["cpu"] - probe["direct"]["cpu"], 3),
            "fixed_cluster_start": lifecycle["start"],
            "fixed_cluster_stop": lifecycle["stop"],
            "fixed_other": round(fixed - lifecycle["start"] - lifecycle["stop"], 3),
            "per_chunk_total": round(per_chunk, 3),
            "per_chunk_each": round(per_chunk / max(1, one["chunk_count"] - 1), 3),
            "per_chunk_start_extra": round(start_extra, 3),
            "per_chunk_other": round(per_chunk - start_extra, 3),
            "merge": one["merge_seconds"],
            "merge_extra": round(merge_extra, 3),
            "rest": round(total - fixed - per_chunk - merge_extra, 3),
        }
        # The costs measured in isolation, which noise in the two long runs does not move; over
        # the faster of the two runs, so that a direct run slowed by others cannot hide them.
        estimate = fixed + start_extra + merge_extra
        breakdown["estimate_seconds"] = round(estimate, 3)
        breakdown["estimate_fraction"] = round(estimate / min(direct["wall"], one["wall"]), 4)
    within = [r for r in rows[1:] if r["workers"] <= cores]
    direct_cores = rows[0]["cores_used"]
    targets = {
        "overhead_target": TARGET_OVERHEAD,
        "overhead_met": bool(breakdown)
        and max(breakdown["overhead_fraction"], breakdown["estimate_fraction"]) <= TARGET_OVERHEAD,
        "overhead_cpu_met": bool(breakdown)
        and breakdown["overhead_fraction_cpu"] <= TARGET_OVERHEAD,
        "efficiency_target": TARGET_EFFICIENCY,
        "efficiency_min": min((r["efficiency_wall"] for r in within), default=None),
        "efficiency_met": bool(within)
        and all(r["efficiency_wall"] >= TARGET_EFFICIENCY for r in within),
        # Direct already keeps this many cores busy: with no overhead at all, `cores` workers
        # could be at most cores / direct_cores times faster.
        "direct_cores_used": direct_cores,
        "speedup_bound": round(cores / direct_cores, 3) if direct_cores else None,
        "efficiency_bound": round(1 / direct_cores, 3) if direct_cores else None,
    }
    targets["noisy_runs"] = [r["label"] for r in rows if r["others_cores"] > NOISY_CORES]
    return {"rows": rows, "overhead": breakdown, "targets": targets}


# -- report ------------------------------------------------------------------------------------


def print_table(result: dict[str, Any]) -> None:
    """The human-readable report."""
    m, p = result["machine"], result["params"]
    print(f"machine: {m['nproc']} cores, {m['cpu']}; Python {m['python']}; PyAV {m['pyav']}")
    print(
        f"timeline: {p['size'][0]}x{p['size'][1]} @ {FPS} fps, {p['frames']} frames "
        f"({p['seconds']:g} s), 3 layers, libx264 preset {p['preset']}; fastest of "
        f"{p['repeat']} interleaved round(s)"
    )
    print(f"code: {result['code']}\ndirect: {result['direct']['command']}\n")
    head = (
        f"{'run':<10} {'chunks':>6} {'wall s':>8} {'json s':>8} {'cpu s':>8} {'cores':>5} "
        f"{'others':>6} {'speedup':>7} {'eff.':>6} {'ovh.':>7} {'ovh.cpu':>7} {'util.':>6}"
    )
    print(head)
    print("-" * len(head))
    for r in result["analysis"]["rows"]:
        direct = r["workers"] == 0
        print(
            f"{r['label']:<10} {'-' if direct else r['chunk_count']:>6} {r['wall']:8.2f} "
            f"{r['seconds']:8.2f} {r['cpu']:8.2f} {r['cores_used']:5.2f} {r['others_cores']:6.2f} "
            f"{r['speedup_wall']:7.3f} "
            + (
                f"{'-':>6} {'-':>7} {'-':>7} {'-':>6}"
                if direct
                else f"{100 * r['efficiency_wall']:5.1f}% {100 * r['overhead_wall']:6.1f}% "
                f"{100 * r['overhead_cpu']:6.1f}% {100 * r['utilisation']:5.1f}%"
            )
        )
    print(
        "wall: the whole subprocess; json: its JSON seconds; cpu: CPU seconds of the subprocess\n"
        "and all its children (Redis, workers); cores = cpu / wall; others = cores' worth of CPU\n"
        "other processes on the machine used meanwhile (noise);\n"
        f"speedup = direct wall / wall; eff. = speedup / min(workers, {m['nproc']} cores);\n"
        "ovh. = (workers x wall - direct wall) / direct wall (for 1 worker: the orchestration\n"
        "overhead); ovh.cpu = (cpu - direct cpu) / direct cpu; util. = sum of chunk task\n"
        "seconds / (workers x json s)"
    )
    print(
        f"\n{'run':<10} {'merge s':>8} {'sum chunks s':>12} {'starts s':>8} {'pre-roll':>8}  "
        "chunk task seconds"
    )
    for r in result["analysis"]["rows"][1:]:
        print(
            f"{r['label']:<10} {r['merge_seconds']:8.3f} {r['chunk_seconds_sum']:12.2f} "
            f"{r['chunk_start_cost']:8.2f} {r['preroll_frames']:8}  {r['chunk_seconds']}"
        )
    print("starts s: chunk starts measured in-process (open sources + first frame - a steady one)")
    b = result["analysis"]["overhead"]
    if b:
        probe, life = result["probe"], result["cluster"]
        print(
            f"\n1-worker overhead: {b['overhead_seconds']:.2f} s = "
            f"{100 * b['overhead_fraction']:.2f}% of direct wall (JSON seconds: "
            f"{100 * b['overhead_fraction_seconds']:.2f}%, CPU: "
            f"{100 * b['overhead_fraction_cpu']:.2f}%), {b['chunk_count']} chunks"
        )
        lines = [
            (
                "fixed (1-frame probe, 1 worker - direct)",
                b["fixed"],
                f"walls: direct {probe['direct']['walls']}, 1 worker "
                f"{probe['one_worker']['walls']}; CPU {b['fixed_cpu']:.2f} s",
            ),
            (
                "  cluster start (Redis + worker ready)",
                b["fixed_cluster_start"],
                f"{life['starts']}; Redis alone {life['redis_start']:.3f}",
            ),
            (
                "  cluster stop",
                b["fixed_cluster_stop"],
                f"{life['stops']}; workers {life['workers_stop']:.3f}, Redis alone "
                f"{life['redis_stop']:.3f}",
            ),
            ("  other (imports, submit, poll, 1 task, fetch)", b["fixed_other"], ""),
            (
                "per chunk (sum of chunk tasks - direct)",
                b["per_chunk_total"],
                f"{b['per_chunk_each']:.3f} s per extra chunk",
            ),
            ("  chunk starts (open + pre-roll), extra", b["per_chunk_start_extra"], ""),
            ("  other (encoder start/flush, segment write)", b["per_chunk_other"], ""),
            (
                "merge (beyond the probe's 1-segment merge)",
                b["merge_extra"],
                f"merge_seconds {b['merge']:.3f}",
            ),
            ("rest (dispatch gaps, polling, output copy, noise)", b["rest"], ""),
        ]
        for label, value, note in lines:
            share = 100 * value / b["direct_wall"]
            print(f"  {label:<50} {value:8.3f} s {share:6.2f}%  {note}")
        print(
            f"  {'estimate: fixed + extra chunk starts + extra merge':<50} "
            f"{b['estimate_seconds']:8.3f} s {100 * b['estimate_fraction']:6.2f}%  "
            "(of the faster of direct and 1 worker; not moved by noise in those two runs)"
        )
        print("\nchunk starts (in-process; seconds):")
        print(
            f"  {'frame':>6} {'open':>7} {'first':>7} {'steady':>7} {'excess':>7} {'pre-roll':>9}"
        )
        for start, c in sorted(result["chunk_starts"].items(), key=lambda kv: int(kv[0])):
            print(
                f"  {int(start):>6} {c['open']:7.3f} {c['first_frame']:7.3f} "
                f"{c['steady_frame']:7.3f} {c['excess']:7.3f} {c['preroll_frames']:>9}"
            )
    t = result["analysis"]["targets"]
    eff = t["efficiency_min"]
    if t.get("noisy_runs"):
        print(
            f"\nWARNING: other processes used > {NOISY_CORES} cores during "
            f"{', '.join(t['noisy_runs'])}: their wall times (and ratios) carry that noise"
        )
    print(
        f"\ntargets: overhead <= {100 * t['overhead_target']:.0f}%: wall and estimate "
        f"{'met' if t['overhead_met'] else 'NOT met'}, CPU "
        f"{'met' if t['overhead_cpu_met'] else 'NOT met'}; efficiency >= "
        f"{100 * t['efficiency_target']:.0f}% while workers <= cores: "
        f"{'met' if t['efficiency_met'] else 'NOT met'}"
        + (f" (lowest {100 * eff:.1f}%)" if eff is not None else "")
    )
    if t["speedup_bound"]:
        print(
            f"direct already keeps {t['direct_cores_used']:.2f} cores busy: with zero overhead, "
            f"{m['nproc']} workers could be at most {t['speedup_bound']:.2f}x faster "
            f"(efficiency {100 * t['efficiency_bound']:.0f}%)"
        )
    print(f"total benchmark time {result['benchmark_seconds']:.0f} s")


# -- main --------------------------------------------------------------------------------------


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Generate the timeline, run direct and 1..N workers, probe the fixed costs, analyse."""
    began = time.perf_counter()
    width, height = args.size
    frames = round(args.seconds * FPS)
    cores = os.cpu_count() or 1
    import orchestrator

    result: dict[str, Any] = {
        "machine": machine(),
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
        log(f"generating {width}x{height} {frames}-frame source and logo in {directory}")
        make_source(directory / "source.mp4", width, height, frames)
        make_logo(directory / "logo.png", width, height)
        project = directory / "project.json"
        write_project(project, width, height, args.seconds, args.preset, 0.0)
        probe_project = directory / "probe.json"  # one frame, same media
        write_project(probe_project, width, height, 1 / FPS, args.preset, 0.0)
        result["inputs"] = {
            "source_bytes": (directory / "source.mp4").stat().st_size,
            "generate_seconds": round(time.perf_counter() - began, 2),
        }

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
    parser.add_argument("--seconds", type=float, default=20.0, help="timeline length (default 20)")
    parser.add_argument("--size", type=parse_size, default=(1920, 1080), help="WxH, 1920x1080")
    parser.add_argument("--preset", default="veryfast", help="x264 preset (default veryfast)")
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
    if not 0 < args.seconds <= 600 or round(args.seconds * FPS) < 2:
        parser.error(f"--seconds must give at least 2 frames at {FPS} fps and be at most 600")
    if args.max_workers < 1 or args.repeat < 1 or args.probe_repeat < 1:
        parser.error("--max-workers, --repeat and --probe-repeat must be at least 1")
    if not Path("/proc/self/environ").exists():
        parser.error("needs /proc (Linux) to check for leftover redis-server/celery processes")
    result = benchmark(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

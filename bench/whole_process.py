"""Whole-process comparison: each renderer as a user runs it, its whole process tree measured.

``run_tree`` runs one command and measures, for it and every process under it:

    wall        ``perf_counter`` from starting the command to its exit
    cpu         user + system seconds of the whole tree, counted two ways: ``wait4``'s rusage
                of the command (itself plus every descendant reaped by its parent: a
                RUSAGE_CHILDREN delta, but for this command alone), and the sum of the last
                /proc value of every process (``bench.measure.TreeSampler``). This process is
                a subreaper meanwhile: a process orphaned by its parent is adopted by us and
                reaped here (up to ORPHAN_GRACE s after the command; ``cpu_orphans``). The
                sampling misses each process's last moments and the rusage misses what its
                parents did not reap, so ``cpu`` is the larger; ``reaped`` says the command
                reaped its whole tree (its rusage alone accounts for it)
    memory      the peak sum of Pss over the tree and the largest process's VmHWM (sampled,
                see bench.measure), and ``wait4``'s ru_maxrss (the kernel carries that mark
                across exec, so it includes our own RSS when the child was forked: too high
                for a small command started by a large benchmark process)

``compare`` runs K rounds of several commands (``Contender``), each round in a rotating order
so that none is always first, and measures every run with ``run_tree``. It checks the frames
each run wrote, removes its output, and returns per-command medians, the ratios of each to a
baseline (ratios of the medians; memory: the peak Pss sums) and the issue's targets
(``TARGETS``) with whether each is met.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.ffmpeg_compare import count_frames
from bench.measure import INTERVAL, TreeSampler, machine_cpu, subreaper, wait_for_quiet
from bench.script import log

#: Seconds a tree may take to end after its command exited before its rest counts as left.
ORPHAN_GRACE = 2.0
#: CPU seconds the /proc sum may exceed the rusage by before the tree counts as not reaped
#: (utime and stime are rounded to clock ticks per process in /proc).
REAP_SLACK = 0.05


@dataclass(frozen=True)
class TreeRun:
    """A finished command and what its process tree cost."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    wall: float  # seconds from start to the command's exit
    cpu_rusage: float  # user + system seconds, wait4 (the command and all it reaped)
    cpu_orphans: float  # user + system seconds of orphaned tree processes that we reaped
    cpu_sampled: float  # user + system seconds, sum of the last /proc value of every process
    peak_pss_mib: float  # peak sum of Pss over the tree
    peak_rss_mib: float  # peak sum of VmRSS over the tree (shared pages counted per process)
    max_process_mib: float  # the largest VmHWM seen: the largest single process
    ru_maxrss_mib: float  # wait4's ru_maxrss (at least our RSS at fork time)
    processes: int  # processes seen in the tree
    orphans: int  # tree processes whose parent exited before reaping them
    left_running: list[str]  # "pid (name)" of tree processes alive ORPHAN_GRACE s after exit
    samples: int
    pss_samples: int  # samples that also read Pss
    sampler_cpu: float  # CPU seconds the sampler itself used (not part of the tree)
    others_cores: float  # cores' worth of CPU other processes of the machine used meanwhile

    @property
    def cpu(self) -> float:
        """The tree's CPU seconds: the larger of the two counts (each can only miss some)."""
        return max(self.cpu_rusage + self.cpu_orphans, self.cpu_sampled)

    @property
    def reaped(self) -> bool:
        """Whether the command reaped its whole tree, so its wait4 rusage accounts for it."""
        return (
            not self.orphans
            and not self.left_running
            and self.cpu_sampled <= self.cpu_rusage + REAP_SLACK
        )


def run_tree(
    argv: Sequence[str], env: dict[str, str] | None = None, interval: float = INTERVAL
) -> TreeRun:
    """Run a command to the end (output kept as text) and measure its whole process tree."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        subreaper(True)
        try:
            busy_before = machine_cpu()[0]
            began = time.perf_counter()
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
            sampler = TreeSampler(proc.pid, interval)
            sampler.start()
            try:
                # wait4, not Popen.wait: the rusage of this command alone, ru_maxrss included.
                _, status, usage = os.wait4(proc.pid, 0)
            except BaseException:
                proc.terminate()  # the CLI turns SIGTERM into an orderly stop of its cluster
                proc.wait()
                raise
            finally:
                sampler.stop()
                sampler.join()
            proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait
            wall = time.perf_counter() - began
            orphan_cpu, orphan_rss, left = _reap_orphans(sampler, interval)
            busy = machine_cpu()[0] - busy_before
        finally:
            subreaper(False)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    cpu_rusage = usage.ru_utime + usage.ru_stime
    tree_cpu = max(cpu_rusage + orphan_cpu, sampler.cpu)
    return TreeRun(
        argv=list(argv),
        returncode=proc.returncode,
        stdout=stdout,
        stderr=stderr,
        wall=wall,
        cpu_rusage=cpu_rusage,
        cpu_orphans=orphan_cpu,
        cpu_sampled=sampler.cpu,
        peak_pss_mib=sampler.peak_pss_kib / 1024,
        peak_rss_mib=sampler.peak_rss_kib / 1024,
        max_process_mib=max(sampler.hwm_kib.values(), default=0) / 1024,
        ru_maxrss_mib=max(usage.ru_maxrss, orphan_rss) / 1024,  # KiB on Linux
        processes=len(sampler.cpu_ticks),
        orphans=len(sampler.orphans),
        left_running=[f"{pid} {sampler.names.get(pid, '?')}" for pid in left],
        samples=sampler.samples,
        pss_samples=sampler.pss_samples,
        sampler_cpu=sampler.own_cpu,
        others_cores=max(0.0, busy - tree_cpu - sampler.own_cpu) / (time.perf_counter() - began),
    )


def _reap_orphans(sampler: TreeSampler, interval: float) -> tuple[float, int, list[int]]:
    """Wait up to ORPHAN_GRACE s for the tree to end, reaping what we adopted.

    Returns the adopted processes' CPU seconds and largest ru_maxrss, and the pids still alive.
    """
    cpu, maxrss, reaped = 0.0, 0, set[int]()
    deadline = time.monotonic() + ORPHAN_GRACE
    while True:
        live = sampler.sample()
        for pid in sampler.orphans - reaped:
            try:
                done, _, usage = os.wait4(pid, os.WNOHANG)
            except ChildProcessError:
                done = 0  # not ours (any more)
            if done:
                cpu += usage.ru_utime + usage.ru_stime
                maxrss = max(maxrss, usage.ru_maxrss)
                reaped.add(pid)
        if not live or time.monotonic() > deadline:
            _kill_adopted(live)
            return cpu, maxrss, live
        time.sleep(interval)


def _kill_adopted(pids: Sequence[int]) -> None:
    """SIGKILL the tree's processes still alive after the grace, by pid, and reap ours."""
    # Left alone they would outlive the benchmark, and load the machine under the next runs.
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass  # not adopted by us: its own parent reaps it


@dataclass(frozen=True)
class Invocation:
    """One run of a contender: its command line, the file it writes, its environment."""

    argv: list[str]
    output: Path
    env: dict[str, str] | None = None


@dataclass(frozen=True)
class Contender:
    """A command under comparison; `build` makes its invocation in a fresh empty directory."""

    name: str
    label: str
    build: Callable[[Path], Invocation]


@dataclass(frozen=True)
class Target:
    """A goal for the ratio of `command` to the baseline on `metric` (at most or at least)."""

    metric: str
    command: str
    limit: float
    at_most: bool = True

    def met(self, ratio: float) -> bool:
        """Whether a ratio meets the target."""
        return ratio <= self.limit if self.at_most else ratio >= self.limit


#: The issue's targets on a 2-core machine, cloudrender against ffmpeg.
TARGETS = (
    Target("cpu_per_frame", "default", 1.0),
    Target("cpu_per_frame", "direct", 1.0),
    Target("fps", "direct", 0.9, at_most=False),
    Target("wall", "default", 1.0),
    Target("peak_memory", "default", 1.5),
    Target("peak_memory", "direct", 1.5),
)


def run_record(run: TreeRun, frames: int) -> dict[str, Any]:
    """One run's measurements, rounded, for the JSON results."""
    return {
        "wall_s": round(run.wall, 3),
        "fps": round(frames / run.wall, 2),
        "cpu_s": round(run.cpu, 3),
        "cpu_per_frame_ms": round(1000 * run.cpu / frames, 2),
        "cpu_rusage_s": round(run.cpu_rusage, 3),
        "cpu_sampled_s": round(run.cpu_sampled, 3),
        "reaped": run.reaped,
        "peak_pss_mib": round(run.peak_pss_mib, 1),
        "peak_rss_mib": round(run.peak_rss_mib, 1),
        "max_process_mib": round(run.max_process_mib, 1),
        "ru_maxrss_mib": round(run.ru_maxrss_mib, 1),
        "cpu_orphans_s": round(run.cpu_orphans, 3),
        "orphans": run.orphans,
        "processes": run.processes,
        "left_running": run.left_running,
        "samples": run.samples,
        "pss_samples": run.pss_samples,
        "sampler_cpu_s": round(run.sampler_cpu, 3),
        "others_cores": round(run.others_cores, 2),
    }


def compare(
    contenders: Sequence[Contender],
    baseline: str,
    frames: int,
    rounds: int,
    workdir: Path,
    targets: Sequence[Target] = TARGETS,
    quiet: float = 0.0,
    also_against: str | None = None,
) -> dict[str, Any]:
    """Run every contender once per round, in a rotating order; medians, ratios, targets.

    Before each run, wait up to `quiet` s for other processes to settle (``wait_for_quiet``).
    ``also_against``: a second baseline the targets are also checked against
    (``targets_also``).
    """
    runs: list[dict[str, Any]] = []
    commands: dict[str, str] = {}
    for index in range(rounds):
        shift = index % len(contenders)
        order = [*contenders[shift:], *contenders[:shift]]
        for contender in order:
            directory = workdir / f"whole-{index}-{contender.name}"
            directory.mkdir()
            try:
                invocation = contender.build(directory)
                commands.setdefault(contender.name, shlex.join(invocation.argv))
                waited, level = wait_for_quiet(quiet)
                note = f" (waited {waited:g} s for quiet; others at {level:.2f} cores)"
                what = f"whole process, round {index + 1}/{rounds}: {contender.label}"
                log(what + note if quiet else what)
                run = run_tree(invocation.argv, invocation.env)
                if run.returncode != 0:
                    last = (run.stderr.strip().splitlines() or ["no output"])[-1]
                    sys.exit(f"{contender.label} failed ({run.returncode}): {last}")
                written = count_frames(invocation.output)
            finally:
                shutil.rmtree(directory, ignore_errors=True)
            if written != frames:
                log(f"warning: {contender.label} wrote {written} frames, not {frames}")
            if run.left_running:
                left = ", ".join(run.left_running)
                log(f"warning: {contender.label} left running (killed): {left}")
            record = {"round": index, "name": contender.name, "frames_written": written}
            record |= {"quiet_wait_s": waited, "others_before": level}
            runs.append(record | run_record(run, frames))
    median = {c.name: _medians([run for run in runs if run["name"] == c.name]) for c in contenders}
    ratios = _ratios(median, baseline)
    return {
        "rounds": rounds,
        "frames": frames,
        "baseline": baseline,
        "interval_s": INTERVAL,
        "memory": "peak sum of Pss (/proc/<pid>/smaps_rollup) over the process tree",
        "labels": {c.name: c.label for c in contenders},
        "commands": commands,
        "median": median,
        "ratios": ratios,
        "targets": _targets(targets, ratios),
        "also_against": also_against,
        "targets_also": _targets(targets, _ratios(median, also_against)) if also_against else [],
        "all_reaped": all(run["reaped"] for run in runs),
        "runs": runs,
    }


def _ratios(median: dict[str, dict[str, float]], baseline: str) -> dict[str, dict[str, Any]]:
    """Each other contender's medians over the baseline's, per target metric."""
    base = median[baseline]
    return {
        name: {
            metric: _ratio(m[key], base[key])
            for metric, key in (
                ("cpu_per_frame", "cpu_per_frame_ms"),
                ("fps", "fps"),
                ("wall", "wall_s"),
                ("peak_memory", "peak_pss_mib"),
            )
        }
        for name, m in median.items()
        if name != baseline
    }


def _targets(targets: Sequence[Target], ratios: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target's ratio and whether it is met."""
    return [
        {
            "metric": t.metric,
            "command": t.command,
            "ratio": ratios[t.command][t.metric],
            "limit": t.limit,
            "at_most": t.at_most,
            "met": _met(t, ratios[t.command][t.metric]),
        }
        for t in targets
        if t.command in ratios
    ]


def _medians(runs: list[dict[str, Any]]) -> dict[str, float]:
    keys = [key for key, value in runs[0].items() if isinstance(value, float | int)]
    skip = {"round", "frames_written", "reaped", "samples", "pss_samples", "quiet_wait_s"}
    return {
        key: round(statistics.median(run[key] for run in runs), 3)
        for key in keys
        if key not in skip
    }


def _ratio(ours: float, theirs: float) -> float | None:
    return round(ours / theirs, 3) if theirs else None


def _met(target: Target, ratio: float | None) -> bool:
    return ratio is not None and target.met(ratio)

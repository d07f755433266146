"""The human-readable summary of ``chaos.py``: baseline against chaos, faults, jobs."""

from __future__ import annotations

from typing import Any


def table(baseline: dict[str, Any], chaos: dict[str, Any], faults: int) -> str:
    """The summary as text."""
    kinds = ", ".join(f"{k} {n}" for k, n in chaos["faults_by_kind"].items())
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

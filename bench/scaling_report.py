"""The human-readable report of ``scaling.py``: runs, chunk costs, 1-worker overhead, targets."""

from __future__ import annotations

from typing import Any

from bench.scaling_analysis import NOISY_CORES
from bench.throughput_project import FPS


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

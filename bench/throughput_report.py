"""The human-readable report of ``render_throughput.py``: rates, per-frame stages, profile."""

from __future__ import annotations

from typing import Any

from bench.measure import QUIET_CORES


def print_table(result: dict[str, Any]) -> None:
    """The human-readable report: the stages (unless --whole-only), the whole processes."""
    m, p = result["machine"], result["params"]
    print(f"machine: {m['nproc']} cores, {m['cpu']}; {m['ffmpeg']}; PyAV {m['pyav']}")
    print(f"compositor: {m.get('compositor', 'unknown')}")
    print(
        f"input: {p['size'][0]}x{p['size'][1]} @ {p['fps']} fps, {p['frames']} frames, "
        f"libx264 preset {p['preset']} crf {p['crf']} gop {p['gop']}"
        + (f", blur sigma {p['blur']}" if p["blur"] else "")
    )
    if "breakdown" in result:
        print_stages(result)
    if "whole" in result:
        print_whole(result["whole"])


def print_stages(result: dict[str, Any]) -> None:
    """Single renders of each side, each stage alone, the profile."""
    p = result["params"]
    ours, theirs, b = result["cloudrender"], result["ffmpeg"], result["breakdown"]
    per = b["per_frame_ms"]
    print(f"ffmpeg command:\n  {theirs['command']}\n")
    rows = [
        ("cloudrender, 3 layers (JSON fps)", f"{ours['fps']:.2f} fps", f"{ours['seconds']:.2f} s"),
        (
            "cloudrender, whole process",
            f"{p['frames'] / ours['process_seconds']:.2f} fps",
            f"{ours['process_seconds']:.2f} s",
        ),
        ("ffmpeg, same graph", f"{theirs['fps']:.2f} fps", f"{theirs['seconds']:.2f} s"),
        ("ratio cloudrender/ffmpeg (fps)", f"{result['ratio']:.3f}", ""),
        ("ratio incl. process start", f"{result['ratio_process']:.3f}", ""),
        ("ffmpeg, decode + filters (-f null)", f"{b['ffmpeg_filters_only_fps']:.2f} fps", ""),
        ("cloudrender, 1 layer no effects", f"{b['one_layer_fps']:.2f} fps", ""),
        ("compositor alone (no encode)", f"{b['composite_only_fps']:.2f} fps", ""),
        ("PyAV decode", f"{b['decode_fps']:.2f} fps", f"{b['decode_ms']:.2f} ms/frame"),
        (
            "PyAV decode + to RGB24",
            f"{b['decode_rgb_fps']:.2f} fps",
            f"{b['decode_rgb_ms']:.2f} ms/frame",
        ),
        ("RGB -> yuv420p + x264", f"{b['encode_fps']:.2f} fps", ""),
        ("  RGB24 -> yuv420p (BT.709)", "", f"{b['rgb_to_yuv_ms']:.2f} ms/frame"),
        ("  x264, PyAV default threads", "", f"{b['x264_ms']:.2f} ms/frame"),
        ("  x264, frame threads", "", f"{b['x264_frame_threads_ms']:.2f} ms/frame"),
    ]
    for label, a, c in rows:
        print(f"{label:<36} {a:>12} {c:>16}")
    print(f"x264: cloudrender {ours['x264']}; ffmpeg {theirs['x264']}")
    print("\nper frame of the 3-layer render (each stage measured alone):")
    for key, label in (
        ("decode", "decode (shared by 2)"),
        ("composite", "composite"),
        ("encode", "encode"),
        ("serial_sum", "sum"),
    ):
        share = 100 * per[key] / per["serial_sum"] if per["serial_sum"] else 0.0
        print(f"  {label:<20} {per[key]:8.2f} ms  {share:5.1f}%")
    print(f"  {'render (pipelined)':<20} {per['render']:8.2f} ms")
    print(f"  {'sum - render':<20} {per['overlap_saved']:8.2f} ms  (overlap; negative: contention)")
    if "profile" in result:
        prof = result["profile"]
        print(
            f"\ncompositor profile, {prof['frames']} frames, {prof['ms_per_frame']:.1f} ms/frame "
            f"wall under cProfile, {prof.get('thread_cpu_ms_per_frame', 0):.1f} CPU of its thread, "
            f"{prof.get('process_cpu_ms_per_frame', 0):.1f} with the decoder's threads; "
            "CPU ms per frame:"
        )
        print("  own time (top functions):")
        for row in prof["own"]:
            print(f"  {row['tottime_ms_per_frame']:8.2f}  {row['calls']:>7}  {row['function']}")
        print("  total time, project functions:")
        for row in prof["cumulative"]:
            print(f"  {row['cumtime_ms_per_frame']:8.2f}  {row['calls']:>7}  {row['function']}")


def print_whole(whole: dict[str, Any]) -> None:
    """The whole-process comparison: medians per command, ratios to ffmpeg, the targets."""
    labels, median = whole["labels"], whole["median"]
    print(
        f"\nwhole processes, median of {whole['rounds']} round(s), {whole['frames']} frames; "
        "CPU = user + system of the process tree; memory = peak sum of Pss over the tree:"
    )
    for name, command in whole["commands"].items():
        print(f"  {labels[name]}: {command}")
    print(
        f"  {'':<30} {'wall s':>8} {'fps':>8} {'CPU s':>8} {'CPU ms/fr':>10} "
        f"{'Pss MiB':>8} {'RSS MiB':>8} {'max proc':>9} {'procs':>6}"
    )
    for name, m in median.items():
        print(
            f"  {labels[name]:<30} {m['wall_s']:8.2f} {m['fps']:8.2f} {m['cpu_s']:8.2f} "
            f"{m['cpu_per_frame_ms']:10.2f} {m['peak_pss_mib']:8.1f} {m['peak_rss_mib']:8.1f} "
            f"{m['max_process_mib']:9.1f} {m['processes']:6.0f}"
        )
    baselines = [(whole["baseline"], whole["targets"])]
    if whole.get("also_against"):
        baselines.append((whole["also_against"], whole["targets_also"]))
    for base, targets in baselines:
        print(f"  targets (ratio to {labels[base]}, median of each):")
        for t in targets:
            ratio = "n/a" if t["ratio"] is None else f"{t['ratio']:.3f}"
            bound = f"{'<=' if t['at_most'] else '>='} {t['limit']:.2f}"
            verdict = "met" if t["met"] else "NOT met"
            print(
                f"    {labels[t['command']]:<30} {t['metric']:<14} {ratio:>7}  {bound}  {verdict}"
            )
    others = max(m["others_cores"] for m in median.values())
    if others > QUIET_CORES:
        print(
            f"  note: other processes used {others:.2f} cores meanwhile "
            "(the busiest command's median)"
        )
    for name, m in median.items():
        if m["orphans"]:
            print(
                f"  note: {labels[name]}: {m['orphans']:.0f} process(es) outlived their parent "
                f"unreaped; adopted and reaped here: {m['cpu_orphans_s']:.2f} s of CPU that "
                "RUSAGE_CHILDREN alone would miss"
            )
    left = {run["name"]: run["left_running"] for run in whole["runs"] if run["left_running"]}
    for name, processes in left.items():
        print(f"  note: {labels[name]} left running (killed): {', '.join(processes)}")

"""The human-readable report of ``render_throughput.py``: rates, per-frame stages, profile."""

from __future__ import annotations

from typing import Any


def print_table(result: dict[str, Any]) -> None:
    """The human-readable report."""
    m, p = result["machine"], result["params"]
    ours, theirs, b = result["cloudrender"], result["ffmpeg"], result["breakdown"]
    per = b["per_frame_ms"]
    print(f"machine: {m['nproc']} cores, {m['cpu']}; {m['ffmpeg']}; PyAV {m['pyav']}")
    print(
        f"input: {p['size'][0]}x{p['size'][1]} @ {p['fps']} fps, {p['frames']} frames, "
        f"libx264 preset {p['preset']} crf {p['crf']} gop {p['gop']}"
        + (f", blur sigma {p['blur']}" if p["blur"] else "")
    )
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
        ("decode_2_sources", "decode (2 sources)"),
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
            "under cProfile; ms per frame:"
        )
        print("  own time (top functions):")
        for row in prof["own"]:
            print(f"  {row['tottime_ms_per_frame']:8.2f}  {row['calls']:>7}  {row['function']}")
        print("  total time, project functions:")
        for row in prof["cumulative"]:
            print(f"  {row['cumtime_ms_per_frame']:8.2f}  {row['calls']:>7}  {row['function']}")

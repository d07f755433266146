"""The node benchmark: how fast this node renders a fixed, generated 1080p project slice.

The slice is the same everywhere (its media are generated here from a fixed seed): a textured,
moving 1080p30 H.264 source with a stereo tone; on the bottom track two colour-corrected,
vignetted clips of it joined by a dissolve; above them the same video at half size, offset, at
0.8 opacity under a blur; a burned-in title over the whole slice; the clips' sounds mixed. It is
rendered through the real renderer (``workers.render.render_to_file``) as a chunk is (video
only, Matroska, the node's encoder thread cap), after a few untimed frames that pay the
process's first-render costs, then each stage is timed alone:

    decode      PyAV decode of the source, times the layers that show it per frame
    composite   the compositor alone (decode, scaling, colour, effects, blending), minus decode
    encode      the composited frames through the encoder the render opened, alone
    audio       the slice's audio mix (a separate task in a job; not part of the video rate)

A real render overlaps compositing with encoding, so with spare cores its wall time is below
the sum of the stages. Last, every slot renders the slice at once, each in a process of its own
(``workers.benchmark_beside``), then the slice alone once more (the two alone renders bracket
theirs): how much faster a chunk runs alone than beside the others.
The rate a node class is priced at is one worker slot's with every slot busy: a node runs one
chunk per slot at once. It is what each slot's render took beside the others; with one slot (or
when the slots' renders failed), a bound from the render alone: at least its CPU seconds shared
out over the cores each slot has, and at least its wall time. Why not that bound everywhere: the
first render alone ran slower than the slots side by side (1.54 s against 1.50 s on 2 vCPUs, and
1.15 s alone again, on the 2026-12-07 evening quiet run), so it priced a slot 15 % slower than
the slots' own renders said.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from pathlib import Path

import av

from chunking.complexity import complexity, pipeline_parallelism
from chunking.timeline.model import FileSource, Timeline
from chunking.timeline.studio import load_project
from common.errors import EncodeError
from workers.audio_mix import mix_timeline
from workers.benchmark_beside import beside_seconds
from workers.benchmark_result import BenchmarkResult
from workers.benchmark_slice import make_source, slice_project
from workers.compositor import Compositor
from workers.encoder import add_video_stream, choose_encoder, to_video_frame
from workers.fingerprint import render_fingerprint
from workers.gpus import gpu_stats
from workers.render import RenderSummary, render_to_file
from workers.sources import Rgb8
from workers.video_source import set_decoder_threads

#: Composited frames kept for the encode-only pass (a 1080p RGB frame is 6 MB).
ENCODE_BANK = 16


def run_benchmark(
    *,
    frames: int = 16,
    size: tuple[int, int] = (1920, 1080),
    threads: int | None = None,
    slots: int | None = None,
) -> BenchmarkResult:
    """Generate the slice, render it, time each stage; `threads` caps the encoder's threads as
    a worker's chunks are capped, `slots` is the node's worker slots (default: its vCPUs)."""
    if frames < 4:
        raise ValueError(f"frames must be at least 4, got {frames}")
    width, height = size
    if width < 64 or height < 64 or width % 2 or height % 2:
        raise ValueError(f"size {width}x{height}: sides must be even and at least 64")
    vcpus = _vcpus()
    slots = vcpus if slots is None else slots
    if slots < 1:
        raise ValueError(f"slots must be at least 1, got {slots}")
    with tempfile.TemporaryDirectory(prefix="cloudrender-benchmark-") as tmp:
        directory = Path(tmp)
        # Both base clips start at the source's first frame; the dissolve (a third of the
        # slice, centred on the cut) reads the outgoing one past the cut.
        make_source(directory / "source.mp4", width, height, frames // 2 + frames // 3 + 2)
        timeline = load_project(slice_project(width, height, frames), str(directory))
        units = complexity(timeline)
        pipeline = pipeline_parallelism(timeline)
        _warm_up(directory, width, height, threads)
        cpu_before = time.process_time()
        summary = _render_alone(timeline, directory / "render.mkv", threads)
        cpu = time.process_time() - cpu_before
        stages = _time_stages(directory / "source.mp4", timeline, threads)
        # Last: the slots' processes would slow the timed stages down.
        beside = beside_seconds(directory, size, frames, threads, slots)
        # Alone once more after them: the two alone renders bracket the slots' renders, so a
        # load that changed meanwhile is not taken for a speed-up (BenchmarkResult.alone_cores).
        again = _render_alone(timeline, directory / "again.mkv", threads).seconds if beside else 0.0
    wall = summary.seconds
    # A slot's seconds with every slot busy, what a node class is priced at: as the slots'
    # renders took them side by side where they ran; else bounded from the render alone.
    slot_seconds = (beside or max(wall, cpu * slots / vcpus)) / frames
    gpus = gpu_stats()
    return BenchmarkResult(
        frames=frames,
        width=width,
        height=height,
        units=round(units, 4),
        seconds=round(wall, 3),
        cpu_seconds=round(cpu, 3),
        fps=round(frames / wall, 3),
        slot_seconds_per_frame=round(slot_seconds, 5),
        seconds_per_unit=slot_seconds / units,
        stages={name: round(value, 5) for name, value in stages.items()},
        encoder=summary.encoder,
        hardware=summary.hardware,
        gpu=bool(gpus),
        gpu_model=gpus[0].name if gpus else "",
        vcpus=vcpus,
        slots=slots,
        fingerprint=render_fingerprint(),
        measured_at=time.time(),
        warnings=list(summary.warnings),
        pipeline=round(pipeline, 4),
        beside_seconds=round(beside or 0.0, 3),
        alone_again_seconds=round(again, 3),
    )


def _render_alone(timeline: Timeline, path: Path, threads: int | None) -> RenderSummary:
    """The slice rendered as a chunk renders it: video only (a job's audio is a task of its
    own), Matroska, the node's encoder thread cap."""
    return render_to_file(timeline, str(path), audio=False, file_format="matroska", threads=threads)


#: Frames of the untimed render before the timed one.
WARM_UP_FRAMES = 4


def _warm_up(directory: Path, width: int, height: int, threads: int | None) -> None:
    """Render a few frames of the slice, untimed: what a process pays once, at its first render
    (libraries loading, the title's font, the kernels' first calls), is no cost of a frame. A
    worker pays it once for all its chunks; timed, it put 0.5 s of CPU on 16 frames and priced
    the first job of the 2026-12-07 quiet run 40 % over its rate (docs/cost.md)."""
    timeline = load_project(slice_project(width, height, WARM_UP_FRAMES), str(directory))
    render_to_file(
        timeline,
        str(directory / "warm-up.mkv"),
        audio=False,
        file_format="matroska",
        threads=threads,
    )


def _vcpus() -> int:
    """CPUs this process may run on (a container's cpuset, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# -- the stages ------------------------------------------------------------------------------------


def _time_stages(source: Path, timeline: Timeline, threads: int | None) -> dict[str, float]:
    """Seconds per frame of decode, composite, encode and audio, each timed alone."""
    frames = timeline.frames
    layers = decoded_layer_frames(timeline)
    decode = _decode_seconds(source, frames, threads) * layers / frames
    bank: list[Rgb8] = []
    compositor = Compositor(timeline, decoder_threads=threads)
    try:
        began = time.perf_counter()  # opening the sources counts, as in a render
        compositor.open_range(0, frames)
        for rgb in compositor.frames(0, frames):
            if len(bank) < ENCODE_BANK:
                bank.append(rgb)
        composite = time.perf_counter() - began
    finally:
        compositor.close()
    encode = _encode_seconds(timeline, bank, frames, threads)
    began = time.perf_counter()
    mix_timeline(timeline)
    audio = time.perf_counter() - began
    return {
        "decode": decode,
        "composite": max(composite / frames - decode, 0.0),
        "encode": encode / frames,
        "audio": audio / frames,
    }


def decoded_layer_frames(timeline: Timeline) -> int:
    """Frames of video the slice decodes: each frame, one per video layer drawn (both sides
    of a running transition)."""
    clips = {clip.id: clip for track in timeline.video_tracks() for clip in track.clips}
    total = 0
    for t in range(timeline.frames):
        shown = {c.id for c in clips.values() if c.start <= t < c.end}
        for tr in timeline.transitions:
            if tr.start <= t < tr.end:
                shown |= {tr.from_clip, tr.to_clip}
        total += sum(1 for cid in shown if isinstance(clips[cid].source, FileSource))
    return total


def _decode_seconds(source: Path, frames: int, threads: int | None) -> float:
    """Seconds per decoded frame of the source: PyAV decode alone, no RGB conversion."""
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        set_decoder_threads(stream, threads)  # as a slot's render decodes
        count = 0
        began = time.perf_counter()
        for _ in container.decode(stream):
            count += 1
            if count >= frames:
                break
        seconds = time.perf_counter() - began
    return seconds / max(count, 1)


def _encode_seconds(
    timeline: Timeline, bank: list[Rgb8], frames: int, threads: int | None
) -> float:
    """Seconds to encode `frames` composited frames (cycling the bank) and flush, in memory."""
    choice = choose_encoder(timeline.export)
    buffer = io.BytesIO()
    try:
        with av.open(buffer, "w", format="matroska") as container:
            stream = add_video_stream(
                container,
                choice,
                timeline.width,
                timeline.height,
                timeline.fps,
                timeline.export,
                threads,
            )
            stream.codec_context.open()  # a per-chunk cost, not a per-frame one
            began = time.perf_counter()
            for index in range(frames):
                frame = to_video_frame(bank[index % len(bank)], choice)
                frame.pts = index
                frame.time_base = 1 / timeline.fps
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
            return time.perf_counter() - began
    except av.error.FFmpegError as exc:
        raise EncodeError(f"benchmark: encoding with {choice.name} failed: {exc}") from None

"""Mixing a timeline's audio into one stereo float32 buffer at the timeline's sample rate.

Each clip's sound is read from its source (``workers.audio_source``: decoded lazily from its
``source_start``, resampled) and added into the mix block by block, so memory stays bounded by
the mix itself however long the sources are.

A clip with audio effects (its own, then its track's; ``workers.audio_effects``) is decoded
whole into a buffer of its own first (so memory grows by that clip): source -> clip effects ->
clip volume and fades -> track effects -> track volume, as a channel strip orders inserts and
faders. ``workers.audio_effects_plan`` turns tempo changes and crossfades into how the clip is
read; clips that duck are mixed last, listening to the rest (``audio_effects_ducking``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt

from chunking.timeline.model import Clip, FileSource, Timeline, TrackKind
from common.errors import TimelineError
from workers.audio_effects import run_chain
from workers.audio_effects_ducking import KeyFor, mix_ducking
from workers.audio_effects_plan import ClipPlan, plan_clips
from workers.audio_source import Samples as Samples  # re-exported: audio, audio_encode
from workers.audio_source import Window, clip_audio
from workers.audio_volume_keys import clip_key_gains, lead_seconds
from workers.reverse_audio import forward_span, reversed_blocks

#: The mix is one array; past this it would be safer to fail the job than to thrash the node.
MAX_MIX_BYTES = 4 * 1024**3

#: Output samples handled per step; bounds the per-clip working memory.
BLOCK = 1 << 16

#: Files a video track may hold that never carry sound; not worth opening with FFmpeg.
STILL_IMAGE_SUFFIXES = frozenset(
    {
        ".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".heic",
        ".heif", ".avif", ".svg", ".tga", ".exr", ".dpx", ".psd", ".ico",
    }
)  # fmt: skip

_HALF = Fraction(1, 2)


def mix_length(timeline: Timeline) -> int:
    """Number of samples in the timeline's mix: frames / fps * sample_rate, rounded half up."""
    _check_rates(timeline)
    return math.floor(Fraction(timeline.frames) / timeline.fps * timeline.sample_rate + _HALF)


def sample_offset(frame: int, timeline: Timeline) -> int:
    """First mix sample at or after the start of a timeline frame (exact, floored)."""
    return math.floor(Fraction(frame) / timeline.fps * timeline.sample_rate)


def mix_problem(timeline: Timeline) -> str | None:
    """Why the timeline's audio mix cannot be held in memory (over ``MAX_MIX_BYTES``), or None:
    what validate and submit refuse of a timeline with sound, as the render would."""
    needed = 2 * mix_length(timeline) * np.dtype(np.float32).itemsize
    if needed <= MAX_MIX_BYTES:
        return None
    return (
        f"timeline is {float(timeline.frames / timeline.fps) / 3600:.2f} h long; its audio "
        f"mix at {timeline.sample_rate} Hz would need {needed / 1024**3:.1f} GiB, over the "
        f"{MAX_MIX_BYTES / 1024**3:.0f} GiB limit: split the render or lower the sample rate"
    )


def mix_timeline(timeline: Timeline, notes: list[str] | None = None) -> Samples:
    """Mix every audible clip of the timeline into a (2, N) float32 array clipped to [-1, 1];
    when the sum went past full scale (and was clipped), say so in ``notes``."""
    problem = mix_problem(timeline)
    if problem is not None:
        raise TimelineError(problem)
    mix = np.zeros((2, mix_length(timeline)), dtype=np.float32)
    plans = plan_clips(timeline)
    # Summation order is fixed (track order, then clip order, ducking clips last) so the result
    # is bit-identical from run to run even though float addition is not associative.
    for plan in plans:
        if not plan.ducks:
            _mix_clip(mix, plan, timeline)
    mix_ducking(
        mix, plans, lambda dest, plan, base, key: _mix_clip(dest, plan, timeline, base, key)
    )
    if notes is not None and (note := clipping_note(mix, timeline.sample_rate)):
        notes.append(note)
    np.clip(mix, -1.0, 1.0, out=mix)
    return mix


def clipping_note(mix: Samples, rate: int) -> str | None:
    """What a listener hears of the mix's samples past full scale (clipping), or None."""
    # Block by block: a whole-mix abs() would double the memory of an hour-long mix.
    peak, over, first = 0.0, 0, None
    for b0 in range(0, mix.shape[1], BLOCK):
        loud = np.abs(mix[:, b0 : b0 + BLOCK]).max(axis=0)
        clipped = np.flatnonzero(loud > 1.0)
        if clipped.size:
            peak = max(peak, float(loud.max()))
            over += int(clipped.size)
            first = b0 + int(clipped[0]) if first is None else first
    if first is None:
        return None
    return (
        f"the audio mix goes {20 * math.log10(peak):.1f} dB over full scale, first at "
        f"{first / rate:.2f} s ({over} samples, {over / rate:.3f} s, clipped): it will sound "
        "distorted; lower the volume of the loudest clips or tracks, or limit them "
        "(audiolimiter)"
    )


def _check_rates(timeline: Timeline) -> None:
    if timeline.fps <= 0:
        raise TimelineError(f"timeline fps must be positive, got {timeline.fps}")
    if timeline.sample_rate <= 0:
        raise TimelineError(f"timeline sample_rate must be positive, got {timeline.sample_rate}")
    if timeline.frames < 0:
        raise TimelineError(f"timeline frames must not be negative, got {timeline.frames}")


@dataclass(frozen=True)
class _Placement:
    """Where a clip's samples go and how they are read from its source."""

    offset: int  # buffer index of the clip's first sample (may be outside the buffer)
    length: int  # clip length in mix samples
    lo: int  # first clip-relative sample that lands inside the buffer
    hi: int  # one past the last one
    source_rate: int  # rate the source is resampled to before the speed change
    step: float  # source samples (at source_rate) per mix sample


def _place(clip: Clip, timeline: Timeline, base: int, size: int) -> _Placement | None:
    """Where the clip lands in a buffer holding mix samples [base, base + size)."""
    if clip.speed <= 0:
        raise TimelineError(f"clip {clip.id}: speed must be positive, got {clip.speed}")
    rate = timeline.sample_rate
    offset = sample_offset(clip.start, timeline)
    length = sample_offset(clip.end, timeline) - offset
    offset -= base
    lo, hi = max(0, -offset), min(length, size - offset)
    if lo >= hi:
        return None
    # Resampling to rate / speed lets swresample band-limit the change; the speed is then just
    # a change of rate. Rounding that rate to an integer leaves a ratio within a few ppm of 1,
    # taken up by linear interpolation so the clip covers exactly the source span it should.
    source_rate = rate if clip.speed == 1 else max(1, round(rate / clip.speed))
    step = clip.speed * source_rate / rate
    return _Placement(offset, length, lo, hi, source_rate, step)


def _mix_clip(
    dest: Samples, plan: ClipPlan, timeline: Timeline, base: int = 0, key: KeyFor | None = None
) -> None:
    """Add the plan's clip into ``dest``, which holds mix samples [base, base + its width)."""
    clip, track = plan.clip, plan.track
    if clip.muted or not isinstance(clip.source, FileSource):
        return
    gain = clip.volume * track.volume
    if gain == 0:
        return
    place = _place(clip, timeline, base, dest.shape[1])
    if place is None:
        return
    path = clip.source.path
    if track.kind is TrackKind.VIDEO and Path(path).suffix.lower() in STILL_IMAGE_SUFFIXES:
        return
    buffer: Samples | None = None
    # Never decode (or pad with silence) more than the interpolation will look at.
    lo = 0 if plan.buffered else place.lo  # effects start where the clip does
    last = forward_span(place.length, lo, place.hi)[1] if clip.reverse else place.hi
    limit = math.floor((last - 1) * place.step) + 2
    with clip_audio(clip, path, place.source_rate, limit) as window:
        if window is None:
            return  # a video without sound, or an image: silence

        def read(lo: int, hi: int) -> Iterator[tuple[int, int, Samples]]:
            """The clip's samples [lo, hi) (played backwards: workers.reverse_audio)."""
            if not clip.reverse:
                return _read(window, place, lo, hi)
            ahead = functools.partial(_read, window, place)
            return reversed_blocks(ahead, window.channels, place.length, lo, hi, BLOCK)

        if plan.buffered:
            # Effects start where the clip does, even where the mix cuts it off.
            buffer = np.zeros((window.channels, place.hi), dtype=np.float32)
            for b0, b1, chunk in read(0, place.hi):
                buffer[:, b0:b1] = chunk
        else:
            for b0, b1, chunk in read(place.lo, place.hi):
                chunk *= _envelope(b0, b1, place, clip, timeline, gain)
                dest[:, place.offset + b0 : place.offset + b1] += chunk
    if buffer is not None:
        _add_processed(dest, buffer, plan, place, timeline, key)


def _add_processed(
    dest: Samples,
    buffer: Samples,
    plan: ClipPlan,
    place: _Placement,
    timeline: Timeline,
    key: KeyFor | None,
) -> None:
    """Run the clip's chains over its decoded buffer and add the audible part into dest."""
    clip, rate = plan.clip, timeline.sample_rate
    first = sample_offset(clip.start, timeline)

    def frame_index(frame: int) -> int:
        return sample_offset(frame, timeline) - first

    heard = key(plan, first, place.hi) if key is not None and plan.ducks else None
    buffer = run_chain(buffer, plan.pre, rate, frame_index, clip.id, heard)
    for b0 in range(0, place.hi, BLOCK):
        b1 = min(b0 + BLOCK, place.hi)
        buffer[:, b0:b1] *= _envelope(b0, b1, place, clip, timeline, clip.volume)
    buffer = run_chain(buffer, plan.post, rate, frame_index, clip.id, heard)
    buffer *= np.float32(plan.track.volume)
    dest[:, place.offset + place.lo : place.offset + place.hi] += buffer[:, place.lo :]


def _read(
    window: Window, place: _Placement, lo: int, hi: int
) -> Iterator[tuple[int, int, Samples]]:
    """Clip samples [lo, hi) at the mix rate, block by block: (b0, b1, samples)."""
    for b0 in range(lo, hi, BLOCK):
        b1 = min(b0 + BLOCK, hi)
        if place.step == 1.0:
            chunk = window.read(b0, b1)
        else:
            # Positions come from the absolute clip index, so rounding never accumulates.
            pos = np.arange(b0, b1, dtype=np.float64) * place.step
            base = np.floor(pos)
            frac = (pos - base).astype(np.float32)
            first = int(base[0])
            idx = base.astype(np.int64) - first
            src = window.read(first, int(base[-1]) + 2)
            left = src[:, idx]
            chunk = left + (src[:, idx + 1] - left) * frac
        yield b0, b1, chunk


def _envelope(
    b0: int, b1: int, place: _Placement, clip: Clip, timeline: Timeline, gain: float
) -> npt.NDArray[np.float32]:
    """The gain on clip samples [b0, b1): ``gain`` times its volume keys and sound fades."""
    rate, length = timeline.sample_rate, place.length
    env = np.full(b1 - b0, gain, dtype=np.float64)
    index = np.arange(b0, b1, dtype=np.float64)
    if clip.volume_keys:
        first = sample_offset(clip.start, timeline)
        lead = lead_seconds(first, rate, clip.start, timeline.fps)
        env *= clip_key_gains(clip.volume_keys, b0, b1, rate, lead)
    if clip.fade_in > 0:
        env *= np.minimum(1.0, index / (clip.fade_in * rate))
    if clip.fade_out > 0:
        env *= np.minimum(1.0, (length - index) / (clip.fade_out * rate))
    return env.astype(np.float32)

"""Where each frame of a video file is: its presentation times and keyframes, read once from
the packets, and which frame is shown at a given time.

Packets a container marks to be discarded (those before the cut of an MP4 trimmed without
re-encoding, kept only to decode what follows) are no frames: the decoder never returns them,
though a keyframe among them is where decoding starts. A source whose frames sit on a constant
grid (every one within a tick of it) is sampled on that grid: Matroska stores times to the
millisecond, and choosing among the rounded times would repeat and skip frames whenever the
sampled time falls within a millisecond of a frame's start (a 29.97 fps source, say).
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from common.errors import DecodeError

#: Slack (in frames) when sampling on a frame grid: times given as decimal seconds land a hair
#: either side of the frame start they mean.
_GRID_SLACK = Fraction(1, 10**6)
#: Rates this close are one rate written two ways (2997/100 and 30000/1001 differ by 1 ppm).
_SAME_RATE = Fraction(1, 10**4)
#: Frames an index holds at most: a day at 120 fps, four days at 30 fps (a 25-hour recording
#: at 30 fps is 2.7 million frames, a quarter of it). A file holding more is crafted or broken
#: (a stream of 15-byte packets made 190 bytes of index each while it was read, 41 kept: a 1 GB
#: upload would have taken 12 GB of a render node's memory, again on every chunk), and no
#: timeline (24 hours at most) shows that many frames of one file but at a speed no editor
#: exports.
MAX_INDEX_FRAMES = 86_400 * 120
_CACHE: dict[tuple[str, int, int, int], VideoIndex] = {}
_CACHE_SIZE = 64
#: Frames the cache keeps in all (41 bytes each: 850 MB). Bounded in entries alone, 64 files
#: near MAX_INDEX_FRAMES (one crafted file copied under 64 names) kept 27 GB in a worker.
_CACHE_FRAMES = 2 * MAX_INDEX_FRAMES
_COMMON_RATES = tuple(
    Fraction(n, d)
    for n, d in [(24000, 1001), (24, 1), (25, 1), (30000, 1001), (30, 1), (48, 1), (50, 1),
                 (60000, 1001), (60, 1), (120000, 1001), (120, 1)]
)  # fmt: skip


@dataclass(frozen=True)
class VideoIndex:
    """A video stream's frame times and keyframes (in its time base), and its frame grid."""

    pts: list[int]
    keyframes: list[int]
    time_base: Fraction
    #: frames per second when every frame sits on a constant grid, else None
    grid: Fraction | None = None
    #: the file it indexes: (path, size, mtime_ns, stream index)
    file: tuple[str, int, int, int] = ("", 0, 0, 0)
    #: when each frame is shown, where that is not its time (a GIF's too-short delays)
    shown: list[int] | None = None
    #: where the file's time 0 is, when that is before its first decodable frame (a
    #: recording that starts mid-GOP: its sound starts there too)
    start: int | None = None
    #: where a seek goes for a keyframe whose first frame shown is not its own packet's time:
    #: an AVI's open-GOP I-frame, shown after the leading B-frames a decode from it drops
    entries: dict[int, int] = dataclasses.field(default_factory=dict)

    @property
    def first(self) -> int:
        """The presentation time of the file's start (its first frame's, as a rule)."""
        return self.pts[0] if self.start is None else self.start

    @property
    def times(self) -> list[int]:
        """When each frame is shown, in the time base."""
        return self.pts if self.shown is None else self.shown

    def shown_at(self, seconds: Fraction, step: Fraction = Fraction(0)) -> int:
        """The presentation time of the frame shown over an output frame that starts this many
        seconds after the first one and lasts `step` seconds of the source: the last frame
        that starts before its middle (at or before `seconds` when `step` is 0); the first
        frame before it, the last one after the end."""
        # The middle, as ffmpeg's fps filter (and editors) sample: 29.97 fps footage on a 30
        # fps timeline shows frame n at output frame n until the rates drift half a frame
        # apart, where taking the last frame started by the instant showed frame 0 twice and
        # every frame one late for 33 s. A recorder's jitter (a phone's +-1 ms) is far inside
        # half a frame, and a frame is never shown more than half an output frame early.
        middle = seconds + step / 2
        if self.grid is not None:
            lead = (self.times[0] - self.first) * self.time_base
            at = (middle - lead) * self.grid
            # A frame that starts at the middle belongs to the next output frame (ffmpeg rounds
            # halves up); times given as decimal seconds land a hair either side of it.
            index = math.ceil(at - _GRID_SLACK) - 1 if step else math.floor(at + _GRID_SLACK)
            return self.pts[min(max(index, 0), len(self.pts) - 1)]
        # Containers round timestamps to their tick: at an instant, half a tick of slack keeps
        # a frame whose true time is exactly the target from reading as "later"; a middle is
        # compared with the rounded times as they are (ffmpeg's choice too).
        times = self.times
        if step:
            index = bisect.bisect_left(times, self.first + middle / self.time_base) - 1
        else:
            target = self.first + seconds / self.time_base + Fraction(1, 2)
            index = bisect.bisect_right(times, target) - 1
        return self.pts[max(index, 0)]

    def missing_frame(self, wanted: int, path: str) -> str:
        """Why the decoder gave no frame at `wanted`: frames that share a time (a broken
        timing table, which the decoder's reordering loses frames over, as validate finds it
        out of order), else an undecodable frame."""
        shared = next((a for a, b in zip(self.pts, self.pts[1:], strict=False) if a == b), None)
        if shared is not None:
            return out_of_order(path, (shared - self.first) * self.time_base)
        return f"frame at {float(wanted * self.time_base):.3f}s cannot be decoded from {path}"

    def seek_point(self, key: int) -> int:
        """The packet time a seek goes to for the keyframe that starts showing at `key`."""
        return self.entries.get(key, key)

    def keyframe(self, wanted: int, back: int = 0) -> int | None:
        """The keyframe at or before the frame at `wanted`, `back` keyframes earlier still;
        None when that is before the first (decode from the file's start)."""
        index = bisect.bisect_right(self.keyframes, wanted) - 1 - back
        return self.keyframes[index] if index >= 0 else None


def out_of_order(path: str, seconds: Fraction) -> str:
    """The problem of a file whose frames come out of the decoder out of time order (validate's
    and the render's words)."""
    return (
        f"the frame times of {path} are out of order at {float(seconds):.3f}s: its timing "
        "table is broken (re-export the file)"
    )


def video_index(container: Any, stream: Any, path: str) -> VideoIndex:
    """The index of a file's video stream, built once per (path, size, mtime, stream) in this
    process: indexing reads every packet, which dominates a chunk's start for long sources."""
    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns, stream.index)
    if key not in _CACHE:
        index = dataclasses.replace(build_index(container, stream), file=key)
        size = len(index.pts)
        # Oldest first out, until both bounds hold (a source in use keeps its own index).
        while _CACHE and (len(_CACHE) >= _CACHE_SIZE or _cached_frames() + size > _CACHE_FRAMES):
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = index
    return _CACHE[key]


def _cached_frames() -> int:
    """Frames the cached indexes hold in all."""
    return sum(len(index.pts) for index in _CACHE.values())


def build_index(container: Any, stream: Any) -> VideoIndex:
    """Read every packet of the stream: the frames' presentation times and the keyframes."""
    pts: list[int] = []
    keys: list[int] = []
    lasting: dict[int, int] = {}
    counted = _reordered(container, stream)
    opened: list[tuple[int, int]] = []  # open-GOP I-frames and their leading B-frames
    leading: list[int] | None = None  # the I-frame whose leading B-frames are being counted
    gif = container.format.name == "gif"  # only a GIF's frame durations are kept: memory
    for packet in container.demux(stream):
        if packet.pts is None or packet.size == 0:
            continue
        if len(pts) >= MAX_INDEX_FRAMES:
            name = str(container.name).removeprefix("file:")
            raise DecodeError(
                f"the video of {name} holds over {MAX_INDEX_FRAMES:,} frames (a day at 120 "
                "fps), more than a render indexes: cut the part the clips use into a file of "
                "its own (else it is a crafted or broken file)"
            )
        data = bytes(packet) if counted is not None else b""
        if leading is not None:
            kind = slice_type(data) if counted == "h264" else None
            if kind == _B_SLICE:
                leading[1] += 1
            else:
                if kind is not None:  # unreadable: not an entry point, as before
                    opened.append((leading[0], leading[1]))
                leading = None
        if packet.is_keyframe and (counted is None or starts_closed(data, counted)):
            keys.append(packet.pts)
        elif packet.is_keyframe and counted == "h264":
            leading = [packet.pts, 0]
        if not packet.is_discard:
            pts.append(packet.pts)
            if gif:
                lasting[packet.pts] = packet.duration or 0
    pts.sort()
    entries = _open_entries(pts, opened)
    keys = sorted({*keys, *entries})
    start = None
    if keys and pts and keys[0] > pts[0]:
        # A recording that starts mid-GOP (a TS capture, a byte-split file): the frames before
        # its first keyframe refer to frames that are not in it and cannot be decoded. They
        # show the first keyframe, held, as a clip starting before its media does; the sound
        # keeps its place.
        start, pts = pts[0], [t for t in pts if t >= keys[0]]
    if pts and not keys:
        keys.append(pts[0])  # decoding must start somewhere: the first packet
    time_base = Fraction(stream.time_base)
    nominal = (stream.average_rate, stream.guessed_rate, stream.base_rate)
    shown = _gif_times(pts, lasting, time_base) if gif else None
    grid = frame_grid(shown or pts, time_base, () if shown else nominal)
    return VideoIndex(pts, keys, time_base, grid, shown=shown, start=start, entries=entries)


def _open_entries(pts: list[int], opened: list[tuple[int, int]]) -> dict[int, int]:
    """Where each open-GOP I-frame of a counted stream starts showing, and its packet time.

    Without these, an open-GOP AVI (x264's open-gop) had one keyframe, its first, and a chunk
    late in it decoded the file from the start. A decode from such an I-frame drops the
    `leading` B-frames decoded after it and shown before it; every frame decoded before it is
    shown before it too, so it is shown at its own place in decode order plus `leading`, and
    the frames from there on come out of that decode as they come out of one from the start.
    """
    entries: dict[int, int] = {}
    for packet_time, leading in opened:
        shown = bisect.bisect_left(pts, packet_time) + leading
        if shown < len(pts):
            entries[pts[shown]] = packet_time
    return entries


def counted_order(container: Any, stream: Any) -> str | None:
    """The codec ("h264", "hevc") of a stream whose frames are numbered in decode order, not
    timed: AVI holds no presentation times, and FFmpeg numbers reordered frames as it reads
    them (``VideoSource`` numbers them again as shown); None for the rest (and for a stream
    with no decoder, which is refused elsewhere naming the clip)."""
    if stream.codec_context is None:
        return None
    name = stream.codec_context.name
    return name if container.format.name == "avi" and name in ("h264", "hevc") else None


def _reordered(container: Any, stream: Any) -> str | None:
    """The codec of a counted stream (counted_order) that has B-frames, whose keyframes must be
    IDR pictures to number the frames decoded from them; None for the rest."""
    if stream.codec_context is None or not stream.codec_context.has_b_frames:
        return None
    return counted_order(container, stream)


#: NAL unit types of a picture no later-decoded picture is shown before: H.264's IDR, HEVC's
#: IDR_W_RADL and IDR_N_LP.
_CLOSED_NALS = {"h264": (0x1F, 0, {5}), "hevc": (0x7E, 1, {19, 20})}


def starts_closed(data: bytes, codec: str) -> bool:
    """Whether a keyframe packet holds an IDR picture (Annex B or 4-byte length prefixed).

    An open GOP's I-frame (x264's open-gop, HEVC's CRA) is shown after the frames decoded next
    (its leading B-frames), which a decode starting at it drops: frames numbered as decoded from
    there were one place early, and a chunk starting past such a keyframe showed the wrong
    frames, or failed on the last one, where the whole render did not."""
    mask, shift, closed = _CLOSED_NALS[codec]
    if data.startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01")):
        units = [data[i + 3] for i in _starts(data) if i + 3 < len(data)]
    else:
        units, at = [], 0
        while at + 4 < len(data):
            units.append(data[at + 4])
            at += 4 + int.from_bytes(data[at : at + 4], "big")
    return any((unit & mask) >> shift in closed for unit in units)


#: H.264's slice_type of a B slice (slice_type mod 5).
_B_SLICE = 1


def slice_type(data: bytes) -> int | None:
    """The type (mod 5: 0 P, 1 B, 2 I, 3 SP, 4 SI) of an Annex B H.264 packet's first slice;
    None where it has no slice that can be read."""
    for at in _starts(data):
        if at + 3 < len(data) and data[at + 3] & 0x1F in (1, 5):
            # Two Exp-Golomb numbers (first_mb_in_slice, slice_type) fit in 16 bytes; the
            # emulation-prevention bytes among them are not part of the syntax.
            payload = data[at + 4 : at + 20].replace(b"\x00\x00\x03", b"\x00\x00")
            bits = "".join(f"{byte:08b}" for byte in payload)
            numbers, position = [], 0
            for _ in range(2):
                zeros = len(bits) - len(bits[position:].lstrip("0")) - position
                end = position + 2 * zeros + 1
                if zeros > 20 or end > len(bits):
                    return None
                numbers.append(int(bits[position + zeros : end], 2) - 1)
                position = end
            return numbers[1] % 5
    return None


def _starts(data: bytes) -> list[int]:
    """Where each 3-byte start code (00 00 01) of an Annex B packet begins."""
    found, at = [], data.find(b"\x00\x00\x01")
    while at >= 0:
        found.append(at)
        at = data.find(b"\x00\x00\x01", at + 3)
    return found


#: A GIF frame delay browsers show as 100 ms, because it is shorter than 20 ms ("as fast as
#: possible" tools write 10 ms; FFmpeg's demuxer keeps it, which played such GIFs 10x fast).
_GIF_MIN_DELAY, _GIF_DEFAULT_DELAY = Fraction(2, 100), Fraction(10, 100)


def _gif_times(pts: list[int], lasting: dict[int, int], time_base: Fraction) -> list[int] | None:
    """When a GIF's frames are shown, as browsers show them; None when that is their times."""
    delays = [b - a for a, b in zip(pts, pts[1:], strict=False)]
    delays.append(lasting.get(pts[-1], 0) if pts else 0)
    if all(d * time_base >= _GIF_MIN_DELAY for d in delays[:-1]):
        return None
    default = max(1, round(_GIF_DEFAULT_DELAY / time_base))
    shown, at = [], pts[0]
    for delay in delays:
        shown.append(at)
        at += delay if delay * time_base >= _GIF_MIN_DELAY else default
    return shown


def frame_grid(
    pts: list[int], time_base: Fraction, nominal: tuple[Any, ...] = ()
) -> Fraction | None:
    """The frame rate of frames that all sit within a tick of a constant grid, else None: the
    first of the stream's `nominal` rates and the common ones that fits (30000/1001, not the
    average of times rounded to the millisecond), else the measured one."""
    if len(pts) < 3 or len(set(pts)) != len(pts):
        return None
    measured = Fraction(pts[-1] - pts[0], len(pts) - 1) * time_base
    if measured <= 0:
        return None
    candidates = [Fraction(r) for r in nominal if r] + list(_COMMON_RATES)
    for rate in [*candidates, 1 / measured]:
        if abs(rate * measured - 1) > Fraction(1, 1000):
            continue
        # A decimal NTSC rate (2997/100: `ffmpeg -r 29.97`, a QuickTime timescale of 2997) is
        # the NTSC rate it writes down: on its own grid a 30000/1001 timeline showed frame 1
        # twice and then every frame one late. Its frames drift from the NTSC grid by a tick
        # every few minutes, so they need only stay within a quarter frame of it.
        common = next((c for c in _COMMON_RATES if abs(rate / c - 1) <= _SAME_RATE), None)
        if common is not None and _on_grid(pts, time_base, common, frames=Fraction(1, 4)):
            return common
        if _on_grid(pts, time_base, rate):
            return rate
    return None


def _on_grid(
    pts: list[int], time_base: Fraction, rate: Fraction, frames: Fraction = Fraction(0)
) -> bool:
    """Whether every frame is within a tick (or ``frames`` of a frame, if more) of the grid
    of `rate` from the first."""
    step = float(1 / (rate * time_base))
    slack = max(1.0, float(frames) * step)
    return all(abs(t - pts[0] - k * step) <= slack for k, t in enumerate(pts))

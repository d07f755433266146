"""What the clips use of their media, and the checks made on that part only.

A file cut short (a camera that died, an interrupted copy) is refused only when a clip plays
past where its data ends: a clip using the intact head of it renders fine. ``validate`` also
decodes those ranges (``workers.probe_decode``).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import av.error

from chunking.timeline.model import IMAGE_EXTENSIONS, Clip, FileSource, Timeline, TrackKind
from common.errors import MediaError
from workers.media_open import open_media, picture_stream, reason
from workers.sources import collapsed_times, is_still
from workers.video_index import build_index

_JUST_BEFORE = Fraction(1, 1_000_000)  # seconds: "just before" a source out-point

#: Packets read from a seek, looking for where a file cut short ends: a bound, not a GOP size.
TAIL_PACKETS = 4096


@dataclass(frozen=True)
class Span:
    """The source seconds a clip reads of its file (from its first frame), and how."""

    clip: Clip
    kind: TrackKind
    start: Fraction
    end: Fraction
    audible: bool
    #: the timeline frames [first, last) it is drawn over, at ``fps``
    frames: tuple[int, int] = (0, 0)
    fps: Fraction = Fraction(1)

    def samples(self) -> Iterator[tuple[Fraction, Fraction]]:
        """Where the compositor samples the source on each frame the clip is drawn in, in
        source order (a reversed clip's last frame first), one at a time."""
        frames = range(*self.frames)
        for f in frames[::-1] if self.clip.reverse else frames:
            yield source_sample(self.clip, f, self.fps)


def clip_spans(timeline: Timeline) -> dict[str, list[Span]]:
    """The source range each clip of an enabled track reads, by its file's path (the drawn
    window of a clip in a transition included; image sequences and subtitles left out)."""
    drawn = {c.id: (c.start, c.end) for t in timeline.tracks for c in t.clips}
    for tr in timeline.transitions:
        for cid in (tr.from_clip, tr.to_clip):
            if cid in drawn:
                lo, hi = drawn[cid]
                drawn[cid] = (min(lo, tr.start), max(hi, tr.end))
    spans: dict[str, list[Span]] = {}
    for track in timeline.tracks:
        if not track.enabled or track.kind is TrackKind.SUBTITLE:
            continue
        for clip in track.clips:
            if not isinstance(clip.source, FileSource) or clip.source.sequence is not None:
                continue
            lo, hi = drawn[clip.id]
            # A reversed clip's frames [lo, hi) read its forward ones [mirror(hi - 1), mirror(lo)].
            a, b = (clip.mirrored(hi - 1), clip.mirrored(lo) + 1) if clip.reverse else (lo, hi)
            times = sorted((_source_time(clip, a, timeline.fps), _end_time(clip, b, timeline)))
            audible = not (track.muted or track.volume == 0 or clip.muted or clip.volume == 0)
            first = max(times[0], Fraction(0))
            span = Span(clip, track.kind, first, times[1], audible, (lo, hi), timeline.fps)
            spans.setdefault(clip.source.path, []).append(span)
    return spans


def source_sample(clip: Clip, frame: int, fps: Fraction) -> tuple[Fraction, Fraction]:
    """Where the compositor samples a clip's source on a timeline frame: the source time of the
    frame's start (0 before the source, just before `source_end` past it) and the frame's length
    in source time, cut so that its middle stays within those (VideoIndex.shown_at's step)."""
    speed = Fraction(str(clip.speed))
    frame = clip.mirrored(frame)  # a reversed clip shows its forward frames in reverse order
    seconds = Fraction(str(clip.source_start)) + (frame - clip.start) * speed / fps
    middle = seconds + speed / fps / 2
    if clip.source_end is not None:
        end = Fraction(str(clip.source_end))
        seconds, middle = min(seconds, end - _JUST_BEFORE), min(middle, end)
    seconds = max(seconds, Fraction(0))
    return seconds, max(2 * (middle - seconds), Fraction(0))


def _source_time(clip: Clip, frame: int, fps: Fraction) -> Fraction:
    """The compositor's source time of a timeline frame (start, speed, then source_end)."""
    seconds = (
        Fraction(str(clip.source_start)) + (frame - clip.start) * Fraction(str(clip.speed)) / fps
    )
    if clip.source_end is not None:
        seconds = min(seconds, Fraction(str(clip.source_end)))
    return seconds


def _end_time(clip: Clip, end: int, timeline: Timeline) -> Fraction:
    """Where in its source a clip's last frame ends (its sound plays to there)."""
    return _source_time(clip, end, timeline.fps)


def needed_end(spans: list[Span]) -> Fraction:
    """The latest source second any of these spans reads."""
    return max(s.end for s in spans)


# -- a file cut short ----------------------------------------------------------------------


def cut_problem(
    container: Any, stream: Any, path: str, until: Fraction | None = None
) -> str | None:
    """Why the stream cannot be read to ``until`` source seconds (to its declared end where
    None or later): a file cut short; None when it can, or nothing says how long it is.

    The render fails on the first frame past the cut, or (Matroska, WebM) freezes on the last
    frame there is; reading from the last keyframe before the point wanted finds the cut
    without reading the whole file. The end declared is the stream's, else the container's
    (Matroska's segment duration). A seek to the very end finds nothing in some formats (PCM),
    so a second look starts a second earlier; nothing there either means the packets the index
    names are not in the file.
    """
    if container.format.name == "gif":
        return _gif_cut(container, stream, path, until)
    found_end = _declared_end(container, stream)
    if found_end is None or not stream.time_base:
        return None  # no declared length to compare with (e.g. MPEG-TS)
    declared, every = found_end
    base = Fraction(stream.time_base)

    def seconds(at: int) -> float:
        """A time of the stream in the seconds clips give (``source_start``): from its start."""
        return float((at - (stream.start_time or 0)) * base)

    end = declared
    if until is not None:
        end = min(declared, (stream.start_time or 0) + math.ceil(until / base))
    whole = end == declared
    for target in (end, end - round(1 / base)):
        try:
            container.seek(max(target, 0), stream=stream, backward=True, any_frame=False)
        except (av.error.FFmpegError, OSError):
            return None  # not seekable: the first frames are all a cheap check can read
        try:
            found = _packets_to(container, stream, None if whole else end, every)
        except (av.error.FFmpegError, OSError) as exc:
            return f"cannot open {path}: {reason(exc)}"
        if found is None:
            continue
        corrupt, reached, step = found
        if corrupt is not None:
            # Where the intact part ends, so the user knows how much of the take survived.
            where = "" if reached is None else f": it holds about {seconds(reached):.3f}s"
            return f"{path} is cut short: its last {corrupt} packet is incomplete{where}"
        # Two packets of slack: edit lists and priming may shift the last timestamp a little
        # (a second where only the container declares the length: it rounds; a fifth of one
        # by a Matroska tag, whose packets may carry no durations to reach it with).
        slack = 2 * step
        if not stream.duration:
            slack = max(slack, round((1 if every else Fraction(1, 5)) / base))
        if reached is not None and reached < end - slack:
            what = "data" if every else stream.type
            return (
                f"{path} is cut short: its {what} ends at {seconds(reached):.3f}s "
                f"of the {seconds(declared):.3f}s it declares"
            )
        return None
    if whole:
        at = f"the {seconds(end):.3f}s it declares"
    else:
        declares = f"{seconds(declared):.3f}s"
        at = f"{seconds(end):.3f}s, where a clip plays it (it declares {declares})"
    return f"{path} is cut short: no {stream.type} data near {at}"


#: How every GIF ends: its trailer byte.
_GIF_TRAILER = b";"


def _gif_cut(container: Any, stream: Any, path: str, until: Fraction | None) -> str | None:
    """Why an animated GIF cannot be played to ``until`` source seconds (to its end where
    None): a copy cut short lacks its trailer, and its last frame, partly there, is where its
    pictures end. FFmpeg gives the frames that are there: it played as a shorter animation
    with its last frame garbled or held, where a PNG or JPEG cut short is refused."""
    with open(path, "rb") as file:
        file.seek(max(0, os.path.getsize(path) - 1))
        if file.read() == _GIF_TRAILER:
            return None
    container.seek(0)
    starts = [p.pts for p in container.demux(stream) if p.size and p.pts is not None]
    if not starts or not stream.time_base:
        return f"{path} is cut short: it holds no whole GIF frame"
    ends = starts[-1] - starts[0]
    if until is not None and until <= ends * Fraction(stream.time_base):
        return None  # the clips use only the frames that are whole
    return (
        f"{path} is cut short: its GIF frames end at "
        f"{float(ends * Fraction(stream.time_base)):.3f}s (no trailer: an interrupted copy)"
    )


def _packets_to(
    container: Any, stream: Any, end: int | None, every: bool = False
) -> tuple[str | None, int | None, int] | None:
    """From where the container was sought (to ``end`` where given, else to the file's end):
    the type of a corrupt packet met (None: none), the latest time reached (the corrupt
    packet's own where it comes first) and the longest packet, in ``stream``'s time base, over
    every stream where ``every`` (an end the container declares is its longest stream's); None
    when there is no packet at all."""
    base = Fraction(stream.time_base)
    reached: int | None = None
    step, seen = 0, 0
    packets = container.demux() if every else container.demux(stream)
    for count, packet in enumerate(packets):
        if packet.size == 0:
            continue
        seen += 1
        if packet.is_corrupt:
            if reached is None and packet.pts is not None and packet.time_base:
                reached = math.floor(packet.pts * Fraction(packet.time_base) / base)
            return packet.stream.type, reached, step
        if packet.pts is not None and packet.time_base:
            scale = Fraction(packet.time_base) / base
            at, lasting = math.floor(packet.pts * scale), math.ceil((packet.duration or 0) * scale)
            step = max(step, lasting)
            reached = max(reached or at, at + lasting)
            if end is not None and reached >= end:
                return None, reached, step
        if count >= TAIL_PACKETS:
            return None, None, step  # far from the end: no cut to see here
    return (None, reached, step) if seen else None


def _declared_end(container: Any, stream: Any) -> tuple[int, bool] | None:
    """Where the stream ends by its file's header, in its time base, and whether that is the
    whole file's end (the container's, which only its longest stream reaches); None if
    undeclared."""
    own = stream_end(container, stream)
    if own is not None:
        return own, False
    end = container_end(container)
    if end is None or not stream.time_base:
        return None
    return int(Fraction(end, av.time_base) / Fraction(stream.time_base)), True


def stream_end(container: Any, stream: Any) -> int | None:
    """Where a stream ends by its file's header, in its time base: its declared duration, else
    the DURATION a Matroska muxer tags each track with (FFmpeg, mkvmerge); None if neither.

    The container's Duration is the longest track's: a video shorter than its sound by more
    than a second was refused as cut short, and a copy cut a second from its end passed."""
    if stream.duration:
        return int((stream.start_time or 0) + stream.duration)
    if not container.format.name.startswith("matroska") or not stream.time_base:
        return None
    tagged = _tagged_seconds(stream.metadata)
    if tagged is None:
        return None
    # FFmpeg writes the track's end time there, mkvmerge its length: as for the container's
    # Duration (container_end), a time past the start is read as the end.
    start, length = stream.start_time or 0, round(tagged / Fraction(stream.time_base))
    return int(length if length > start else start + length)


#: Matroska's DURATION tag: "HH:MM:SS.nnnnnnnnn".
_TAGGED = re.compile(r"^(\d{1,9}):([0-5]\d):([0-5]\d(?:\.\d{1,9})?)$")


def _tagged_seconds(metadata: Any) -> Fraction | None:
    """The seconds of a DURATION tag (its language variant too), or None (absent, malformed,
    zero: what a muxer that never finished the file leaves there)."""
    for key, value in metadata.items():
        if key.upper().split("-")[0] != "DURATION":
            continue
        match = _TAGGED.match(str(value).strip())
        if match is None:
            return None
        hours, minutes, secs = match.groups()
        seconds = int(hours) * 3600 + int(minutes) * 60 + Fraction(secs)
        return seconds if seconds > 0 else None
    return None


def container_end(container: Any) -> int | None:
    """Where the file ends by its container's header (in ``av.time_base`` units, as FFmpeg
    gives times), or None.

    Matroska's Duration is the segment's length, but FFmpeg's muxer writes its last timestamp
    there: a remux keeping a capture's times (-copyts, -output_ts_offset) that starts at 100 s
    and lasts 5 s "declared" 205 s, and the intact file was refused as cut short. There a
    duration past the start is read as the end, which never takes an intact file for a cut one
    (elsewhere FFmpeg's duration is the length).
    """
    if not container.duration:
        return None
    start, length = container.start_time or 0, container.duration
    matroska = container.format.name.startswith("matroska")
    return int(length if matroska and length > start else start + length)


def main_stream(container: Any) -> Any:
    """The stream a file's length is measured by: its video, else its sound (None: neither)."""
    video = picture_stream(container)
    if video is not None:
        return video
    return container.streams.audio[0] if container.streams.audio else None


def span_cut_problems(timeline: Timeline, frames: tuple[int, int] | None = None) -> list[str]:
    """One line per clip that plays a part of its file the file does not hold (cut short):
    cheap enough for every render (a seek and a few packets per clip); ``frames``: only the
    clips drawn over those timeline frames [start, end) (a chunk's)."""
    problems = []
    for path, every in clip_spans(timeline).items():
        spans = [s for s in every if frames is None or _overlaps(s.frames, frames)]
        if not spans:
            continue
        if os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS and is_still(path):
            continue  # an animated GIF plays as a video
        try:
            with open_media(path) as container:
                problems += _cut_spans(container, path, spans)
        except (MediaError, av.error.FFmpegError, OSError):
            continue  # the render names unreadable media, naming the clip
    return problems


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether frame ranges [start, end) ``a`` and ``b`` share a frame."""
    return a[0] < b[1] and b[0] < a[1]


def _cut_spans(container: Any, path: str, spans: list[Span]) -> list[str]:
    """One line per span reading past where the file's data ends."""
    return [f"clip {c!r}: {p}" for c, p in cut_spans(container, path, spans).items()]


def cut_spans(container: Any, path: str, spans: list[Span]) -> dict[str, str]:
    """Why each of ``spans`` (by clip id) reads past where the file's data ends; a file whose
    frame times collapse (their end is not where the data ends) is named for that."""
    stream = main_stream(container)
    if stream is None:
        return {}
    found: dict[Fraction, str | None] = {}
    problems = {}
    for span in spans:
        if span.end not in found:
            found[span.end] = cut_problem(container, stream, path, span.end)
        cut = found[span.end]
        if cut is not None:
            problems[span.clip.id] = cut
    if problems:
        collapsed = collapse_problem(path)
        if collapsed is not None:
            return dict.fromkeys(problems, collapsed)
    return problems


def collapse_problem(path: str) -> str | None:
    """Why a file's frame times cannot place its frames (``sources.collapsed_times``), read
    from every packet's time as the render indexes them; None when they can."""
    try:
        with open_media(path) as container:  # afresh: a seek by collapsed times lands anywhere
            video = picture_stream(container)
            if video is None:
                return None
            pts = build_index(container, video).pts
    except (MediaError, av.error.FFmpegError, OSError):
        return None
    return collapsed_times(pts, path)

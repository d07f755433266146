"""Media start timecodes: where an export's source times count from when it does not say.

An EDL's source in and out points are the media's own timecode (a camera file starting at
01:00:00:00, QuickTime's ``tmcd`` track, MXF's start timecode), and the EDL carries no media
start: read as seconds into the file, an event at 01:00:01:00 of a file three seconds long
showed its last frame, frozen, for the whole event. A clip whose reference has no available
range (an EDL's, relinked by name; an ``.otio`` written without one) whose media carry a start
timecode gets that start as its available range, when the clip's source starts at or after it
(a source time before the media's first timecode counts from the file's start, as before).

Production sound is a Broadcast WAV whose timecode is its ``bext`` chunk's time reference: the
samples since midnight at its sample rate (a field recorder's 10:00:00:00 at 48 kHz is
1,728,000,000). A sound file without video starts there, in seconds, read at the clip's rate.

Where the media cannot be read (the HTTP service loads an export against empty placeholders of
uploaded assets), what its client declares of them stands in for their headers
(``declared_media``).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import opentimelineio as otio

from chunking.timeline.fields import Problems
from chunking.timeline.otio_media import media_path
from chunking.timeline.otio_read import TIME_ERRORS, seconds
from common.media_formats import FFMPEG_INPUT_OPTIONS

#: FFmpeg may read only local files in the workers' allowed formats while probing: a playlist
#: (an ``.m3u8`` an EDL names) would make it open what it lists, a FIFO there for ever.
_FILE_ONLY = FFMPEG_INPUT_OPTIONS
_TIMECODE = re.compile(r"^\s*(\d{1,2})[:;.](\d{2})[:;.](\d{2})([:;.,])(\d{2,3})\s*$")
#: Half a frame at the highest rate: a source starting this much before a timecode is at it.
_SLACK = Fraction(1, 240)


@dataclass(frozen=True)
class DeclaredMedia:
    """What is known of a medium without reading it: its video frame rate (None: no picture)
    and its start timecode as (frame number, rate) (None: it has none)."""

    rate: Fraction | None
    start: tuple[int, Fraction] | None


#: Media declared in the current context, by absolute path (see ``declared_media``).
_DECLARED: ContextVar[Mapping[str, DeclaredMedia] | None] = ContextVar(
    "declared_media", default=None
)


@contextmanager
def declared_media(media: Mapping[str, DeclaredMedia]) -> Iterator[None]:
    """Within this block, the files at these paths are taken to be what is declared of them
    (their headers are not read)."""
    token = _DECLARED.set({os.path.abspath(path): found for path, found in media.items()})
    try:
        yield
    finally:
        _DECLARED.reset(token)


def media_declared() -> bool:
    """Whether media are declared in this context (the HTTP service's placeholders): their
    files are not to be opened."""
    return _DECLARED.get() is not None


def _declared(path: str) -> DeclaredMedia | None:
    declared = _DECLARED.get()
    return declared.get(os.path.abspath(path)) if declared else None


def timecode_frames(text: str, rate: Fraction) -> int | None:
    """The frame number a SMPTE timecode (``HH:MM:SS:FF``; ``;`` before the frames for
    drop-frame) names at ``rate`` frames per second; None if it is not one."""
    found = _TIMECODE.match(text)
    if found is None or rate <= 0:
        return None
    hours, minutes, secs, mark, frame = found.groups()
    base = round(rate)
    if int(minutes) > 59 or int(secs) > 59 or int(frame) >= max(base, 1):
        return None
    total_minutes = int(hours) * 60 + int(minutes)
    count = (total_minutes * 60 + int(secs)) * base + int(frame)
    if mark in ";," and base in (30, 60):  # drop-frame: numbers skipped, frames are not
        count -= base // 15 * (total_minutes - total_minutes // 10)
    return count


def video_header(path: str) -> tuple[Fraction, list[Mapping[str, str]]] | None:
    """A video file's frame rate and its metadata tags (the container's, then each stream's),
    from its header, or None (no video, unreadable). Opened through the file protocol only:
    a playlist beside an export must not make the loader fetch what it names."""
    declared = _declared(path)
    if declared is not None:
        return None if declared.rate is None else (declared.rate, [])
    import av  # only exports whose media are probed need the decoder library

    if not _regular(path):
        return None
    try:
        with av.open(
            "file:" + os.path.abspath(path), container_options=_FILE_ONLY, metadata_errors="replace"
        ) as container:
            rates = [s.average_rate or s.guessed_rate for s in container.streams.video]
            tags: list[Mapping[str, str]] = [
                dict(container.metadata),
                *(dict(s.metadata) for s in container.streams),
            ]
    except (av.error.FFmpegError, OSError, ValueError):
        return None
    rate = next((r for r in rates if r), None)
    return (Fraction(rate), tags) if rate else None


def media_start(path: str) -> tuple[int, Fraction] | None:
    """A media file's start timecode as a frame number and its frame rate, or None (no
    timecode, unreadable: the media checks report those). A sound file's is its broadcast
    WAV time reference: a sample number at its sample rate."""
    declared = _declared(path)
    if declared is not None:
        return declared.start
    header = video_header(path)
    if header is None:
        return _time_reference(path)
    rate, tags = header
    for tag in tags:
        text = tag.get("timecode")
        frame = timecode_frames(text, rate) if isinstance(text, str) else None
        if frame is not None:
            return frame, rate
    return None


def _regular(path: str) -> bool:
    """Whether ``path`` is a regular file: FFmpeg would wait on a FIFO's open for ever."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _time_reference(path: str) -> tuple[int, Fraction] | None:
    """A sound file's ``bext`` time reference (samples since midnight) and its sample rate,
    or None (none, no sound, unreadable)."""
    import av

    if not _regular(path):
        return None
    try:
        with av.open(
            "file:" + os.path.abspath(path), container_options=_FILE_ONLY, metadata_errors="replace"
        ) as container:
            text = container.metadata.get("time_reference")
            rates = [s.rate for s in container.streams.audio if s.rate]
    except (av.error.FFmpegError, OSError, ValueError):
        return None
    if not rates or not isinstance(text, str) or not text.strip().isdigit():
        return None
    # A day of samples at most: a larger one is no time of day (a corrupt chunk).
    samples = int(text)
    return (samples, Fraction(rates[0])) if samples < 86400 * rates[0] else None


def apply_media_timecodes(tl: Any, base_dir: str) -> None:
    """Give clips without a media start their media's start timecode (see the module
    docstring)."""
    starts: dict[str, tuple[int, Fraction] | None] = {}
    for clip, ref in _without_start(tl):
        path = media_path(str(ref.target_url or ""), "", Problems())
        if path is None:
            continue
        full = os.path.join(base_dir, path)
        if full not in starts:
            starts[full] = media_start(full) if os.path.isfile(full) else None
        _start_at(clip, ref, starts[full])


def apply_declared_timecodes(tl: Any, declared: Mapping[str, DeclaredMedia]) -> None:
    """Give clips without a media start the start timecode declared for their media, by the
    target URL their reference names (media that cannot be read: ``declared_media``)."""
    for clip, ref in _without_start(tl):
        found = declared.get(str(ref.target_url or ""))
        if found is not None:
            _start_at(clip, ref, found.start)


def _without_start(tl: Any) -> Iterator[tuple[Any, Any]]:
    """(clip, media reference) of each clip placed in a file whose start is not known."""
    for clip in tl.find_clips():
        ref = clip.media_reference
        if not isinstance(ref, otio.schema.ExternalReference) or ref.available_range is not None:
            continue
        if clip.source_range is not None:
            yield clip, ref


def _start_at(clip: Any, ref: Any, found: tuple[int, Fraction] | None) -> None:
    """Start ``ref`` at timecode ``found`` (frame, rate) when ``clip``'s source is after it."""
    if found is None or found[0] <= 0:
        return
    frame, media_rate = found
    try:
        source = seconds(clip.source_range.start_time)
    except TIME_ERRORS:
        return  # the placement reports it
    rate = float(clip.source_range.start_time.rate)
    # Timecodes are labels: at the clip's timebase the difference of labels is the offset
    # (an EDL read at 24 of 23.976 fps media counts frames, as the editor did).
    begin = frame if round(rate) == round(media_rate) else float(frame / media_rate) * rate
    if source + _SLACK >= Fraction(begin) / Fraction(rate):
        start = otio.opentime.RationalTime(begin, rate)
        ref.available_range = otio.opentime.TimeRange(start, _forever(rate))


def _forever(rate: float) -> Any:
    """A duration no medium reaches: the media checks, not the range, say how long it is."""
    return otio.opentime.RationalTime(rate * 86400 * 7, rate)

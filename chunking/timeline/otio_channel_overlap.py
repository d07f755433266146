"""A file's channels trimmed differently on their tracks, heard once where they overlap.

An editor that trims one channel's item and not the other's (A1 plays a file 0-3 s, A2 its
second channel only 0-2 s; an EDL's ``A`` and ``A2`` events of different lengths) leaves items
that are not copies of each other, so each played the whole file: twice as loud (+6 dB) where
both run. Where a later track's clip plays another channel (FCP 7 XML's ``sourcetrack``; an EDL's
other audio track) of the same file in sync with (at the same source time as) an earlier
track's clip, that part is the same sound on another channel: it is cut out of
the later clip (a gap there), so the file is heard once, at its level; where one item runs on
alone all the file's channels are heard, and a warning says so. This is for an EDL, whose
channels are tracks by convention only: FCP 7 XML channel items of a file whose channels the
export splits play their own channel (chunking.timeline.otio_channels) and are left alone here.
Clips with a speed change or next to a transition are left as they are.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any

import opentimelineio as otio

from chunking.timeline.fields import Problems
from chunking.timeline.otio_fcp7_adapter import FRAMES
from chunking.timeline.otio_read import TIME_ERRORS, plain, track_places

Span = tuple[int, int]  # [first, end) in frames of the clip's rate


def drop_overlapping_copies(
    tracks: list[Any], channels: dict[int, int | None], edl: bool, p: Problems
) -> None:
    """Cut out of later audio clips the parts an earlier track plays in sync from the same
    file as another of its channels: ``channels`` maps a clip's id to its source channel
    (FCP 7 XML's), and in an EDL each audio track is a channel."""
    heard: dict[tuple[Any, ...], list[tuple[Span, int | None]]] = defaultdict(list)
    for track in tracks:
        if not track.enabled:
            continue
        items = list(track)
        places = track_places(track)
        cuts: list[tuple[int, Any, Span, list[Span]]] = []
        for index, clip in enumerate(items):
            if not (isinstance(clip, otio.schema.Clip) and clip.enabled):
                continue
            found = _sync(track, clip, places.get(clip))
            if found is None:
                continue
            key, span = found
            channel = channels.get(id(clip))
            others = [
                s
                for s, c in heard[key]
                if edl or (c is not None and channel is not None and c != channel)
            ]
            covered = _within(span, others)
            if covered == [span]:
                clip.enabled = False
            elif covered and _alone(items, index):
                cuts.append((index, clip, span, covered))
            if covered and span not in others:
                p.warn(f"clip {str(clip.name)!r}", _TRIMMED)
            heard[key].append((span, channel))
        # From the last: a cut's pieces move the items after it, not those before.
        for index, clip, span, covered in reversed(cuts):
            _cut(track, index, clip, span, covered)


_TRIMMED = (
    "its file also plays on an earlier track in sync, trimmed differently (another channel of "
    "it); the shared part plays once, and where one item runs on alone all the file's channels "
    "are heard"
)


def _sync(track: Any, clip: Any, place: Any) -> tuple[tuple[Any, ...], Span] | None:
    """The clip's file and source-to-place offset, and its span of the track (``place``, its
    range there), in frames."""
    ref = clip.media_reference
    if not isinstance(ref, otio.schema.ExternalReference) or not ref.target_url or place is None:
        return None
    if any(isinstance(fx, otio.schema.TimeEffect) for fx in clip.effects):
        return None
    try:
        source = clip.trimmed_range()
        rate = float(source.duration.rate)
        first = round(place.start_time.rescaled_to(rate).value)
        length = round(source.duration.value)
        offset = round(source.start_time.rescaled_to(rate).value) - first
    except TIME_ERRORS:
        return None
    if length <= 0:
        return None
    shift = track.source_range.start_time if track.source_range is not None else None
    try:
        moved = round(shift.rescaled_to(rate).value) if shift is not None else 0
    except TIME_ERRORS:
        return None
    return (str(ref.target_url), rate, offset + moved), (first - moved, first - moved + length)


def _within(span: Span, spans: list[Span]) -> list[Span]:
    """The parts of ``span`` that ``spans`` cover, in order and merged."""
    parts = sorted((max(a, span[0]), min(b, span[1])) for a, b in spans)
    merged: list[Span] = []
    for a, b in parts:
        if a >= b:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _alone(items: list[Any], index: int) -> bool:
    """Whether no transition touches the track's item at ``index`` (cutting it would move the
    transition's cut)."""
    near = [items[i] for i in (index - 1, index + 1) if 0 <= i < len(items)]
    return not any(isinstance(item, otio.schema.Transition) for item in near)


def _cut(track: Any, index: int, clip: Any, span: Span, covered: list[Span]) -> None:
    """Replace the clip by its uncovered parts, with gaps where it was covered."""
    source = clip.trimmed_range()
    rate = source.duration.rate
    pieces: list[Any] = []
    at = span[0]
    for a, b in [*covered, (span[1], span[1])]:
        if a > at:
            part = copy.deepcopy(clip)
            start = source.start_time + otio.opentime.RationalTime(at - span[0], rate)
            part.source_range = otio.opentime.TimeRange(
                start, otio.opentime.RationalTime(a - at, rate)
            )
            _move_frames(part, at - span[0], a - at)
            pieces.append(part)
        if b > a:
            pieces.append(
                otio.schema.Gap(
                    source_range=otio.opentime.TimeRange(
                        otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(b - a, rate)
                    )
                )
            )
        at = max(at, b)
    del track[index]
    for offset, piece in enumerate(pieces):
        track.insert(index + offset, piece)


def _move_frames(part: Any, skipped: int, length: int) -> None:
    """Keep a cut FCP 7 clipitem's frame numbers (its keyframes are placed by them) its part's."""
    frames = plain(part.metadata).get(FRAMES)
    if isinstance(frames, list) and len(frames) == 4 and frames[2] >= 0:
        first, _, start, _ = frames
        part.metadata[FRAMES] = [
            first + skipped,
            first + skipped + length,
            start + skipped,
            start + skipped + length,
        ]

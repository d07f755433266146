"""Sound exported one channel per track, played once.

Editors export sound as mono tracks, each routed to one output channel: an EDL's ``AA`` event
puts the same event on A1 (source channel 1 to output 1) and A2 (channel 2 to output 2), FCP 7
XML puts linked clip items on A1 and A2 (their ``sourcetrack/trackindex``: the source channel)
whose tracks go to the left and right outputs. The adapters give each of those tracks the whole
file, mixed into both outputs, so the program played its sound twice (+6 dB, and loud material
clipped). A clip on a later audio track that plays the same file, from the same source time, at
the same place and speed as one on an earlier audio track is that clip on another output
channel: it is left out, and the first plays the file's channels as they are (the source's own
stereo rather than the editor's routing of its channels, at the source's level). A track that
holds only such copies is left out whole (so that its crossfades go with it).
"""

from __future__ import annotations

from typing import Any

import opentimelineio as otio

from chunking.timeline.otio_read import TIME_ERRORS, seconds


def drop_channel_copies(tl: Any) -> None:
    """Leave out the audio clips (and tracks) that are other channels of an earlier one."""
    seen: set[tuple[Any, ...]] = set()
    for track in tl.tracks:
        if not isinstance(track, otio.schema.Track) or track.kind != otio.schema.TrackKind.Audio:
            continue
        if not track.enabled:
            continue
        clips = [c for c in track if isinstance(c, otio.schema.Clip) and c.enabled]
        keys = [_key(track, clip) for clip in clips]
        copies = [
            clip for clip, key in zip(clips, keys, strict=True) if key is not None and key in seen
        ]
        if copies and len(copies) == len(clips):
            track.enabled = False
            continue
        for clip in copies:
            clip.enabled = False
        seen.update(key for key in keys if key is not None)


def _key(track: Any, clip: Any) -> tuple[Any, ...] | None:
    """What makes two clips the same sound: file, source range, place and speed."""
    ref = clip.media_reference
    if not isinstance(ref, otio.schema.ExternalReference) or not ref.target_url:
        return None
    try:
        source = clip.trimmed_range()
        place = clip.range_in_parent()
        shift = track.source_range.start_time if track.source_range is not None else None
        return (
            str(ref.target_url),
            seconds(source.start_time),
            seconds(source.duration),
            seconds(place.start_time) - (seconds(shift) if shift is not None else 0),
            tuple(_effect(fx) for fx in clip.effects),
        )
    except TIME_ERRORS:
        return None


def _effect(fx: Any) -> tuple[str, float | None]:
    scalar = getattr(fx, "time_scalar", None)
    return str(fx.effect_name or fx.name), float(scalar) if scalar is not None else None

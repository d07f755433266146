"""The sound of FCPXML compound clips.

The adapter reads a compound clip (``<ref-clip>``) as a nested stack on the video track it sits
in, its sound inside as audio tracks of that stack; only a top-level audio track's stacks are
heard, so a compound clip played silent. Each video track holding such stacks gets an audio
track beside it that holds copies of them at the same times (the picture stays where it is:
each track draws or plays only its own kind of a stack's tracks). A compound clip whose sound
is switched off (``srcEnable="video"``) gets none: the amended text marks it in its name.
"""

from __future__ import annotations

import copy
from typing import Any

import opentimelineio as otio

from chunking.timeline.otio_read import TIME_ERRORS

#: How a compound clip's name says its sound is switched off, from the amended text to the
#: read timeline.
_SILENT_MARK = "\u2063picture-only"


def silence_compounds(root: Any) -> bool:
    """Mark each ``<ref-clip srcEnable="video">`` in its name; False if there was none."""
    changed = False
    for item in root.iter("ref-clip"):
        if item.get("srcEnable") == "video":
            item.set("name", f"{item.get('name') or 'ref-clip'}{_SILENT_MARK}")
            changed = True
    return changed


def hear_compound_clips(tl: Any) -> None:
    """Add an audio track beside each video track whose compound clips hold sound."""
    for item in tl.find_children(descended_from_type=otio.schema.Stack):
        if _SILENT_MARK in str(item.name or ""):
            item.name = str(item.name).replace(_SILENT_MARK, "")
            item.metadata["cloudrender_picture_only"] = True
    tracks = tl.tracks
    for index in reversed(range(len(tracks))):
        track = tracks[index]
        if not isinstance(track, otio.schema.Track) or track.kind != otio.schema.TrackKind.Video:
            continue
        sound = _sound_track(track)
        if sound is not None:
            tracks.insert(index + 1, sound)


def _sound_track(track: Any) -> Any | None:
    """An audio track holding copies of ``track``'s stacks that hold sound, at their times."""
    placed: list[tuple[Any, Any]] = []
    for child in track:
        if not isinstance(child, otio.schema.Stack) or not child.enabled:
            continue
        if not child.metadata.get("cloudrender_picture_only") and _has_sound(child):
            try:
                placed.append((child.range_in_parent(), child))
            except TIME_ERRORS:
                continue  # the placement reports it
    if not placed:
        return None
    sound = otio.schema.Track(
        name=f"{track.name} (compound sound)".strip(),
        kind=otio.schema.TrackKind.Audio,
        source_range=copy.deepcopy(track.source_range),
    )
    end = None
    for where, stack in placed:
        start = where.start_time
        gap = start if end is None else start - end
        if gap.value > 0:
            sound.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(duration=gap)))
        sound.append(copy.deepcopy(stack))
        end = where.end_time_exclusive()
    return sound


def _has_sound(item: Any) -> bool:
    """Whether a composition holds an audio track with a clip in it, at any depth."""
    for child in item:
        if isinstance(child, otio.schema.Track) and child.kind == otio.schema.TrackKind.Audio:
            if any(isinstance(c, otio.schema.Clip) for c in child.find_clips()):
                return True
        if isinstance(child, otio.core.Composition) and _has_sound(child):
            return True
    return False

"""Corrections to the Final Cut Pro 7 XML reader of ``otio-fcp-adapter`` 1.0, applied before
it reads, and what it leaves in metadata put where the loader reads it.

- A nested sequence (Premiere's "Nest", a Final Cut 7 sequence used as a clip) was read as an
  empty stack: the reader looked for its tracks directly under ``<sequence>``, where only its
  top-level sequence's are looked for under ``<sequence><media>``. The nest showed black and
  was silent, without a word.
- A disabled clip or track (``<enabled>FALSE</enabled>``: Premiere's Clip > Enable, a track's
  eye or speaker off) was read as enabled: the flag only reached the item's metadata.
- A speed change (Premiere's Speed/Duration, Final Cut 7's Change Speed: a ``Time Remap``
  filter) was read as an unknown effect, so the clip played at 100 %. Its speed is the
  filter's ``speed`` percentage where the source frames it uses (``<in>``..``<out>``, rounded
  to whole frames) fit it over the frames it fills (``<start>``..``<end>``), else their ratio;
  where ``<start>`` or ``<end>`` is -1 (beside a transition) it is the percentage. A keyframed
  (variable) speed plays at its average: its ``graphdict`` curve's source frames over its
  clip frames, first keyframe to last (Premiere writes ``<in>``..``<out>`` there as the
  frames the clip fills, not the media it uses: in the adapter's ``empty_name_tags.xml`` a
  clip of 143 frames whose curve ends on media frame 154 played at 1x, 11 frames short),
  else the ratio above. A speed of 0 % (DaVinci
  Resolve's freeze frame) holds the clip's in point. ``reverse``, or a negative speed, makes
  it negative: the clip plays its span of media (``<in>``..``<out>``, either way round)
  backwards, its range starting at the span's end as the loader reads a backwards clip's
  (``_from_the_end``, otio_layout.Placed.emit).
- A sequence without a ``<timecode>`` (several writers leave it out) had no rate of its own:
  the loader took its first clip's, so a 29.97 fps sequence opening on a 25 fps nest was
  rendered at 25 fps, every cut moved. Its start is taken as 0 at its ``<rate>`` (else its
  video format's rate).
- A clip whose ``<start>`` lies inside the clip before it on its track (Premiere wrote one in
  ``premiere_example.xml``'s audio) was placed after that clip, late by the overlap, without
  a word: ``place_overlaps`` plays it at its start and cuts the clip before there.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import opentimelineio as otio

from chunking.timeline.fields import Problems
from chunking.timeline.otio_read import is_release, plain

#: The adapter release these corrections are for.
CORRECTED_RELEASE = "1.0.0"


@functools.cache
def correct() -> bool:
    """Apply the corrections once; False when the installed release is not the one they are
    for (nothing is changed then)."""
    if not is_release("otio-fcp-adapter", CORRECTED_RELEASE):
        return False
    parser = otio.adapters.from_name("fcp_xml").module().FCP7XMLParser
    original = parser.stack_for_element

    def stack_for_element(self: Any, element: Any, context: Any) -> Any:
        """The adapter's method; a ``<sequence>`` (a nest) is read from its ``<media>``."""
        media = element.find("./media") if element.tag == "sequence" else None
        if media is None:
            return original(self, element, context)
        stack = original(
            self, self._derefed_element(media), context.context_pushing_element(element)
        )
        name = element.find("./name")
        stack.name = name.text or "" if name is not None else ""
        return stack

    parser.stack_for_element = stack_for_element
    original_clip = parser.clip_for_element

    def clip_for_element(self: Any, element: Any, *args: Any, **kwargs: Any) -> Any:
        """The adapter's method; the clipitem's frame numbers are kept for its speed."""
        item = original_clip(self, element, *args, **kwargs)
        frames = [_integer(element.find(f"./{name}")) for name in ("in", "out", "start", "end")]
        if all(f is not None for f in frames):
            item.metadata[FRAMES] = frames
        return item

    parser.clip_for_element = clip_for_element
    original_timeline = parser.timeline_for_sequence

    def timeline_for_sequence(self: Any, element: Any, context: Any) -> Any:
        """The adapter's method; a sequence without a timecode starts at 0 at its rate."""
        timeline = original_timeline(self, element, context)
        rate = None if timeline.global_start_time is not None else sequence_rate(element)
        if rate is not None:
            timeline.global_start_time = otio.opentime.RationalTime(0, rate)
        return timeline

    parser.timeline_for_sequence = timeline_for_sequence
    return True


#: Where a sequence says its frame rate: its own ``<rate>``, else its video format's.
_SEQUENCE_RATES = ("./rate", "./media/video/format/samplecharacteristics/rate")


def sequence_rate(sequence: Any) -> float | None:
    """An FCP 7 XML ``<sequence>``'s frame rate (``<timebase>``, times 1000/1001 where
    ``<ntsc>`` is TRUE), or None if it names none."""
    for where in _SEQUENCE_RATES:
        found = sequence.find(where)
        timebase = _integer(found.find("./timebase")) if found is not None else None
        if timebase is None or not 0 < timebase <= 1000:
            continue
        ntsc = found.find("./ntsc")
        is_ntsc = ntsc is not None and (ntsc.text or "").strip().upper() == "TRUE"
        return timebase * 1000 / 1001 if is_ntsc else float(timebase)
    return None


#: Metadata key of a clipitem's [in, out, start, end] frame numbers.
FRAMES = "cloudrender_fcp7_frames"


def _integer(element: Any) -> int | None:
    try:
        return int(float(element.text))
    except (AttributeError, TypeError, ValueError, OverflowError):
        return None


def apply_time_remaps(tl: Any, p: Problems) -> None:
    """Turn each clip's ``Time Remap`` filter into the LinearTimeWarp of its speed; refuse a
    clip without one whose ``<out>`` is before its ``<in>``."""
    for clip in tl.find_clips():
        frames = plain(clip.metadata.get(FRAMES))
        remapped = any(
            isinstance(found := plain(fx.metadata.get("fcp_xml")), dict)
            and str(found.get("effectid")).lower() == "timeremap"
            for fx in clip.effects
        )
        if not remapped and isinstance(frames, list) and len(frames) == 4:
            first, last = frames[0], frames[1]
            if 0 <= last < first:
                # The reader played it forward from <in> for its record length, silently.
                p.error(
                    f"clip {clip.name!r}",
                    f"its <out> ({last}) is before its <in> ({first}) and no Time Remap says "
                    "it plays in reverse: not a span of its media",
                )
        for i, fx in enumerate(clip.effects):
            found = plain(fx.metadata.get("fcp_xml"))
            if not isinstance(found, dict) or str(found.get("effectid")).lower() != "timeremap":
                continue
            params = _parameters(found)
            where = f"clip {clip.name!r}"
            variable = params.get("variablespeed") not in (None, "0")
            if not variable and _is_zero(params.get("speed")):
                # A freeze frame (Resolve's, a frame hold): its in point held over the clip.
                clip.effects[i] = otio.schema.FreezeFrame(name="Time Remap")
                continue
            frames = plain(clip.metadata.get(FRAMES))
            speed = _graph_speed(found) if variable else None
            speed = speed or _speed(frames, None if variable else params.get("speed"))
            if speed is None:
                p.error(where, "its Time Remap (speed) filter names no usable speed")
                continue
            if variable:
                p.warn(where, f"keyframed speed (Time Remap) is rendered at its average {speed:g}x")
            # A negative speed runs the media back too (_speed keeps only its size): it
            # played forwards, silently, where ``reverse`` was not also set.
            reverse = str(params.get("reverse", "")).strip().upper() == "TRUE" or _negative(
                params.get("speed")
            )
            clip.effects[i] = otio.schema.LinearTimeWarp(
                name="Time Remap", time_scalar=-speed if reverse else speed
            )
            if reverse:
                _from_the_end(clip, frames)


def _from_the_end(clip: Any, frames: Any) -> None:
    """Start a reversed clip's range at the end of the span of media it plays (the later of
    ``<in>`` and ``<out>``; the reader started it at ``<in>``): a backwards clip plays from
    there back."""
    sr = clip.source_range
    if sr is None or not isinstance(frames, list) or len(frames) != 4:
        return
    first, last = frames[0], frames[1]
    if first < 0 or last < 0:
        return
    shift = otio.opentime.RationalTime(max(first, last) - first, sr.start_time.rate)
    clip.source_range = otio.opentime.TimeRange(sr.start_time + shift, sr.duration)


def _graph_speed(effect: dict[str, Any]) -> float | None:
    """A keyframed Time Remap's average speed: its ``graphdict`` curve's media frames over
    its clip frames from the first keyframe to the last; None without a usable curve."""
    raw = effect.get("parameter")
    for param in raw if isinstance(raw, list) else [raw]:
        if not isinstance(param, dict):
            continue
        if str(param.get("parameterid") or param.get("name")).lower() != "graphdict":
            continue
        keys = param.get("keyframe")
        points: list[tuple[float, float]] = []
        for key in keys if isinstance(keys, list) else [keys]:
            if not isinstance(key, dict):
                continue
            try:
                points.append((float(str(key["when"])), float(str(key["value"]))))
            except (KeyError, TypeError, ValueError):
                continue
        points = [pt for pt in points if all(map(math.isfinite, pt))]
        if len(points) < 2:
            return None
        (first_when, first_value), (last_when, last_value) = min(points), max(points)
        if last_when <= first_when or last_value == first_value:
            return None
        return abs(last_value - first_value) / (last_when - first_when)
    return None


def _negative(percent: str | None) -> bool:
    """Whether a Time Remap's speed is a number below 0 (media played backwards)."""
    try:
        return percent is not None and float(percent) < 0
    except ValueError:
        return False


def _parameters(effect: dict[str, Any]) -> dict[str, str]:
    raw = effect.get("parameter")
    items = raw if isinstance(raw, list) else [raw]
    return {
        str(item.get("parameterid") or item.get("name")).lower(): str(item.get("value"))
        for item in items
        if isinstance(item, dict)
    }


def _is_zero(percent: str | None) -> bool:
    """Whether a Time Remap's ``speed`` is 0 %: a freeze frame."""
    try:
        return percent is not None and float(percent) == 0
    except ValueError:
        return False


def _speed(frames: Any, percent: str | None) -> float | None:
    """The filter's percentage where the clip's frames agree with it (a constant speed), else
    source frames over record frames, else the percentage; None if neither."""
    try:
        value = abs(float(percent)) / 100 if percent is not None else None
    except ValueError:
        value = None
    if value is not None and not (math.isfinite(value) and value > 0):
        value = None
    if isinstance(frames, list) and len(frames) == 4:
        first, last, start, end = frames
        if start >= 0 and end > start and last > first:
            # Premiere rounds <out> to a whole source frame (a 50 % clip of 51 frames uses
            # 25.5): the ratio then drifts from the speed it plays at, showing every other
            # frame one early over half the clip. A percentage the frames round to is that
            # speed; one they do not fit (left stale) is not.
            if value is not None and abs(value * (end - start) - (last - first)) <= 1:
                return value
            return float(last - first) / float(end - start)
    return value


def apply_enabled(tl: Any) -> None:
    """Disable the clips, nests and tracks an FCP 7 XML export marks ``<enabled>FALSE``."""
    for item in tl.find_children():
        found = plain(item.metadata.get("fcp_xml"))
        flag = found.get("enabled") if isinstance(found, dict) else None
        if isinstance(flag, str) and flag.strip().upper() == "FALSE":
            item.enabled = False


def place_overlaps(tl: Any, p: Problems) -> None:
    """Play each clip whose ``<start>`` is inside the clip before it on its track at that start,
    the clip before cut there, as the editor's overwrite leaves them (the adapter placed it
    after that clip, as late as they overlap: in premiere_example.xml's audio, 13 frames later
    than its ``<start>``); with a warning. A retimed clip before is not cut (its media
    frames are not its record frames): the late placement is only warned of."""
    for track in tl.find_children(descended_from_type=otio.schema.Track):
        before: tuple[Any, int] | None = None  # the previous clip and its end frame
        for item in list(track):
            frames = (
                plain(item.metadata.get(FRAMES)) if isinstance(item, otio.schema.Clip) else None
            )
            if not isinstance(frames, list) or len(frames) != 4 or min(frames[2:]) < 0:
                before = None  # a transition, gap or nest: its neighbours' frames do not meet
                continue
            start, end = frames[2], frames[3]
            if before is not None and 0 <= start < before[1]:
                _cut_before(track, item, before, start, p)
            before = (item, end)


def _cut_before(track: Any, item: Any, before: tuple[Any, int], start: int, p: Problems) -> None:
    """Cut ``before``'s clip where ``item`` starts (``start``): the adapter counts its
    gaps from the clips' declared ends, so all that follows is then where the file puts it."""
    previous, previous_end = before
    overlap = previous_end - start
    where = f"track {str(track.name) or track.kind!r} clip {str(item.name)!r}"
    said = f"starts at frame {start}, inside clip {str(previous.name)!r} (which ends at frame "
    rng = previous.source_range
    retimed = any(isinstance(fx, otio.schema.TimeEffect) for fx in previous.effects)
    if rng is None or retimed or overlap >= rng.duration.to_frames():
        p.warn(
            where, said + f"{previous_end}); it is played after that clip, {overlap} frames late"
        )
        return
    lost = otio.opentime.RationalTime(overlap, rng.duration.rate)
    previous.source_range = otio.opentime.TimeRange(rng.start_time, rng.duration - lost)
    p.warn(where, said + f"{previous_end}); played at its start, that clip cut there")

"""An EDL's motion effects (``M2`` lines): speed changes, freeze frames and reverses.

An ``M2`` line after an event gives a reel, the speed its source plays at in frames a second
and the source timecode it starts from. The CMX 3600 adapter reads it only where the event's
source and record durations differ (as Avid writes a retimed event), and then

* refused one written with ``;`` (a drop-frame EDL's, as Resolve and Premiere write every
  timecode of one) with "'NoneType' object has no attribute 'group'": its pattern wants
  colons, so the line is given to it with colons;
* took the speed from the M2 field, rounded to 0.1 fps (``059.9`` for twice 29.97): the
  event's source duration over its record duration is used where the two agree (not for
  ``000.0``, Avid's freeze frame: its one source frame is held).

DaVinci Resolve writes a retimed event with a source as long as its record and the speed in
its M2 line only, which the adapter ignored (the clip played at 100 %). Such an event is given
the M2's speed over the EDL's rate (to the whole percent where the field's 0.1 fps cannot tell
them apart): ``000.0`` holds the M2's frame (a freeze frame), a negative speed plays it in
reverse: from the M2's frame, the first one shown, back (``_backwards``: its range starts
just after that frame, where the loader's backwards clip's span ends).

Each event with an M2 line is marked with a comment, which the adapter keeps in its clip's
metadata, to find the clip after reading; the mark is taken out again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import opentimelineio as otio

from chunking.timeline.fields import Problems
from chunking.timeline.otio_edl_events import event_blocks, joined
from chunking.timeline.otio_read import plain
from common.errors import TimelineError

#: An M2 line. Each run of blanks is taken whole (possessive) and the reel starts and ends on
#: a non-blank: with runs that could split anywhere, ``M2`` and 2,500 blanks took two
#: minutes to refuse, 10,000 hours.
_M2 = re.compile(
    r"^\s*+M2(?:\s++(?P<reel>\S(?:.*?\S)?))?\s++(?P<speed>[-+]?(?:\d+(?:\.\d*)?|\.\d+))\s++"
    r"(?P<tc>\d\d[:;.,]\d\d[:;.,]\d\d[:;.,]\d\d)\s*+$",
    re.IGNORECASE,
)
_M2_LINE = re.compile(r"^\s*M2\b", re.IGNORECASE)
#: The comment that marks an event's clip (no comment id the adapter reads starts so).
_MARK = "CLOUDRENDER EDL MOTION"


@dataclass(frozen=True)
class Motion:
    """An event's M2 line: its speed (frames a second) and source timecode, and the event's."""

    event: str
    reel: str
    fps: float
    timecode: str
    event_reel: str
    source: tuple[str, str]
    record: tuple[str, str]


def marked_motions(text: str, path: str) -> tuple[str, dict[str, Motion]]:
    """The EDL with its M2 lines written as the adapter reads them and each event that has
    one marked, and those events' motions by mark; TimelineError for an M2 line that is not
    a reel, a speed and a timecode."""
    header, blocks = event_blocks(text)
    motions: dict[str, Motion] = {}
    for block in blocks:
        found: list[re.Match[str]] = []
        for n, line in enumerate(block.lines):
            if not _M2_LINE.match(line):
                continue
            m2 = _M2.match(line)
            if m2 is None:
                number = block.events[0]["num"] if block.events else str(block.number)
                shown = line.strip() if len(line.strip()) <= 80 else f"{line.strip()[:80]}..."
                raise TimelineError(
                    f"{path}: event {number}: its M2 line {shown!r} is not a reel, a "
                    "speed in frames a second and a source timecode"
                )
            found.append(m2)
            start, end = m2.span("tc")
            block.lines[n] = line[:start] + re.sub(r"[;.,]", ":", m2["tc"]) + line[end:]
        if not found or not block.events:
            continue
        event = block.events[-1]  # the adapter's clip: a transition's second line
        m2 = next(
            (m for m in found if (m["reel"] or "").upper() == event["reel"].upper()), found[-1]
        )
        separator = ";" if ";" in event["src_in"] else ":"
        mark = f"{_MARK} {len(motions)}"
        motions[mark] = Motion(
            event=event["num"],
            reel=m2["reel"] or "",
            fps=float(m2["speed"]),
            timecode=re.sub(r"[:;.,](\d\d)$", rf"{separator}\1", m2["tc"]),
            event_reel=event["reel"],
            source=(event["src_in"], event["src_out"]),
            record=(event["rec_in"], event["rec_out"]),
        )
        block.lines.append(f"* {mark}")
    return joined(header, blocks), motions


def apply_motions(tl: Any, motions: dict[str, Motion], rate: float, p: Problems) -> None:
    """Give the clips of events with an M2 line their speed (see the module docstring) and
    take their marks out."""
    done: set[str] = set()
    for clip in tl.find_clips():
        mark = _take_mark(clip)
        if mark is None or mark not in motions:
            continue
        motion = motions[mark]
        _retime(clip, motion, rate, p if mark not in done else Problems())
        _backwards(clip, motion, rate)
        done.add(mark)


def _take_mark(clip: Any) -> str | None:
    """The motion mark among a clip's EDL comments, taken out of them; None if none."""
    meta = plain(clip.metadata.get("cmx_3600"))
    comments = meta.get("comments") if isinstance(meta, dict) else None
    if not isinstance(comments, list):
        return None
    marks = [c for c in comments if isinstance(c, str) and c.startswith(_MARK)]
    if not marks:
        return None
    kept = [c for c in comments if c not in marks]
    if kept:
        clip.metadata["cmx_3600"]["comments"] = kept
    elif len(meta) > 1:
        del clip.metadata["cmx_3600"]["comments"]
    else:  # the adapter made it for the mark alone
        del clip.metadata["cmx_3600"]
    return str(marks[0])


def _retime(clip: Any, motion: Motion, rate: float, p: Problems) -> None:
    """Give one event's clip the speed of its M2 line."""
    where = f"event {motion.event}"
    try:
        source = _frames(motion.source, rate)
        record = _frames(motion.record, rate)
    except (ValueError, otio.exceptions.OTIOError):
        return  # the adapter read the event: these timecodes are its
    warps = [fx for fx in clip.effects if isinstance(fx, otio.schema.LinearTimeWarp)]
    if warps or any(isinstance(fx, otio.schema.FreezeFrame) for fx in clip.effects):
        # Avid's way: the adapter applied the M2's speed, rounded to 0.1 fps.
        for warp in warps:
            if float(warp.time_scalar) == 0:
                # ``000.0``: a freeze frame of the M2's frame, whose one source frame over
                # its record frames (1/25) was within the rounding, so it played at 0.04x
                # and was refused.
                _hold(clip, motion, rate)
                continue
            exact = Fraction(source, record) if record > 0 else None
            scalar = float(warp.time_scalar)
            if exact is not None and abs(float(exact) - scalar) <= 0.01 * abs(scalar) + 1 / record:
                warp.time_scalar = float(exact)
        return
    if source != record or abs(motion.fps - rate) < 0.05:
        return  # 100 %
    if motion.reel.upper() != motion.event_reel.upper():
        p.warn(
            where,
            f"its M2 line names reel {motion.reel!r}, not the event's {motion.event_reel!r}: "
            "its speed is not applied",
        )
        return
    if motion.fps == 0:
        clip.effects.append(otio.schema.FreezeFrame())
        _hold(clip, motion, rate)
        return
    scalar = motion.fps / rate
    percent = round(scalar * 100) / 100
    if abs(percent - scalar) <= 0.05 / rate:  # within the M2 field's 0.1 fps
        scalar = percent
    clip.effects.append(otio.schema.LinearTimeWarp(name="M2", time_scalar=scalar))


def _backwards(clip: Any, motion: Motion, rate: float) -> None:
    """Start a reversed event's clip just after its M2's frame: the loader plays a backwards
    clip's span [start - length, start) from its end, so the M2's frame is shown first.
    Premiere writes the event's source in as the M2's frame (its ``test_25.edl``): from there
    back would play none of the event's source span but the frames before it (held on the
    media's first frame for the whole event); such an event plays its span backwards, from its
    last frame, as Resolve's (whose M2 names that last frame) does."""
    warps = [fx for fx in clip.effects if isinstance(fx, otio.schema.LinearTimeWarp)]
    if not any(float(fx.time_scalar) < 0 for fx in warps):
        return
    try:
        first = otio.opentime.from_timecode(motion.timecode, rate)
        source_in = otio.opentime.from_timecode(motion.source[0], rate)
    except (ValueError, otio.exceptions.OTIOError):
        return
    duration = clip.source_range.duration
    after = first + otio.opentime.RationalTime(1, rate)
    scalar = 1.0
    for warp in warps:
        scalar *= float(warp.time_scalar)
    played = otio.opentime.RationalTime(duration.value * abs(scalar), duration.rate)
    if round(first.value) == round(source_in.value) and played.to_seconds() > 1.5 / rate:
        after = source_in + played
    clip.source_range = otio.opentime.TimeRange(after, duration)


def _hold(clip: Any, motion: Motion, rate: float) -> None:
    """Start a freeze frame's clip on the frame its M2 line holds."""
    try:
        held = otio.opentime.from_timecode(motion.timecode, rate)
    except (ValueError, otio.exceptions.OTIOError):
        return
    clip.source_range = otio.opentime.TimeRange(held, clip.source_range.duration)


def _frames(span: tuple[str, str], rate: float) -> int:
    """The frames between two timecodes at an EDL's rate."""
    start, end = (otio.opentime.from_timecode(tc, rate) for tc in span)
    return round(float((end - start).value))

"""Final Cut's retimed clips: a two-point ``<timeMap>`` (a 50 % or 200 % clip, a freeze frame) or
a clip conformed to the sequence's rate (``<conform-rate>``: 23.98 in a 24 fps project) is
marked in its name and given its start in media time in the amended FCPXML
(``constant_retimes``), then given its speed once OpenTimelineIO has read it
(``apply_retimes``: a LinearTimeWarp, and a pitch shift that undoes the speed's where Final
Cut keeps the pitch). Retimes the renderer cannot play (beyond 0.25x-4x, ramps) stay named in
a warning (``otio_fcpxml_extras``).
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

import opentimelineio as otio

from chunking.timeline.otio_fcpxml_time import fcpxml_text, fcpxml_time

#: Speeds a retime becomes a clip's speed at (the renderer's range: otio_media).
MIN_RETIME, MAX_RETIME = Fraction(1, 4), Fraction(4)
#: How a clip's name carries its speed from the amended text to the read timeline.
_RETIME_MARK = "\u2063retime:"
_RETIME_NAME = re.compile(re.escape(_RETIME_MARK) + r"(\d+)/(\d+)(p?)$")


def constant_retime(clip: Any) -> tuple[Fraction, Fraction] | None:
    """A clip's constant retime: (speed, media time at its local time 0) from a two-point
    ``<timeMap>`` the renderer plays (speed 0.25 to 4, or 0: a freeze frame), else None."""
    time_map = clip.find("timeMap")
    points = time_map.findall("timept") if time_map is not None else []
    if len(points) != 2:
        return None
    times = [fcpxml_time(p.get("time")) for p in points]
    values = [fcpxml_time(p.get("value")) for p in points]
    if any(v is None for v in (*times, *values)):
        return None
    (t0, t1), (v0, v1) = times, values
    assert t0 is not None and t1 is not None and v0 is not None and v1 is not None
    if t1 <= t0:
        return None
    speed = (v1 - v0) / (t1 - t0)
    if speed != 0 and not MIN_RETIME <= speed <= MAX_RETIME:
        return None  # speed 0 is a freeze frame: the frame at v0 held, silent
    return speed, v0 - t0 * speed


def constant_retimes(root: Any) -> bool:
    """Mark each constantly retimed clip in its name and move its start to its media time
    (see the module docstring); False if there was none."""
    changed = False
    rate = _sequence_rate(root)
    for clip in root.iter():
        if clip.tag not in ("clip", "asset-clip", "ref-clip"):
            continue
        retime = constant_retime(clip) or _conformed(clip, rate)
        if retime is None:
            continue
        speed, origin = retime
        # Final Cut keeps a retimed clip's pitch unless told not to (the DTD's default is 1);
        # a conformed rate (a 23.98 clip in a 24 fps project) plays as tape does.
        time_map = clip.find("timeMap")
        keep = time_map is not None and time_map.get("preservesPitch", "1") != "0"
        local = fcpxml_time(clip.get("start") or "0s")
        if local is None:
            continue
        moved = origin + local * speed
        clip.set("start", fcpxml_text(moved))
        for child in clip:  # connected items keep their place in the clip's own time
            offset = fcpxml_time(child.get("offset"))
            if offset is not None and (child.get("lane") is not None or child.tag == "spine"):
                child.set("offset", fcpxml_text(offset + moved - local))
        pitch = "p" if keep and speed not in (0, 1) else ""
        clip.set(
            "name",
            f"{clip.get('name') or ''}{_RETIME_MARK}{speed.numerator}/{speed.denominator}{pitch}",
        )
        if clip.find("timeMap") is not None:
            clip.remove(clip.find("timeMap"))
        changed = True
    return changed


#: Final Cut's names for the NTSC rates in ``srcFrameRate``.
_NTSC = {"23.98": Fraction(24000, 1001), "29.97": Fraction(30000, 1001),
         "59.94": Fraction(60000, 1001), "47.95": Fraction(48000, 1001)}  # fmt: skip


def _sequence_rate(root: Any) -> Fraction | None:
    """The frame rate of the (first) project's sequence, from its format's frameDuration."""
    formats = {f.get("id"): f for f in root.iter("format")}
    for sequence in root.iterfind(".//project/sequence"):
        found = formats.get(sequence.get("format"))
        step = fcpxml_time(found.get("frameDuration")) if found is not None else None
        if step:
            return 1 / step
    return None


def _conformed(clip: Any, rate: Fraction | None) -> tuple[Fraction, Fraction] | None:
    """A clip conformed frame for frame to the sequence's rate (``<conform-rate
    srcFrameRate="23.98">`` in a 24 fps project: 0.1 % faster), as (speed, origin), when the
    rates differ by under 1 %; else None (a clip at its own speed, or one Final Cut samples)."""
    conform = clip.find("conform-rate")
    if conform is None or rate is None or clip.find("timeMap") is not None:
        return None
    if conform.get("scaleEnabled") == "0":
        return None
    text = conform.get("srcFrameRate") or ""
    try:
        source = _NTSC.get(text) or Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None
    speed = rate / source if source > 0 else Fraction(1)
    return (speed, Fraction(0)) if speed != 1 and abs(speed - 1) < Fraction(1, 100) else None


def apply_retimes(timeline: Any) -> None:
    """Give the clips ``constant_retimes`` marked their speed (a LinearTimeWarp) and their
    names back."""
    for clip in timeline.find_children():
        if not isinstance(clip, otio.schema.Clip | otio.schema.Stack):
            continue  # a compound clip (ref-clip) is a stack
        match = _RETIME_NAME.search(str(clip.name or ""))
        if match is None:
            continue
        clip.name = str(clip.name)[: match.start()]
        speed = Fraction(int(match[1]), int(match[2]))
        clip.effects.append(otio.schema.LinearTimeWarp(time_scalar=float(speed)))
        if match[3]:  # its pitch kept: a pitch shift undoes the speed's
            clip.effects.append(
                otio.schema.Effect(
                    name="Preserve Pitch",
                    effect_name="AudioPitch",
                    metadata={"parameters": {"ratio": float(1 / speed)}},
                )
            )

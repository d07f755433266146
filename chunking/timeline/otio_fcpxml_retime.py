"""Final Cut's retimed clips: a two-point ``<timeMap>`` (a 50 % or 200 % clip, a freeze frame) or
a clip conformed to the sequence's rate (``<conform-rate>``: 23.98 or 25 in a 24 fps project,
the pairs Final Cut's rate conforming chart names: ``conformed_rate``) is
marked in its name and given its start in media time in the amended FCPXML
(``constant_retimes``), then given its speed once OpenTimelineIO has read it
(``apply_retimes``: a LinearTimeWarp, and a pitch shift that undoes the speed's where Final
Cut keeps the pitch). A constant speed past 0.1x-10x plays at the nearer end from the clip's
first frame; it and retimes the renderer cannot play (ramps) are named in a warning
(``otio_fcpxml_extras``). A clip played backwards at a constant speed (Final Cut's
Reverse Clip: a two-point ``<timeMap>`` whose value falls, from the span's end to its start)
is a constant retime of negative speed: it plays that span backwards (Clip.reverse). One that
runs back over only part of it or at a changing speed (a rewind, ``check_reverses``) is
refused: one clip plays one span of its media one way.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

import opentimelineio as otio

from chunking.timeline.otio_fcpxml_time import fcpxml_text, fcpxml_time
from chunking.timeline.otio_media import MAX_SPEED, MIN_SPEED
from common.errors import ValidationError
from common.numbers import exact_number

#: Speeds a retime becomes a clip's speed at (the renderer's range: otio_media).
MIN_RETIME, MAX_RETIME = MIN_SPEED, MAX_SPEED
#: The smallest frequency ratio one pitch shift takes (the loader's ``audiopitch`` range, 0.25
#: to 4): a wider one is two shifts.
MIN_PITCH = 0.25
#: That range as a message says it.
SPEED_RANGE = f"{float(MIN_SPEED):g}x to {float(MAX_SPEED):g}x"
#: The elements a reverse plays (Final Cut's Reverse Clip on a clip of media); a compound,
#: sync or multicam clip played backwards would reverse the order of its own items too.
_REVERSIBLE = ("clip", "asset-clip")
#: How a clip's name carries its speed from the amended text to the read timeline.
_RETIME_MARK = "\u2063retime:"
_RETIME_NAME = re.compile(re.escape(_RETIME_MARK) + r"(-?\d+)/(\d+)(p?)$")


def constant_retime(clip: Any) -> tuple[Fraction, Fraction] | None:
    """A clip's constant retime: (speed, media time at its local time 0) from a two-point
    ``<timeMap>`` (backwards too, or speed 0: a freeze frame), else None. A speed past
    MIN_RETIME to MAX_RETIME is played at the nearest of the two, from the map's first point
    (``clamped_retime`` names it), as the OTIO importer plays an editor's (otio_place)."""
    found = _two_points(clip)
    if found is None:
        return None
    speed, v0, t0 = found
    if speed != 0 and not MIN_RETIME <= abs(speed) <= MAX_RETIME:
        played = min(max(abs(speed), MIN_RETIME), MAX_RETIME)
        speed = played if speed > 0 else -played  # still through the map's first point
    return speed, v0 - t0 * speed  # speed 0: the frame at v0 held, silent


def clamped_retime(clip: Any) -> Fraction | None:
    """The speed of a clip's two-point ``<timeMap>`` where it is past MIN_RETIME to MAX_RETIME
    (``constant_retime`` plays it at the nearer end), else None."""
    found = _two_points(clip)
    if found is None or found[0] == 0 or MIN_RETIME <= abs(found[0]) <= MAX_RETIME:
        return None
    return found[0]


def _two_points(clip: Any) -> tuple[Fraction, Fraction, Fraction] | None:
    """A two-point ``<timeMap>``'s (speed, first value, first time), else None."""
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
    return (v1 - v0) / (t1 - t0), v0, t0


def check_reverses(root: Any, path: str) -> None:
    """Raise ValidationError naming each clip the project plays whose ``<timeMap>`` runs its
    media backwards anywhere (a value lower than the one before it) but is no constant reverse
    (``constant_retime``: a two-point one the renderer plays backwards)."""
    problems: list[str] = []
    for item in _played(root):
        time_map = item.find("timeMap")
        if time_map is None:
            continue
        points = [
            (fcpxml_time(p.get("time")), fcpxml_time(p.get("value")))
            for p in time_map.findall("timept")
        ]
        known = sorted((t, v) for t, v in points if t is not None and v is not None)
        back = next(((a, b) for a, b in zip(known, known[1:], strict=False) if b[1] < a[1]), None)
        if back is None or (item.tag in _REVERSIBLE and constant_retime(item) is not None):
            continue
        # Marks other steps add to a name start with an invisible separator: not the editor's.
        name = str(item.get("name") or "").split("\u2063")[0]
        label = f"{item.tag} {name!r}" if name else item.tag
        problems.append(
            f"{path}: {label}: plays in reverse (its <timeMap> runs its media back from "
            f"{float(back[0][1]):g}s to {float(back[1][1]):g}s) "
            + (
                "over part of the clip or at a changing speed"
                if item.tag in _REVERSIBLE
                else "as a whole compound, sync or multicam clip"
            )
            + ": that reverse playback is not supported (a clip or asset-clip reversed whole at "
            f"one speed, {SPEED_RANGE}, is); render the retimed clip in Final Cut (share it as a "
            "media file) and edit that file in instead"
        )
    if problems:
        raise ValidationError(problems)


def _played(root: Any) -> Any:
    """Every element the document's projects play: their sequences and the compound clips'
    media their ``<ref-clip>`` items show (not unused media, or a multicam's other angles)."""
    media = {m.get("id"): m for m in root.iter("media")}
    todo = list(root.iterfind(".//project/sequence"))
    seen: set[int] = set()
    while todo:
        element = todo.pop()
        if id(element) in seen:
            continue
        seen.add(id(element))
        for item in element.iter():
            yield item
            if item.tag == "ref-clip" and item.get("ref") in media:
                todo.append(media[item.get("ref")])


def constant_retimes(root: Any) -> bool:
    """Mark each constantly retimed clip in its name and move its start to its media time
    (see the module docstring); False if there was none."""
    changed = False
    rate = sequence_rate(root)
    for clip in root.iter():
        if clip.tag not in ("clip", "asset-clip", "ref-clip"):
            continue
        retime = constant_retime(clip)
        if retime is not None and retime[0] < 0 and clip.tag not in _REVERSIBLE:
            continue  # refused (check_reverses)
        conformed = conform_speed(clip, rate) if retime is None else None
        if retime is not None:
            speed, origin = retime
        elif conformed is not None:
            speed, origin = conformed, Fraction(0)
        else:
            continue
        # Final Cut keeps a retimed clip's pitch unless told not to (the DTD's default is 1);
        # a conformed rate (a 23.98 clip in a 24 fps project) plays as tape does.
        time_map = clip.find("timeMap")
        keep = time_map is not None and time_map.get("preservesPitch", "1") != "0"
        local = fcpxml_time(clip.get("start") or "0s")
        if local is None:
            continue
        # A conformed clip's start is in its media's time already (Final Cut writes a 25 fps
        # clip's in point as 684/25s in a 24 fps project); a timeMap's is in the clip's own.
        moved = local if conformed is not None else origin + local * speed
        clip.set("start", fcpxml_text(moved))
        for child in clip:  # connected items keep their place in the clip's own time
            offset = fcpxml_time(child.get("offset"))
            if offset is None or (child.get("lane") is None and child.tag != "spine"):
                continue
            if conformed is not None:
                # That time is the media's, which runs at the conformed speed: an item 1 s of
                # 25 fps media into a clip conformed to 24 fps is 25/24 s into the program.
                child.set("offset", fcpxml_text(local + (offset - local) / speed))
            else:
                child.set("offset", fcpxml_text(offset + moved - local))
        pitch = "p" if keep and abs(speed) not in (0, 1) else ""
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


def sequence_rate(root: Any) -> Fraction | None:
    """The frame rate of the (first) project's sequence, from its format's frameDuration."""
    formats = {f.get("id"): f for f in root.iter("format")}
    for sequence in root.iterfind(".//project/sequence"):
        found = formats.get(sequence.get("format"))
        step = fcpxml_time(found.get("frameDuration")) if found is not None else None
        if step:
            return 1 / step
    return None


def conform_speed(clip: Any, rate: Fraction | None) -> Fraction | None:
    """The speed of a clip Final Cut conforms frame for frame to the sequence (``<conform-rate
    srcFrameRate="25">`` in a 24 fps project: 96 %), or None (a clip it plays at its own
    speed, dropping or repeating frames)."""
    conform = clip.find("conform-rate")
    if conform is None or rate is None or clip.find("timeMap") is not None:
        return None
    if conform.get("scaleEnabled") == "0":
        return None
    text = conform.get("srcFrameRate") or ""
    source = _NTSC.get(text) or exact_number(text)
    if source is None:
        return None
    played = conformed_rate(source, rate) if source > 0 else None
    return None if played is None else played / source


def conformed_rate(source: Fraction, sequence: Fraction) -> Fraction | None:
    """The rate Final Cut plays media of rate ``source`` at in a project of rate ``sequence``
    when it conforms them (its rate conforming chart): the project's rate, or half or twice it
    (24 fps media play at 25 in a 50 fps project, 50 fps ones at 48 in a 24 fps one), where
    that is within the 4.3 % between 23.976 and 25 fps of the media's; None where it samples
    frames instead (23.976 fps media in a 30 fps project, 30 in 25) or plays them as they are."""
    if source == sequence:
        return None
    for played in (sequence, sequence / 2, sequence * 2):
        if played == source:
            return None  # every frame shown twice, or every other one: no change of speed
        if abs(played / source - 1) <= _CONFORM_REACH:
            return played
    return None


#: How far apart the rates Final Cut conforms may be: 23.976 fps media play at 25 (+4.27 %).
_CONFORM_REACH = Fraction(43, 1000)


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
            ratio = 1 / abs(speed)
            # Past one shift's reach (a 10x time-lapse: 0.1) two of half its size in a row.
            steps = 1 if MIN_PITCH <= ratio <= 1 / MIN_PITCH else 2
            for _ in range(steps):
                clip.effects.append(
                    otio.schema.Effect(
                        name="Preserve Pitch",
                        effect_name="AudioPitch",
                        metadata={"parameters": {"ratio": float(ratio) ** (1 / steps)}},
                    )
                )

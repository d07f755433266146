"""What an FCPXML must say right before it is read: the adapter fills in guesses instead.

A format whose ``frameDuration`` is 0, negative or not a time was read as 24 fps, a sequence
whose format is not in the resources as 1920x1080 at 24 fps, an item with a negative or
unreadable duration vanished, and a ``ref`` to no resource failed with a Python attribute
error. Each is now a problem naming the element (in a project or a resource: an event's
browser clips are not read, and not checked). A time of absurdly many digits (thousands:
Python refuses to convert them; hundreds: they overflow a float) failed with Python's own
message or a traceback; it is now a problem naming the element and attribute. Times written
as decimals (``3600.5s``, as some generators write them), which the adapter reads as 0, are
rewritten as the rationals they are.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from chunking.timeline.otio_fcpxml_durations import missing_duration
from chunking.timeline.otio_fcpxml_time import fcpxml_time
from chunking.timeline.schema import MAX_FPS, MAX_SIDE
from common.errors import TimelineError, ValidationError

#: Items of a storyline whose ``duration`` must be a positive time.
_ITEMS = ("asset-clip", "clip", "ref-clip", "sync-clip", "mc-clip", "video", "audio", "gap",
          "title", "transition", "audition")  # fmt: skip
#: Attributes that hold times.
_TIMES = ("offset", "start", "duration", "tcStart", "frameDuration", "audioStart",
          "audioDuration", "time", "value")  # fmt: skip
_DECIMAL = re.compile(r"^(-?\d+\.\d+)s$")
#: Digits one number of a time may have: a day at 192 kHz is 11; far more is no editor's time
#: (and hundreds overflow the adapter's floats).
MAX_TIME_DIGITS = 30
_DIGITS = re.compile(r"[0-9]+")


def check_time_sizes(root: Any, path: str) -> None:
    """Raise ValidationError naming each time attribute whose numbers run over
    MAX_TIME_DIGITS digits, before anything converts them."""
    problems: list[str] = []
    for element in root.iter():
        for name in _TIMES:
            value = element.get(name)
            if value is None:
                continue
            longest = max((len(run) for run in _DIGITS.findall(value)), default=0)
            if longest > MAX_TIME_DIGITS:
                called = element.get("id") if element.tag == "format" else element.get("name")
                label = f"{element.tag} {called!r}" if called else element.tag
                problems.append(
                    f"{path}: {label}: {name} {value[:24] + '...'!r} has a number of {longest} "
                    f"digits (at most {MAX_TIME_DIGITS}); not a time"
                )
    if problems:
        raise ValidationError(problems)


def decimal_times(root: Any) -> bool:
    """Rewrite decimal times as rationals; whether any was."""
    changed = False
    for element in root.iter():
        for name in _TIMES:
            match = _DECIMAL.match(element.get(name) or "")
            if match:
                value = Fraction(match[1])
                element.set(name, f"{value.numerator}/{value.denominator}s")
                changed = True
    return changed


def check_document(root: Any, path: str) -> None:
    """Raise ValidationError naming every format, sequence, reference or duration the file
    gets wrong."""
    problems: list[str] = []
    resources = {r.get("id") for r in root.iterfind("resources/*") if r.get("id")}
    problems += _repeated_ids(root)
    formats = {f.get("id"): f for f in root.iterfind("resources/format")}
    for ident, found in formats.items():
        problems += _format_problems(ident, found)
    for project in root.iter("project"):
        for sequence in project.findall("sequence"):
            where = f"sequence of project {project.get('name') or ''!r}"
            wanted = sequence.get("format")
            if wanted and wanted not in formats:
                problems.append(f"{where}: its format {wanted!r} is not in <resources>")
    browser = _browser_items(root)
    projects = {item: project for project in root.iter("project") for item in project.iter()}
    for element in root.iter():
        if element in browser:
            continue
        ref = element.get("ref")
        label = f"{element.tag} {element.get('name')!r}" if element.get("name") else element.tag
        if ref is not None and element.tag in _ITEMS and ref not in resources:
            problems.append(f"{label}: refers to {ref!r}, which is not in <resources>")
        missing = missing_duration(element)
        if missing is not None:
            problems.append(f"{label}{_in_project(element, projects)}: {missing}")
        if element.tag in _ITEMS and element.get("duration") is not None:
            duration = fcpxml_time(element.get("duration"))
            if duration is None or duration <= 0:
                problems.append(
                    f"{label}: duration {element.get('duration')!r} is not a positive time"
                )
    if problems:
        raise ValidationError([f"{path}: {p}" for p in problems])


def check_not_empty(path: str, tl: Any, projects: list[str], shown: bool) -> None:
    """Raise TimelineError naming the project when it holds no clip and nothing else is
    ``shown`` (titles, a length): the loader's "the timeline is empty" named neither it nor
    the file."""
    if shown or any(tl.find_clips()):
        return
    named = f"project {projects[0]!r}" if projects else "its project"
    raise TimelineError(
        f"{path}: {named} is empty (no clips and no length); add its clips in Final Cut and "
        "export it again"
    )


def _in_project(element: Any, projects: dict[Any, Any]) -> str:
    """ " in project 'name'" for an element of a project, else "" (a compound's or multicam's
    resource): where to look for it."""
    project = projects.get(element)
    return "" if project is None else f" in project {project.get('name') or ''!r}"


def _browser_items(root: Any) -> set[Any]:
    """The elements of an event's browser clips (an event's items outside its projects): not
    read, so not checked. Final Cut writes a still's picture there as ``<video ...
    duration="0s">``, which refused a whole library export whose project was fine."""
    found: set[Any] = set()
    for event in root.iter("event"):
        for item in event:
            if item.tag != "project":
                found.update(item.iter())
    return found


def _repeated_ids(root: Any) -> list[str]:
    """A problem for each id two resources share: the adapter took the first for every
    reference, so a clip could play another clip's file without a word."""
    holders: dict[str, list[str]] = {}
    for resource in root.iterfind("resources/*"):
        ident = resource.get("id")
        if ident:
            name = resource.get("name")
            holders.setdefault(ident, []).append(
                f"{resource.tag} {name!r}" if name else resource.tag
            )
    return [
        f"resources: {len(found)} have the id {ident!r} ({', '.join(found[:4])}); each needs "
        "its own"
        for ident, found in holders.items()
        if len(found) > 1
    ]


#: A size in a format's name: FFVideoFormat3840x2160p30, FFVideoFormatDV720x480i5994.
_NAMED_SIZE = re.compile(r"(\d{2,5})x(\d{2,5})")
#: A line count in a format's name (FFVideoFormat1080p2398, FFVideoFormat720p50): the frame
#: sizes Final Cut's presets of that many lines have.
#: A size in pixels as FCPXML writes it: ASCII digits (str.isdigit also takes "²", which int()
#: refuses) and few of them (int() refuses thousands).
_PIXELS = re.compile(r"[0-9]{1,9}")
_NAMED_LINES = re.compile(r"FFVideoFormat(2160|1080|720|576|480)[pi]")
_LINE_SIZES = {"2160": (3840, 2160), "1080": (1920, 1080), "720": (1280, 720),
               "576": (720, 576), "480": (720, 480)}  # fmt: skip


def format_size(element: Any) -> tuple[int, int] | None:
    """A ``format`` element's frame size: its width and height, else what its name says
    (some tools write only ``name="FFVideoFormat1080p25"``); None when neither does."""
    if element is None:
        return None
    width, height = _pixels(element.get("width")), _pixels(element.get("height"))
    if width is not None and height is not None:
        return width, height
    name = str(element.get("name") or "")
    sized = _NAMED_SIZE.search(name)
    if sized and 0 < int(sized[1]) <= MAX_SIDE and 0 < int(sized[2]) <= MAX_SIDE:
        return int(sized[1]), int(sized[2])
    lines = _NAMED_LINES.search(name)
    return _LINE_SIZES[lines[1]] if lines else None


def _format_problems(ident: str, found: Any) -> list[str]:
    problems = []
    step = found.get("frameDuration")
    if step is not None:
        seconds = fcpxml_time(step)
        if seconds is None or not Fraction(1, MAX_FPS) <= seconds <= 1:
            problems.append(
                f"format {ident!r}: frameDuration {step!r} is not the length of a frame "
                "(such as 100/2500s)"
            )
    for side in ("width", "height"):
        value = found.get(side)
        if value is not None and _pixels(value) is None:
            shown = value if len(value) <= 20 else f"{value[:20]}..."
            problems.append(f"format {ident!r}: {side} {shown!r} is not 1 to {MAX_SIDE}")
    return problems


def _pixels(value: Any) -> int | None:
    """A frame side of 1 to MAX_SIDE pixels written as a whole number, else None."""
    if not isinstance(value, str) or _PIXELS.fullmatch(value) is None:
        return None
    return int(value) if 0 < int(value) <= MAX_SIDE else None

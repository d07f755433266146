"""What an FCPXML project says that OpenTimelineIO's adapter leaves out: the sequence's frame
size, its titles (Final Cut's ``<title>`` items, drawn as subtitles with their text, font,
size, colour and position), and the multicam and retimed clips it cannot render (named in
warnings, not silently missing or mistimed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any
from xml.etree import ElementTree

from chunking.timeline.otio_fcpxml_checks import decimal_times, format_size
from chunking.timeline.otio_fcpxml_components import channel_notes
from chunking.timeline.otio_fcpxml_multicam import multicam_shown
from chunking.timeline.otio_fcpxml_nesting import multicam_pick
from chunking.timeline.otio_fcpxml_retime import SPEED_RANGE, clamped_retime, constant_retime
from chunking.timeline.otio_fcpxml_solids import effect_uids, solid_colour
from chunking.timeline.otio_fcpxml_split import split_notes
from chunking.timeline.otio_fcpxml_time import HOLDERS, fcpxml_time

#: How deep connected items and nested spines are followed (a bound for hostile documents).
_MAX_DEPTH = 32
#: Compound clips' contents walked at most (each ``<ref-clip>`` walks its compound's again: a
#: bound for documents whose compounds nest many of each other).
_MAX_COMPOUNDS = 1000
#: The frame height FCPXML title sizes are written for (Final Cut's 1080p templates).
_TITLE_HEIGHT = 1080


@dataclass(frozen=True)
class _Frame:
    """The project's frame size, for positions and font sizes."""

    width: int
    height: int


@dataclass(frozen=True)
class ProjectExtras:
    """What an FCPXML project says that the adapter leaves out."""

    #: the sequence format's frame size, or None when the file names none
    resolution: tuple[int, int] | None
    #: its titles as ProjectSchema subtitles
    titles: list[dict[str, Any]]
    #: what of it is not rendered, one message each (multicam clips, retimes)
    unrendered: list[str] = field(default_factory=list)
    #: the sequence's length in seconds (what Final Cut exports), or None when it says none
    duration: float | None = None
    #: the names of every project in the document (a library's events may hold several)
    projects: list[str] = field(default_factory=list)


@dataclass
class _Walk:
    """What a walk over a project's items needs and finds."""

    frame: _Frame
    styles: dict[Any, Any]
    #: the document's media resources by id (multicam clips' angles)
    media: dict[Any, Any]
    #: the ids of its assets (files), as opposed to effects (generators)
    assets: set[Any]
    #: its effects' uids by id (a solid's is drawn: otio_fcpxml_solids)
    effects: dict[Any, str]
    titles: list[dict[str, Any]] = field(default_factory=list)
    multicam: list[str] = field(default_factory=list)
    retimed: list[str] = field(default_factory=list)
    #: retimed clips played at the nearest speed the renderer has, with their own
    clamped: list[str] = field(default_factory=list)
    generators: list[str] = field(default_factory=list)
    #: the caption formats (roles' ``captionFormat``: SRT, ITT, CEA-608) of each caption met
    captions: list[str] = field(default_factory=list)
    #: retimed compound clips, whose titles are not drawn
    retimed_compounds: list[str] = field(default_factory=list)
    #: compound clips' contents walked so far
    compounds: int = 0


def fcpxml_extras(path: str, text: str | None = None) -> ProjectExtras:
    """The frame size and titles of an FCPXML project: Final Cut's ``<title>`` items, in its
    spine or connected to its clips, as subtitles (text, font, size, colour, position) at the
    output times the adapter places the project's clips (it leaves titles out); and what the
    adapter silently leaves out or plays wrong (multicam clips: nothing; retimed clips: at
    their own speed), named. Nothing when the file holds no single project or does not parse.
    ``text``: the file's content, when read already."""
    try:
        root = ElementTree.parse(path).getroot() if text is None else ElementTree.fromstring(text)
    except (ElementTree.ParseError, OSError, ValueError, LookupError):  # LookupError: encoding
        return ProjectExtras(None, [])
    decimal_times(root)  # as the amended text the adapter reads has them (0.2s: 1/5s)
    projects = [str(p.get("name") or "") for p in root.iter("project")]
    sequences = root.findall(".//project/sequence")
    if len(sequences) != 1:
        return ProjectExtras(None, [], projects=projects)
    sequence = sequences[0]
    frame = _frame(root, sequence.get("format"))
    resolution = (frame.width, frame.height) if frame is not None else None
    length = fcpxml_time(sequence.get("duration"))
    duration = float(length) if length else None
    spine = sequence.find("spine")
    if spine is None:
        return ProjectExtras(resolution, [], duration=duration, projects=projects)
    walk = _Walk(
        frame or _Frame(1920, 1080),
        {d.get("id"): d for d in root.iter("text-style-def")},
        {m.get("id"): m for m in root.iter("media")},
        {a.get("id") for a in root.iter("asset")},
        effect_uids(root),
    )
    start = fcpxml_time(sequence.get("tcStart")) or Fraction(0)
    offsets = [fcpxml_time(i.get("offset")) for i in spine if i.get("offset") is not None]
    if any(o is None or o < start for o in offsets):
        start = Fraction(0)  # offsets that are not timecode times (see _from_zero)
    _walk(spine, Fraction(0), start, walk, 0)
    unrendered = channel_notes(root) + split_notes(root)
    if walk.multicam:
        unrendered.append(
            f"multicam clip(s) {_listed(walk.multicam)} are not drawn (an angle cuts or pauses "
            "inside them); break them apart in Final Cut (Clip > Break Apart Clip Items) and "
            "export again"
        )
    if walk.generators:
        unrendered.append(
            f"generator(s) {_listed(walk.generators)} (Final Cut backgrounds, drawn by its "
            "own effects) are not drawn"
        )
    if walk.captions:
        formats = ", ".join(sorted(set(walk.captions)))
        unrendered.append(
            f"{len(walk.captions)} caption(s) ({formats}) are not drawn: Final Cut shares "
            "captions as a caption track, in the picture only when burned in on export"
        )
    if walk.retimed_compounds:
        unrendered.append(
            f"the titles inside retimed compound clip(s) {_listed(walk.retimed_compounds)} "
            "are not drawn"
        )
    if walk.retimed:
        unrendered.append(
            f"retimed clip(s) {_listed(walk.retimed)} play at their own speed (a speed ramp "
            "or a freeze); render the retime in Final Cut to keep it"
        )
    if walk.clamped:
        unrendered.append(
            f"retimed clip(s) {_listed(walk.clamped)} play at the nearest speed of "
            f"{SPEED_RANGE}, from their in point; render the retime in Final Cut to keep it"
        )
    return ProjectExtras(resolution, walk.titles, unrendered, duration, projects)


def _listed(items: list[str]) -> str:
    """Up to five items named, with how many more."""
    shown = ", ".join(items[:5])
    return shown + (f" and {len(items) - 5} more" if len(items) > 5 else "")


def _walk(container: Any, origin: Fraction, local: Fraction, walk: _Walk, depth: int) -> None:
    """Walk the items in ``container``, whose own time ``local`` is output time ``origin``."""
    if depth > _MAX_DEPTH:
        return
    for item in container:
        if item.get("enabled") == "0":
            continue
        at = origin + ((fcpxml_time(item.get("offset")) or Fraction(0)) - local)
        if item.tag == "audition":  # only its first clip plays (otio_fcpxml), where it is
            item = next(iter(item), None)
            if item is None:
                continue
        where = f"{item.get('name') or item.tag!r} at {float(at):g}s"
        if item.tag == "caption":
            role = item.get("role") or ""
            walk.captions.append(role.partition("captionFormat=")[2] or role or "caption")
        if item.tag == "title":
            title = _title(item, at, walk.frame, walk.styles, len(walk.titles))
            if title is not None:
                walk.titles.append(title)
        elif item.tag == "mc-clip" and not _multicam_drawn(item, walk.media):
            walk.multicam.append(where)  # one that otio_fcpxml could not make a plain clip
        elif item.tag in ("video", "audio") and (
            container.tag == "spine" or item.get("lane") is not None
        ):
            if item.get("ref") not in walk.assets and solid_colour(item, walk.effects) is None:
                walk.generators.append(where)  # otio_fcpxml made it a gap
        retimed = item.find("timeMap") is not None
        if item.tag == "ref-clip" and item.get("srcEnable") != "audio":
            if retimed:
                walk.retimed_compounds.append(where)
            else:
                _compound(item, at, walk, depth)
        if retimed and (item.tag in ("mc-clip", "sync-clip") or constant_retime(item) is None):
            walk.retimed.append(where)  # one otio_fcpxml could not make a speed
        elif retimed and (speed := clamped_retime(item)) is not None:
            walk.clamped.append(f"{where} ({float(abs(speed)):g}x)")
        if item.tag in (*HOLDERS, "title", "video", "audio"):  # titles connect to any of them
            inner = fcpxml_time(item.get("start")) or Fraction(0)
            _walk(item, at, inner, walk, depth + 1)
        elif item.tag == "spine":  # a storyline connected to a clip: its own time from 0
            _walk(item, at, Fraction(0), walk, depth + 1)


def _compound(item: Any, at: Fraction, walk: _Walk, depth: int) -> None:
    """Walk the spine of the compound clip a ``<ref-clip>`` at output time ``at`` shows: its
    items' times count from the ref-clip's start in the compound (by default the compound's
    tcStart), and its titles are cut to the span the ref-clip shows (Final Cut hides the rest:
    a compound's items are not connected to the ref-clip, they are inside it)."""
    media = walk.media.get(item.get("ref"))
    sequence = media.find("sequence") if media is not None else None
    spine = sequence.find("spine") if sequence is not None else None
    if sequence is None or spine is None or walk.compounds >= _MAX_COMPOUNDS:
        return
    walk.compounds += 1
    given = item.get("start")
    start = fcpxml_time(given if given is not None else sequence.get("tcStart") or "0s")
    duration = fcpxml_time(item.get("duration"))
    first = len(walk.titles)
    _walk(spine, at, start or Fraction(0), walk, depth + 1)
    if not duration:
        return
    shown_from, shown_to = float(at), float(at + duration)
    kept = []
    for title in walk.titles[first:]:
        begin = max(title["start_time"], shown_from)
        end = min(title["end_time"], shown_to)
        if end > begin:
            kept.append({**title, "start_time": begin, "end_time": end})
    walk.titles[first:] = kept


def _multicam_drawn(item: Any, media: dict[Any, Any]) -> bool:
    """Whether ``otio_fcpxml`` makes a multicam clip plain clips: one clip per angle over
    its span, or its angles' clips in turn (among gaps in a storyline)."""
    if multicam_pick(item, media) is not None:
        return True
    return multicam_shown(item, media) is not None


def _title(
    item: Any, at: Fraction, frame: _Frame, styles: dict[Any, Any], index: int
) -> dict[str, Any] | None:
    """One title as a subtitle entry, or None when it has no text or no length."""
    duration = fcpxml_time(item.get("duration"))
    text = "\n".join(
        "".join(t.itertext()).strip() for t in item.findall("text") if "".join(t.itertext())
    ).strip()
    if not text or not duration or at < 0:
        return None
    name = item.get("name") or "Title"
    entry: dict[str, Any] = {
        "id": f"{name} #{index + 1}",
        "text": text,
        "start_time": float(at),
        "end_time": float(at + duration),
    }
    first = item.find("text/text-style")
    style_def = styles.get(first.get("ref")) if first is not None else None
    look = style_def.find("text-style") if style_def is not None else None
    entry["style"] = _style(look, frame) if look is not None else {}
    entry["position"] = _position(item, frame)
    return entry


def _style(look: Any, frame: _Frame) -> dict[str, Any]:
    """A ``<text-style>``'s font, size, weight, colours as subtitle style keys."""
    style: dict[str, Any] = {}
    if look.get("font"):
        style["font_family"] = look.get("font")
    size = _number(look.get("fontSize"))
    if size:
        style["font_size"] = round(min(max(size * frame.height / _TITLE_HEIGHT, 4), 1000))
    if look.get("bold") == "1":
        style["font_weight"] = "Bold"
    colour = _colour(look.get("fontColor"))
    if colour:
        style["color"] = colour
    stroke = _colour(look.get("strokeColor"))
    width = _number(look.get("strokeWidth"))
    if stroke and width:
        style["stroke_color"], style["stroke_width"] = stroke, min(abs(width), 50)
    else:
        style["stroke_color"] = None  # Final Cut draws no outline unless one is set
    shadow = _colour(look.get("shadowColor"))
    if shadow:
        style["shadow_color"] = shadow
        offset = (look.get("shadowOffset") or "").split()
        if len(offset) == 2 and all(_number(v) is not None for v in offset):
            style["shadow_x"], style["shadow_y"] = (float(v) for v in offset)
        blur = _number(look.get("shadowBlurRadius"))
        if blur:
            style["shadow_blur"] = min(blur, 1000)
    return style


def _position(item: Any, frame: _Frame) -> Any:
    """Where the text's centre goes: the title's ``Position`` parameter (pixels from the
    frame's centre, y up), else the centre, as this format's ``{"x", "y"}`` fractions."""
    for param in item.findall("param"):
        if param.get("name") != "Position":
            continue
        values = (param.get("value") or "").split()
        if len(values) == 2 and all(_number(v) is not None for v in values):
            x, y = (float(v) for v in values)
            scale = frame.height / _TITLE_HEIGHT
            return {
                "x": min(max(0.5 + x * scale / frame.width, 0.0), 1.0),
                "y": min(max(0.5 - y * scale / frame.height, 0.0), 1.0),
            }
    return "center"


def _frame(root: Any, format_id: str | None) -> _Frame | None:
    """The sequence's frame size from its format resource, or None when it names none."""
    for fmt in root.iter("format"):
        if fmt.get("id") == format_id:
            size = format_size(fmt)
            return _Frame(*size) if size is not None else None
    return None


def _colour(value: str | None) -> str | None:
    """ "r g b a" floats 0..1 as "#rrggbbaa", or None."""
    parts = (value or "").split()
    numbers = [_number(v) for v in parts]
    if len(parts) not in (3, 4) or any(n is None for n in numbers):
        return None
    channels = [round(min(max(float(n or 0), 0.0), 1.0) * 255) for n in numbers]
    return "#" + "".join(f"{c:02x}" for c in channels)


def _number(value: str | None) -> float | None:
    """A finite decimal number, or None."""
    try:
        number = float(value or "")
    except ValueError:
        return None
    return number if math.isfinite(number) else None

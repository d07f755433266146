"""Multicam clips whose angles start late or end early, made what the adapter reads.

A multicam's angles are synchronized to one time: a camera that started rolling after the
sound recorder has a gap before its clip (``<mc-angle><gap .../><asset-clip offset=...>``).
A multicam clip used over such a gap (the whole multicam dropped into a project, as Final Cut
makes it) was not drawn at all (``otio_fcpxml_nesting`` flattens one whose active angles show
one clip over all of its span), neither its picture nor its sound: a silent black program.

Where each active angle shows at most one clip over the multicam clip's span, with nothing
(or gaps) around it, the multicam clip in a primary storyline becomes what Final Cut shows:
a gap while the video angle shows nothing, the video angle's clip (picture only) while it
does, a gap after; the audio angle's clip is connected where it plays. The gaps keep the
multicam clip's own time (``start``), so its connected items keep their offsets; those on the
clip move into its media time. A retimed multicam clip, a conformed angle clip or an angle that
cuts between clips is left as it was (named by ``otio_fcpxml_extras``).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from xml.etree import ElementTree

from chunking.timeline.otio_fcpxml_time import connect_sound, fcpxml_text, fcpxml_time


@dataclass(frozen=True)
class Shown:
    """What one angle shows over a multicam clip's span: the asset (None for nothing), its
    media time where it starts showing, how far into the span that is and for how long."""

    asset: str | None
    media: Fraction
    lead: Fraction
    length: Fraction


def angle_shown(angle: Any, start: Fraction, duration: Fraction) -> Shown | None:
    """What an angle shows over [start, start + duration) of its multicam's time, when that is
    at most one plain asset-clip among gaps; else None."""
    end, found = start + duration, None
    for item in angle:
        offset = fcpxml_time(item.get("offset") or "0s")
        length = fcpxml_time(item.get("duration"))
        if offset is None or length is None:
            return None
        low, high = max(start, offset), min(end, offset + length)
        if high <= low or item.tag == "gap":
            continue
        media = fcpxml_time(item.get("start") or "0s")
        plain = item.find("conform-rate") is None and item.find("timeMap") is None
        if item.tag != "asset-clip" or found is not None or media is None or not plain:
            return None
        found = Shown(str(item.get("ref")), media + low - offset, low - start, high - low)
    return found or Shown(None, Fraction(0), duration, Fraction(0))


def multicam_shown(clip: Any, media: dict[Any, Any]) -> tuple[Shown, Shown | None] | None:
    """What a multicam clip's active video and audio angles show (audio None when it takes
    no sound), when this module can place them; else None."""
    found = media.get(clip.get("ref"))
    multicam = found.find("multicam") if found is not None else None
    start = fcpxml_time(clip.get("start") or "0s")
    duration = fcpxml_time(clip.get("duration"))
    plain = clip.find("timeMap") is None and clip.find("conform-rate") is None
    if multicam is None or start is None or not duration or not plain:
        return None
    angles = {a.get("angleID"): a for a in multicam.findall("mc-angle")}
    video = audio = None
    for source in clip.findall("mc-source"):
        enabled = source.get("srcEnable") or "all"
        video = source.get("angleID") if enabled in ("all", "video") else video
        audio = source.get("angleID") if enabled in ("all", "audio") else audio
    if video not in angles or (audio is not None and audio not in angles):
        return None
    shown = angle_shown(angles[video], start, duration)
    heard = angle_shown(angles[audio], start, duration) if audio is not None else None
    if shown is None or (audio is not None and heard is None):
        return None
    return shown, heard


def multicam_with_gaps(root: Any) -> bool:
    """Replace each multicam clip of a primary storyline whose angles start late or end early
    by gaps and its angles' clips (see the module docstring); False if none was."""
    media = {m.get("id"): m for m in root.iter("media")}
    parents = {child: parent for parent in root.iter() for child in parent}
    changed = False
    for clip in list(root.iter("mc-clip")):
        parent, found = parents.get(clip), multicam_shown(clip, media)
        if found is None or parent is None or parent.tag != "spine" or clip.get("lane"):
            continue
        pieces = _pieces(clip, *found)
        at = list(parent).index(clip)
        parent.remove(clip)
        for n, piece in enumerate(pieces):
            parent.insert(at + n, piece)
        changed = True
    return changed


def _pieces(clip: Any, shown: Shown, heard: Shown | None) -> list[Any]:
    """The storyline items a multicam clip becomes: gap, picture, gap (those of some length),
    its connected items and sound on the one each starts in."""
    start = fcpxml_time(clip.get("start") or "0s") or Fraction(0)
    offset = fcpxml_time(clip.get("offset") or "0s") or Fraction(0)
    duration = fcpxml_time(clip.get("duration")) or Fraction(0)
    name = clip.get("name") or ""
    spans = [(Fraction(0), shown.lead), (shown.lead + shown.length, duration)]
    # (piece, where it starts in the clip's span, its own time there)
    placed: list[tuple[Any, Fraction, Fraction]] = []
    for low, high in spans:
        if high > low:
            gap = ElementTree.Element("gap", {"name": name, "offset": fcpxml_text(offset + low),
                                              "start": fcpxml_text(start + low),
                                              "duration": fcpxml_text(high - low)})  # fmt: skip
            placed.append((gap, low, start + low))
    picture = None
    if shown.asset is not None and shown.length > 0:
        picture = ElementTree.Element("asset-clip", dict(clip.attrib))
        picture.attrib.pop("start", None)
        picture.set("ref", shown.asset)
        picture.set("srcEnable", "video")  # the sound is the audio angle's, connected below
        picture.set("offset", fcpxml_text(offset + shown.lead))
        picture.set("start", fcpxml_text(shown.media))
        picture.set("duration", fcpxml_text(shown.length))
        placed.append((picture, shown.lead, shown.media))
    placed.sort(key=lambda entry: entry[1])

    def holder(local: Fraction) -> tuple[Any, Fraction]:
        """The piece a time of the clip's own falls in, and that time in the piece's time."""
        at = local - start
        piece, low, own = next(p for p in reversed(placed) if p[1] <= at or p is placed[0])
        return piece, own + at - low

    for child in list(clip):
        if child.tag == "mc-source":
            continue
        local = fcpxml_time(child.get("offset"))
        if local is None:  # an adjustment: the picture's
            if picture is not None:
                picture.append(child)
            continue
        piece, own = holder(local)
        child.set("offset", fcpxml_text(own))
        piece.append(child)
    if heard is not None and heard.asset is not None and heard.length > 0:
        if clip.get("srcEnable") != "video":  # the multicam clip's sound not switched off
            piece, own = holder(start + heard.lead)
            lane = clip.get("lane") or "0"
            connect_sound(piece, heard.asset, fcpxml_text(own), fcpxml_text(heard.media),
                          fcpxml_text(heard.length), lane, name)  # fmt: skip
    return [piece for piece, _, _ in placed]

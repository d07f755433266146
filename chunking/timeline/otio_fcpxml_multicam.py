"""Multicam clips whose angles start late or end early, made what the adapter reads.

A multicam's angles are synchronized to one time: a camera that started rolling after the
sound recorder has a gap before its clip (``<mc-angle><gap .../><asset-clip offset=...>``).
A multicam clip used over such a gap (the whole multicam dropped into a project, as Final Cut
makes it) was not drawn at all (``otio_fcpxml_nesting`` flattens one whose active angles show
one clip over all of its span), neither its picture nor its sound: a silent black program.

Where each active angle shows plain clips over the multicam clip's span, with nothing (or
gaps) around and between them, the multicam clip becomes what Final Cut shows: in a
storyline a gap while the video angle shows nothing, each of the video angle's clips
(picture only) while it shows it; connected to a clip, those clips alone, connected there.
The audio angle's clips are connected where they play. An angle that cuts between two clips
inside the span (a camera stopped and started again, two takes) was left out altogether,
picture and sound. The gaps keep the multicam clip's own time (``start``), so its connected
items keep their offsets; those on the clip move into its media time (where a connected one
shows nothing, onto the clip it is connected to). A retimed multicam clip, or an angle
showing a conformed clip or anything but clips (a title, a compound) is left as it was
(named by ``otio_fcpxml_extras``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from xml.etree import ElementTree

from chunking.timeline.otio_fcpxml_time import connect_sound, fcpxml_text, fcpxml_time

#: Items of a storyline.
_ITEMS = ("asset-clip", "clip", "ref-clip", "spine", "gap", "audio", "video", "title",
          "sync-clip", "mc-clip", "audition")  # fmt: skip
#: What a plain clip of one asset may hold: its picture and sound (lifted: in a clip of a gap),
#: their adjustments that leave the picture as it is, notes.
_PLAIN = ("clip", "gap", "video", "audio", "adjust-colorConform", "adjust-volume",
          "adjust-panner", "marker", "chapter-marker", "keyword", "rating", "metadata", "md",
          "note", "array", "string", "audio-channel-source", "analysis-marker")  # fmt: skip


@dataclass(frozen=True)
class Shown:
    """What one angle shows over a multicam clip's span: the asset (None for nothing), its
    media time where it starts showing, how far into the span that is and for how long."""

    asset: str | None
    media: Fraction
    lead: Fraction
    length: Fraction


def angle_cuts(angle: Any, start: Fraction, duration: Fraction) -> list[Shown] | None:
    """What an angle shows over [start, start + duration) of its multicam's time, in order,
    when that is plain asset-clips among gaps (none: an empty list); else None."""
    end, found = start + duration, []
    for item in angle:
        offset = fcpxml_time(item.get("offset") or "0s")
        length = fcpxml_time(item.get("duration"))
        if offset is None or length is None:
            return None
        low, high = max(start, offset), min(end, offset + length)
        if high <= low or item.tag == "gap":
            continue
        played = played_media(item)
        if played is None:
            return None
        asset, media = played
        found.append(Shown(asset, media + low - offset, low - start, high - low))
    found.sort(key=lambda shown: shown.lead)
    if any(a.lead + a.length > b.lead for a, b in zip(found, found[1:], strict=False)):
        return None  # overlapping items: not an angle's storyline
    return found


def played_media(item: Any) -> tuple[str, Fraction] | None:
    """The asset an angle's item plays and its media time at the item's start, when it is a
    plain clip of one asset: an ``<asset-clip>``, or a ``<clip>`` holding one ``<video>`` of
    it (and that asset's sound as a component), as Final Cut writes a clip with roles of its
    own; else None."""
    if item.find("conform-rate") is not None or item.find("timeMap") is not None:
        return None
    start = fcpxml_time(item.get("start") or "0s")
    if item.tag == "asset-clip":
        return (str(item.get("ref")), start) if start is not None and item.get("ref") else None
    videos = [v for v in item.findall("video") if v.get("lane") is None]
    if item.tag != "clip" or len(videos) != 1 or start is None:
        return None
    (video,) = videos
    ref = video.get("ref")
    # Its other items: the video's own sound as a component (or, once lifted, connected).
    inner = [c for c in item if c.tag in _ITEMS and c.get("lane") is None and c is not video]
    refs = {e.get("ref") for e in item.iter() if e.tag in _ITEMS and e is not item}
    if inner or not ref or refs - {ref, None} or any(e.tag not in _PLAIN for e in item.iter()):
        return None  # more than one clip's media in it, or more than media
    media = fcpxml_time(video.get("start") or "0s")
    at = fcpxml_time(video.get("offset") or "0s")
    if media is None or at is None or video.find("timeMap") is not None:
        return None
    # The clip's own time ``start`` is at its offset; its video's ``offset`` in that time
    # shows the video's ``start``.
    return str(ref), media + start - at


def multicam_shown(
    clip: Any, media: dict[Any, Any]
) -> tuple[list[Shown], list[Shown] | None] | None:
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
    shown = angle_cuts(angles[video], start, duration)
    heard = angle_cuts(angles[audio], start, duration) if audio is not None else None
    if shown is None or (audio is not None and heard is None):
        return None
    return shown, heard


def multicam_with_gaps(root: Any) -> bool:
    """Replace each multicam clip whose angles start late, end early or cut inside its span by
    its angles' clips (and gaps, in a storyline: see the module docstring); False if none
    was."""
    media = {m.get("id"): m for m in root.iter("media")}
    parents = {child: parent for parent in root.iter() for child in parent}
    changed = False
    for clip in list(root.iter("mc-clip")):
        parent, found = parents.get(clip), multicam_shown(clip, media)
        if found is None or parent is None:
            continue
        if (parent.tag == "spine") != (clip.get("lane") is None):
            continue  # connected to a connected storyline, or in one: not placed here
        pieces = _pieces(clip, *found, parent)
        at = list(parent).index(clip)
        parent.remove(clip)
        for n, piece in enumerate(pieces):
            parent.insert(at + n, piece)
        changed = True
    return changed


def _pieces(clip: Any, shown: list[Shown], heard: list[Shown] | None, parent: Any) -> list[Any]:
    """The items a multicam clip becomes: gaps (in a storyline) and pictures in turn (those
    of some length), its connected items and sound on the one each starts in (a connected
    clip's, where it shows nothing, on the ``parent`` it is connected to)."""
    start = fcpxml_time(clip.get("start") or "0s") or Fraction(0)
    offset = fcpxml_time(clip.get("offset") or "0s") or Fraction(0)
    duration = fcpxml_time(clip.get("duration")) or Fraction(0)
    name = clip.get("name") or ""
    connected = clip.get("lane") is not None
    # (piece, where it starts and ends in the clip's span, its own time at its start)
    placed: list[tuple[Any, Fraction, Fraction, Fraction]] = []
    pictures: list[Any] = []
    at = Fraction(0)
    for cut in [*shown, Shown(None, Fraction(0), duration, Fraction(0))]:
        if cut.lead > at and not connected:  # a connected clip shows nothing there
            gap = ElementTree.Element("gap", {"name": name, "offset": fcpxml_text(offset + at),
                                              "start": fcpxml_text(start + at),
                                              "duration": fcpxml_text(cut.lead - at)})  # fmt: skip
            placed.append((gap, at, cut.lead, start + at))
        if cut.asset is None or cut.length <= 0:
            continue
        picture = ElementTree.Element("asset-clip", dict(clip.attrib))
        picture.attrib.pop("start", None)
        picture.set("ref", cut.asset)
        picture.set("srcEnable", "video")  # the sound is the audio angle's, connected below
        picture.set("offset", fcpxml_text(offset + cut.lead))
        picture.set("start", fcpxml_text(cut.media))
        picture.set("duration", fcpxml_text(cut.length))
        placed.append((picture, cut.lead, cut.lead + cut.length, cut.media))
        pictures.append(picture)
        at = cut.lead + cut.length

    def holder(local: Fraction) -> tuple[Any, Fraction]:
        """The piece a time of the clip's own falls in, and that time in the piece's time."""
        at = local - start
        inside = next((p for p in placed if p[1] <= at < p[2]), None)
        if inside is None and (connected or not placed):
            return parent, offset + at  # the time of the item the clip is connected to
        if inside is None:  # before or after the span: the first or last piece
            inside = placed[0] if at < placed[0][1] else placed[-1]
        piece, low, _, own = inside
        return piece, own + at - low

    for child in list(clip):
        if child.tag == "mc-source":
            continue
        local = fcpxml_time(child.get("offset"))
        if local is None:  # an adjustment: each picture's
            for picture in pictures:
                picture.append(copy.deepcopy(child))
            continue
        piece, own = holder(local)
        child.set("offset", fcpxml_text(own))
        piece.append(child)
    if clip.get("srcEnable") != "video":  # the multicam clip's sound not switched off
        for sound in heard or []:
            if sound.asset is None or sound.length <= 0:
                continue
            piece, own = holder(start + sound.lead)
            lane = clip.get("lane") or "0"
            connect_sound(piece, sound.asset, fcpxml_text(own), fcpxml_text(sound.media),
                          fcpxml_text(sound.length), lane, name)  # fmt: skip
    return [piece for piece, _, _, _ in placed]

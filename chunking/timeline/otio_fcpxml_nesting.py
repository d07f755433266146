"""FCPXML structures nested deeper than OpenTimelineIO's adapter follows, made flat before it
reads (see ``otio_fcpxml``): synchronized clips, multicam clips, and items connected to
connected items.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from xml.etree import ElementTree

from chunking.timeline.otio_fcpxml_multicam import played_media
from chunking.timeline.otio_fcpxml_retime import conform_speed, sequence_rate
from chunking.timeline.otio_fcpxml_time import (
    HOLDERS,
    SOUND_LANE,
    connect_sound,
    fcpxml_text,
    fcpxml_time,
)

#: The items a retime or rate conform applies to (``otio_fcpxml_retime``).
_RETIMABLE = ("clip", "asset-clip", "ref-clip")


def flatten_sync_clips(root: Any) -> bool:
    """Replace each synchronized clip whose primary storyline shows one clip over its span by
    that clip (see ``otio_fcpxml``); False if none was."""
    parents = {child: parent for parent in root.iter() for child in parent}
    changed = False
    for sync in reversed(list(root.iter("sync-clip"))):  # the innermost first
        parent = parents.get(sync)
        start, duration = (
            fcpxml_time(sync.get("start") or "0s"),
            fcpxml_time(sync.get("duration")),
        )
        if parent is None or start is None or not duration:
            continue
        primary = [c for c in sync if c.get("lane") is None and c.tag in HOLDERS]
        shown = [c for c in primary if _covers(c, start, duration)]
        if len(shown) != 1:
            continue
        clip = copy.deepcopy(shown[0])
        own = fcpxml_time(clip.get("start") or "0s") or Fraction(0)
        begins = own + start - (fcpxml_time(clip.get("offset") or "0s") or Fraction(0))
        for name in ("offset", "lane", "enabled"):
            if sync.get(name) is not None:
                clip.set(name, str(sync.get(name)))
            elif name != "offset":
                clip.attrib.pop(name, None)
        clip.set("start", fcpxml_text(begins))
        clip.set("duration", fcpxml_text(duration))
        # A sync clip shows nothing of its content outside its span: what is connected is cut
        # to it (the clip's own connected items in its time, the sync clip's in the sync's).
        for item in list(clip):
            if item.get("lane") is not None and not _trim(item, begins, begins + duration):
                clip.remove(item)
        # The sync clip's own sound (connected to its clip inside it), before what the
        # project connected to the sync clip joins it.
        held = [clip, *(c for c in clip if c.get("lane") is not None)]
        for item in sync:
            if item.get("lane") is None or not _trim(item, start, start + duration):
                continue
            offset = fcpxml_time(item.get("offset")) or Fraction(0)  # set by _trim
            item.set("offset", fcpxml_text(offset - start + begins))
            clip.append(item)
        conform = sync.find("conform-rate")
        for item in held if conform is not None else []:
            # The sync clip's rate conform (25 fps footage in a 24 fps project) slows its clip
            # and that clip's sound alike: left behind, they played at full speed.
            retimed = item.find("conform-rate") is not None or item.find("timeMap") is not None
            if item.tag in _RETIMABLE and not retimed:
                item.append(copy.deepcopy(conform))
        parent[list(parent).index(sync)] = clip
        changed = True
    return changed


def _covers(item: Any, start: Fraction, duration: Fraction) -> bool:
    """Whether an item spans [start, start + duration) of its container's time."""
    offset = fcpxml_time(item.get("offset") or "0s")
    length = fcpxml_time(item.get("duration"))
    if offset is None or not length:
        return False
    return offset <= start and start + duration <= offset + length


def _trim(item: Any, low: Fraction, high: Fraction) -> bool:
    """Cut an item to [low, high) of its container's time (its offset, start and duration);
    False when none of it is left (or its times are malformed)."""
    offset = fcpxml_time(item.get("offset"))
    length = fcpxml_time(item.get("duration"))
    own = fcpxml_time(item.get("start") or "0s")
    if offset is None or not length or own is None:
        return False
    begins, ends = max(offset, low), min(offset + length, high)
    if ends <= begins:
        return False
    item.set("offset", fcpxml_text(begins))
    item.set("start", fcpxml_text(own + begins - offset))
    item.set("duration", fcpxml_text(ends - begins))
    return True


@dataclass(frozen=True)
class AnglePick:
    """What a multicam clip shows: the angles' clips at its span, as media times."""

    #: the video angle's asset id and its media time at the clip's start
    video: tuple[str, Fraction]
    #: the sound's (the video's own when the same angle gives both), or None for none
    audio: tuple[str, Fraction] | None
    #: the speed the video angle's clip plays at in the multicam: its rate conformed to the
    #: multicam's (23.98 fps media in a 25 fps multicam: 25/23.976), else 1
    speed: Fraction = Fraction(1)


def multicam_pick(
    clip: Any, media: dict[Any, Any], formats: dict[Any, Any] | None = None
) -> AnglePick | None:
    """The clips a multicam clip's active angles show over its span (their rate conforms read
    against the multicam's format among ``formats``, by id), or None when an angle shows no
    single clip over all of it (a cut inside the angle, a gap) or the clip is malformed."""
    found = media.get(clip.get("ref"))
    multicam = found.find("multicam") if found is not None else None
    start, duration = (
        fcpxml_time(clip.get("start") or "0s"),
        fcpxml_time(clip.get("duration")),
    )
    if multicam is None or start is None or not duration:
        return None
    rate = format_rate(formats or {}, multicam.get("format"))
    angles = {a.get("angleID"): a for a in multicam.findall("mc-angle")}
    video = audio = None
    for source in clip.findall("mc-source"):
        enabled = source.get("srcEnable") or "all"
        if enabled in ("all", "video"):
            video = source.get("angleID")
        if enabled in ("all", "audio"):
            audio = source.get("angleID")
    shown = _angle_media(angles.get(video), start, duration, rate)
    if shown is None:
        return None
    if audio is None:
        return AnglePick(shown[:2], None, shown[2])
    heard = _angle_media(angles.get(audio), start, duration, rate)
    return AnglePick(shown[:2], heard[:2], shown[2]) if heard is not None else None


def format_rate(formats: dict[Any, Any], name: str | None) -> Fraction | None:
    """The frame rate of the format of this id, from its frameDuration; None if unknown."""
    found = formats.get(name)
    step = fcpxml_time(found.get("frameDuration")) if found is not None else None
    return 1 / step if step else None


def _angle_media(
    angle: Any, start: Fraction, duration: Fraction, rate: Fraction | None
) -> tuple[str, Fraction, Fraction] | None:
    """The asset an angle shows over [start, start + duration) of the multicam's time, its
    media time at ``start`` and the speed it plays at there (its rate conformed to the
    multicam's ``rate``, else 1), when one asset-clip covers all of it."""
    if angle is None:
        return None
    for item in angle:
        offset = fcpxml_time(item.get("offset") or "0s")
        length = fcpxml_time(item.get("duration"))
        if offset is None or not length or not offset <= start < offset + length:
            continue
        if start + duration > offset + length:
            return None
        if item.tag == "clip":  # one asset's video and sound: Final Cut's for roles of its own
            played = played_media(item)
            return None if played is None else (played[0], played[1] + start - offset, Fraction(1))
        media = fcpxml_time(item.get("start") or "0s")
        if item.tag != "asset-clip" or media is None:
            return None
        speed = conform_speed(item, rate) or Fraction(1)
        return str(item.get("ref")), media + (start - offset) * speed, speed
    return None


def flatten_multicam(root: Any) -> bool:
    """Replace each multicam clip whose angles show one clip each by that clip (see
    ``otio_fcpxml``); False if none was."""
    media = {m.get("id"): m for m in root.iter("media")}
    formats = {f.get("id"): f for f in root.iter("format")}
    project_rate = sequence_rate(root)
    parents = {child: parent for parent in root.iter() for child in parent}
    changed = False
    for clip in list(root.iter("mc-clip")):
        pick, parent = multicam_pick(clip, media, formats), parents.get(clip)
        if pick is None or parent is None:
            continue
        start = fcpxml_time(clip.get("start") or "0s") or Fraction(0)
        asset, shown = pick.video
        flat = ElementTree.Element("asset-clip", {k: v for k, v in clip.attrib.items()})
        flat.set("ref", asset)
        flat.set("start", fcpxml_text(shown))
        if pick.audio is None or pick.audio[0] != asset or pick.audio[1] != shown:
            flat.set("srcEnable", "video")  # its own sound is not what the cut plays
        # The angle's clip conformed to the multicam's rate (a third rate: 23.98 fps media in a
        # 25 fps multicam of a 24 fps project) plays at that speed times the multicam's own
        # conform: its media's frames, one by one, on the project's (that conform was left out:
        # 0.96x, not 1.001x, and from the wrong media time).
        conformed = pick.speed != 1 and clip.find("timeMap") is None
        for child in clip:  # connected items: in the clip's own time, which now runs from shown
            if child.tag in ("mc-source", "timeMap"):
                continue  # angles chosen above; a retime is not carried over (warned)
            if conformed and child.tag == "conform-rate":
                continue  # made part of the time map below
            offset = fcpxml_time(child.get("offset"))
            if offset is not None:
                child.set("offset", fcpxml_text(offset - start + shown))
            flat.append(child)
        heard = clip.get("srcEnable") != "video"  # its sound not switched off
        if pick.audio is not None and heard and flat.get("srcEnable") == "video":
            heard_asset, heard = pick.audio
            duration = str(clip.get("duration"))
            lane, name = clip.get("lane") or "0", clip.get("name") or ""
            connect_sound(
                flat, heard_asset, fcpxml_text(shown), fcpxml_text(heard), duration, lane, name
            )
        if conformed:
            speed = pick.speed * (conform_speed(clip, project_rate) or Fraction(1))
            length = fcpxml_time(clip.get("duration")) or Fraction(0)
            time_map = ElementTree.Element("timeMap", {"preservesPitch": "0"})
            for local in (shown, shown + length):
                value = fcpxml_text(shown + (local - shown) * speed)
                ElementTree.SubElement(
                    time_map, "timept", {"time": fcpxml_text(local), "value": value}
                )
            flat.insert(0, time_map)
        parent[list(parent).index(clip)] = flat
        changed = True
    return changed


def hoist_connected(root: Any) -> bool:
    """Connect every item connected below a spine item's own connected items to the spine
    item, at the same time (see ``otio_fcpxml``), cut to the span of the ``<clip>`` holding
    it (a clip shows none of its content outside it); False if none was."""
    moved = False
    for spine in root.iter("spine"):
        if spine.get("lane") is not None:
            continue  # a connected storyline: the adapter places its items itself
        for top in list(spine):
            pending = [c for c in top if c.tag in HOLDERS and c.get("lane") is not None]
            while pending:
                child = pending.pop()
                begins = fcpxml_time(child.get("offset") or "0s")
                own = fcpxml_time(child.get("start") or "0s")
                length = fcpxml_time(child.get("duration"))
                if begins is None or own is None:
                    continue
                for item in list(child):
                    offset = fcpxml_time(item.get("offset"))
                    if item.tag not in HOLDERS or item.get("lane") is None or offset is None:
                        continue
                    if child.tag == "clip" and length and not _trim(item, own, own + length):
                        child.remove(item)  # a clip shows none of its content outside its span
                        moved = True
                        continue
                    offset = fcpxml_time(item.get("offset")) or offset  # set by _trim
                    item.set("offset", fcpxml_text(begins + offset - own))
                    child.remove(item)
                    top.append(item)
                    pending.append(item)
                    moved = True
    return moved


def place_storylines(root: Any) -> bool:
    """Start each connected storyline where its ``offset`` says, in its parent's time: the
    adapter starts it at its parent's start. A gap of the difference leads it, its items moved
    after the gap; False if none needed moving."""
    parents = {child: parent for parent in root.iter() for child in parent}
    moved = False
    for spine in list(root.iter("spine")):
        parent = parents.get(spine)
        if spine.get("lane") is None or parent is None or parent.tag not in HOLDERS:
            continue
        offset = fcpxml_time(spine.get("offset") or "0s")
        start = fcpxml_time(parent.get("start") or "0s")
        if offset is None or start is None or offset <= start:
            continue
        shift = offset - start
        for item in spine:
            begins = fcpxml_time(item.get("offset"))
            if begins is not None:
                item.set("offset", fcpxml_text(begins + shift))
        gap = ElementTree.Element(
            "gap", {"name": "", "offset": "0s", "start": "0s", "duration": fcpxml_text(shift)}
        )
        spine.insert(0, gap)
        spine.set("offset", fcpxml_text(start))
        moved = True
    return moved


def separate_lanes(root: Any) -> bool:
    """Give a connected item that overlaps an earlier one of the same lane (each connected to
    its own spine clip, as Final Cut shows stacked) a lane of its own: the adapter plays the
    items of a lane one after the other, so it pushed the later one past the earlier one's
    end. Sound lanes (``SOUND_LANE``) are separated among themselves. False if none
    overlapped."""
    moved = False
    for spine in root.iterfind(".//project/sequence/spine"):
        spans: list[tuple[Fraction, Fraction, Any, str, int]] = []
        for top in spine:
            offset = fcpxml_time(top.get("offset") or "0s")
            start = fcpxml_time(top.get("start") or "0s")
            if offset is None or start is None:
                continue
            for item in top:
                lane, begins = item.get("lane"), fcpxml_time(item.get("offset") or "0s")
                length = fcpxml_time(item.get("duration"))
                kind = SOUND_LANE if lane is not None and lane.startswith(SOUND_LANE) else ""
                number = (lane or "")[len(kind) :]
                if not number.lstrip("-").isdigit() or begins is None or not length:
                    continue
                at = offset + begins - start
                spans.append((at, at + length, item, kind, int(number)))
        for kind in {span[3] for span in spans}:
            moved |= _separated([span[:3] + (span[4],) for span in spans if span[3] == kind], kind)
    return moved


def _separated(spans: list[tuple[Fraction, Fraction, Any, int]], kind: str) -> bool:
    """Move each item overlapping an earlier one of its lane (``kind`` and a number) to a lane
    of its own, past the outermost; False if none overlapped."""
    lanes = [lane for *_, lane in spans]
    highest, lowest = max([0, *lanes]), min([0, *lanes])
    ends: dict[int, Fraction] = {}
    moved = False
    for at, until, item, lane in sorted(spans, key=lambda span: span[0]):
        if at < ends.get(lane, at):
            if lane > 0:
                highest += 1
                lane = highest
            else:
                lowest -= 1
                lane = lowest
            item.set("lane", f"{kind}{lane}")
            moved = True
        ends[lane] = max(ends.get(lane, until), until)
    return moved

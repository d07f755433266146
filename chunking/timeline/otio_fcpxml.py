"""Final Cut Pro's FCPXML where OpenTimelineIO's adapter misreads it: amended before it reads.

* FCPXML 1.9 and later (Final Cut Pro 10.4.1 on, DaVinci Resolve) name an asset's file in a
  ``<media-rep kind="original-media" src=...>`` child, not its own ``src``: the adapter would
  find no media at all.
* A project's spine places its clips in the sequence's timecode time, which starts at
  ``tcStart`` (Resolve's 01:00:00:00: offsets from 3600 s): the adapter would put that hour of
  nothing before the program.
* A generator in a storyline (``<video ref=...>`` of an effect: Final Cut's Clouds, Custom,
  Metal backgrounds) made the adapter fail on the whole file; it is read as a gap (not drawn,
  named in a warning by ``otio_fcpxml_extras``), its connected items kept.
* An audition (``<audition>``: alternatives of one shot) was read as all its alternatives
  one after the other; it becomes its active pick, its first clip, where the audition is.
* A synchronized clip (``<sync-clip>``: a shot and its separately recorded sound) nests its
  clips in its own time, deeper than the adapter follows (it put them hours away). One whose
  primary storyline shows one clip over its span becomes that clip, trimmed to the span, with
  the sync clip's connected items (the sound) connected to it.
* A multicam clip (``<mc-clip>``) is not read at all. One whose active video angle shows one
  clip over its span becomes that clip (its audio angle's sound beside it when another angle
  gives the sound); others are named in a warning (``otio_fcpxml_extras``).
* The adapter places a connected item in its parent's time only when that parent is in the
  spine; one connected to a connected item (a flattened sync clip's sound, say) would land
  elsewhere. Such items are connected to the spine item itself, at the same time.
* An ``<asset-clip>`` of a video with sound is read as its picture only: every such clip would
  render silent. Each gets a connected audio clip of the same span, as Final Cut writes a clip
  whose audio it shows apart.

What the adapter leaves out altogether is read by ``otio_fcpxml_extras``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from xml.etree import ElementTree

#: The lane of the audio clips given to asset-clips (a name of its own: "sound 0", "sound 1"...).
_SOUND_LANE = "sound "
#: Items whose connected items (and nested content) live in the item's own time from ``start``.
HOLDERS = ("clip", "asset-clip", "ref-clip", "sync-clip", "mc-clip", "gap", "audition")
#: What a gap keeps of the item it replaces.
_GAP_ATTRIBUTES = ("name", "offset", "start", "duration", "enabled")
#: An FCPXML time value: a whole number of seconds or a fraction of them.
_FCPXML_TIME = re.compile(r"^\s*(\d+)(?:/(\d+))?s\s*$")


def fcpxml_amended(path: str) -> str | None:
    """An FCPXML file's text amended where the adapter misreads it (see the module
    docstring), or None when nothing needs amending (or the file does not parse: the adapter
    then reports it)."""
    try:
        tree = ElementTree.parse(path)
    except (ElementTree.ParseError, OSError, ValueError):
        return None
    root = tree.getroot()
    moved = False
    for asset in root.iter("asset"):
        if asset.get("src"):
            continue
        reps = asset.findall("media-rep")
        rep = next((r for r in reps if r.get("kind") == "original-media"), None)
        rep = rep if rep is not None else next(iter(reps), None)
        if rep is not None and rep.get("src"):
            asset.set("src", str(rep.get("src")))
            moved = True
    for sequence in root.iterfind(".//project/sequence"):
        moved |= _from_zero(sequence)
    moved |= _generators_as_gaps(root)
    moved |= _audition_picks(root)
    moved |= _flatten_sync_clips(root)
    moved |= _flatten_multicam(root)
    moved |= _hoist_connected(root)
    moved |= _sound_of_clips(root)
    return ElementTree.tostring(root, encoding="unicode") if moved else None


@dataclass(frozen=True)
class AnglePick:
    """What a multicam clip shows: the angles' clips at its span, as media times."""

    #: the video angle's asset id and its media time at the clip's start
    video: tuple[str, Fraction]
    #: the sound's (the video's own when the same angle gives both), or None for none
    audio: tuple[str, Fraction] | None


def multicam_pick(clip: Any, media: dict[Any, Any]) -> AnglePick | None:
    """The clips a multicam clip's active angles show over its span, or None when an angle
    shows no single clip over all of it (a cut inside the angle, a gap) or the clip is
    malformed."""
    found = media.get(clip.get("ref"))
    multicam = found.find("multicam") if found is not None else None
    start, duration = fcpxml_time(clip.get("start") or "0s"), fcpxml_time(clip.get("duration"))
    if multicam is None or start is None or not duration:
        return None
    angles = {a.get("angleID"): a for a in multicam.findall("mc-angle")}
    video = audio = None
    for source in clip.findall("mc-source"):
        enabled = source.get("srcEnable") or "all"
        if enabled in ("all", "video"):
            video = source.get("angleID")
        if enabled in ("all", "audio"):
            audio = source.get("angleID")
    shown = _angle_media(angles.get(video), start, duration)
    if shown is None:
        return None
    if audio is None:
        return AnglePick(shown, None)
    heard = _angle_media(angles.get(audio), start, duration)
    return AnglePick(shown, heard) if heard is not None else None


def _angle_media(angle: Any, start: Fraction, duration: Fraction) -> tuple[str, Fraction] | None:
    """The asset an angle shows over [start, start + duration) of the multicam's time and its
    media time at ``start``, when one asset-clip covers all of it."""
    if angle is None:
        return None
    for item in angle:
        offset = fcpxml_time(item.get("offset") or "0s")
        length = fcpxml_time(item.get("duration"))
        if offset is None or not length or not offset <= start < offset + length:
            continue
        media = fcpxml_time(item.get("start") or "0s")
        if item.tag != "asset-clip" or media is None or start + duration > offset + length:
            return None
        return str(item.get("ref")), media + (start - offset)
    return None


def _generators_as_gaps(root: Any) -> bool:
    """Turn each ``<video>``/``<audio>`` item of a storyline into a gap of the same span and
    connected items (see the module docstring); False if there was none."""
    changed = False
    for spine in root.iter("spine"):
        for item in spine:
            if item.tag in ("video", "audio"):
                kept = {k: v for k, v in item.attrib.items() if k in _GAP_ATTRIBUTES}
                item.tag = "gap"
                item.attrib.clear()
                item.attrib.update(kept)
                changed = True
    return changed


def _audition_picks(root: Any) -> bool:
    """Replace each audition by its first clip (the pick Final Cut plays), placed where the
    audition is; False if there was none."""
    parents = {child: parent for parent in root.iter() for child in parent}
    changed = False
    for audition in list(root.iter("audition")):
        parent, pick = parents.get(audition), next(iter(audition), None)
        if parent is None:
            continue
        index = list(parent).index(audition)
        parent.remove(audition)
        if pick is not None:
            for name in ("offset", "lane"):
                if audition.get(name) is not None:
                    pick.set(name, str(audition.get(name)))
            parent.insert(index, pick)
        changed = True
    return changed


def _flatten_sync_clips(root: Any) -> bool:
    """Replace each synchronized clip whose primary storyline shows one clip over its span by
    that clip (see the module docstring); False if none was."""
    parents = {child: parent for parent in root.iter() for child in parent}
    changed = False
    for sync in reversed(list(root.iter("sync-clip"))):  # the innermost first
        parent = parents.get(sync)
        start, duration = fcpxml_time(sync.get("start") or "0s"), fcpxml_time(sync.get("duration"))
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
        clip.set("start", _time(begins))
        clip.set("duration", _time(duration))
        # A sync clip shows nothing of its content outside its span: what is connected is cut
        # to it (the clip's own connected items in its time, the sync clip's in the sync's).
        for item in list(clip):
            if item.get("lane") is not None and not _trim(item, begins, begins + duration):
                clip.remove(item)
        for item in sync:
            if item.get("lane") is None or not _trim(item, start, start + duration):
                continue
            offset = fcpxml_time(item.get("offset")) or Fraction(0)  # set by _trim
            item.set("offset", _time(offset - start + begins))
            clip.append(item)
        parent[list(parent).index(sync)] = clip
        changed = True
    return changed


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
    item.set("offset", _time(begins))
    item.set("start", _time(own + begins - offset))
    item.set("duration", _time(ends - begins))
    return True


def _hoist_connected(root: Any) -> bool:
    """Connect every item connected below a spine item's own connected items to the spine
    item, at the same time (see the module docstring); False if none was."""
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
                if begins is None or own is None:
                    continue
                for item in list(child):
                    offset = fcpxml_time(item.get("offset"))
                    if item.tag not in HOLDERS or item.get("lane") is None or offset is None:
                        continue
                    item.set("offset", _time(begins + offset - own))
                    child.remove(item)
                    top.append(item)
                    pending.append(item)
                    moved = True
    return moved


def _covers(item: Any, start: Fraction, duration: Fraction) -> bool:
    """Whether an item spans [start, start + duration) of its container's time."""
    offset = fcpxml_time(item.get("offset") or "0s")
    length = fcpxml_time(item.get("duration"))
    return (
        offset is not None
        and bool(length)
        and offset <= start
        and start + duration <= offset + (length or 0)
    )


def _flatten_multicam(root: Any) -> bool:
    """Replace each multicam clip whose angles show one clip each by that clip (see the
    module docstring); False if none was."""
    media = {m.get("id"): m for m in root.iter("media")}
    parents = {child: parent for parent in root.iter() for child in parent}
    changed = False
    for clip in list(root.iter("mc-clip")):
        pick, parent = multicam_pick(clip, media), parents.get(clip)
        if pick is None or parent is None:
            continue
        start = fcpxml_time(clip.get("start") or "0s") or Fraction(0)
        asset, shown = pick.video
        flat = ElementTree.Element("asset-clip", {k: v for k, v in clip.attrib.items()})
        flat.set("ref", asset)
        flat.set("start", _time(shown))
        if pick.audio is None or pick.audio[0] != asset or pick.audio[1] != shown:
            flat.set("srcEnable", "video")  # its own sound is not what the cut plays
        for child in clip:  # connected items: in the clip's own time, which now runs from shown
            if child.tag == "mc-source":
                continue
            offset = fcpxml_time(child.get("offset"))
            if offset is not None:
                child.set("offset", _time(offset - start + shown))
            flat.append(child)
        if pick.audio is not None and flat.get("srcEnable") == "video":
            heard_asset, heard = pick.audio
            duration = str(clip.get("duration"))
            lane, name = clip.get("lane") or "0", clip.get("name") or ""
            _connect_sound(flat, heard_asset, _time(shown), _time(heard), duration, lane, name)
        parent[list(parent).index(clip)] = flat
        changed = True
    return changed


def _time(value: Fraction) -> str:
    """A time in FCPXML's notation."""
    return f"{value.numerator}/{value.denominator}s"


def _sound_of_clips(root: Any) -> bool:
    """Give each ``<asset-clip>`` of a video with sound a connected audio clip of the same
    span (as Final Cut writes a clip whose audio it shows apart), in a lane of its own per
    lane of the clip: the adapter reads an asset-clip as picture only. Done for the clips of a
    project's or compound's spine and the clips connected to those, the depth the adapter
    places connected clips at. False if none needed one."""
    assets = {a.get("id"): a for a in root.iter("asset")}
    parents = {child: parent for parent in root.iter() for child in parent}
    added = False
    for clip in list(root.iter("asset-clip")):
        asset = assets.get(clip.get("ref"))
        if asset is None or asset.get("hasAudio") != "1" or asset.get("hasVideo") != "1":
            continue  # no sound, or sound only: the adapter reads those itself
        if clip.get("srcEnable") == "video" or clip.get("enabled") == "0":
            continue
        start, duration = clip.get("start") or "0s", clip.get("duration")
        parent = parents.get(clip)
        if duration is None or parent is None:
            continue
        if parent.tag == "spine" and parent.get("lane") is None:
            # A spine clip: the sound is connected to it, from its own start.
            holder, offset = clip, start
        elif parent.tag in HOLDERS and (spine := parents.get(parent)) is not None:
            if spine.tag != "spine" or spine.get("lane") is not None:
                continue
            # A clip connected to a spine clip: its sound is connected there beside it.
            holder, offset = parent, clip.get("offset") or "0s"
        else:
            continue
        lane = clip.get("lane") or "0"
        name = clip.get("name") or ""
        _connect_sound(holder, str(clip.get("ref")), offset, start, duration, lane, name)
        added = True
    return added


def _connect_sound(
    holder: Any, asset: str, offset: str, start: str, duration: str, lane: str, name: str
) -> None:
    """Connect to ``holder``, at ``offset`` of its own time, the sound of ``asset`` from media
    time ``start`` for ``duration``, as Final Cut writes a clip's detached audio (a clip holding
    a gap holding the audio, which the adapter reads), in the sound lane of ``lane``."""
    connected = ElementTree.SubElement(
        holder,
        "clip",
        {
            "name": name,
            "lane": f"{_SOUND_LANE}{lane}",
            "offset": offset,
            "start": start,
            "duration": duration,
        },
    )
    gap = ElementTree.SubElement(connected, "gap", {"offset": "0s", "duration": duration})
    ElementTree.SubElement(gap, "audio", {"offset": "0s", "ref": asset, "duration": duration})


def _from_zero(sequence: Any) -> bool:
    """Move a project sequence's spine offsets back by its ``tcStart``; False when it has none
    (or an item sits before it: then the offsets are not timecode times)."""
    start = fcpxml_time(sequence.get("tcStart"))
    spine = sequence.find("spine")
    if not start or spine is None:
        return False
    items = [item for item in spine if item.get("offset") is not None]
    offsets = [fcpxml_time(item.get("offset")) for item in items]
    if not items or any(offset is None or offset < start for offset in offsets):
        return False
    for item, offset in zip(items, offsets, strict=True):
        assert offset is not None
        shifted = offset - start
        item.set("offset", f"{shifted.numerator}/{shifted.denominator}s")
    return True


def fcpxml_time(value: str | None) -> Fraction | None:
    """An FCPXML time ("3600s", "1001/30000s") in seconds, or None when absent or malformed."""
    match = _FCPXML_TIME.match(value or "")
    if match is None:
        return None
    return Fraction(int(match[1]), int(match[2] or 1)) if int(match[2] or 1) else None

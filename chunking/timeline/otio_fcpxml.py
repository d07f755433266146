"""Final Cut Pro's FCPXML where OpenTimelineIO's adapter misreads it: amended before it reads.

* FCPXML 1.9 and later (Final Cut Pro 10.4.1 on, DaVinci Resolve) name an asset's file in a
  ``<media-rep kind="original-media" src=...>`` child, not its own ``src``: the adapter would
  find no media at all.
* A project's spine places its clips in the sequence's timecode time, which starts at
  ``tcStart`` (Resolve's 01:00:00:00: offsets from 3600 s): the adapter would put that hour of
  nothing before the program.
* A disabled item (``enabled="0"``) was shown: one in a storyline becomes a gap (its connected
  items stay), a connected one is left out.
* A ``<video>`` or ``<audio>`` item in a storyline made the adapter fail on the whole file.
  One of a generator (an effect: Final Cut's Clouds, Custom, Metal backgrounds) is read as a
  gap (not drawn, named in a warning by ``otio_fcpxml_extras``), its connected items kept; one
  of an asset as that asset's picture (an asset-clip of it) or sound alone.
* An audition (``<audition>``: alternatives of one shot) was read as all its alternatives
  one after the other; it becomes its active pick, its first clip, where the audition is.
* A synchronized clip (``<sync-clip>``: a shot and its separately recorded sound) nests its
  clips in its own time, deeper than the adapter follows (it put them hours away). One whose
  primary storyline shows one clip over its span becomes that clip, trimmed to the span, with
  the sync clip's connected items (the sound) connected to it.
* A multicam clip (``<mc-clip>``) is not read at all. One whose active video angle shows one
  clip over its span becomes that clip (its audio angle's sound beside it when another angle
  gives the sound); one whose angles start late or end early becomes gaps around that clip
  (``otio_fcpxml_multicam``); others are named in a warning (``otio_fcpxml_extras``).
* The adapter places a connected item in its parent's time only when that parent is in the
  spine; one connected to a connected item (a flattened sync clip's sound, say) would land
  elsewhere. Such items are connected to the spine item itself, at the same time.
* A connected storyline (``<spine lane=...>``) started at its parent clip's start, whatever
  its ``offset``: it is led by a gap up to where its offset puts it.
* Connected items of one lane that overlap (each connected to its own spine clip: Final Cut
  stacks them) were played one after the other; the later one gets a lane of its own.
* A retimed clip (``<timeMap>``) was played at its own speed. One retimed at a constant speed
  (two points, as Final Cut writes a 50 % or 200 % clip) the renderer plays (0.1x to 10x) is
  marked in its name and given that speed once read (``otio_fcpxml_retime``),
  its start moved to its media time, and its sound's pitch kept unless ``preservesPitch="0"``
  (Final Cut's default keeps it); the others stay named in a warning. One played backwards
  (Reverse Clip, a rewind) played forwards with that warning; it is refused, naming it, as
  every other format's reverse is.
* An ``<asset-clip>`` of a video with sound is read as its picture only: every such clip would
  render silent. Each gets a connected audio clip of the same span, as Final Cut writes a clip
  whose audio it shows apart.

Sound components anchored anywhere and switched-off sound are read by
``otio_fcpxml_components``, the channels a sound plays alone by ``otio_fcpxml_channels``, split
edits (J/L cuts) by ``otio_fcpxml_split``.
What the adapter leaves out altogether is read by ``otio_fcpxml_extras``, clips' adjustments
(level, opacity, transform) by ``otio_fcpxml_adjust``, transitions by
``otio_fcpxml_transitions``.
"""

from __future__ import annotations

import copy
from typing import Any
from xml.etree import ElementTree

from chunking.timeline.otio_fcpxml_adjust import mark_adjustments
from chunking.timeline.otio_fcpxml_channels import channels_apart, mark_clip_channels
from chunking.timeline.otio_fcpxml_checks import check_document, check_time_sizes, decimal_times
from chunking.timeline.otio_fcpxml_components import (
    lift_components,
    sound_only_clips,
    sounds_switched_off,
)
from chunking.timeline.otio_fcpxml_compound import silence_compounds
from chunking.timeline.otio_fcpxml_durations import imply_durations
from chunking.timeline.otio_fcpxml_media import export_folder, probe_media_kinds
from chunking.timeline.otio_fcpxml_multicam import multicam_with_gaps
from chunking.timeline.otio_fcpxml_nesting import (
    flatten_multicam,
    flatten_sync_clips,
    hoist_connected,
    place_storylines,
    separate_lanes,
)
from chunking.timeline.otio_fcpxml_retime import check_reverses, constant_retimes
from chunking.timeline.otio_fcpxml_solids import mark_solids
from chunking.timeline.otio_fcpxml_split import split_edits
from chunking.timeline.otio_fcpxml_time import HOLDERS, connect_sound, fcpxml_text, fcpxml_time
from chunking.timeline.otio_fcpxml_transitions import mark_transitions
from common.errors import TimelineError

#: What a gap keeps of the item it replaces.
_GAP_ATTRIBUTES = ("name", "offset", "start", "duration", "enabled")


def fcpxml_amended(path: str, text: str | None = None) -> str | None:
    """An FCPXML file's text (``text``, when read already) amended where the adapter misreads
    it (see the module docstring), or None when nothing needs amending (or the file does not
    parse: the adapter then reports it)."""
    try:
        root = ElementTree.parse(path).getroot() if text is None else ElementTree.fromstring(text)
    except LookupError as exc:  # its XML declaration names an encoding Python does not know
        raise TimelineError(f"{path}: not readable FCPXML ({exc})") from None
    except (ElementTree.ParseError, OSError, ValueError):
        return None
    deepest = element_depth(root)
    if deepest > MAX_NESTING:
        raise TimelineError(
            f"{path}: its elements nest {deepest} levels deep (at most {MAX_NESTING} are read); "
            "not an FCPXML an editor writes"
        )
    check_time_sizes(root, path)  # before any of them is converted
    moved = decimal_times(root)
    moved |= imply_durations(root)  # before the checks name the items without one
    check_document(root, path)
    # Before anything decides by them whether a clip has sound.
    moved |= probe_media_kinds(root, export_folder(path))
    # First what is disabled goes; then the items the nesting below copies or flattens carry
    # their adjustments along.
    moved |= _named(root)
    # Solids become clips before anything treats them as generators (left out, or gaps).
    moved |= mark_solids(root)
    # Sound switched off and components anchored anywhere, while their parents are there.
    moved |= sounds_switched_off(root)
    moved |= sound_only_clips(root)
    moved |= channels_apart(root)  # its components are lifted next
    moved |= lift_components(root)
    moved |= mark_clip_channels(root)
    moved |= _disabled_left_out(root)
    moved |= mark_adjustments(root)
    moved |= mark_transitions(root)
    moved |= split_edits(root)  # after the marks: its sound takes the item's adjustments
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
    # Once what is disabled or not picked is gone, before a sync clip's retime is flattened
    # away with it.
    check_reverses(root, path)
    moved |= flatten_sync_clips(root)
    moved |= flatten_multicam(root)
    moved |= multicam_with_gaps(root)  # the ones left: angles that start late or end early
    moved |= hoist_connected(root)
    moved |= place_storylines(root)
    moved |= separate_lanes(root)
    moved |= silence_compounds(root)
    moved |= constant_retimes(root)
    moved |= _compounds_named(root)
    if _sound_of_clips(root):
        separate_lanes(root)  # the sound added may overlap a split edit's
        moved = True
    return ElementTree.tostring(root, encoding="unicode") if moved else None


#: How deep elements may nest: Final Cut's deepest (compound in compound in a storyline)
#: stay far below; the adapter and the amending recurse once per level.
MAX_NESTING = 200


def element_depth(root: Any) -> int:
    """How many levels deep the document's elements nest (without recursing)."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        element, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in element)
    return deepest


def _named(root: Any) -> bool:
    """Give each item without a ``name`` (optional in the DTD; tools leave it out) its asset's
    or media's name, else its tag: the adapter refused the whole file with a binding error."""
    names = {r.get("id"): r.get("name") for r in root.iter() if r.get("id") and r.get("name")}
    changed = False
    for item in root.iter():
        if (
            item.tag in (*HOLDERS, "video", "audio")
            and item.tag != "gap"
            and "name" not in item.attrib
        ):
            item.set("name", names.get(item.get("ref")) or item.tag)
            changed = True
    return changed


def _compounds_named(root: Any) -> bool:
    """Give each compound clip (``<ref-clip>``) whose name carries a mark a copy of its
    ``<media>`` named as it is: the adapter names the stack it reads after the media, so the
    mark (a speed, silenced sound) would not reach the read timeline. False if none."""
    resources = root.find("resources")
    media = {m.get("id"): m for m in root.iter("media")}
    changed = False
    for n, item in enumerate(root.iter("ref-clip")):
        name, found = item.get("name") or "", media.get(item.get("ref"))
        if "\u2063" not in name or found is None or resources is None:
            continue
        own = copy.deepcopy(found)
        own.set("id", f"{found.get('id')}\u2063{n}")
        own.set("name", name)
        resources.append(own)
        item.set("ref", str(own.get("id")))
        changed = True
    return changed


def _disabled_left_out(root: Any) -> bool:
    """Leave out every disabled item (``enabled="0"``: Final Cut shows and plays nothing of it,
    the adapter showed its picture): one in a storyline becomes a gap of its span, which keeps
    the items connected to it, as Final Cut does; a connected one goes. False if there was
    none."""
    parents = {child: parent for parent in root.iter() for child in parent}
    changed = False
    for item in list(root.iter()):
        if item.get("enabled") != "0" or item.tag in ("title", "spine", "sequence"):
            continue
        parent = parents.get(item)
        if parent is None:
            continue
        if parent.tag != "spine" or item.get("lane") is not None:
            parent.remove(item)
        else:
            kept = {k: v for k, v in item.attrib.items() if k in _GAP_ATTRIBUTES}
            kept.pop("enabled", None)
            connected = [c for c in item if c.get("lane") is not None]
            item.clear()
            item.tag = "gap"
            item.attrib.update(kept)
            item.extend(connected)
        changed = True
    return changed


def _generators_as_gaps(root: Any) -> bool:
    """Turn each ``<video>``/``<audio>`` item of a storyline into a gap of the same span and
    connected items when it shows an effect (a generator), into an asset-clip when it shows
    an asset (a still, a picture-only or sound-only use of a file), as the adapter reads
    those (see the module docstring); False if there was none."""
    assets = {a.get("id") for a in root.iter("asset")}
    changed = False
    for spine in root.iter("spine"):
        for item in spine:
            if item.tag not in ("video", "audio"):
                continue
            asset, sound = item.get("ref"), item.tag == "audio"
            if asset in assets and not sound:
                item.tag = "asset-clip"
                item.set("srcEnable", "video")  # the picture alone, as <video> says
            else:
                kept = {k: v for k, v in item.attrib.items() if k in _GAP_ATTRIBUTES}
                item.tag = "gap"
                item.attrib.clear()
                item.attrib.update(kept)
                duration = item.get("duration")
                if asset in assets and duration is not None:  # the sound alone
                    start, name = item.get("start") or "0s", item.get("name") or ""
                    connect_sound(item, str(asset), start, start, duration, "0", name)
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


def _storyline_place(clip: Any, spine: Any, parents: dict[Any, Any]) -> tuple[Any, str] | None:
    """The spine clip a connected storyline holding `clip` hangs from, and where in that
    clip's time the storyline shows `clip`; None for a clip of any other storyline."""
    holder = parents.get(spine)
    primary = parents.get(holder) if holder is not None else None
    if spine.tag != "spine" or spine.get("lane") is None or holder is None or primary is None:
        return None
    if primary.tag != "spine" or primary.get("lane") is not None:
        return None
    begins = fcpxml_time(spine.get("offset") or "0s")
    offset = fcpxml_time(clip.get("offset") or "0s")
    if begins is None or offset is None:
        return None
    return holder, fcpxml_text(begins + offset)


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
        elif (storyline := _storyline_place(clip, parent, parents)) is not None:
            # A clip of a connected storyline: its sound is connected to the storyline's
            # spine clip, where the storyline shows the clip, in the storyline's lane.
            holder, offset = storyline
        else:
            continue
        lane = clip.get("lane") or parent.get("lane") or "0"
        name = clip.get("name") or ""
        connect_sound(holder, str(clip.get("ref")), offset, start, duration, lane, name)
        added = True
    return added


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

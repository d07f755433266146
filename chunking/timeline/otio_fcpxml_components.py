"""FCPXML sound components and sound switches, made what OpenTimelineIO's adapter reads (see
``otio_fcpxml``), before anything else is amended.

* A clip's sound switched off: every ``<audio-channel-source>`` of it ``enabled="0"`` (its
  audio unticked in Final Cut's inspector), or its role switched off in the synchronized clip
  holding it (``<sync-source sourceID="storyline|connected"><audio-role-source role=...
  active="0">``: the camera's scratch sound under a recorder's) still played. Such a clip
  becomes picture only (``srcEnable="video"``), such an ``<audio>`` disabled.
* An ``<asset-clip srcEnable="audio">`` (a file with picture used for its sound alone) was
  drawn, and one of a sound file (music in the primary storyline) drawn too, failing on a
  picture the file does not have. Each becomes an ``<audio>`` of the file, which the
  amendments read as sound alone.
* An ``<audio>``/``<video>`` used as an anchored item (a ``lane``, inside a clip, another
  component or on an asset-clip, as Final Cut writes dual-mono sound: ``<audio srcCh="1">``
  holding ``<audio lane="-1" srcCh="2">``) was read as a storyline item: laid after its
  parent's other components (pushing the next clip's sound off), or drawn. Each becomes an
  item connected to the clip that holds it (or the title: music connected to an opening
  title made the adapter fail on the whole file), at its own place: the sound as Final Cut
  writes a clip's detached audio, the picture as a picture-only asset-clip. A component of one
  channel (``srcCh="2"``) plays that channel alone, centred (the clip's ``audio_channel``): the mark
  travels through the adapter at the end of the connected clip's name (``CHANNEL_MARK``) and
  becomes, once read, the OTIO clip's channel (``apply_channels``). A component playing the
  same as another (the same channel or the whole file, at the same time) is left out.
* An asset-clip whose ``<audio-channel-source>`` entries play differently (some switched off,
  or levels of their own) played all its file's channels at the clip's level. Its sound
  becomes one component per channel its enabled sources name, each at its source's level.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

from chunking.timeline.otio_fcpxml_channels import (
    CHANNEL_MARK,
    CHANNEL_NAME,
    channels_apart,
    channels_of,
    count_of,
    single,
)
from chunking.timeline.otio_fcpxml_time import HOLDERS, connect_sound, fcpxml_text, fcpxml_time

#: The components of a clip (its picture and its sound), which may anchor to anything.
COMPONENTS = ("video", "audio")
#: What an anchored component may hang from: a clip, or a storyline's title (Final Cut lets
#: music be connected to a title as to any clip; the adapter times only clips' components).
_ANCHORS = (*HOLDERS, "title")
#: Items whose sound a switch turns off as a whole.
_SOUNDING = ("asset-clip", "ref-clip", "mc-clip", "clip", "audio")


def sounds_switched_off(root: Any) -> bool:
    """Switch off the sound of the items whose roles a synchronized clip switches off and of
    those whose audio channel sources are all disabled; False if there was none."""
    changed = False
    for sync in root.iter("sync-clip"):
        for source in sync.findall("sync-source"):
            which = source.get("sourceID")
            off = [
                str(role.get("role"))
                for role in source.findall("audio-role-source")
                if role.get("active") == "0" and role.get("role")
            ]
            if not off or which not in ("storyline", "connected"):
                continue
            for item in _sync_members(sync, connected=which == "connected"):
                changed |= _role_off(item, off)
    for item in root.iter():
        sources = item.findall("audio-channel-source") if item.tag in _SOUNDING else []
        if sources and all(s.get("enabled") == "0" for s in sources):
            changed |= _silence(item)
    return changed


def _sync_members(sync: Any, connected: bool) -> Iterator[Any]:
    """The elements of a synchronized clip's storyline (its clips' own components) or, with
    ``connected``, of what is connected in it (anything in a lane), not those of a sync clip
    nested in it (its own switches rule them)."""
    stack = [(child, child.get("lane") is not None) for child in sync]
    while stack:
        item, in_lane = stack.pop()
        if item.tag in ("sync-clip", "sync-source"):
            continue
        if in_lane == connected:
            yield item
        stack.extend((child, in_lane or child.get("lane") is not None) for child in item)


def _plays_role(role: str | None, off: list[str]) -> bool:
    """Whether a role (``dialogue.dialogue-1``) is one of ``off`` or a subrole of one."""
    return role is not None and any(role == r or role.startswith(f"{r}.") for r in off)


def _role_off(item: Any, off: list[str]) -> bool:
    """Switch off an element's sound when it plays one of the roles ``off``."""
    if item.tag in ("audio-channel-source", "audio") and _plays_role(item.get("role"), off):
        if item.get("enabled") == "0":
            return False
        item.set("enabled", "0")
        return True
    if item.tag == "asset-clip" and item.find("audio-channel-source") is None:
        if _plays_role(item.get("audioRole"), off):
            return _silence(item)
    return False


def _silence(item: Any) -> bool:
    """Switch off an item's sound (keeping its picture); False if it already was."""
    if item.tag == "audio":
        was_on: bool = item.get("enabled") != "0"
        item.set("enabled", "0")
        return was_on
    if item.tag == "clip":  # its own sound components, wherever they anchor in it
        changed = False
        for sound in _own_components(item):
            if sound.tag == "audio" and sound.get("enabled") != "0":
                sound.set("enabled", "0")
                changed = True
        return changed
    if item.get("srcEnable") == "audio":  # sound alone: nothing is left
        item.set("enabled", "0")
        return True
    had_sound: bool = item.get("srcEnable") != "video"
    item.set("srcEnable", "video")
    return had_sound


def _own_components(clip: Any) -> Iterator[Any]:
    """A clip's components: its ``<video>``/``<audio>`` and those anchored to them."""
    stack = [child for child in clip if child.tag in COMPONENTS]
    while stack:
        component = stack.pop()
        yield component
        stack.extend(child for child in component if child.tag in COMPONENTS)


def sound_only_clips(root: Any) -> bool:
    """Make each asset-clip used for its sound alone (``srcEnable="audio"``) or of a sound
    file (an asset with sound and no picture: music or a voice-over in the primary
    storyline, which was drawn, a picture its file does not have), in a storyline or
    connected, an ``<audio>`` of its file; False if there was none."""
    parents = {child: parent for parent in root.iter() for child in parent}
    sound_files = {asset.get("id") for asset in root.iter("asset") if _sound_file(asset)}
    changed = False
    for item in root.iter("asset-clip"):
        parent = parents.get(item)
        heard = item.get("srcEnable") == "audio" or item.get("ref") in sound_files
        if not heard or parent is None:
            continue
        if parent.tag == "spine" or item.get("lane") is not None:
            item.tag = "audio"
            item.attrib.pop("srcEnable", None)
            changed = True
    return changed


def _sound_file(asset: Any) -> bool:
    """Whether an ``<asset>`` has sound and no picture: ``hasVideo="0"``, or (the DTD's
    default) no ``hasVideo`` and nothing else of a picture (a video format or sources)."""
    if asset.get("hasAudio") != "1":
        return False
    has_video: str | None = asset.get("hasVideo")
    if has_video is not None:
        return has_video == "0"
    return asset.get("format") is None and asset.get("videoSources") is None


def lift_components(root: Any) -> bool:
    """Connect each anchored ``<audio>``/``<video>`` to the clip holding it, at its place in
    that clip's time, and the sound of a ``<clip srcEnable="audio">`` beside it; False if
    there was none."""
    parents = {child: parent for parent in root.iter() for child in parent}
    assets = {a.get("id") for a in root.iter("asset")}
    changed = False
    for item in reversed(list(root.iter())):  # the innermost first: its parent is still there
        parent = parents.get(item)
        if item.tag not in COMPONENTS or item.get("lane") is None or parent is None:
            continue
        if parent.tag == "spine":
            continue  # a storyline's own item (otio_fcpxml reads those)
        placed = _in_holder(item, parents)
        if placed is None:
            continue  # malformed times, or not in a clip: left to the adapter
        holder, at = placed
        parent.remove(item)
        changed = True
        if item.get("ref") in assets:
            _connect(item, holder, at, str(item.get("lane")))
        # a generator anchored as a component draws an effect: left out, named by
        # otio_fcpxml_extras
    for clip in root.iter("clip"):
        if clip.get("srcEnable") == "audio":
            changed |= _sound_beside(clip, assets)
    return changed


def _sound_beside(clip: Any, assets: set[Any]) -> bool:
    """Leave out a sound-only clip's picture; in a storyline, connect its sound to it, in a
    sound lane (a storyline's lane holds pictures: its sound there would be drawn)."""
    changed = False
    for component in [c for c in clip if c.tag in COMPONENTS and c.get("lane") is None]:
        if component.tag == "audio" and clip.get("lane") is not None:
            continue  # a connected clip's sound: the adapter reads it as sound
        clip.remove(component)
        changed = True
        at = fcpxml_time(component.get("offset") or "0s")
        if component.tag == "audio" and component.get("ref") in assets and at is not None:
            _connect(component, clip, at, "0")
    return changed


def _in_holder(item: Any, parents: dict[Any, Any]) -> tuple[Any, Fraction] | None:
    """The clip an anchored component belongs to and where in that clip's time it starts
    (through the components it anchors to, each in its parent's time from its ``start``)."""
    at = fcpxml_time(item.get("offset") or "0s")
    node = parents.get(item)
    while node is not None and node.tag in COMPONENTS and at is not None:
        outer = parents.get(node)
        if outer is not None and outer.tag == "spine":
            return node, at  # a storyline's own component: a clip of its time once amended
        offset = fcpxml_time(node.get("offset") or "0s")
        start = fcpxml_time(node.get("start") or "0s")
        if offset is None or start is None:
            return None
        at = offset + at - start
        node = parents.get(node)
    if node is None or node.tag not in _ANCHORS or at is None:
        return None
    return node, at


def _connect(item: Any, holder: Any, at: Fraction, lane: str) -> None:
    """Connect a component to ``holder`` at ``at``: a picture as a picture-only asset-clip, a
    sound as a clip's detached audio (unless another component plays the same), marked to
    play its one channel when it names one."""
    if item.tag == "video":
        item.tag = "asset-clip"
        item.set("srcEnable", "video")
        item.set("offset", f"{at.numerator}/{at.denominator}s")
        holder.append(item)
        return
    span = _within(holder, at, item.get("start") or "0s", item.get("duration"))
    if span is None:
        return
    at, start, duration = span[0], fcpxml_text(span[1]), fcpxml_text(span[2])
    channel = single(item.get("srcCh"))
    key = _key(str(item.get("ref")), at, start, duration, channel)
    whole = _key(str(item.get("ref")), at, start, duration, None)
    if item.get("enabled") != "0" and key is not None and {key, whole} & _sounds(holder):
        return  # the same channel, or the whole file, already plays there
    name = item.get("name") or ""
    if channel is not None:
        name = f"{name}{CHANNEL_MARK}{channel}"
    connected = connect_sound(
        holder, str(item.get("ref")), f"{at.numerator}/{at.denominator}s", start, duration,
        lane, name,
    )  # fmt: skip
    if item.get("enabled") is not None:
        connected.set("enabled", str(item.get("enabled")))
    for child in item:  # its adjustments, channel sources
        connected.append(child)


def _within(
    holder: Any, at: Fraction, start: str, duration: str | None
) -> tuple[Fraction, Fraction, Fraction] | None:
    """Where a sound at ``at`` of its holder's time (media from ``start`` for ``duration``)
    plays, its media start and duration, cut to a ``<clip>`` holder's span (a clip shows
    none of its content outside it; what anchors to an asset-clip is connected, not cut);
    None when nothing is left (or its times are malformed)."""
    begins, length = fcpxml_time(start), fcpxml_time(duration)
    if begins is None or not length:
        return None
    low, high = at, at + length
    own, span = fcpxml_time(holder.get("start") or "0s"), fcpxml_time(holder.get("duration"))
    if holder.tag == "clip" and own is not None and span:
        low, high = max(low, own), min(high, own + span)
    if high <= low:
        return None
    return low, begins + low - at, high - low


def _key(
    ref: str, at: Fraction, start: str, duration: str, channel: int | None
) -> tuple[Any, ...] | None:
    """What makes two sounds the same: the file, where it plays, which part and channel."""
    begins, length = fcpxml_time(start), fcpxml_time(duration)
    if begins is None or length is None:
        return None
    return ref, at - begins, begins, length, channel


def _sounds(holder: Any) -> set[tuple[Any, ...]]:
    """The sounds a clip plays in its own time: its own (an asset-clip's), its storyline's
    ``<audio>`` components and the sounds connected to it so far (all switched on)."""
    found = set()
    start = holder.get("start") or "0s"
    if holder.tag == "asset-clip" and holder.get("srcEnable") != "video":
        own = _key(str(holder.get("ref")), fcpxml_time(start) or Fraction(0), start,
                   holder.get("duration") or "", None)  # fmt: skip
        found.add(own)
    for child in holder:
        if child.get("enabled") == "0":
            continue
        if child.tag == "audio" and child.get("lane") is None:
            at = fcpxml_time(child.get("offset") or "0s")
            channel = single(child.get("srcCh"))
            if at is not None:
                found.add(_key(str(child.get("ref")), at, child.get("start") or "0s",
                               child.get("duration") or "", channel))  # fmt: skip
        sound = child.find("gap/audio") if child.tag == "clip" else None
        if sound is not None and child.get("lane") is not None:
            at = fcpxml_time(child.get("offset") or "0s")
            marked = CHANNEL_NAME.search(child.get("name") or "")
            if at is not None:
                found.add(_key(str(sound.get("ref")), at, child.get("start") or "0s",
                               child.get("duration") or "",
                               int(marked[1]) if marked else None))  # fmt: skip
    found.discard(None)
    return found  # type: ignore[return-value]


def channel_notes(root: Any) -> list[str]:
    """What of the document's channel choices is not rendered, one message per clip: a clip
    playing several but not all of its file's channels (a component of channels 1 and 2 of
    four, channel sources the amendments do not play apart) plays all of them: the renderer
    plays one channel alone or all together."""
    root = copy.deepcopy(root)
    sounds_switched_off(root)
    channels_apart(root)  # what it plays apart is rendered
    channels = {a.get("id"): count_of(a.get("audioChannels")) for a in root.iter("asset")}
    notes = []
    for item in root.iter():
        if item.tag not in HOLDERS or item.get("enabled") == "0":
            continue
        name = repr(item.get("name") or item.tag)
        sources = item.findall("audio-channel-source")
        off = [s for s in sources if s.get("enabled") == "0"]
        if off and len(off) < len(sources):
            chosen = ", ".join(str(s.get("srcCh") or "?") for s in off)
            notes.append(
                f"clip {name}: its audio channel(s) {chosen}, switched off, still play "
                "(channels of a file are not picked)"
            )
        if any(s.find("adjust-volume") is not None for s in sources if s not in off):
            notes.append(f"clip {name}: the levels of its audio channels are not rendered")
        heard: dict[Any, set[int]] = {}
        for sound in _own_components(item):
            picked = channels_of(sound.get("srcCh"))
            if sound.tag == "audio" and sound.get("enabled") != "0" and len(picked) > 1:
                heard.setdefault(sound.get("ref"), set()).update(picked)
        for ref, picked in heard.items():
            count = channels.get(ref)
            if count and picked and not set(range(1, count + 1)) <= picked:
                shown = ", ".join(str(n) for n in sorted(picked))
                notes.append(
                    f"clip {name}: only channel(s) {shown} of its sound are used in the "
                    f"project, but all {count} play (channels of a file are not picked)"
                )
    return notes

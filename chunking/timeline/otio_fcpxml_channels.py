"""Which channels of a file an FCPXML item plays (see ``otio_fcpxml_components``).

A sound that plays one channel of its file alone (a dual-mono component, ``srcCh="2"``; an
asset-clip's enabled channel source beside switched-off ones) is marked at the end of its
item's name (``CHANNEL_MARK``), which the adapter keeps; once read, the mark becomes the OTIO
clip's channel (``otio_channels.play_channel``), which the renderer plays alone, centred.
"""

from __future__ import annotations

import copy
import re
from typing import Any
from xml.etree import ElementTree

#: How a sound's one channel travels from the amended text to the read timeline (its name).
CHANNEL_MARK = "\u2063channel:"
CHANNEL_NAME = re.compile(re.escape(CHANNEL_MARK) + r"(\d+)")
_DB = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*dB\s*$")


def single(text: str | None) -> int | None:
    """The channel a ``srcCh`` names when it names one alone ("2"), else None."""
    found = channels_of(text)
    return next(iter(found)) if len(found) == 1 else None


def mark_clip_channels(root: Any) -> bool:
    """Mark in its name each ``<clip>`` whose sound is one ``<audio>`` of one channel (the
    first channel of Final Cut's dual-mono sound), to play that channel alone; False if
    there was none."""
    changed = False
    for clip in root.iter("clip"):
        sounds = [c for c in clip if c.tag == "audio" and c.get("lane") is None]
        channel = single(sounds[0].get("srcCh")) if len(sounds) == 1 else None
        if channel is not None and sounds[0].get("enabled") != "0":
            clip.set("name", f"{clip.get('name') or ''}{CHANNEL_MARK}{channel}")
            changed = True
    return changed


def apply_channels(timeline: Any) -> None:
    """Mark the OTIO items whose names carry a channel (``CHANNEL_MARK``) to play it alone
    (``otio_channels.play_channel``), and give them their names back."""
    # Imported here: otio_channels reads otio_media, which reads otio_fcpxml_adjust (ours).
    from chunking.timeline.otio_channels import play_channel

    for item in timeline.find_children():
        name = str(getattr(item, "name", "") or "")
        match = CHANNEL_NAME.search(name)
        if match is None:
            continue
        item.name = name[: match.start()] + name[match.end() :]
        if hasattr(item, "media_reference"):  # a clip: a stack (compound) has no one file
            play_channel(item, int(match[1]))


def channels_apart(root: Any) -> bool:
    """Give each asset-clip whose audio channel sources play differently (``_apart``) one
    sound component per channel its enabled sources name, each at the clip's level times
    its source's, which ``lift_components`` connects to it; its own sound is switched off.
    False if there was none."""
    counts = {a.get("id"): count_of(a.get("audioChannels")) for a in root.iter("asset")}
    changed = False
    for clip in list(root.iter("asset-clip")):
        apart = _apart(clip, counts.get(clip.get("ref")))
        if apart is None:
            continue
        duration = str(clip.get("duration"))
        start = clip.get("start") or "0s"
        own = clip.find("adjust-volume")
        for source, channel in apart:
            component = ElementTree.SubElement(clip, "audio", {
                "ref": str(clip.get("ref")), "lane": "-1", "offset": start, "start": start,
                "duration": duration, "name": clip.get("name") or "",
            })  # fmt: skip
            if channel is not None:
                component.set("srcCh", str(channel))
            level = _volume(own) + _volume(source.find("adjust-volume"))
            volume = copy.deepcopy(own) if own is not None else None
            if volume is None and level:
                volume = ElementTree.Element("adjust-volume")
            if volume is not None:
                volume.set("amount", f"{level:g}dB")
                component.append(volume)
        clip.set("srcEnable", "video")
        for source in clip.findall("audio-channel-source"):
            clip.remove(source)
        changed = True
    return changed


def _volume(adjust: Any) -> float:
    """An ``<adjust-volume>``'s level in dB (0 when absent or malformed)."""
    match = _DB.match(adjust.get("amount") or "0dB") if adjust is not None else None
    return float(match[1]) if match else 0.0


def _apart(clip: Any, count: int | None) -> list[tuple[Any, int | None]] | None:
    """The channels an asset-clip's sound plays, each with its channel source (the channel
    None for a source naming all of the file's), when its sources play differently (some
    switched off, or one with a level) and each names one channel or all; else None."""
    if clip.get("enabled") == "0" or clip.get("srcEnable") in ("video", "audio"):
        return None
    if clip.get("audioStart") or clip.get("audioDuration") or not clip.get("duration"):
        return None  # a split edit: otio_fcpxml_split plays the file's channels
    sources = clip.findall("audio-channel-source")
    on = [s for s in sources if s.get("enabled") != "0"]
    levels = [s for s in on if s.find("adjust-volume") is not None]
    if not on or (len(on) == len(sources) and not levels):
        return None
    found: list[tuple[Any, int | None]] = []
    for source in on:
        channels = channels_of(source.get("srcCh"))
        if count is not None and channels == set(range(1, count + 1)):
            found.append((source, None))
        elif len(channels) == 1:
            found.append((source, next(iter(channels))))
        else:
            return None
    return found


def count_of(text: str | None) -> int | None:
    """A positive whole number, or None."""
    # ASCII and short: int() refuses "²" (a digit to isdigit) and thousands of digits.
    if not text or re.fullmatch(r"[0-9]{1,9}", text) is None:
        return None
    return int(text) if int(text) > 0 else None


def channels_of(text: str | None) -> set[int]:
    """The channel numbers of a ``srcCh`` ("1, 2")."""
    return {int(p) for p in (text or "").replace(" ", "").split(",") if p.isdigit()}

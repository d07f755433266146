"""Sound exported one channel per track, played once.

Editors export sound as mono tracks, each routed to one output channel: an EDL's ``AA`` event
puts the same event on A1 (source channel 1 to output 1) and A2 (channel 2 to output 2), FCP 7
XML puts linked clip items on A1 and A2 (their ``sourcetrack/trackindex``: the source channel)
whose tracks go to the left and right outputs. The adapters give each of those tracks the whole
file, mixed into both outputs, so the program played its sound twice (+6 dB, and loud material
clipped). Clips on several audio tracks that play the same file, from the same source time, at
the same place and speed are that file's channels: one of them plays the file's channels as
they are (the source's own stereo rather than the editor's routing of its channels) and the
others are left out. A track that holds only such copies is left out whole (so that its
crossfades go with it).

Where an FCP 7 XML export names two or more source channels of one file (``sourcetrack``) and
its items play them differently (one item or its track disabled, a level or filters per
channel, trimmed differently, or a lone channel item), each item plays its own channel alone,
centred (the clip's ``audio_channel``): a muted camera microphone stays muted. Elsewhere (an
EDL, whose audio tracks are channels by convention only) a file's channels played differently
are played once at the channels' combined level (the root mean square of their levels, a
disabled one counting 0), with a warning naming them; clips of the same file that the editor
trimmed differently (A1 plays 0-3 s, A2 only 0-2 s) are :mod:`otio_channel_overlap`'s.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import opentimelineio as otio

from chunking.timeline.fields import Problems
from chunking.timeline.otio_channel_overlap import drop_overlapping_copies
from chunking.timeline.otio_media import static_gain
from chunking.timeline.otio_read import TIME_ERRORS, plain, seconds, track_places


@dataclass
class _Member:
    """One channel's clip of a file, and how the export plays it."""

    key: tuple[Any, ...]  # file, source range, place and speeds (``_key``)
    track: Any
    clip: Any
    playing: bool  # neither it nor its track is disabled
    gain: float | None  # its fixed level (a factor); None when keyframed
    others: str  # its effects other than a fixed level, as text to compare
    channel: int | None  # the source channel it plays (FCP 7 XML's sourcetrack), if known


def drop_channel_copies(tl: Any, p: Problems | None = None, *, edl: bool = False) -> None:
    """Leave out the audio clips (and tracks) that are other channels of an earlier one (in
    an ``edl`` each audio track is one channel)."""
    p = p if p is not None else Problems()
    groups: dict[tuple[Any, ...], list[_Member]] = defaultdict(list)
    tracks = [
        t
        for t in tl.tracks
        if isinstance(t, otio.schema.Track) and t.kind == otio.schema.TrackKind.Audio
    ]
    for track in tracks:
        places = track_places(track)
        for clip in track:
            if not isinstance(clip, otio.schema.Clip):
                continue
            if (key := _key(track, clip, places.get(clip))) is not None:
                groups[key].append(_member(track, clip, key))
    dropped: set[int] = set()
    lone: list[_Member] = []
    split = set() if edl else _split_files(groups)
    for members in groups.values():
        if len(members) == 1:
            lone.extend(members)
        elif members[0].key[0] in split and not _alike(members):
            # The export plays this file's channels apart: each item plays its own channel.
            for m in members:
                play_channel(m.clip, m.channel)
        else:
            dropped.update(id(m.clip) for m in _merge(members, edl, p))
    for m in lone:
        if m.key[0] in split and m.channel is not None:
            play_channel(m.clip, m.channel)
    channels = {
        id(m.clip): m.channel
        for members in groups.values()
        for m in members
        if channel_of(m.clip) is None  # a clip playing its one channel is nobody's copy
    }
    for track in tracks:
        clips = [c for c in track if isinstance(c, otio.schema.Clip) and c.enabled]
        if not track.enabled or not clips:
            continue
        if all(id(c) in dropped for c in clips):
            track.enabled = False
            continue
        for clip in clips:
            if id(clip) in dropped:
                clip.enabled = False
    drop_overlapping_copies(tracks, channels, edl, p)
    for m in lone:
        # Checked after the overlaps: a channel item trimmed shorter than its sibling is no
        # lone channel.
        if channel_of(m.clip) is not None:
            continue
        if m.channel is not None and m.channel > 1 and m.playing and m.clip.enabled:
            p.warn(f"clip {str(m.clip.name)!r}", _lone(m.channel))


#: Where a clip's OTIO metadata says which one channel of its file it plays (read by
#: chunking.timeline.otio_place into the clip's ``audio_channel``).
OWN_METADATA = "cloudrender"


def play_channel(clip: Any, channel: int | None) -> None:
    """Mark an OTIO clip to play only ``channel`` (1-based) of its file's sound."""
    if channel is not None and channel >= 1:
        own = dict(plain(clip.metadata).get(OWN_METADATA) or {})
        clip.metadata[OWN_METADATA] = {**own, "audio_channel": channel}


def channel_of(clip: Any) -> int | None:
    """The one channel an OTIO clip was marked to play (``play_channel``), or None."""
    own = plain(clip.metadata).get(OWN_METADATA)
    found = own.get("audio_channel") if isinstance(own, dict) else None
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def _split_files(groups: dict[tuple[Any, ...], list[_Member]]) -> set[str]:
    """Files whose channels the export puts on separate items (two or more source channels
    named among their clips): there each item means its channel alone."""
    named: dict[str, set[int]] = defaultdict(set)
    for members in groups.values():
        for m in members:
            if m.channel is not None:
                named[m.key[0]].add(m.channel)
    return {url for url, found in named.items() if len(found) > 1}


def _alike(members: list[_Member]) -> bool:
    """Whether the channel items play alike (all playing, one level, the same filters): then
    the file's own channels, its stereo, play as they are."""
    return (
        all(m.playing for m in members)
        and len({m.gain for m in members}) == 1
        and len({m.others for m in members}) == 1
    )


def _merge(members: list[_Member], edl: bool, p: Problems) -> list[_Member]:
    """The members left out: all but the first playing one, whose level becomes theirs."""
    playing = [m for m in members if m.playing and m.gain != 0]
    if not playing:
        return []
    kept = playing[0]
    where = f"clip {str(kept.clip.name)!r}"
    channels = {m.channel for m in members}
    if not edl and (None in channels or len(channels) < len(members)):
        # Not known to be one file's channels (a duplicate kept disabled as a backup, or
        # layered on purpose): only identical playing copies are one sound.
        seen: set[tuple[str, float | None]] = set()
        copies = []
        for m in playing:
            if (m.others, m.gain) in seen:
                copies.append(m)
            seen.add((m.others, m.gain))
        return copies
    if len({m.others for m in playing}) > 1:
        # Different filters on the channels: each playing the whole file would double its
        # level, so one plays with its own and the others' filters are named as not heard.
        p.warn(
            where,
            "its file's channels are on separate tracks with different filters; the file "
            "plays once with this track's filters only (the export does not say which source "
            "channel each track plays)",
        )
        return [m for m in members if m is not kept]
    gains = [m.gain for m in members]
    if any(g is None for g in gains):
        return [m for m in members if m is not kept]  # keyframed alike: the same levels
    levels = [g if m.playing else 0.0 for m, g in zip(members, gains, strict=True) if g is not None]
    if all(m.playing for m in members) and len(set(levels)) == 1:
        return [m for m in members if m is not kept]
    combined = math.sqrt(sum(g * g for g in levels) / len(levels))
    _set_level(kept.clip, combined)
    p.warn(where, _uneven(members, levels, combined))
    return [m for m in members if m is not kept]


def _lone(channel: int) -> str:
    return (
        f"plays source channel {channel} only in the export (its other channels' items were "
        "deleted); with no other channel of the file named, all of its channels are heard"
    )


def _uneven(members: list[_Member], levels: list[float], combined: float) -> str:
    """The warning for channels the export plays differently, naming each."""
    parts = []
    for i, (m, level) in enumerate(zip(members, levels, strict=True)):
        name = f"channel {m.channel}" if m.channel is not None else f"the copy on track {i + 1}"
        if not m.playing:
            parts.append(f"{name} disabled")
        else:
            parts.append(f"{name} at level {level:g}")
    return (
        f"its file's channels are on separate tracks ({', '.join(parts)}); the export does not "
        f"say which source channel each plays, so all of them play once at their combined level "
        f"{combined:.3g} ({20 * math.log10(combined):+.1f} dB)"
    )


def _member(track: Any, clip: Any, key: tuple[Any, ...]) -> _Member:
    """What of a clip decides whether it plays like its other channels."""
    gain: float | None = 1.0
    others = []
    for fx in clip.effects:
        if not getattr(fx, "enabled", True):
            continue
        level = static_gain(fx)
        if level is not None and gain is not None:
            gain *= level
            continue
        if _is_level(fx):
            gain = None
        if not isinstance(fx, otio.schema.TimeEffect):  # the key compares speeds
            others.append([str(fx.effect_name or fx.name), plain(fx.metadata)])
    found = plain(clip.metadata).get("fcp_xml")
    source = found.get("sourcetrack") if isinstance(found, dict) else None
    index = source.get("trackindex") if isinstance(source, dict) else None
    try:
        channel = int(str(index)) if index is not None else None
    except ValueError:
        channel = None
    return _Member(
        key=key,
        track=track,
        clip=clip,
        playing=bool(track.enabled and clip.enabled),
        gain=gain,
        others=json.dumps(others, sort_keys=True, default=str),
        channel=channel,
    )


def _is_level(fx: Any) -> bool:
    """Whether an effect is FCP 7 XML's Audio Levels (a keyframed one: no fixed level)."""
    found = plain(fx.metadata).get("fcp_xml")
    return isinstance(found, dict) and str(found.get("effectid")).lower() == "audiolevels"


def _set_level(clip: Any, level: float) -> None:
    """Replace the clip's fixed levels by one Audio Levels filter of ``level``."""
    kept = [fx for fx in clip.effects if static_gain(fx) is None]
    clip.effects[:] = [
        *kept,
        otio.schema.Effect(
            name="Audio Levels",
            metadata={
                "fcp_xml": {
                    "effectid": "audiolevels",
                    "parameter": {"parameterid": "level", "value": repr(level)},
                }
            },
        ),
    ]


def _key(track: Any, clip: Any, place: Any) -> tuple[Any, ...] | None:
    """What makes two clips the same sound: file, source range and place (its range in the
    track, from ``track_places``)."""
    ref = clip.media_reference
    if not isinstance(ref, otio.schema.ExternalReference) or not ref.target_url or place is None:
        return None
    try:
        source = clip.trimmed_range()
        shift = track.source_range.start_time if track.source_range is not None else None
        return (
            str(ref.target_url),
            seconds(source.start_time),
            seconds(source.duration),
            seconds(place.start_time) - (seconds(shift) if shift is not None else 0),
            tuple(_speed(fx) for fx in clip.effects if isinstance(fx, otio.schema.TimeEffect)),
            channel_of(clip),  # clips playing different channels alone are no copies
        )
    except TIME_ERRORS:
        return None


def _speed(fx: Any) -> tuple[str, float | None]:
    scalar = getattr(fx, "time_scalar", None)
    return str(fx.effect_name or fx.name), float(scalar) if scalar is not None else None

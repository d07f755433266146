"""An EDL that opens on a fade up from black.

Avid, Premiere and Resolve write a fade up at the head of a sequence as a zero-length black
event (``BL``) and a dissolve (``D``) out of it at the same record time; the CMX 3600 adapter
refuses the whole file ("Transitions can't be at the very beginning of a track"). Before the
adapter reads it, such an opening is made a cut, and the fade is put back afterwards as a
transition at the head of the tracks of its channels, which the loader renders as a fade from
black (and, on audio tracks, a fade in).
"""

from __future__ import annotations

import re
from typing import Any

import opentimelineio as otio

_TC = r"\d\d[:;]\d\d[:;]\d\d[:;]\d\d"
_EVENT = re.compile(
    r"^(?P<num>\d+)\s+(?P<reel>\S+)\s+(?P<chan>\S+)\s+(?P<kind>C|D|W\d+|KB?|KO?)\s+"
    rf"(?P<dur>\d+\s+)?(?P<src_in>{_TC})\s+(?P<src_out>{_TC})\s+(?P<rec_in>{_TC})\s+"
    rf"(?P<rec_out>{_TC})\s*$"
)


def opening_fades(text: str) -> tuple[str, list[tuple[str, int]]]:
    """The EDL with each fade up that opens its channels made a cut, and those fades as
    (channels, frames)."""
    lines = text.splitlines()
    events = [
        (n, found)
        for n, line in enumerate(lines)
        if (found := _EVENT.match(line.strip())) is not None
    ]
    seen: set[str] = set()
    dropped: set[int] = set()
    fades: list[tuple[str, int]] = []
    for (n, event), (after, following) in zip(events, events[1:], strict=False):
        kinds = _kinds(event["chan"])
        if kinds & seen or not _empty_black(event):
            seen |= kinds
            continue
        if (
            following["kind"] == "D"
            and following["dur"]
            and following["num"] == event["num"]
            and following["rec_in"] == event["rec_in"]
        ):
            dropped.add(n)
            frames = int(following["dur"])
            fades.append((following["chan"], frames))
            start = following.start("kind")
            line = lines[after].strip()
            dur_end = following.end("dur")
            lines[after] = line[:start] + "C" + " " * (dur_end - start - 1) + line[dur_end:]
        seen |= kinds
    kept = [line for n, line in enumerate(lines) if n not in dropped]
    return "\n".join(kept) + "\n", fades


def apply_opening_fades(tl: Any, fades: list[tuple[str, int]]) -> None:
    """Put the fades ``opening_fades`` took out back at the head of their channels' tracks."""
    for channels, frames in fades:
        for track in _tracks_of(tl, channels):
            first = next((c for c in track if isinstance(c, otio.schema.Clip)), None)
            if first is None or track.index(first) != 0:
                continue
            rate = first.source_range.duration.rate if first.source_range else 24.0
            track.insert(
                0,
                otio.schema.Transition(
                    name="fade up from black",
                    transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                    in_offset=otio.opentime.RationalTime(0, rate),
                    out_offset=otio.opentime.RationalTime(frames, rate),
                ),
            )


def _kinds(channels: str) -> set[str]:
    """The kinds of track an event's channels field names: V, A (A, AA, A2, AA/V, B...)."""
    upper = channels.upper()
    return {kind for kind in ("V", "A") if kind in upper or (kind == "V" and upper == "B")}


def _empty_black(event: re.Match[str]) -> bool:
    """A black event without length (its source and record in and out points equal)."""
    return event["reel"].upper() in ("BL", "BLK", "BLACK") and (
        event["src_in"] == event["src_out"] and event["rec_in"] == event["rec_out"]
    )


def _tracks_of(tl: Any, channels: str) -> list[Any]:
    """The tracks an opening event on ``channels`` is the head of."""
    kinds = _kinds(channels)
    found = []
    for track in tl.tracks:
        if not isinstance(track, otio.schema.Track):
            continue
        if track.kind == otio.schema.TrackKind.Video and "V" in kinds:
            found.append(track)
        elif track.kind == otio.schema.TrackKind.Audio and "A" in kinds:
            found.append(track)
    return found

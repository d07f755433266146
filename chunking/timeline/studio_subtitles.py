"""Subtitles in ProjectSchema JSON: the ``subtitles`` section and clips on Subtitle tracks.

The editor's frontend turns each clip of a subtitle (or title) track into an entry of
``subtitles[]`` with the clip's id and times, and keeps the clip on its track with an empty
``source_path`` and no text (timeline-to-project.ts ``collectAllSubtitles``/``convertClip``). Such
a clip is the entry's placeholder: the entry draws the text, and a disabled track hides it. A
subtitle clip that carries its own ``text`` is drawn from the clip, in the default style.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from chunking.timeline.fields import Problems, flag, number, pick, shown
from chunking.timeline.frames import to_frame
from chunking.timeline.model import Subtitle, Track, TrackKind
from chunking.timeline.schema import MAX_SECONDS, entries
from chunking.timeline.studio_keys import (
    SIDE_KEYS,
    SUBTITLE_ANIMATION_KEYS,
    SUBTITLE_KEYS,
    SUBTITLE_POSITION_KEYS,
    SUBTITLE_STYLE_KEYS,
    warn_unknown,
)
from chunking.timeline.studio_subtitle_style import parse_animations, subtitle_look


def subtitle_ids(raws: list[Any]) -> set[str]:
    """The ids of the document's ``subtitles[]`` entries (clips may stand in for them)."""
    return {str(r["id"]) for r in raws if isinstance(r, Mapping) and r.get("id") is not None}


#: The longest subtitle text: far more than a frame shows (the drawing library refuses more).
MAX_TEXT = 10_000

#: Characters that draw as nothing a reader sees yet change the text: NUL, and the direction
#: embeddings, overrides and isolates (U+202E turned "evil" into "live" on the frame).
_HIDDEN = frozenset("\x00\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Hidden characters named in one warning; the rest are counted.
_NAMED = 3


def checked_text(value: Any, p: Problems, where: str, field: str = "text") -> str:
    """A subtitle's text (a ``subtitles[]`` entry's or a Subtitle-track clip's): a string that
    is not blank and fits MAX_TEXT; anything else is an error naming the field ("" returned)."""
    if not isinstance(value, str):
        p.error(where, f"{field} must be a string, not {shown(value)}")
        return ""
    if not value.strip():
        p.error(where, f"{field} is empty")
    elif len(value) > MAX_TEXT:
        # Drawing cost grows with the text: a million characters took minutes for one frame.
        p.error(where, f"{field} has {len(value)} characters; at most {MAX_TEXT} fit a frame")
        return ""
    hidden = [(i, c) for i, c in enumerate(value) if c in _HIDDEN]
    if hidden:
        p.warn(where, f"{field} {_hidden(hidden)}")
    return value


def _hidden(found: list[tuple[int, str]]) -> str:
    """'holds ...': the hidden characters of a text (index, character), the first few named."""
    named = [
        f"U+{ord(c):04X} {unicodedata.name(c, 'NULL')} at character {i + 1}"
        for i, c in found[:_NAMED]
    ]
    more = len(found) - _NAMED
    listed = ", ".join(named) + (f" and {more} more" if more > 0 else "")
    return (
        f"holds {listed}: a NUL or a direction control does not draw as written (it reorders "
        "or hides the text around it); remove it"
    )


def parse_subtitles(
    raws: list[Any],
    tracks: tuple[Track, ...],
    hidden: set[str],
    size: tuple[int, int],
    fps: Fraction,
    p: Problems,
) -> tuple[Subtitle, ...]:
    """The document's ``subtitles`` (minus those whose placeholder clip is on a disabled track,
    the ids in `hidden`), followed by the text clips of enabled Subtitle tracks."""
    subs: list[Subtitle] = []
    for i, raw in enumerate(raws):
        if not isinstance(raw, Mapping):
            p.error(f"subtitle #{i}", "must be an object")
            continue
        sid = str(pick(raw, "id", default=f"#{i}"))
        where = f"subtitle {sid!r}"
        _warn_unknown_keys(raw, p, where)
        if not flag(raw, "enabled", True, p, where) or sid in hidden:
            continue
        subs.append(_subtitle(raw, sid, size, fps, p, where))
    drawn = [(s.start, s.end) for s in subs]
    ids = subtitle_ids(raws)
    for track in tracks:
        if track.kind is not TrackKind.SUBTITLE or not track.enabled:
            continue
        for clip in track.clips:
            if clip.id in ids:
                continue  # its subtitles[] entry draws it (or hides it, when disabled)
            if clip.text is not None:
                subs.append(Subtitle(clip.id, clip.text, clip.start, clip.end))
            elif not any(a < clip.end and clip.start < b for a, b in drawn):
                p.warn(
                    f"clip {clip.id!r}",
                    "a subtitle clip without text, and no subtitles[] entry has its id or its "
                    "time; nothing is drawn",
                )
    return tuple(subs)


def _subtitle(
    raw: Mapping[str, Any],
    sid: str,
    size: tuple[int, int],
    fps: Fraction,
    p: Problems,
    where: str,
) -> Subtitle:
    start_s = number(raw, ("start_time", "start"), 0.0, p, where, low=0, high=MAX_SECONDS)
    end_s = number(raw, ("end_time", "end"), -1.0, p, where, low=0, high=MAX_SECONDS)
    duration = number(raw, ("duration",), -1.0, p, where, low=0, high=MAX_SECONDS)
    if pick(raw, "end_time", "end") is None and duration >= 0:
        end_s = start_s + duration  # serde's computed field, when the end itself is missing
    elif duration >= 0 and abs(start_s + duration - end_s) * fps >= 1:
        p.warn(where, f"duration {duration:g}s disagrees with end_time {end_s:g}s; end_time used")
    start, end = to_frame(start_s, fps), to_frame(max(end_s, 0), fps)
    if end_s < 0:
        p.error(where, "has no end: give end_time (or duration)")
    elif end <= start:
        p.error(where, f"end_time {end_s:g}s must be after start_time {start_s:g}s")
    text = checked_text(pick(raw, "text", default=""), p, where)
    look = subtitle_look(raw, size, p, where)
    animations = parse_animations(raw, start, max(start, end), fps, p, where)
    return Subtitle(
        id=sid, text=text, start=start, end=max(start, end), animations=animations, **look
    )


def _warn_unknown_keys(raw: Mapping[str, Any], p: Problems, where: str) -> None:
    """Warn about the keys of a subtitle, its ``style`` and its animations that nothing reads:
    a misspelt ``font_sise`` drew the default size without a word."""
    style = raw.get("style")
    if isinstance(style, Mapping):
        warn_unknown(raw, SUBTITLE_KEYS, "a subtitle's", p, where)
        warn_unknown(style, SUBTITLE_STYLE_KEYS, "a subtitle style's", p, f"{where} style")
    else:  # this format's flat subtitles keep their style beside the text
        warn_unknown(raw, SUBTITLE_KEYS | SUBTITLE_STYLE_KEYS, "a subtitle's", p, where)
    places = {"position": raw.get("position")}
    if isinstance(style, Mapping):
        places.update(
            {"style.position": style.get("position"), "style.padding": style.get("padding")}
        )
    else:
        places["padding"] = raw.get("padding")
    if isinstance(places["position"], Mapping):
        places["position.margin"] = places["position"].get("margin")
    for path, value in places.items():
        if isinstance(value, Mapping):
            known = SIDE_KEYS if path.endswith(("padding", "margin")) else SUBTITLE_POSITION_KEYS
            warn_unknown(value, known, f"a subtitle's {path}", p, f"{where} {path}")
    for i, item in enumerate(entries(raw.get("animations"))):
        if isinstance(item, Mapping):
            at = f"{where} animation #{i}"
            warn_unknown(item, SUBTITLE_ANIMATION_KEYS, "a subtitle animation's", p, at)

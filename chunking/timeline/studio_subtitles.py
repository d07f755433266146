"""Subtitles in ProjectSchema JSON: the ``subtitles`` section and clips on Subtitle tracks."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from chunking.timeline.fields import Problems, color, number, pick, shown
from chunking.timeline.frames import to_frame
from chunking.timeline.model import Subtitle, Track, TrackKind
from chunking.timeline.schema import MAX_SECONDS


def parse_subtitles(
    raws: list[Any], tracks: tuple[Track, ...], fps: Fraction, p: Problems
) -> tuple[Subtitle, ...]:
    """The document's ``subtitles`` followed by the text clips of enabled Subtitle tracks."""
    subs: list[Subtitle] = []
    for i, raw in enumerate(raws):
        if not isinstance(raw, Mapping):
            p.error(f"subtitle #{i}", "must be an object")
            continue
        subs.append(_subtitle(raw, str(raw.get("id", f"#{i}")), fps, p))
    for track in tracks:
        if track.kind is TrackKind.SUBTITLE and track.enabled:
            for clip in track.clips:
                if clip.text is None:
                    p.error(f"clip {clip.id!r}", "a subtitle clip needs text")
                    continue
                subs.append(Subtitle(clip.id, clip.text, clip.start, clip.end))
    return tuple(subs)


def _subtitle(raw: Mapping[str, Any], sid: str, fps: Fraction, p: Problems) -> Subtitle:
    where = f"subtitle {sid!r}"
    start_s = number(raw, ("start_time", "start"), 0.0, p, where, low=0, high=MAX_SECONDS)
    end_s = number(raw, ("end_time", "end"), 0.0, p, where, low=0, high=MAX_SECONDS)
    start, end = to_frame(start_s, fps), to_frame(end_s, fps)
    if end <= start:
        p.error(where, f"end_time {end_s:g}s must be after start_time {start_s:g}s")
    style = raw.get("style") if isinstance(raw.get("style"), Mapping) else raw
    assert isinstance(style, Mapping)
    text = pick(raw, "text", default="")
    if not isinstance(text, str) or not text.strip():
        p.error(where, "text is empty")
    section = "style" if style is not raw else ""

    def read(names: tuple[str, ...], default: float, low: float, high: float) -> float:
        return number(style, names, default, p, where, low=low, high=high, section=section)

    pos_raw = pick(style, "position", default="bottom")
    position: str | tuple[float, float] = "bottom"
    if isinstance(pos_raw, str) and pos_raw.lower() in ("bottom", "top", "center", "centre"):
        position = "center" if pos_raw.lower() == "centre" else pos_raw.lower()
    elif isinstance(pos_raw, Mapping) and {"x", "y"} <= set(pos_raw):
        # The text's centre as fractions of the frame; the box is kept inside the frame anyway.
        at = f"{section}.position" if section else "position"
        for axis in ("x", "y"):
            if pos_raw[axis] is None:  # elsewhere null means "absent"; here both are required
                p.error(where, f"{at}.{axis} must be a number, not None")
        position = (
            number(pos_raw, ("x",), 0.5, p, where, low=0, high=1, section=at),
            number(pos_raw, ("y",), 0.5, p, where, low=0, high=1, section=at),
        )
    else:
        p.error(where, f"position {shown(pos_raw)} must be bottom, top, center or {{x, y}}")
    bg = pick(style, "background_color", "background")
    return Subtitle(
        id=sid,
        text=str(text),
        start=start,
        end=max(start, end),
        font_size=int(read(("font_size", "size"), 48, 4, 1000)),
        color=color(pick(style, "color", "colour", default="#ffffff"), p, where),
        position=position,
        background=color(bg, p, where) if bg is not None else None,
        outline=int(read(("outline", "outline_width"), 2, 0, 50)),
    )

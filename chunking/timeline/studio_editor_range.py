"""A sequence's render range (``renderSettings.inPoint``/``outPoint``) applied to converted parts.

The internal model renders frames from 0 to its end and has no start offset, so a range that
starts after 0 is applied the way the editor applies one (ProjectSchemaBuilder.withTimeRange in
src/features/export/utils/project-schema-builder.ts): clips and subtitles that overlap the range
are kept, cut to it and moved so that the in point becomes time 0. Unlike the editor, the source
in point moves by the cut time times the clip's speed (the editor forgets the speed), effect
windows move too, and transitions whose clips fell out of the range are dropped.
"""

from __future__ import annotations

from typing import Any

from chunking.timeline.fields import to_float
from chunking.timeline.studio_editor_tracks import Parts


def clip_to_range(parts: Parts, start: float, end: float) -> Parts:
    """The parts cut to timeline seconds [start, end) and shifted to begin at 0."""
    kept: set[str] = set()
    tracks = []
    for track in parts.tracks:
        clips = []
        for clip in track["clips"]:
            cut = _cut(clip["start_time"], clip["end_time"], start, end)
            if cut is None:
                continue
            speed = to_float(clip.get("speed")) or 1.0
            source_start = to_float(clip.get("source_start")) or 0.0
            clips.append(
                {
                    **clip,
                    "start_time": cut[0],
                    "end_time": cut[1],
                    "source_start": source_start + (cut[0] + start - clip["start_time"]) * speed,
                }
            )
            kept.add(clip["id"])
        tracks.append({**track, "clips": clips})
    subtitles = []
    for sub in parts.subtitles:
        cut = _cut(sub["start_time"], sub["end_time"], start, end)
        if cut is not None:
            subtitles.append({**sub, "start_time": cut[0], "end_time": cut[1]})
    effects, gone = _windows(parts.effects, start, end)
    filters, gone_filters = _windows(parts.filters, start, end)
    gone |= gone_filters
    for track in tracks:
        _drop_refs(track, gone)
        for clip in track["clips"]:
            _drop_refs(clip, gone)
    transitions = [
        t for t in parts.transitions if t["from_clip_id"] in kept and t["to_clip_id"] in kept
    ]
    return Parts(tracks, subtitles, effects, filters, transitions)


def _cut(first: float, last: float, start: float, end: float) -> tuple[float, float] | None:
    """[first, last) inside [start, end), shifted by -start; None when they do not overlap."""
    if last <= start or first >= end:
        return None
    return max(first, start) - start, min(last, end) - start


def _windows(
    table: dict[str, dict[str, Any]], start: float, end: float
) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Entries with their time windows moved into the range, and the ids of those left out."""
    kept: dict[str, dict[str, Any]] = {}
    gone: set[str] = set()
    for ident, entry in table.items():
        if "start_time" not in entry:
            kept[ident] = entry
            continue
        last = entry.get("end_time", end)
        cut = _cut(entry["start_time"], last, start, end)
        if cut is None:
            gone.add(ident)
            continue
        moved = {**entry, "start_time": cut[0]}
        if "end_time" in entry:
            moved["end_time"] = cut[1]
        kept[ident] = moved
    return kept, gone


def _drop_refs(owner: dict[str, Any], gone: set[str]) -> None:
    for group in ("effects", "filters"):
        owner[group] = [ref for ref in owner[group] if ref not in gone]

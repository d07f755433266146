"""A sequence's render range (``renderSettings.inPoint``/``outPoint``) applied to converted parts.

The internal model renders frames from 0 to its end and has no start offset, so a range that
starts after 0 is applied the way the editor applies one (ProjectSchemaBuilder.withTimeRange in
src/features/export/utils/project-schema-builder.ts): clips and subtitles that overlap the range
are kept, cut to it and moved so that the in point becomes time 0. Unlike the editor, the source
in point moves by the cut time times the clip's speed (the editor forgets the speed), effect
windows move too, and transitions whose clips fell out of the range are dropped. A transition on
a cut keeps its place: centred on the cut, it may begin before the range does. A subtitle's
animations keep their time in the sequence: one the range cut away is dropped, one the range
cuts through plays over the part of its time inside the range, with a warning. So does a music
clip's sound fade: a fade the range cuts is shortened by the cut and starts (or ends) at the
gain it had reached there, so sample k of the range is sample in + k of the sequence. A clip's
picture fades keep their place the same way: frame k of the range is as faded as frame in + k.
"""

from __future__ import annotations

from typing import Any

from chunking.timeline.fields import Problems, canonical, pick, to_float
from chunking.timeline.studio_editor_entries import effect_entry
from chunking.timeline.studio_editor_tracks import Parts

#: The subtitle animations that end with their subtitle when they name no start_time (as
#: chunking.timeline.studio_subtitle_style.parse_animations reads them: Dissolve is a FadeOut).
_LEAVING = {"fadeout", "slideout", "scaleout", "dissolve"}


def clip_to_range(parts: Parts, start: float, end: float, p: Problems | None = None) -> Parts:
    """The parts cut to timeline seconds [start, end) and shifted to begin at 0."""
    kept: set[str] = set()
    tracks = []
    fades: dict[str, dict[str, Any]] = {}
    for track in parts.tracks:
        clips = []
        for clip in track["clips"]:
            cut = _cut(clip["start_time"], clip["end_time"], start, end)
            if cut is None:
                continue
            speed = to_float(clip.get("speed")) or 1.0
            source_start = to_float(clip.get("source_start")) or 0.0
            # The in point moves by what is cut from the head; played backwards (``reverse``,
            # Clip.mirrored), from the tail: the head shows the end of the span.
            lost = cut[0] + start - clip["start_time"]
            if clip.get("reverse") is True:
                lost = clip["end_time"] - (cut[1] + start)
            moved = {
                **clip,
                "start_time": cut[0],
                "end_time": cut[1],
                "source_start": round(source_start + lost * speed, 9),
            }
            head, tail = _less(start, clip["start_time"]), _less(clip["end_time"], end)
            fades.update(sound_fades_in_range(moved, head, tail))
            picture_fades_in_range(moved, head, tail)
            clips.append(moved)
            kept.add(clip["id"])
        tracks.append({**track, "clips": clips})
    subtitles = []
    for sub in parts.subtitles:
        cut = _cut(sub["start_time"], sub["end_time"], start, end)
        if cut is not None:
            moved = {**sub, "start_time": cut[0], "end_time": cut[1]}
            if sub.get("animations"):
                moved["animations"] = _animations_in_range(sub, start, cut, p)
            subtitles.append(moved)
    effects, gone = _windows(parts.effects, start, end)
    effects.update(fades)
    filters, gone_filters = _windows(parts.filters, start, end)
    gone |= gone_filters
    for track in tracks:
        _drop_refs(track, gone)
        for clip in track["clips"]:
            _drop_refs(clip, gone)
    transitions = []
    for t in parts.transitions:
        ends = [t["from_clip_id"] in kept, t["to_clip_id"] in kept]
        if all(ends):
            transitions.append(t)
        elif any(ends) and p is not None:
            outside = t["to_clip_id"] if ends[0] else t["from_clip_id"]
            p.warn(
                f"transition {t.get('id')!r}",
                f"its clip {outside!r} lies outside the render range; the range shows a cut "
                "where the transition would be",
            )
    return Parts(tracks, subtitles, effects, filters, transitions)


def sound_fades_in_range(
    clip: dict[str, Any], head: float, tail: float
) -> dict[str, dict[str, Any]]:
    """A cut clip's sound fades (``fade_in``/``fade_out``, seconds from its edges) as they sound
    once the range cut ``head`` seconds off its start and ``tail`` off its end: a fade the cut
    passed is gone; one it cut into is an AudioFadeIn/AudioFadeOut over what is left, mixed in
    at ``1 - gain`` where gain is what the fade had reached at the cut (linear fades: g + (1 -
    g) * t / left is the whole fade's own gain there). Returns the effects entries it adds."""
    added: dict[str, dict[str, Any]] = {}
    for key, cut, kind in (
        ("fade_in", head, "audio-fade-in"),
        ("fade_out", tail, "audio-fade-out"),
    ):
        length = to_float(clip.get(key))
        if length is None or length <= 0 or cut <= 0:
            continue
        del clip[key]
        if cut >= length:
            continue  # the whole fade lies outside the range
        own = f"{clip['id']}#{key}-in-range"
        entry = effect_entry(own, kind, key.replace("_", " "), {"duration": _less(length, cut)})
        entry["intensity"] = 1 - cut / length
        added[own] = entry
        clip["effects"] = [*clip.get("effects", ()), own]
    return added


def picture_fades_in_range(clip: dict[str, Any], head: float, tail: float) -> None:
    """A cut clip's picture fades keep their place in the sequence: each counts from the uncut
    clip's edge (``picture_fade_head``/``_tail``, Clip.picture_fade); one the cut passed is gone."""
    for key, cut, edge in (
        ("picture_fade_in", head, "picture_fade_head"),
        ("picture_fade_out", tail, "picture_fade_tail"),
    ):
        length = to_float(clip.get(key))
        if length is None or length <= 0 or cut <= 0:
            continue
        if cut >= length:
            del clip[key]  # the whole fade lies outside the range
        else:
            clip[edge] = cut
    for name in ("opacity_keyframes", "transform_keyframes", "volume_keyframes"):
        if head > 0 and clip.get(name):
            # Keys count from the clip's first frame, which the cut moved ``head`` seconds on.
            clip[name] = [{**key, "time": key["time"] - head} for key in clip[name]]


def _animations_in_range(
    sub: dict[str, Any], start: float, cut: tuple[float, float], p: Problems | None
) -> list[Any]:
    """A subtitle's animations re-timed so each keeps its window in the sequence, once the
    subtitle is cut to ``cut`` (range seconds) by a range that starts at ``start``."""
    first, last = _less(sub["start_time"], start), _less(sub["end_time"], start)  # range time
    kept: list[Any] = []
    for anim in sub["animations"]:
        if not isinstance(anim, dict):
            kept.append(anim)  # the subtitle reader names what is wrong with it
            continue
        kind = canonical(str(pick(anim, "animation_type", "type", default="")))
        length = to_float(anim.get("duration"))
        length = 0.5 if length is None else length
        delay = to_float(anim.get("delay")) or 0.0
        offset = to_float(anim.get("start_time")) or 0.0
        if kind in _LEAVING and offset == 0:
            a_end = _less(last, delay)
            a_start = _less(a_end, length)
        else:
            a_start = round(first + offset + delay, 9)
            a_end = round(a_start + length, 9)
        if a_end <= cut[0] or a_start >= cut[1]:
            continue  # played out before the range, or after it: not seen in it
        if a_start < cut[0] or a_end > cut[1]:
            if p is not None:
                p.warn(
                    f"subtitle {sub.get('id')!r}",
                    f"the render range cuts through its {kind} animation; it plays over "
                    "the part of its time inside the range",
                )
            a_start, a_end = max(a_start, cut[0]), min(a_end, cut[1])
        fixed = {k: v for k, v in anim.items() if k not in ("delay", "start_time")}
        fixed["duration"] = _less(a_end, a_start)
        if kind in _LEAVING:
            fixed.update(start_time=0, delay=max(_less(cut[1], a_end), 0.0))
        else:
            fixed.update(start_time=max(_less(a_start, cut[0]), 0.0), delay=0)
        kept.append(fixed)
    return kept


def _cut(first: float, last: float, start: float, end: float) -> tuple[float, float] | None:
    """[first, last) inside [start, end), shifted by -start; None when they do not overlap."""
    if last <= start or first >= end:
        return None
    return _less(max(first, start), start), _less(min(last, end), start)


def _less(a: float, b: float) -> float:
    """``a - b`` without binary noise (3.5 - 2.6 is 0.8999...: a frame short at 25 fps)."""
    return round(a - b, 9)


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

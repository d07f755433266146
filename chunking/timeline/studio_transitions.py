"""Transitions between clips in ProjectSchema JSON, and the overlap rule they relax.

A transition joins two clips on one track: overlapping clips make the overlap its window, touching
clips centre it on the cut. Clips that overlap without a transition are an error.

The two clips come from, in order: ``from_clip_id``/``to_clip_id`` (the frontend's type; one of
them alone means its neighbour on the track); the clips whose ``transitions`` list refers to the
transition (the frontend's timeline attaches transitions to clips, "in" or "cross" joining the clip
to the one before it, "out" to the one after); ``start_time`` (the cut inside
``[start_time, start_time + duration]``); and, for serde's ``Transition``, which names no clips,
the only cut of the project when there is exactly one such transition and one cut, between
consecutive clips of a track as the editor's renderer pairs them (ffmpeg_builder/filters.rs).
Anything else cannot be placed: it is reported as a warning and not drawn, which is what the
editor's renderer does with every project-level transition.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from chunking.timeline.fields import Problems, flag, number, pick
from chunking.timeline.frames import to_frame
from chunking.timeline.model import Clip, GeneratedSource, Track, TrackKind, Transition
from chunking.timeline.otio_layout import HOLD
from chunking.timeline.schema import MAX_SECONDS
from chunking.timeline.studio_keys import TRANSITION_KEYS, warn_unknown
from chunking.timeline.studio_transition_fields import (
    check_easing,
    transition_frames,
    transition_kind,
    transition_seconds,
)

#: transition id -> (clip id, "in" | "out", duration override in seconds or None)
Attachments = dict[str, list[tuple[str, str, float | None]]]


def parse_transitions(
    raws: list[Any],
    tracks: tuple[Track, ...],
    attached: Attachments,
    fps: Fraction,
    p: Problems,
) -> tuple[Transition, ...]:
    """The document's ``transitions``, placed in frames against the parsed clips."""
    placer = _Placer(tracks, fps, p)
    unplaced: list[tuple[str, str, int]] = []
    for i, raw in enumerate(raws):
        if not isinstance(raw, Mapping):
            p.error(f"transition #{i}", "must be an object")
            continue
        tid = str(pick(raw, "id", default=f"#{i}"))
        where = f"transition {tid!r}"
        warn_unknown(raw, TRANSITION_KEYS, "a transition's", p, where)
        if not flag(raw, "enabled", True, p, where):
            continue
        kind = transition_kind(raw, p, where)
        check_easing(raw, p, where)
        length = transition_frames(transition_seconds(raw, p, where), fps, p, where)
        if length is None:
            continue
        ids = [
            str(pick(raw, f"{end}_clip_id", f"{end}_clip", default="")) for end in ("from", "to")
        ]
        if any(ids):
            placer.by_ids(tid, kind, ids, length, where)
        elif tid in attached:
            for clip_id, side, seconds in attached[tid]:
                span = length if seconds is None else transition_frames(seconds, fps, p, where)
                if span is not None:
                    placer.attached(tid, kind, clip_id, side, span, where)
        elif pick(raw, "start_time") is not None:
            start = to_frame(
                number(raw, ("start_time",), 0, p, where, low=0, high=MAX_SECONDS), fps
            )
            placer.at_time(tid, kind, start, length, where)
        else:
            unplaced.append((tid, kind, length))
    cuts = placer.cuts()
    if len(unplaced) == 1 and len(cuts) == 1:
        tid, kind, length = unplaced.pop()
        placer.place(tid, kind, *cuts[0], length, f"transition {tid!r}")
    for tid, _, _ in unplaced:
        p.warn(
            f"transition {tid!r}",
            f"names no clips (from_clip_id/to_clip_id) and no start_time, and the project has "
            f"{len(cuts)} cuts; it cannot be placed and is not drawn",
        )
    return tuple(placer.result)


class _Placer:
    def __init__(self, tracks: tuple[Track, ...], fps: Fraction, p: Problems) -> None:
        self.tracks = tracks
        self.fps = fps
        self.p = p
        self.clips = {c.id: c for t in tracks for c in t.clips}
        self.track_of = {c.id: t for t in tracks for c in t.clips}
        # Each clip's place on its track, and the cuts sorted by where the second clip starts:
        # looked up per transition, so thousands of transitions cost no quadratic time.
        self.position = {c.id: i for t in tracks for i, c in enumerate(t.clips)}
        self._cuts = [
            (a, b)
            for t in tracks
            if t.kind is not TrackKind.SUBTITLE
            for a, b in zip(t.clips, t.clips[1:], strict=False)
            if b.start <= a.end
        ]
        self._touching = sorted(
            ((b.start, a, b) for a, b in self._cuts if b.start == a.end), key=lambda cut: cut[0]
        )
        self._touching_starts = [start for start, _, _ in self._touching]
        self._overlaps = sorted(
            ((b.start, min(a.end, b.end), a, b) for a, b in self._cuts if b.start < a.end),
            key=lambda cut: cut[0],
        )
        self._overlap_starts = [start for start, _, _, _ in self._overlaps]
        # The latest end among the overlaps up to each one: a search backwards stops there.
        self._overlap_reach = [0] * len(self._overlaps)
        reach = 0
        for i, (_, end, _, _) in enumerate(self._overlaps):
            reach = max(reach, end)
            self._overlap_reach[i] = reach
        self.result: list[Transition] = []
        self.origin: dict[str, str] = {}  # an attachment's id -> its transition's id
        self._joined: dict[tuple[str, str], Transition] = {}  # (from, to) -> its transition
        self._on_clip: dict[str, list[Transition]] = {}  # the transitions of each clip

    def cuts(self) -> list[tuple[Clip, Clip]]:
        """Consecutive clips of a Video or Audio track that touch or overlap."""
        return list(self._cuts)

    def neighbour(self, clip: Clip, step: int) -> Clip | None:
        clips = self.track_of[clip.id].clips
        index = self.position[clip.id] + step
        return clips[index] if 0 <= index < len(clips) else None

    def cuts_near(self, start: int, length: int) -> list[tuple[Clip, Clip]]:
        """The cuts a transition from frame `start` lasting `length` frames covers: a touching
        cut inside [start, start + length], or an overlap that shares a frame with it."""
        low = bisect.bisect_left(self._touching_starts, start)
        high = bisect.bisect_right(self._touching_starts, start + length)
        found = [(a, b) for _, a, b in self._touching[low:high]]
        i = bisect.bisect_left(self._overlap_starts, start + length) - 1
        while i >= 0 and self._overlap_reach[i] > start:
            _, end, a, b = self._overlaps[i]
            if start < end:
                found.append((a, b))
            i -= 1
        return found

    def by_ids(self, tid: str, kind: str, ids: list[str], length: int, where: str) -> None:
        named = [cid for cid in ids if cid]
        missing = [cid for cid in named if cid not in self.clips]
        if missing:
            self.p.error(where, f"refers to unknown clip(s) {', '.join(map(repr, missing))}")
            return
        if ids[0] and ids[0] == ids[1]:
            # place() would take the whole clip as an overlap with itself: a silent no-op.
            self.p.error(
                where, f"from_clip_id and to_clip_id both name clip {ids[0]!r}; name two clips"
            )
            return
        a = self.clips[ids[0]] if ids[0] else None
        b = self.clips[ids[1]] if ids[1] else None
        if a is None and b is not None:
            a = self.neighbour(b, -1)
        elif b is None and a is not None:
            b = self.neighbour(a, 1)
        if a is None or b is None:
            self.p.warn(where, f"clip {named[0]!r} has no neighbour on its track; not drawn")
            return
        self.place(tid, kind, a, b, length, where)

    def attached(
        self, tid: str, kind: str, clip_id: str, side: str, length: int, where: str
    ) -> None:
        clip = self.clips.get(clip_id)
        if clip is None:
            return  # the clip itself was refused, and said so
        other = self.neighbour(clip, -1 if side == "in" else 1)
        if other is None:
            self.p.warn(
                where,
                f"attached to clip {clip_id!r} ({side}), which has no clip "
                f"{'before' if side == 'in' else 'after'} it on its track; not drawn",
            )
            return
        a, b = (other, clip) if side == "in" else (clip, other)
        self.origin[f"{tid}@{clip_id}"] = tid
        self.place(f"{tid}@{clip_id}", kind, a, b, length, where)

    def at_time(self, tid: str, kind: str, start: int, length: int, where: str) -> None:
        found = self.cuts_near(start, length)
        if len(found) != 1:
            what = "no cut" if not found else f"{len(found)} cuts"
            self.p.error(
                where,
                f"start_time frame {start} to {start + length} holds {what} "
                "between two clips; add from_clip_id and to_clip_id",
            )
            return
        self.place(tid, kind, *found[0], length, where, start=start)

    def place(
        self,
        tid: str,
        kind: str,
        a: Clip,
        b: Clip,
        length: int,
        where: str,
        start: int | None = None,
    ) -> None:
        if self.track_of[a.id] is not self.track_of[b.id]:
            self.p.error(where, f"clips {a.id!r} and {b.id!r} are on different tracks")
            return
        if b.start < a.start:
            self.p.error(where, f"to_clip {b.id!r} starts before from_clip {a.id!r}")
            return
        if b.start < a.end:  # the clips overlap: the overlap is the transition
            first, last = b.start, min(a.end, b.end)
        elif b.start == a.end:  # a cut: centre the transition on it (or start where asked)
            first = b.start - length // 2 if start is None else start
            last = first + length
            room = b.end - a.start
            if length > room:
                # Longer than both clips together: no frame would show either clip alone.
                first, last = a.start, b.end
                self.p.warn(
                    where,
                    f"is {length} frames long, longer than clips {a.id!r} and {b.id!r} together "
                    f"({room} frames); shortened to {room} frames",
                )
            elif first < a.start or last > b.end:
                self.p.warn(where, _outside(a, b, first, last))
            if self.track_of[a.id].kind is TrackKind.VIDEO:
                self._check_handles(a, b, first, last, where)
        else:
            self.p.error(
                where,
                f"clips {a.id!r} and {b.id!r} do not touch (gap of "
                f"{b.start - a.end} frames); move them together",
            )
            return
        kept = self._joined.get((a.id, b.id))
        if kept is not None:
            # Drawing both blends see-through clips twice; one attached to both clips is one.
            same = self.origin.get(kept.id, kept.id) == self.origin.get(tid, tid)
            if not same or (kept.kind, kept.start, kept.end) != (kind, first, last):
                self.p.warn(
                    where,
                    f"clips {a.id!r} and {b.id!r} are already joined by transition "
                    f"{kept.id!r}; this one is not drawn",
                )
            return
        placed = Transition(tid, kind, a.id, b.id, first, last)
        for cid in (a.id, b.id):  # the later one hides the earlier where they meet
            for other in self._on_clip.setdefault(cid, []):
                if other.start < last and first < other.end:
                    self.p.warn(
                        where,
                        f"overlaps transition {other.id!r} on clip {cid!r} (frames "
                        f"{max(first, other.start)} to {min(last, other.end)}), where it hides "
                        "it; shorten one",
                    )
            self._on_clip[cid].append(placed)
        self._joined[(a.id, b.id)] = placed
        self.result.append(placed)

    def _check_handles(self, a: Clip, b: Clip, first: int, last: int, where: str) -> None:
        """Warn where the transition needs media the clips' sources do not have (the
        compositor holds their first or last frame there)."""
        fps = self.fps
        lead = b.start - first
        if lead > 0 and not isinstance(b.source, GeneratedSource):
            shown_frames = Fraction(str(b.source_start)) * fps / Fraction(str(b.speed))
            held = lead - max(0, min(lead, math.floor(shown_frames)))
            if held > 0:
                self.p.warn(
                    where,
                    f"starts clip {b.id!r} {held} frames before its media (it begins {lead} "
                    f"frames early, source_start {b.source_start:g}s); the first frame is held",
                )
        tail = last - a.end
        if tail > 0 and a.source_end is not None and not isinstance(a.source, GeneratedSource):
            room = Fraction(str(a.source_end)) - Fraction(str(a.source_start))
            if room < 2 * HOLD:  # (float sums leave a hold a hair over HOLD)
                return  # a freeze frame: its one frame is held whatever the transition's length
            played = room * fps / Fraction(str(a.speed)) - (a.end - a.start)
            held = tail - max(0, min(tail, math.ceil(played)))
            if held > 0:
                self.p.warn(
                    where,
                    f"runs clip {a.id!r} {held} frames past its media (it ends {tail} frames "
                    f"late, source_end {a.source_end:g}s); the last frame is held",
                )


def _outside(a: Clip, b: Clip, first: int, last: int) -> str:
    """Why a transition centred on a cut reaches past its clips, and what that shows."""
    said = []
    if first < a.start:
        said.append(f"begins {a.start - first} frames before clip {a.id!r}")
        if first < 0:
            done = (0.5 - first) / (last - first)
            said.append(f"before the timeline starts: frame 0 is already {done:.0%} through it")
    if last > b.end:
        said.append(f"ends {last - b.end} frames after clip {b.id!r}")
    return ", ".join(said) + " (it is centred on the cut)"


def check_overlaps(
    tracks: tuple[Track, ...], transitions: tuple[Transition, ...], p: Problems
) -> None:
    """Record an error for each pair of overlapping clips that no transition joins."""
    joined = {frozenset((t.from_clip, t.to_clip)) for t in transitions}
    for track in tracks:
        if track.kind is TrackKind.SUBTITLE:
            continue
        for a, b in zip(track.clips, track.clips[1:], strict=False):
            if b.start < a.end and frozenset((a.id, b.id)) not in joined:
                p.error(
                    f"track {track.id!r}",
                    f"clips {a.id!r} and {b.id!r} overlap by {a.end - b.start} frames "
                    "(add a transition between them or move one)",
                )

"""A track's transitions in the editor's documents as ProjectSchema transition entries: the
AppliedTransitions its clips carry and the TimelineTransitions its track lists by id (the
editor's own conversion, timeline-to-project.ts, drops both: a TODO there)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chunking.timeline.fields import Problems, shown
from chunking.timeline.schema import entries
from chunking.timeline.studio_editor_entries import (
    duration_unusable,
    switched_off,
    transition_entry,
)
from chunking.timeline.studio_editor_library import Library, as_map, text

#: Seconds between two clips that still count as touching (float sums of the editor's times).
_TOUCHING = 1e-3


class TrackTransitions:
    """Adds one track's transitions to ``out``, each pair of clips joined once."""

    def __init__(self, library: Library, problems: Problems, out: list[dict[str, Any]]) -> None:
        self.lib = library
        self.p = problems
        self.out = out

    def applied(self, pairs: list[tuple[dict[str, Any], Any]]) -> None:
        """AppliedTransitions: ``in`` (and ``cross``) join a clip to the one before it on the
        track, ``out`` to the one after it (the editor's split keeps ``in`` on the first half and
        ``out`` on the second). The editor's own conversion drops transitions (a TODO there)."""
        ordered = sorted(pairs, key=lambda pair: (pair[0]["start_time"], pair[0]["id"]))
        clips = [clip for clip, _ in ordered]
        joined: set[tuple[str, str]] = set()
        for pos, (clip, raw) in enumerate(ordered):
            for i, item in enumerate(entries(as_map(raw).get("transitions"))):
                applied = as_map(item)
                if switched_off(applied):
                    continue
                ref = text(applied.get("transitionId"))
                name = text(applied.get("id")) or ref or f"#{i}"
                where = f"clip {clip['id']!r} transition {name!r}"
                after = applied.get("type") == "out"
                other = pos + 1 if after else pos - 1
                first, second = (pos, other) if after else (other, pos)
                if not 0 <= other < len(clips):
                    side = "after" if after else "before"
                    self.p.warn(where, f"no clip {side} it on the track; not rendered")
                    continue
                gap = clips[second]["start_time"] - clips[first]["end_time"]
                if gap > _TOUCHING:
                    names = f"{clips[first]['id']!r} and {clips[second]['id']!r}"
                    self.p.warn(where, f"a {gap:g}s gap separates {names}; not rendered")
                    continue
                pair = (clips[first]["id"], clips[second]["id"])
                if not self._joins(where, pair, applied, joined):
                    continue
                definition = self.lib.lookup(self.lib.transitions, ref) or {}
                self.out.append(transition_entry(ref, definition, applied, pair))

    def montage(self, pairs: list[tuple[dict[str, Any], Any]]) -> None:
        """The AI montage planner's ``appliedTransitions`` (applyTransitionsToClips in
        timeline-integration-service.ts): ``{transitionId, position: "out", duration,
        targetClipId}`` on the clip it leaves, the clip it enters moved back by half the
        duration, so the two overlap: the overlap is the transition."""
        by_id = {clip["id"]: clip for clip, _ in pairs}
        joined = {(t["from_clip_id"], t["to_clip_id"]) for t in self.out}
        for clip, raw in pairs:
            for i, item in enumerate(entries(as_map(raw).get("appliedTransitions"))):
                applied = as_map(item)
                if switched_off(applied):
                    continue
                ref = text(applied.get("transitionId"))
                where = f"clip {clip['id']!r} appliedTransitions[{i}]"
                target = text(applied.get("targetClipId"))
                if target not in by_id or target == clip["id"]:
                    self.p.warn(where, f"its targetClipId {shown(applied.get('targetClipId'))} "
                                "is no other clip of the track; not rendered")  # fmt: skip
                    continue
                ends = (target, clip["id"]) if applied.get("position") == "in" else None
                pair = ends or (clip["id"], target)
                first, second = by_id[pair[0]], by_id[pair[1]]
                gap = second["start_time"] - first["end_time"]
                if gap > _TOUCHING or second["start_time"] < first["start_time"]:
                    what = f"a {gap:g}s gap separates" if gap > 0 else "it runs back between"
                    self.p.warn(where, f"{what} {pair[0]!r} and {pair[1]!r}; not rendered")
                    continue
                if not self._joins(where, pair, applied, joined):
                    continue
                definition = self.lib.lookup(self.lib.transitions, ref) or {}
                self.out.append(transition_entry(ref or "fade", definition, applied, pair))

    def _joins(
        self, where: str, pair: tuple[str, str], raw: Mapping[str, Any], joined: set[Any]
    ) -> bool:
        """Whether a transition may join ``pair`` (not joined yet, a usable duration), noting
        the pair as joined; a warning says why not."""
        if pair in joined:
            self.p.warn(where, f"a second transition between {pair[0]!r} and {pair[1]!r}")
            return False
        if (why := duration_unusable(raw)) is not None:
            self.p.warn(where, why)
            return False
        joined.add(pair)
        return True

    def timeline(self, ids: Any, pairs: list[tuple[dict[str, Any], Any]], where: str) -> None:
        """A track's TimelineTransitions (``resources.timelineTransitions``, listed by id in
        ``track.transitions``): each joins its ``fromClipId`` to its ``toClipId``."""
        on_track = {clip["id"] for clip, _ in pairs}
        joined = {(t["from_clip_id"], t["to_clip_id"]) for t in self.out}
        for item in entries(ids):
            ref = text(item) if not isinstance(item, Mapping) else text(item.get("id"))
            raw = self.lib.timeline_transitions.get(ref) if ref else None
            if isinstance(item, Mapping) and raw is None:
                raw = item
            here = f"{where} transition {ref!r}"
            if raw is None:
                self.p.warn(here, "is not in resources.timelineTransitions; not rendered")
                continue
            if switched_off(raw):
                continue
            pair = (text(raw.get("fromClipId")), text(raw.get("toClipId")))
            if not all(pair) or not set(pair) <= on_track:
                self.p.warn(here, f"its clips {pair[0]!r} and {pair[1]!r} are not both on the "
                            "track; not rendered")  # fmt: skip
                continue
            if not self._joins(here, pair, raw, joined):
                continue
            kind = text(raw.get("type")) or "fade"
            definition = self.lib.lookup(self.lib.transitions, kind) or {"type": kind}
            applied = {"id": ref, "duration": raw.get("duration"),
                       "parameters": raw.get("parameters")}  # fmt: skip
            self.out.append(transition_entry(kind, definition, applied, pair))

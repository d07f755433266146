"""Which clips a frame range of a timeline draws: the compositor's own bookkeeping
(``Compositor.__init__``: a clip is drawn from its start, or its transition's, to its end, or
its transition's), indexed once per timeline for the content keys of a plan's chunks."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

from chunking.timeline.model import (
    Clip,
    Crop,
    Effect,
    GeneratedSource,
    Timeline,
    TrackKind,
    Transform,
    Transition,
)

#: Frames per bucket of the index of which clips a frame range draws.
_BUCKET = 256


@dataclasses.dataclass(frozen=True)
class DrawnClips:
    """A timeline's drawn clips (the compositor's own bookkeeping, Compositor.__init__, so the
    same clips count as drawn), made once per timeline: a plan keys every chunk, and rebuilding
    it per chunk cost time in chunks times clips (a minute for 40,000 clips)."""

    layers: list[tuple[int, Clip]]
    track_effects: dict[str, tuple[Effect, ...]]
    track_of: dict[str, int]
    joined: list[Transition]
    since: dict[str, int]
    until: dict[str, int]
    buckets: dict[int, list[int]]  # bucket -> positions in layers of the clips it overlaps
    #: clip id -> (position in ``joined``, transition) of each transition it is part of
    transitions_of: dict[str, list[tuple[int, Transition]]]
    fps: Fraction  # the timeline's: which frames a picture fade dims depends on it

    def drawn(self, start: int, end: int) -> list[tuple[int, Clip]]:
        """The (track, clip) pairs drawn in frames [start, end), in layer order."""
        found: set[int] = set()
        for bucket in range(start // _BUCKET, (end - 1) // _BUCKET + 1):
            found.update(self.buckets.get(bucket, ()))
        return [
            self.layers[n]
            for n in sorted(found)
            if self.since[self.layers[n][1].id] < end and self.until[self.layers[n][1].id] > start
        ]

    def shown(self, start: int, end: int) -> tuple[int, list[tuple[int, Clip]]]:
        """The lowest track that can change a pixel of frames [start, end), and the drawn clips
        that can: the track of the highest clip covering the whole canvas opaquely on every one
        of those frames (0 when none does), the clips on it and above, and the clips of a
        transition drawn there or above. What lies below is drawn over entirely (the compositor
        copies an opaque layer: workers.layer.blend), so changing it changes no frame."""
        drawn = self.drawn(start, end)
        floor = max((i for i, clip in drawn if self._covers(clip, start, end)), default=0)
        if floor == 0:
            return floor, drawn
        # A transition is drawn on the higher of its clips' tracks, from both clips' pictures.
        joining = {
            cid
            for _, clip in drawn
            for _, tr in self.transitions_of.get(clip.id, ())
            if tr.start < end
            and tr.end > start
            and max(self.track_of[tr.from_clip], self.track_of[tr.to_clip]) >= floor
            for cid in (tr.from_clip, tr.to_clip)
        }
        return floor, [(i, clip) for i, clip in drawn if i >= floor or clip.id in joining]

    def transitions(self, clips: list[tuple[int, Clip]], start: int, end: int) -> list[Transition]:
        """The transitions of these clips drawn on frames [start, end), in timeline order (every
        one drawn there has both its clips drawn there: found from them, not by a scan)."""
        found = {
            pos: tr
            for _, clip in clips
            for pos, tr in self.transitions_of.get(clip.id, ())
            if tr.start < end and tr.end > start
        }
        return [found[pos] for pos in sorted(found)]

    def _covers(self, clip: Clip, start: int, end: int) -> bool:
        """Whether the clip is an opaque full-canvas picture on every frame of [start, end),
        drawn as itself there (not inside a transition). Only generated sources are known to
        be, without opening a file: a video's size and alpha are not in the timeline."""
        source = clip.source
        if not isinstance(source, GeneratedSource) or source.color[3] < 255:
            return False
        return (
            clip.start <= start
            and clip.end >= end
            and clip.opacity >= 1
            # A fading clip lets what lies under it show through on the fade's frames.
            and not clip.picture_faded(start, end, self.fps)
            and clip.transform == Transform()
            and not clip.transform_keys  # a moving clip may leave any part of the canvas
            and clip.crop == Crop()
            and clip.cell is None
            # Any effect may be a key (alpha) or move pixels: the clip then covers nothing here.
            and not any(
                (e.start is None or e.start < end) and (e.end is None or e.end > start)
                for e in (*clip.effects, *self.track_effects.get(clip.track_id, ()))
            )
            and not any(
                tr.start < end and tr.end > start for _, tr in self.transitions_of.get(clip.id, ())
            )
        )


_last: list[tuple[Timeline, DrawnClips]] = []


def drawn_clips(timeline: Timeline) -> DrawnClips:
    """The drawn-clips index of ``timeline`` (the last one's is kept: a plan asks for it per
    chunk)."""
    kept = _last[0] if _last else None  # read once: another thread may replace it
    if kept is not None and kept[0] is timeline:
        return kept[1]
    video = [t for t in timeline.tracks if t.kind is TrackKind.VIDEO and t.enabled]
    layers = [(i, clip) for i, track in enumerate(video) for clip in track.clips]
    track_of = {clip.id: i for i, clip in layers}
    joined = [
        tr for tr in timeline.transitions if tr.from_clip in track_of and tr.to_clip in track_of
    ]
    since = {clip.id: clip.start for _, clip in layers}
    until = {clip.id: clip.end for _, clip in layers}
    for tr in joined:
        for cid in (tr.from_clip, tr.to_clip):
            since[cid] = min(since[cid], tr.start)
            until[cid] = max(until[cid], tr.end)
    buckets: dict[int, list[int]] = {}
    for n, (_, clip) in enumerate(layers):
        first, last = since[clip.id], until[clip.id]
        if last <= first:
            continue
        for bucket in range(max(first, 0) // _BUCKET, max(last - 1, 0) // _BUCKET + 1):
            buckets.setdefault(bucket, []).append(n)
    transitions_of: dict[str, list[tuple[int, Transition]]] = {}
    for pos, tr in enumerate(joined):
        for cid in {tr.from_clip, tr.to_clip}:
            transitions_of.setdefault(cid, []).append((pos, tr))
    index = DrawnClips(
        layers,
        {t.id: t.effects for t in video},
        track_of,
        joined,
        since,
        until,
        buckets,
        transitions_of,
        timeline.fps,
    )
    _last[:] = [(timeline, index)]
    return index

"""Which clips a frame range of a timeline draws: the compositor's own bookkeeping
(``Compositor.__init__``: a clip is drawn from its start, or its transition's, to its end, or
its transition's), indexed once per timeline for the content keys of a plan's chunks."""

from __future__ import annotations

import dataclasses

from chunking.timeline.model import Clip, Effect, Timeline, TrackKind, Transition

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
    index = DrawnClips(
        layers, {t.id: t.effects for t in video}, track_of, joined, since, until, buckets
    )
    _last[:] = [(timeline, index)]
    return index

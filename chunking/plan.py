"""Chunk planning: split a timeline's frames into contiguous ranges that workers render.

Pure functions over the timeline model; no I/O. Every plan covers [0, timeline.frames) exactly
once, in order, with no empty chunk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

from chunking.timeline.model import Timeline
from common.errors import TimelineError


@dataclass(frozen=True)
class Chunk:
    """Timeline frames [start, end) rendered as one unit of work; index is its position."""

    index: int
    start: int
    end: int

    @property
    def frames(self) -> int:
        """Number of frames in the chunk."""
        return self.end - self.start


def edit_points(timeline: Timeline) -> list[int]:
    """Frames inside the timeline where a visible video clip or transition starts or ends."""
    cuts: set[int] = set()
    clip_ids: set[str] = set()
    for track in timeline.video_tracks():
        for clip in track.clips:
            clip_ids.add(clip.id)
            cuts.update((clip.start, clip.end))
    for transition in timeline.transitions:
        # A transition belongs to the tracks of its clips; one between hidden clips is not drawn.
        if transition.from_clip in clip_ids or transition.to_clip in clip_ids:
            cuts.update((transition.start, transition.end))
    return sorted(c for c in cuts if 0 < c < timeline.frames)


def plan_chunks(
    timeline: Timeline,
    *,
    workers: int,
    chunk_frames: int | None = None,
    min_frames: int | None = None,
    chunks_per_worker: int = 4,
    snap_fraction: float = 0.15,
) -> list[Chunk]:
    """Split [0, timeline.frames) into contiguous, non-empty chunks in order.

    With ``chunk_frames`` every chunk has exactly that many frames (the last may be shorter) and
    boundaries are not moved: it is an explicit override.

    Otherwise, with F = timeline.frames, W = workers, C = chunks_per_worker and
    m = min_frames (default ceil(fps), one second of output):

    * chunk count n = max(1, min(W * C, F // m)), rounded down to a multiple of W when
      above W; i.e. W * C chunks (so every worker gets
      several, progress is visible and a failed chunk costs little, even with W = 1) unless that
      would make chunks shorter than m, in which case as many chunks of at least m frames as fit
      (a timeline shorter than 2 * m stays one chunk). n never exceeds F.
    * default boundaries b_i = i * F // n for i = 1 .. n-1, so sizes differ by at most one frame;
      the nominal size is target = ceil(F / n), which is max(ceil(F / (W * C)), m) rounded up
      so that the frames divide evenly (never below m when F >= m).
    * each boundary, left to right, moves to the nearest edit point (see ``edit_points``) at
      most floor(snap_fraction * target) frames away, ties going to the earlier one, provided
      both chunks beside it stay at least max(1, target // 2) frames long; if the nearest one
      fails that check the next nearest is tried, and a boundary with no acceptable edit point
      stays put.
    """
    frames = timeline.frames
    if frames < 1:
        raise TimelineError(f"timeline has no frames to render (frames={frames})")
    if workers < 1:
        raise TimelineError(f"workers must be at least 1, got {workers}")

    if chunk_frames is not None:
        if chunk_frames < 1:
            raise TimelineError(f"chunk_frames must be at least 1, got {chunk_frames}")
        return _chunks([*range(0, frames, chunk_frames), frames])

    if chunks_per_worker < 1:
        raise TimelineError(f"chunks_per_worker must be at least 1, got {chunks_per_worker}")
    if min_frames is None:
        min_frames = max(1, math.ceil(timeline.fps))
    elif min_frames < 1:
        raise TimelineError(f"min_frames must be at least 1, got {min_frames}")
    if not (math.isfinite(snap_fraction) and snap_fraction >= 0):
        raise TimelineError(f"snap_fraction must be a finite number >= 0, got {snap_fraction}")

    count = max(1, min(workers * chunks_per_worker, frames // min_frames, frames))
    if count > workers:
        # A whole number of rounds: no worker sits idle while another renders the last chunk.
        count -= count % workers
    # Even split rather than fixed-size-plus-remainder: no short tail chunk below min_frames.
    bounds = [i * frames // count for i in range(count + 1)]
    target = -(-frames // count)
    return _chunks(_snap(bounds, edit_points(timeline), target, snap_fraction))


def _snap(bounds: list[int], cuts: list[int], target: int, snap_fraction: float) -> list[int]:
    """Move inner boundaries onto nearby cuts, keeping every chunk at least target // 2 long."""
    reach = math.floor(snap_fraction * target)
    min_len = max(1, target // 2)
    if reach < 1 or not cuts:
        return bounds
    snapped = [bounds[0]]
    for i in range(1, len(bounds) - 1):
        here, prev, nxt = bounds[i], snapped[-1], bounds[i + 1]
        near = sorted((c for c in cuts if abs(c - here) <= reach), key=lambda c: (abs(c - here), c))
        # The next boundary is still at its default here; when it moves later it checks against
        # this one, so every chunk ends up at least min_len long.
        chosen = next((c for c in near if c - prev >= min_len and nxt - c >= min_len), here)
        snapped.append(chosen)
    snapped.append(bounds[-1])
    return snapped


def _chunks(bounds: list[int]) -> list[Chunk]:
    """Chunks between consecutive boundaries."""
    return [Chunk(i, a, b) for i, (a, b) in enumerate(pairwise(bounds))]

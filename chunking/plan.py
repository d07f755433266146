"""Chunk planning: split a timeline's frames into contiguous ranges that workers render.

Pure functions over the timeline model; no I/O but the size of each media file (what tells
shots apart for the anchors, where a path would not survive a rename). Every plan covers
[0, timeline.frames) exactly once, in order, with no empty chunk.

The default plan is anchored, so that re-rendering an edited timeline finds most of its chunks
unchanged in the segment cache (chunking.content_key): boundaries sit on the timeline's cuts and
at fixed steps measured from the cut before them, so an edit moves only the boundaries near it,
and the chunks after an inserted or deleted stretch keep their length and content, only shifted.

A project that sets ``export.keyframe_interval`` K gets its keyframes on multiples of K, as a
single-process render puts them (streaming renditions are cut there): every chunk's segment
starts with a keyframe, so every boundary moves to its nearest multiple of K.
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from itertools import pairwise

from chunking.timeline.export import INTRA_ONLY
from chunking.timeline.model import Timeline
from common.errors import TimelineError

#: The longest piece a stretch between two anchors is cut into, in seconds of output: long
#: enough that the per-chunk costs (decoder pre-roll, encoder start, a task) stay small, short
#: enough that fixing one title re-renders only a few seconds of a long film.
PIECE_SECONDS = 8


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


def anchors(timeline: Timeline, min_frames: int) -> list[int]:
    """The edit points that start a chunk: each before the timeline's end by ``min_frames``,
    and either at least ``min_frames`` after the edit point before it, or a cut chosen by its
    content (``content_chosen``) at least ``min_frames`` after the anchor before it.

    Judged against the previous edit point, not the previous chunk boundary, so whether a cut
    anchors depends on its neighbourhood only: a run of quick cuts anchors at its first cut.
    Where every cut is quicker than ``min_frames`` (shots shorter than a chunk may be), cuts are
    chosen by what starts there, not by where they are, so a ripple edit (time inserted,
    trimmed or deleted before them) leaves the same cuts anchors and the chunks between them
    the same, only shifted. Anchors are always at least ``min_frames`` apart.
    """
    found: list[int] = []
    before = 0
    signatures = cut_signatures(timeline)
    for cut in edit_points(timeline):
        if timeline.frames - cut >= min_frames:
            spaced = cut - before >= min_frames
            chosen = (
                signatures.get(cut, 1) % ANCHOR_ODDS == 0
                and cut - (found[-1] if found else 0) >= min_frames
            )
            if spaced or chosen:
                found.append(cut)
        before = cut
    return found


#: One quick cut in this many (by its content) anchors a chunk where cuts come faster than a
#: chunk's least length: several shots a chunk, as the grid between anchors wants.
ANCHOR_ODDS = 3


def cut_signatures(timeline: Timeline) -> dict[int, int]:
    """A number for each frame where visible video clips start, from what starts there (each
    clip's track, source, in point, speed and length), not from the frame itself."""
    parts: dict[int, list[str]] = {}
    sources: dict[str, str] = {}
    for index, track in enumerate(timeline.video_tracks()):
        for clip in track.clips:
            source = _source_identity(clip.source, sources)
            parts.setdefault(clip.start, []).append(
                f"{index}|{source}|{clip.source_start!r}|{clip.speed!r}|{clip.end - clip.start}"
                + ("|reverse" if clip.reverse else "")
            )
    return {
        frame: int.from_bytes(hashlib.sha256("\n".join(sorted(p)).encode()).digest()[:8], "big")
        for frame, p in parts.items()
    }


def _source_identity(source: object, seen: dict[str, str]) -> str:
    """What tells a clip's source apart from others without naming where it is: a file by its
    size, not its path (README: moving a project or renaming a file keeps the chunks' keys, so
    it must keep the plan too); other sources by their kind."""
    path = getattr(source, "path", None)
    kind = type(source).__name__
    if not path:
        return kind
    if path not in seen:
        try:
            seen[path] = f"{kind}:{os.stat(path).st_size}"
        except (OSError, ValueError):
            seen[path] = f"{kind}:unreadable"  # not rendered either: the job fails on it
    return seen[path]


def piece_frames(timeline: Timeline, workers: int, chunks_per_worker: int, min_frames: int) -> int:
    """The step of the grid between anchors: the longest of PIECE_SECONDS, then half of that, a
    quarter, ... (in frames, halving down to 1) that still gives ``workers * chunks_per_worker``
    pieces (one slot: no halving, see ``wanted_pieces``), and never below ``min_frames``.

    So the worker count matters only for timelines shorter than workers * chunks_per_worker *
    PIECE_SECONDS, and there only where that product crosses a halving step: with the default 4
    chunks per worker, every cluster of up to 18 slots plans a 10-minute 30 fps timeline alike.
    """
    piece = max(1, round(PIECE_SECONDS * timeline.fps))
    wanted = wanted_pieces(workers, chunks_per_worker)
    while piece > 1 and timeline.frames < wanted * piece:
        piece //= 2
    return max(piece, min_frames)


def wanted_pieces(workers: int, chunks_per_worker: int) -> int:
    """How many pieces the grid is halved for: ``chunks_per_worker`` per slot, so that several
    slots finish together however the chunks' costs differ; one for a single slot.

    A single slot renders its chunks one after another, so more of them balance nothing: each
    only adds its fixed costs (the encoder's drain at its end with the compositor idle, a task,
    a render process, the sources' and the encoder's start, a segment to store and join). On a
    2-core machine the cut of a 300-frame 1080p job into 120 + 180 frames cost 0.72-0.84 s of
    wall and about 0.57 CPU-s of its render processes between the last frame of one chunk and
    the first of the next (four runs), against one frame's 0.05 s in one chunk. Chunks still
    last at most PIECE_SECONDS (plus the snap reach), which is what an edit re-renders.
    """
    return 1 if workers == 1 else workers * chunks_per_worker


#: The most chunks an explicit ``chunk_frames`` may ask for: each is a task, a record and a
#: segment, and planning, estimating and dispatching grow with their count (one frame a chunk
#: over a day at 120 fps took 5 GiB and minutes of the API's CPU before answering).
MAX_CHUNKS = 20_000


def plan_chunks(
    timeline: Timeline,
    *,
    workers: int,
    chunk_frames: int | None = None,
    min_frames: int | None = None,
    chunks_per_worker: int = 4,
    snap_fraction: float = 0.15,
    max_frames: int | None = None,
) -> list[Chunk]:
    """Split [0, timeline.frames) into contiguous, non-empty chunks in order.

    With ``chunk_frames`` every chunk has exactly that many frames (the last may be shorter) and
    boundaries are not moved: it is an explicit override (rounded to whole keyframe intervals
    when the export sets one: ``keyframe_chunk_frames``).

    Otherwise the plan is anchored (the same timeline always gets the same plan), with
    m = min_frames (default ceil(fps), one second of output):

    * every anchor (see ``anchors``: an edit point at least m after the previous edit point and
      m before the end) is a boundary;
    * between two consecutive anchors a < b (0 and the end count as anchors) there are boundaries
      at a + P, a + 2P, ... for P = ``piece_frames(...)``, as long as each leaves at least
      reach = max(m, floor(snap_fraction * P)) frames before b: a grid boundary closer than
      that to the next anchor snaps onto it, lengthening the chunk before it.

    * where that leaves the stretch's last chunk longer than P, the boundary before it moves to
      the middle of the last two pieces, which then share the rest equally.

    Every chunk is then at least m frames long (unless the whole timeline is shorter) and
    shorter than P + reach. An edit changes only the boundaries of the stretches between anchors
    it touches; everything after an inserted or deleted stretch moves by its length.

    ``max_frames`` caps the anchored plan (spot pools: a chunk must render within a notice):
    m and P are at most it, and a chunk still longer is cut into equal parts measured from its
    own start, so the cap keeps the plan anchored (a grid from frame 0 moved every boundary
    after an edit near the start, and no later chunk was found in the cache).
    """
    frames = timeline.frames
    if frames < 1:
        raise TimelineError(f"timeline has no frames to render (frames={frames})")
    if workers < 1:
        raise TimelineError(f"workers must be at least 1, got {workers}")

    if chunk_frames is not None:
        if chunk_frames < 1:
            raise TimelineError(f"chunk_frames must be at least 1, got {chunk_frames}")
        # Rounded to whole keyframe intervals: moved one by one onto the grid, the boundaries
        # of 10-frame chunks with keyframes every 48 made 48-frame chunks, of 60 made 48 and 72.
        chunk_frames = keyframe_chunk_frames(timeline, chunk_frames)
        count = -(-frames // chunk_frames)
        if count > MAX_CHUNKS:
            raise TimelineError(
                f"chunk_frames {chunk_frames} splits the {frames} frames into {count} chunks; "
                f"at most {MAX_CHUNKS} are planned (use at least {-(-frames // MAX_CHUNKS)})"
            )
        return _chunks([*range(0, frames, chunk_frames), frames])

    if chunks_per_worker < 1:
        raise TimelineError(f"chunks_per_worker must be at least 1, got {chunks_per_worker}")
    if min_frames is None:
        min_frames = max(1, math.ceil(timeline.fps))
    elif min_frames < 1:
        raise TimelineError(f"min_frames must be at least 1, got {min_frames}")
    if not (math.isfinite(snap_fraction) and snap_fraction >= 0):
        raise TimelineError(f"snap_fraction must be a finite number >= 0, got {snap_fraction}")

    if max_frames is not None:
        if max_frames < 1:
            raise TimelineError(f"max_frames must be at least 1, got {max_frames}")
        min_frames = min(min_frames, max_frames)
    piece = piece_frames(timeline, workers, chunks_per_worker, min_frames)
    if max_frames is not None:
        piece = min(piece, max_frames)
    reach = max(min_frames, math.floor(snap_fraction * piece))
    bounds = [0]
    for a, b in pairwise([0, *anchors(timeline, min_frames), frames]):
        # Measured from the anchor, not from the timeline's start: an edit before `a` that
        # keeps `a` an anchor leaves these boundaries where they were, relative to it.
        grid = list(range(a + piece, b - reach + 1, piece))
        if grid and b - grid[-1] > piece:
            # The stretch's last chunk would be longer than a piece (up to piece + reach): the
            # last two share what is left equally, so that a short job's longest chunk, its
            # critical path, is not nearly twice the other's. Only these two depend on b.
            before = grid[-2] if len(grid) > 1 else a
            grid[-1] = before + (b - before) // 2
        bounds.extend(grid)
        bounds.append(b)
    if max_frames is not None:
        bounds = _capped(bounds, max_frames)
    return _chunks(_on_keyframes(timeline, bounds))


def _capped(bounds: list[int], most: int) -> list[int]:
    """Boundaries with each chunk longer than ``most`` cut into equal parts from its start."""
    out = [bounds[0]]
    for a, b in pairwise(bounds):
        parts = -(-(b - a) // most)
        out.extend(a + k * (b - a) // parts for k in range(1, parts))
        out.append(b)
    return out


def keyframe_chunk_frames(timeline: Timeline, chunk_frames: int) -> int:
    """The chunk length an explicit ``chunk_frames`` is planned with: the nearest whole number
    of the export's keyframe intervals (at least one), so every chunk starts on a keyframe;
    ``chunk_frames`` itself without an interval."""
    step = _keyframe_step(timeline)
    if not step or step <= 1:
        return chunk_frames
    return max(1, (chunk_frames + step // 2) // step) * step


def _on_keyframes(timeline: Timeline, bounds: list[int]) -> list[int]:
    """Boundaries moved to the nearest multiple of the export's keyframe interval, if it has
    one (0 and the end stay; boundaries that meet become one)."""
    step = _keyframe_step(timeline)
    if not step or step <= 1:
        return bounds
    frames = bounds[-1]
    moved = {step * round(b / step) for b in bounds[1:-1]}
    return [0, *sorted(b for b in moved if 0 < b < frames), frames]


def _keyframe_step(timeline: Timeline) -> int | None:
    """The keyframe interval chunk boundaries must respect: none for ProRes and DNxHR, whose
    every frame is a keyframe (a project's interval of 48 made ``--chunk-frames 10`` chunks of
    48: a fifth of the parallelism for the slowest codec)."""
    export = timeline.export
    if export.codec in INTRA_ONLY and not export.lossless:
        return None
    return export.keyframe_interval


def _chunks(bounds: list[int]) -> list[Chunk]:
    """Chunks between consecutive boundaries."""
    return [Chunk(i, a, b) for i, (a, b) in enumerate(pairwise(bounds))]

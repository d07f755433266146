"""What an estimate is made from: the live slots, the chunks left to render and their units, and
the timings of the cluster's recent jobs (read from the job store)."""

from __future__ import annotations

import bisect
import dataclasses
import os
import statistics
import threading
from collections.abc import Sequence
from typing import Any

from chunking.audio_cost import audio_units
from chunking.complexity import SourceSizes, frame_costs, is_still
from chunking.plan import Chunk
from chunking.timeline.model import FileSource, Timeline
from common.settings import Settings
from orchestrator.estimate_fit import JobTiming
from orchestrator.estimates import OptionEstimate
from orchestrator.job_record import ChunkRecord, JobNotFound, JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.node_roles import renders

#: Frames whose cost is sampled to spread a job's units over its chunks.
_SAMPLES = 240


#: Why a cluster without pools and without a live render slot gets no recommendation.
NO_RENDER_NODE = (
    "no render node is running (no worker takes render work now): the job waits in the queue "
    "until one starts"
)


def live_slots(store: JobStore) -> int:
    """Render worker slots taking work now (0 when none), as the dispatcher counts them."""
    beats = store.heartbeats().values()
    return sum(int(b.get("concurrency", 1)) for b in beats if renders(b) and not b.get("draining"))


def unstarted(estimate: OptionEstimate) -> OptionEstimate:
    """`estimate` of this cluster's slots when none runs: its times count from when a render
    node starts, so it promises no deadline."""
    chance = None if estimate.deadline_probability is None else 0.0
    note = "no render slot is live: the times count from when a worker starts"
    return dataclasses.replace(estimate, deadline_probability=chance, note=note)


def recent_timings(store: JobStore, limit: int = 20) -> list[JobTiming]:
    """What the newest completed jobs (of the last `limit` stored), newest first, measured:
    planning, merge, and (for jobs this cluster's own slots rendered, not pool nodes) the
    slot-seconds of their chunks for the frames and units they rendered."""
    found = []
    for job_id in store.recent(limit):
        try:
            job = store.get(job_id)
        except JobNotFound:
            continue
        merge = (job.result or {}).get("merge_seconds")
        if job.state is not JobState.COMPLETED or job.started_at is None or merge is None:
            continue
        rendered = job.frames - job.reused_frames
        own = job.pool_seconds == 0 and rendered > 0
        try:
            found.append(
                JobTiming(
                    frames=job.frames,
                    startup_seconds=job.started_at - job.submitted_at,
                    merge_seconds=float(merge),
                    busy_seconds=max(job.node_seconds - float(merge), 0.0) if own else 0.0,
                    rendered_frames=rendered if own else 0,
                    units=rendered * job.complexity if own else 0.0,
                    chunks=sum(1 for c in job.chunks if not c.reused) if own else 0,
                    chunk_gap=chunk_gap(job.chunks),
                    idle_seconds=idle_seconds(job, float(merge)),
                    pipeline=job.pipeline,
                    parts=split_units(job.estimate, rendered * job.complexity) if own else {},
                    **(alone_chunks(job.chunks) if own else {}),
                    **(slot_starts(job.chunks) if own else {}),
                )
            )
        except (TypeError, ValueError):
            continue  # a record of an older version: nothing to learn from
    return found


def split_units(estimate: dict[str, Any] | None, units: float) -> dict[str, float]:
    """`units` split as the job's estimate record split its complexity by feature
    (``complexity_parts``); empty when it did not (a record of an older version)."""
    parts = (estimate or {}).get("parts")
    if not isinstance(parts, dict) or units <= 0:
        return {}
    try:
        split = {str(name): float(value) for name, value in parts.items()}
    except (TypeError, ValueError):
        return {}
    total = sum(split.values())
    if total <= 0 or any(value < 0 for value in split.values()):
        return {}
    return {name: value * units / total for name, value in split.items()}


def idle_seconds(job: JobRecord, merge: float) -> float | None:
    """What a finished job took besides planning, its chunks' span (the first start to the last
    end) and the merge: the first chunk's pick-up, the merge's dispatch, the completion. None
    without the times (a job all reused, a record of an older version)."""
    ran = [c for c in job.chunks if c.started_at is not None and c.finished_at is not None]
    if job.started_at is None or job.finished_at is None or not ran:
        return None
    span = max(c.finished_at or 0.0 for c in ran) - min(c.started_at or 0.0 for c in ran)
    return job.finished_at - job.started_at - span - merge


def chunk_gap(chunks: Sequence[ChunkRecord]) -> float | None:
    """The median seconds between a slot freeing on a node and the node's next chunk of the job
    starting (dispatch, bookkeeping, the task's start): each chunk that started after one ended
    on its node, from the latest such end; None when there is none."""
    ends: dict[str, list[float]] = {}
    for chunk in chunks:
        if chunk.node and chunk.finished_at is not None:
            ends.setdefault(chunk.node, []).append(chunk.finished_at)
    for found in ends.values():
        found.sort()
    gaps = []
    for chunk in chunks:
        if not chunk.node or chunk.started_at is None:
            continue
        # Sorted ends: the latest at or before the start, without scanning every chunk.
        before = bisect.bisect_right(ends.get(chunk.node, []), chunk.started_at)
        if before:
            gaps.append(chunk.started_at - ends[chunk.node][before - 1])
    return statistics.median(gaps) if gaps else None


def alone_chunks(chunks: Sequence[ChunkRecord]) -> dict[str, Any]:
    """What a job's chunks say about running alone: the seconds of those that ran with no other
    chunk of the job on their node (``alone_seconds``), and how much faster per frame they ran
    than those that ran beside another all along, each slot's first chunk of the job left out
    (``alone_speedup``; None unless both kinds ran). Chunks of other jobs are not seen: a
    cluster shared by many jobs reads as less speed-up."""
    ran = _sharing(chunks)
    alone = [c for c, shared, _ in ran if shared <= 0.1]
    # A slot's first chunk of a job pays its start (``slot_starts``): counted as beside, it
    # read a 5-chunk job's lone tail as 1.53x where its later pairs said 1.34x.
    beside = [c for c, shared, first in ran if shared >= 0.9 and not first]
    found: dict[str, Any] = {"alone_seconds": sum(c.seconds or 0.0 for c in alone)}
    if alone and beside:
        found["alone_speedup"] = _per_frame(beside) / _per_frame(alone)
    return found


def slot_starts(chunks: Sequence[ChunkRecord]) -> dict[str, Any]:
    """What starting a job costs each slot that renders it: how many of the job's chunks were
    the first on their slot (``first_chunks``: none of the job's chunks had ended on their node
    when they started), and how many seconds each of them took over what the job's later chunks
    that ran beside another took per frame (``start_seconds``, the median; None without such a
    later chunk).

    Why: on the 2026-12-07 evening quiet run each slot's first chunk of every job took 0.1-0.3 s
    longer than the job's later chunks, whatever their size (0.23 s chunks of 320x180 as 2 s
    ones of 640x360); priced as per-unit work, a job of one or two waves was 10-25 % short."""
    ran = _sharing(chunks)
    firsts = [c for c, _, first in ran if first]
    later = [c for c, shared, first in ran if shared >= 0.9 and not first]
    found: dict[str, Any] = {"first_chunks": len(firsts)}
    if firsts and later:
        rate = _per_frame(later)
        found["start_seconds"] = statistics.median(
            (c.seconds or 0.0) - rate * c.frames for c in firsts
        )
    return found


def _per_frame(chunks: Sequence[ChunkRecord]) -> float:
    """The median seconds per frame of `chunks`."""
    return statistics.median((c.seconds or 0.0) / c.frames for c in chunks)


def _sharing(chunks: Sequence[ChunkRecord]) -> list[tuple[ChunkRecord, float, bool]]:
    """Each chunk that ran (on a node, with its times and seconds): the share of its span that
    another of the job's chunks ran on its node, and whether it was its slot's first of the job
    (none of the job's chunks had ended on its node when it started)."""
    by_node: dict[str, list[tuple[float, float, ChunkRecord]]] = {}
    for c in chunks:
        if c.node and c.started_at is not None and c.finished_at is not None and c.seconds:
            by_node.setdefault(c.node, []).append((c.started_at, c.finished_at, c))
    found = []
    for ran in by_node.values():
        ran.sort(key=lambda item: item[0])
        starts = [start for start, _, _ in ran]
        first_end = min(end for _, end, _ in ran)
        longest = max(end - start for start, end, _ in ran)
        for start, end, chunk in ran:
            span = end - start
            if span <= 0:
                continue
            # Only chunks that started within the longest span before this one's start and
            # before its end can overlap it (a job has thousands of chunks, a node a few slots).
            first = bisect.bisect_left(starts, start - longest)
            last = bisect.bisect_left(starts, end)
            shared = sum(
                max(0.0, min(end, o_end) - max(start, o_start))
                for o_start, o_end, other in ran[first:last]
                if other is not chunk
            )
            found.append((chunk, shared / span, start < first_end))
    return found


def chunk_units(
    timeline: Timeline,
    chunks: Sequence[Chunk],
    units_per_frame: float,
    sources: SourceSizes | None = None,
) -> list[tuple[int, float]]:
    """(frames, units) per chunk: frames x the timeline's complexity, shared out by the cost of
    sampled frames of each chunk (a heavy stretch makes its chunks longer), so that the total is
    what the job record is charged and the throughput learned by."""
    if not chunks:
        return []
    per_chunk = max(1, _SAMPLES // len(chunks))
    # At most _SAMPLES chunks are sampled, the others costed like the last sampled one before
    # them: a frame's cost is a pass over every clip, so sampling each of thousands of chunks
    # of a project of thousands of clips took minutes.
    every = max(1, -(-len(chunks) // _SAMPLES))
    picks = []
    for chunk in chunks[::every]:
        step = max(1, chunk.frames // per_chunk)
        picks.append(range(chunk.start + step // 2, chunk.end, step))
    costs = iter(frame_costs(timeline, [t for frames in picks for t in frames], sources))
    per_frame = []
    for frames in picks:
        sampled = [next(costs) for _ in frames] or [units_per_frame]
        per_frame.append(sum(sampled) / len(sampled))
    weights = [c.frames * per_frame[i // every] for i, c in enumerate(chunks)]
    total = sum(weights)
    target = units_per_frame * sum(c.frames for c in chunks)
    scale = target / total if total > 0 else 0.0
    return [(c.frames, w * scale) for c, w in zip(chunks, weights, strict=True)]


class MediaFacts:
    """What an estimate reads of each media file: whether it has an audio stream and its
    picture size; each file opened once however many questions are asked of it."""

    def __init__(self) -> None:
        self._read: dict[str, tuple[bool, tuple[int, int] | None]] = {}

    def of(self, path: str) -> tuple[bool, tuple[int, int] | None]:
        """(has sound, (width, height) of its first video stream or None); a file that cannot
        be opened is silent with no picture (the render names what is wrong with it)."""
        if path not in self._read:
            self._read[path] = probe_once(path)
        return self._read[path]


#: Probes kept per process: a submit prices the job twice (its quote, then the estimate it keeps
#: to measure the actual against), each with a MediaFacts of its own, and ``cloudrender render``
#: probes its files while its private cluster starts: each file is opened once, not three times.
_PROBED: dict[tuple[str, int, int, int, int], tuple[bool, tuple[int, int] | None]] = {}
_PROBED_LOCK = threading.Lock()
#: Files remembered at most (a long-running orchestrator or API server): the oldest go first.
PROBE_MEMORY = 512


def probe_once(path: str) -> tuple[bool, tuple[int, int] | None]:
    """What ``MediaFacts.of`` says of `path`, probed once per process while the file stays the
    same (its device, inode, size and modification time); a file that cannot be stat'ed is
    probed each time (the render names what is wrong with it)."""
    try:
        st = os.stat(path)
    except OSError:
        return _probe(path)
    key = (path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    with _PROBED_LOCK:
        known = _PROBED.get(key)
    if known is not None:
        return known
    found = _probe(path)
    with _PROBED_LOCK:
        if len(_PROBED) >= PROBE_MEMORY:
            del _PROBED[next(iter(_PROBED))]
        _PROBED[key] = found
    return found


def _probe(path: str) -> tuple[bool, tuple[int, int] | None]:
    import av  # the codec stack: only here

    from common.errors import MediaError
    from workers.media_open import open_media

    try:
        with open_media(path) as probe:
            size = None
            if probe.streams.video:
                codec = probe.streams.video[0].codec_context
                if codec.width > 0 and codec.height > 0:
                    size = (int(codec.width), int(codec.height))
            return bool(probe.streams.audio), size
    except (MediaError, av.error.FFmpegError, OSError):
        return False, None


def audio_work(timeline: Timeline, facts: MediaFacts | None = None) -> float:
    """The units of the job's audio task (``chunking.audio_cost``), each file it may read probed
    once for an audio stream (one that cannot be opened counts as silent: the render names it)."""
    facts = facts or MediaFacts()
    return audio_units(timeline, lambda path: facts.of(path)[0])


def source_sizes(timeline: Timeline, facts: MediaFacts | None = None) -> dict[str, tuple[int, int]]:
    """The picture size (width, height) of each video file the timeline's clips show, probed
    once each, for ``chunking.complexity`` to price decoding at the file's own size; a file that
    cannot be opened, or has no picture, is left out (priced at the canvas's size: the render
    names what is wrong with it), and so are stills and image sequences (drawn once, or not
    worth a probe per image)."""
    facts = facts or MediaFacts()
    paths = {
        clip.source.path
        for track in timeline.video_tracks()
        for clip in track.clips
        if isinstance(clip.source, FileSource)
        and clip.source.sequence is None
        and not is_still(clip)
    }
    found: dict[str, tuple[int, int]] = {}
    for path in sorted(paths):
        size = facts.of(path)[1]
        if size is not None:
            found[path] = size
    return found


def uncached_chunks(
    timeline: Timeline,
    store: JobStore,
    settings: Settings,
    slots: int,
    chunk_frames: int | None,
    storage_url: str,
) -> list[Chunk]:
    """The chunks of the plan the segment cache does not hold (as orchestrator.api_cache)."""
    from orchestrator.api_cache import cached_chunks, open_cache
    from orchestrator.planning import (
        job_fingerprint,
        keyed_plan,
        known_hardware_encoders,
        media_ids,
    )
    from workers.fingerprint import render_fingerprint  # the codec stack: only here

    heartbeats = store.heartbeats()
    fingerprint = job_fingerprint(heartbeats, render_fingerprint())
    media = media_ids({}, timeline=timeline, client=store.redis)
    encoders = known_hardware_encoders(heartbeats, fingerprint)
    keyed = keyed_plan(timeline, slots, chunk_frames, media, fingerprint, encoders)
    render, _ = cached_chunks(keyed, open_cache(storage_url, store.redis, settings))
    return render


# -- options ----------------------------------------------------------------------------------

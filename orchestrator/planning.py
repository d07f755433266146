"""Planning a job: its chunks and its estimate, with one set of arguments for the client's
estimate and for the orchestrator's plan_job task, so the quoted chunk count is the real one;
and what the segment cache looks chunks up by: each chunk's content key, made from the content
ids of the media it reads and the render fingerprint of the cluster.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Collection, Mapping
from typing import Any

import redis

from chunking.complexity import complexity
from chunking.content_key import as_encoded, chunk_key, video_cacheable
from chunking.plan import Chunk, plan_chunks
from chunking.timeline.audio_export import audio_only
from chunking.timeline.model import FileSource, Timeline
from chunking.timeline.studio import load_project
from orchestrator import keys
from orchestrator.costing import NODE_CLASS, Estimate, estimate
from orchestrator.node_class import class_throughput
from orchestrator.scheduling import choose_renderer, group_hardware_encoders, renderer_groups
from workers.encoder import HARDWARE, hardware_encoders
from workers.fingerprint import render_fingerprint
from workers.job_spec import JobSpec
from workers.media_ids import source_id
from workers.probe_keyframes import min_chunk_frames


def plan_job_chunks(
    timeline: Timeline, slots: int, chunk_frames: int | None, max_frames: int | None = None
) -> list[Chunk]:
    """The chunks a job of this timeline is split into on a cluster with `slots` worker slots.

    Without an explicit `chunk_frames`, a chunk lasts at least a second and two source keyframe
    intervals (probed from the media), so the pre-roll each chunk decodes stays small, and at
    most `max_frames` (spot_chunks.job_chunking). An audio-only export has none: its one part
    is the audio task, whose mix the merge writes as the output.
    """
    if audio_only(timeline.export.container):
        return []
    return plan_chunks(
        timeline,
        workers=slots,
        chunk_frames=chunk_frames,
        min_frames=None if chunk_frames else min_chunk_frames(timeline),
        max_frames=None if chunk_frames else max_frames,
    )


def quote(
    timeline: Timeline,
    client: redis.Redis,
    *,
    slots: int,
    chunk_frames: int | None,
    hourly_rate: float,
    max_frames: int | None = None,
) -> Estimate:
    """Render time and cost of a job on this cluster, from the throughput its workers measured
    (their finished chunks, else their node benchmark, else the prior), with its audio task."""
    from orchestrator.estimate_inputs import (  # probe media: only here
        MediaFacts,
        audio_work,
        source_sizes,
    )

    facts = MediaFacts()
    chunks = plan_job_chunks(timeline, slots, chunk_frames, max_frames)
    # Priced as the estimate prices it (decoding at each file's own size): this is the
    # complexity the job record keeps and the cluster learns its rate against.
    units = complexity(timeline, sources=source_sizes(timeline, facts))
    measured = class_throughput(client, NODE_CLASS)
    return estimate(
        timeline.frames if chunks else 0,  # an audio-only job renders no frame
        units,
        measured.throughput(),
        workers=slots,
        chunk_count=len(chunks),
        hourly_rate=hourly_rate,
        basis=measured.source,
        audio_units=audio_work(timeline, facts),
    )


def keyed_plan(
    timeline: Timeline,
    slots: int,
    chunk_frames: int | None,
    media: Mapping[str, str],
    fingerprint: str,
    hardware_encoders: Collection[str] | None = None,
    max_frames: int | None = None,
) -> list[tuple[Chunk, str]]:
    """The job's chunks, each with its content key ("" when a medium it shows has no content
    id, or when a hardware encoder may make it: its bytes are then not a function of the key,
    so it is rendered and never cached). ``hardware_encoders`` are those the nodes of
    ``fingerprint`` report (None: unknown): where none of them is for the job's codec, a
    project asking for hardware encoding is encoded in software, and keyed and cached as one
    that does not ask (content_key.as_encoded)."""
    keyed = []
    export = timeline.export
    software = hardware_encoders is not None and not (
        set(HARDWARE.get(export.codec, ())) & set(hardware_encoders)
    )
    hardware = not video_cacheable(export) and not software
    keyed_as = as_encoded(timeline, software)
    for chunk in plan_job_chunks(timeline, slots, chunk_frames, max_frames):
        if hardware:
            keyed.append((chunk, ""))
            continue
        try:
            key = chunk_key(keyed_as, chunk.start, chunk.end, media, fingerprint)
        except KeyError:
            key = ""
        keyed.append((chunk, key))
    return keyed


def known_hardware_encoders(
    heartbeats: Mapping[str, Mapping[str, Any]], fingerprint: str
) -> set[str] | None:
    """The hardware encoders that open on the nodes of ``fingerprint``: as its live nodes
    report, else this process's own when it has that fingerprint (the fingerprint covers
    them); None when unknown."""
    found = group_hardware_encoders(heartbeats, fingerprint)
    if found is None and fingerprint == render_fingerprint():
        found = set(hardware_encoders())
    return found


def job_fingerprint(
    heartbeats: Mapping[str, Mapping[str, Any]], own: str, gpu: bool = False
) -> str:
    """The render fingerprint a job's content keys are made with: that of the live render
    group of its kind (``gpu``: exported with hardware acceleration) with the most slots (the
    one dispatch pins a new job to), else ``own``."""
    return choose_renderer("", "", renderer_groups(heartbeats, gpu)) or own


def media_ids(
    source: JobSpec | Mapping[str, Any],
    base_dir: str | None = None,
    *,
    timeline: Timeline | None = None,
    client: redis.Redis | None = None,
) -> dict[str, str]:
    """Content ids ("sha256:<hex>") of the media a job reads, by FileSource.path as its timeline
    holds it: an asset's hash when assets were synced (its name in the asset cache) or when the
    path is an asset reference not fetched here, else the sha256 of the file, remembered by
    (path, size, mtime, inode, change time) here and in Redis (``client``).

    ``source`` is the job's document (a JobSpec, or a project document with ``base_dir``);
    ``timeline`` is its loaded timeline when the caller has it. A file that cannot be read
    gets no id: chunks that show it are rendered and never cached. Only a job's planning (a
    JobSpec: the orchestrator's plan_job, whose Redis user may write the memo) remembers what
    it hashed; an estimate (a client's, whose user may only read it) does not try.
    """
    if timeline is None:
        if isinstance(source, JobSpec):
            timeline = source.timeline()
        else:
            timeline = load_project(source, base_dir or os.getcwd())
    memo = None if client is None else _RedisMemo(client, writes=isinstance(source, JobSpec))
    ids: dict[str, str] = {}
    for track in timeline.tracks:
        for clip in track.clips:
            media = clip.source
            if not isinstance(media, FileSource) or media.path in ids:
                continue
            images: dict[str, str] = {}
            found = source_id(media, memo, images=images)
            if found is not None:
                ids[media.path] = found
                ids.update(images)  # each image of a sequence: a chunk keys only those it shows
    return ids


class _RedisMemo:
    """Content ids remembered in Redis (``cr:media:*``) for every planner and estimate.

    Only the orchestrator's and the workers' Redis users may write them (deploy/redis): an id
    there names a file by what those processes hashed, never by what a client says. A client
    reads them and does not write (a write refused all the same is not tried again).
    """

    def __init__(self, client: redis.Redis, *, writes: bool) -> None:
        self.client = client
        self.writes = writes

    def recall(self, name: str) -> str | None:
        """The id remembered under ``name``, or None."""
        try:
            raw = self.client.get(keys.media_id(name))
        except redis.RedisError:
            return None
        if isinstance(raw, bytes):
            raw = raw.decode()
        return raw if isinstance(raw, str) and raw.startswith("sha256:") else None

    def remember(self, name: str, content_id: str) -> None:
        """Remember an id this process hashed, where this Redis user may."""
        if not self.writes or self.client in _READ_ONLY:
            return
        try:
            self.client.set(keys.media_id(name), content_id, ex=keys.MEDIA_ID_TTL)
        except redis.exceptions.NoPermissionError:
            _READ_ONLY.add(self.client)  # a client's user: reading is all it may
        except redis.RedisError:
            pass  # only a memo: the next plan hashes again


#: Redis clients whose user may not write the memo.
_READ_ONLY: weakref.WeakSet[redis.Redis] = weakref.WeakSet()

"""Planning a job: its chunks and its estimate, with one set of arguments for the client's
estimate and for the orchestrator's plan_job task, so the quoted chunk count is the real one;
and what the segment cache looks chunks up by: each chunk's content key, made from the content
ids of the media it reads and the render fingerprint of the cluster.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from typing import Any

import redis

from chunking.complexity import complexity
from chunking.content_key import chunk_key
from chunking.plan import Chunk, plan_chunks
from chunking.timeline.model import FileSource, Timeline
from chunking.timeline.studio import load_project
from orchestrator import keys
from orchestrator.costing import NODE_CLASS, Estimate, estimate
from orchestrator.node_class import class_throughput
from orchestrator.scheduling import choose_renderer, renderer_groups
from workers.assets import is_asset_ref, parse_asset_ref, sha256_file
from workers.job_spec import JobSpec, asset_cache_dir
from workers.probe import min_chunk_frames

#: A file of the asset cache: named by its sha256, which was verified when it was fetched.
_ASSET_FILE = re.compile(r"^([0-9a-f]{64})(?:\.[a-z0-9]{1,16})?$")
#: Content ids this process worked out, by (real path, size, mtime_ns, inode, ctime_ns); bounded.
#: The inode and change time matter: a file replaced by one of the same size with its mtime set
#: back (``touch -d``, ``cp -p``, ``rsync -t``) keeps neither, so its old id is never reused.
_KNOWN: dict[tuple[str, int, int, int, int], str] = {}
_KNOWN_LIMIT = 4096


def plan_job_chunks(timeline: Timeline, slots: int, chunk_frames: int | None) -> list[Chunk]:
    """The chunks a job of this timeline is split into on a cluster with `slots` worker slots.

    Without an explicit `chunk_frames`, a chunk lasts at least a second and two source keyframe
    intervals (probed from the media), so the pre-roll each chunk decodes stays small.
    """
    return plan_chunks(
        timeline,
        workers=slots,
        chunk_frames=chunk_frames,
        min_frames=None if chunk_frames else min_chunk_frames(timeline),
    )


def quote(
    timeline: Timeline,
    client: redis.Redis,
    *,
    slots: int,
    chunk_frames: int | None,
    hourly_rate: float,
) -> Estimate:
    """Render time and cost of a job on this cluster, from the throughput its workers measured
    (their finished chunks, else their node benchmark, else the prior)."""
    chunks = plan_job_chunks(timeline, slots, chunk_frames)
    units = complexity(timeline)
    measured = class_throughput(client, NODE_CLASS)
    return estimate(
        timeline.frames,
        units,
        measured.throughput(),
        workers=slots,
        chunk_count=len(chunks),
        hourly_rate=hourly_rate,
        basis=measured.source,
    )


def keyed_plan(
    timeline: Timeline,
    slots: int,
    chunk_frames: int | None,
    media: Mapping[str, str],
    fingerprint: str,
) -> list[tuple[Chunk, str]]:
    """The job's chunks, each with its content key ("" when a medium it shows has no content
    id, or when a hardware encoder may make it: which one opens depends on the node, so its
    bytes are not a function of the key; it is rendered and never cached)."""
    keyed = []
    export = timeline.export
    hardware = export.hardware_acceleration and not export.lossless
    for chunk in plan_job_chunks(timeline, slots, chunk_frames):
        if hardware:
            keyed.append((chunk, ""))
            continue
        try:
            key = chunk_key(timeline, chunk.start, chunk.end, media, fingerprint)
        except KeyError:
            key = ""
        keyed.append((chunk, key))
    return keyed


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
    gets no id: chunks that show it are rendered and never cached.
    """
    if timeline is None:
        if isinstance(source, JobSpec):
            timeline = source.timeline()
        else:
            timeline = load_project(source, base_dir or os.getcwd())
    ids: dict[str, str] = {}
    for track in timeline.tracks:
        for clip in track.clips:
            media = clip.source
            if not isinstance(media, FileSource) or media.path in ids:
                continue
            found = _source_id(media, client)
            if found is not None:
                ids[media.path] = found
    return ids


def _source_id(media: FileSource, client: redis.Redis | None) -> str | None:
    """A file's content id; an image sequence's covers every image's name and content."""
    if media.sequence is None:
        return _file_id(media.path, client)
    folder = os.path.dirname(media.path)
    digest = hashlib.sha256()
    for index in range(media.sequence.count):
        name = media.sequence.name(index)
        found = _file_id(os.path.join(folder, name), client)
        if found is None:
            return None
        digest.update(f"{name}\0{found}\n".encode())
    return f"sequence:{digest.hexdigest()}"


def _file_id(path: str, client: redis.Redis | None) -> str | None:
    """``sha256:<hex>`` of one file, or None when it cannot be read (or changes while read)."""
    try:
        real = os.path.realpath(path)
        st = os.stat(real)
    except OSError:
        # An uploaded asset not fetched here (the HTTP service reads a project with an empty
        # placeholder per reference, gone by now) is known by the hash its reference names:
        # the id its synced copy gets below, and a worker renders nothing else (it checks the
        # hash of what it fetches).
        reference = os.path.basename(path)
        return f"sha256:{parse_asset_ref(reference)[0]}" if is_asset_ref(reference) else None
    name = os.path.basename(real)
    asset = _ASSET_FILE.match(name)
    if asset and os.path.dirname(real) == os.path.realpath(asset_cache_dir()):
        return f"sha256:{asset.group(1)}"
    memo = _stamp(real, st)
    if memo in _KNOWN:
        return _KNOWN[memo]
    shared = keys.media_id(hashlib.sha256(repr(memo).encode()).hexdigest())
    found = _remembered(client, shared)
    if found is None:
        try:
            found = f"sha256:{sha256_file(real)}"
            after = os.stat(real)
        except OSError:
            return None
        if _stamp(real, after) != memo:
            return None  # written while hashed: the hash may be of neither version
        if client is not None:
            try:
                client.set(shared, found, ex=keys.MEDIA_ID_TTL)
            except redis.RedisError:
                pass  # only a memo: the next plan hashes again
    if len(_KNOWN) >= _KNOWN_LIMIT:
        _KNOWN.pop(next(iter(_KNOWN)))
    _KNOWN[memo] = found
    return found


def _stamp(real: str, st: os.stat_result) -> tuple[str, int, int, int, int]:
    """What identifies one version of a file without reading it."""
    return (real, st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def _remembered(client: redis.Redis | None, key: str) -> str | None:
    """A content id Redis remembers, or None."""
    if client is None:
        return None
    try:
        raw = client.get(key)
    except redis.RedisError:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode()
    return raw if isinstance(raw, str) and raw.startswith("sha256:") else None

"""Celery task bodies: render a chunk's segment and render the audio once (the merge that joins
them is workers.merge_task).

Outputs are idempotent: each goes to a deterministic storage key through an atomic put, so a
task that runs twice writes the same object. Deterministic errors (bad media, bad timeline) are
raised at once and never retried; their message names the chunk and its frame range. Job state
lives in the job store, reached through `workers.hooks`; the segment cache's part of the
tasks (keeping outputs, taking reused parts) is in `workers.cache_use`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import tempfile
import time
from typing import Any

from celery import Task, shared_task

from common.errors import RenderCancelled, RenderError
from common.names import TASK_RENDER_AUDIO, TASK_RENDER_CHUNK
from common.scratch import scratch_prefix, sweep_scratch
from workers import hooks
from workers.assets import sha256_file
from workers.audio import audio_encoder_for, mix_timeline, write_audio_file
from workers.cache_use import audio_claim, keep, segment_claim
from workers.chunk_limits import ChunkSpinning, flush_spinning, spinning
from workers.fingerprint import render_fingerprint
from workers.job_policy import check_identity
from workers.job_spec import JobSpec
from workers.liveness import FrameClock, alive_while_busy, expected_frame_seconds, frame_sources
from workers.media_stamps import check_stamps
from workers.render import has_audio
from workers.retry import MAX_TRANSIENT_RETRIES, backoff
from workers.sandbox import render_segment
from workers.task_support import Stopped, node_trouble, renewing, scratch_in_trouble

log = logging.getLogger(__name__)

#: Seconds between cancel-flag checks and progress reports of one chunk.
POLL_INTERVAL = 0.25


@shared_task(bind=True, name=TASK_RENDER_CHUNK, Request="workers.chunk_request:ChunkRequest")
def render_chunk(self: Task, job_id: str, index: int) -> dict[str, Any] | None:
    """Render one chunk of a job into its segment in storage.

    Deterministic errors fail the job at once, and so does a chunk that outgrows its render
    process's memory, CPU or file limits (``workers.sandbox``); transient ones and a full or
    failing disk retry with backoff; anything unexpected (a crash, a bug) hands the chunk to
    another worker.
    """
    service = hooks.current()
    node = str(self.request.hostname or node_name())
    if not service.chunk_started(job_id, index, self.request.id, node):
        return None  # cancelled, finished, done by another copy, or this node is blocklisted
    try:
        spec = JobSpec.from_dict(service.job_spec(job_id))
        start, end = spec.chunks[index]
    except (RenderError, TypeError, ValueError, IndexError) as exc:
        # A document that is not this job's or not a document at all: fail the job, no retry.
        service.chunk_failed(job_id, index, RenderError(f"chunk {index}: {exc}"))
        return None
    try:
        result = _render_segment(self, service, spec, index, start, end, node)
    except Stopped as stop:
        if stop.reason == "evicted":
            service.chunk_released(job_id, index, node)
        elif stop.reason == "gone":
            forget_job(spec)
        return None
    except RenderError as exc:
        error = RenderError(f"chunk {index} (frames {start}-{end - 1}): {exc}")
        # A full or failing disk (storage's, or this node's scratch) may have room again
        # soon, or another node has some: as for the audio and the merge, a moment's full
        # disk failed the whole job at once.
        # This node's own scratch disk full: another node takes the chunk now, rather than
        # this idle one taking it back after every backoff.
        own = node_trouble(exc) and scratch_in_trouble()
        if own and service.chunk_node_trouble(job_id, index, node, error):
            log.warning("job %s: %s; handed to another node", job_id, error)
            return None
        if (exc.transient or node_trouble(exc)) and self.request.retries < MAX_TRANSIENT_RETRIES:
            delay = backoff(self.request.retries + 1)
            service.chunk_retrying(job_id, index, error, delay)
            raise self.retry(countdown=delay, max_retries=MAX_TRANSIENT_RETRIES) from None
        service.chunk_failed(job_id, index, error)
        raise error from None
    except Exception as exc:  # noqa: BLE001 - unexpected: let another worker try
        service.chunk_crashed(job_id, index, node, f"{type(exc).__name__}: {exc}")
        raise
    service.chunk_finished(job_id, index, result)
    return result


#: Chunk scratch folders (``common.scratch``): the next chunk on this machine removes those a
#: killed pool process left (a request and a partial segment).
CHUNK_SCRATCH = "chunk"
#: The same for the audio mix (workers.merge_task has the merge's).
AUDIO_SCRATCH = "audio"


def _render_segment(
    task: Task, service: hooks.Hooks, spec: JobSpec, index: int, start: int, end: int, node: str
) -> dict[str, Any]:
    storage = spec.storage()
    key = spec.segment_key(index)
    began = time.perf_counter()
    result: dict[str, Any] = {"index": index, "start": start, "end": end, "key": key, "node": node}
    if storage.exists(key):  # an earlier attempt finished it: the object is complete
        # No "renderer": which node made it is unknown, and the merge lets it pass.
        return {**result, "seconds": 0.0, "encoder": None, "reused": True, "notes": []}
    reason: list[str | None] = [None]
    last = [0.0]
    spun: list[ChunkSpinning] = []  # why the chunk stopped itself: no new frame for too long

    def poll() -> bool:
        now = time.monotonic()
        if now - last[0] >= POLL_INTERVAL:
            last[0] = now
            reason[0] = service.should_stop(spec.id, index, node)
        waited = clock.overdue()
        if waited is not None and not spun:
            if clock.done >= end - start:
                # The encoder's flush, timed as a frame is: untimed, a flush that looped kept
                # the chunk "alive" until the task's time limits (hours).
                spun.append(flush_spinning(end - 1, waited, clock.limit()))
            else:
                frame = start + clock.done
                sources = frame_sources(spec.timeline(), frame)
                spun.append(spinning(frame, sources, waited, clock.limit()))
        return reason[0] is not None or bool(spun)

    frames = [0]  # done so far: what the alive timer reports again

    def progress(done: int, total: int) -> None:
        frames[0] = done
        clock.frame(done)
        service.chunk_progress(spec.id, index, done, total)

    def alive() -> None:  # a slow frame's render process still at work (workers.liveness)
        service.chunk_progress(spec.id, index, frames[0], end - start)

    # Fetching a large source asset and hashing it report no frames: still alive, not stalled
    # (a stall now counts against the node, and two chunks fetching one big file failed a job).
    with _reporting(service, spec.id, index, 0, end - start):
        check_stamps(spec.media_stamps, spec.timeline())  # edited since: fail, not mix
        claim = segment_claim(spec, index, start, end)  # its cache key, from what it reads
    threads = task.app.conf.get("cloudrender_encoder_threads")
    sweep_scratch(CHUNK_SCRATCH)
    # Timed from the render's start: a long fetch above is no frame's time.
    clock = FrameClock(expected_frame_seconds(spec.timeline(), start, end))
    with (
        tempfile.TemporaryDirectory(prefix=scratch_prefix(CHUNK_SCRATCH)) as tmp,
        alive_while_busy(alive),
    ):
        path = os.path.join(tmp, f"{index:06d}.mkv")
        try:
            # In a child process with resource limits, under bubblewrap where it runs.
            summary = render_segment(
                spec.timeline(),
                path,
                start=start,
                end=end,
                progress=progress,
                cancelled=poll,
                threads=threads,
                time_limit=task.app.conf.get("task_time_limit"),
                job=spec.id,  # its job's warm render process forks it (workers.zygote)
            ).summary
        except RenderCancelled:
            if spun and reason[0] is None:
                raise spun[0] from None  # a crash: another node tries, up to the node limit
            raise Stopped(reason[0] or "cancelled") from None
        last[0] = 0.0
        if poll():
            raise Stopped(reason[0] or "cancelled")
        # A file replaced while the chunk rendered (a clip later in it opens its file late):
        # fail, rather than store (and cache) frames of the new file as the job's.
        check_stamps(spec.media_stamps, spec.timeline())
        with _reporting(service, spec.id, index, end - start, end - start):  # a long upload
            digest = sha256_file(path)
            storage.put_file(key, path)
            keep(service, storage, spec, claim, path)
    notes = [w for w in summary.warnings if w not in spec.timeline().warnings]
    return {
        **result,
        "seconds": round(time.perf_counter() - began, 3),
        "encoder": summary.encoder,
        "hardware": summary.hardware,
        "compositor": summary.compositor,
        "notes": notes,
        "reused": False,
        # The merge checks the segment it reads is the one stored here (storage can damage it).
        "digest": digest,
        # The merge renders again a chunk made under another fingerprint than its job's.
        "renderer": render_fingerprint(),
    }


@shared_task(bind=True, name=TASK_RENDER_AUDIO)
def render_audio(self: Task, job_id: str) -> dict[str, Any] | None:
    """Mix and encode the whole timeline's audio once; None when the timeline is silent."""
    service = hooks.current()
    result: dict[str, Any] | None = None
    notes: list[str] = []  # what the mix warns of (clipping), for the job's warnings
    try:
        spec = JobSpec.from_dict(service.job_spec(job_id))
        check_identity(spec.id, job_id)
        timeline = spec.timeline()  # vets the job: storage and media (workers.job_policy)
        if service.cancelled(job_id):
            return None  # cancelled, or ended without this copy (sent again meanwhile)
        if has_audio(timeline):
            storage = spec.storage()
            codec = audio_encoder_for(timeline.export)
            began = time.perf_counter()
            sweep_scratch(AUDIO_SCRATCH)
            with tempfile.TemporaryDirectory(prefix=scratch_prefix(AUDIO_SCRATCH)) as tmp:
                path = os.path.join(tmp, "audio.mka")
                check_stamps(spec.media_stamps, timeline)
                claim = audio_claim(spec)  # its cache key, from what it reads
                samples = mix_timeline(timeline, notes)
                check_stamps(spec.media_stamps, timeline)  # and still so after the mix
                bitrate = timeline.export.audio_bitrate
                # The notes travel with the mix: a later job taking it from the cache warns too.
                write_audio_file(path, samples, timeline.sample_rate, "mkv", bitrate, codec, notes)
                if service.cancelled(job_id):
                    return None  # the job ended while this mixed (a paused node resuming late)
                storage.put_file(spec.audio_key, path)
                keep(service, storage, spec, claim, path)
            result = {
                "key": spec.audio_key,
                "codec": codec,
                "seconds": round(time.perf_counter() - began, 3),
                "notes": notes,
            }
    except RenderError as exc:
        error = RenderError(f"audio: {exc}")
        if (exc.transient or node_trouble(exc)) and self.request.retries < MAX_TRANSIENT_RETRIES:
            # This node's disk is full or failing (or the error is passing): another node, or
            # this one later, mixes it; the job is not lost to one bad scratch disk.
            log.warning("job %s: %s; the audio is mixed again", job_id, error)
            delay = backoff(self.request.retries + 1)
            raise self.retry(countdown=delay, max_retries=MAX_TRANSIENT_RETRIES) from None
        service.job_failed(job_id, error)
        raise error from None
    service.audio_finished(job_id, result)
    return result


#: Seconds between a chunk's "still working" reports while it renders no frames (fetching
#: assets before the render, uploading after it): well inside health.STALLED_SECONDS.
ALIVE_SECONDS = 15.0


def _reporting(
    service: hooks.Hooks, job_id: str, index: int, done: int, total: int
) -> contextlib.AbstractContextManager[None]:
    """Report the chunk's progress (`done` of `total`) every ALIVE_SECONDS while the block runs."""
    return renewing(lambda: service.chunk_progress(job_id, index, done, total), ALIVE_SECONDS)


def forget_job(spec: JobSpec) -> None:
    """Remove what a job whose record Redis lost has in storage: nothing will merge, cancel or
    expire it, and its segments stayed there for ever."""
    try:
        removed = spec.storage().delete_prefix(spec.prefix)
    except (RenderError, OSError) as exc:
        log.warning("job %s is gone from Redis; its objects stay in storage: %s", spec.id, exc)
        return
    log.warning("job %s is gone from Redis (restarted without persistence?): removed its "
                "%d objects from storage", spec.id, removed)  # fmt: skip


def node_name() -> str:
    """This worker process, as job records name it."""
    return f"{socket.gethostname()}:{os.getpid()}"

"""Celery task bodies: render a chunk's segment, render the audio once, merge the segments.

Outputs are idempotent: each goes to a deterministic storage key through an atomic put, so a
task that runs twice writes the same object. Deterministic errors (bad media, bad timeline) are
raised at once and never retried; their message names the chunk and its frame range. Job state
lives in the job store, reached through `workers.hooks`; the segment cache's part of the
tasks (keeping outputs, taking reused parts) is in `workers.cache_use`.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import redis
from celery import Task, shared_task

from chunking.timeline.audio_export import audio_only
from common.errors import RenderCancelled, RenderError
from common.names import TASK_MERGE, TASK_RENDER_AUDIO, TASK_RENDER_CHUNK
from common.scratch import scratch_prefix, sweep_scratch
from providers.storage.encrypted import EncryptedStorage
from workers import hooks
from workers.assets import sha256_file
from workers.audio import audio_encoder_for, audio_file_notes, mix_timeline, write_audio_file
from workers.cache_use import audio_claim, keep, merge_parts, segment_claim
from workers.delivery import check_outputs, deliver, put_output, remove_output
from workers.fingerprint import render_fingerprint
from workers.job_policy import JobRefused, check_identity
from workers.job_spec import JobSpec
from workers.liveness import alive_while_busy
from workers.media_stamps import check_stamps
from workers.render import has_audio
from workers.retry import MAX_TRANSIENT_RETRIES, backoff
from workers.sandbox import render_segment
from workers.stitch import stitch

log = logging.getLogger(__name__)

#: Seconds between cancel-flag checks and progress reports of one chunk.
POLL_INTERVAL = 0.25
#: Seconds between a running merge's lease renewals (orchestrator.health.MERGE_LEASE: 30 s).
MERGE_HEARTBEAT = 5.0


@shared_task(bind=True, name=TASK_RENDER_CHUNK, Request="workers.chunk_request:ChunkRequest")
def render_chunk(self: Task, job_id: str, index: int) -> dict[str, Any] | None:
    """Render one chunk of a job into its segment in storage.

    Deterministic errors fail the job at once, and so does a chunk that outgrows its render
    process's memory, CPU or file limits (``workers.sandbox``); transient ones retry with
    backoff; anything unexpected (a crash, a bug) hands the chunk to another worker.
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
        if exc.transient and self.request.retries < MAX_TRANSIENT_RETRIES:
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
#: The same for the audio mix and the merge (a killed merge left every segment and the partial
#: video on the node).
AUDIO_SCRATCH = "audio"
MERGE_SCRATCH = "merge"


class Stopped(RenderCancelled):
    """A running chunk stopped on purpose: its job ended, another copy won, or eviction."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"chunk stopped: {reason}")
        self.reason = reason


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

    def poll() -> bool:
        now = time.monotonic()
        if now - last[0] >= POLL_INTERVAL:
            last[0] = now
            reason[0] = service.should_stop(spec.id, index, node)
        return reason[0] is not None

    frames = [0]  # done so far: what the alive timer reports again

    def progress(done: int, total: int) -> None:
        frames[0] = done
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
        if (exc.transient or _node_trouble(exc)) and self.request.retries < MAX_TRANSIENT_RETRIES:
            # This node's disk is full or failing (or the error is passing): another node, or
            # this one later, mixes it; the job is not lost to one bad scratch disk.
            log.warning("job %s: %s; the audio is mixed again", job_id, error)
            delay = backoff(self.request.retries + 1)
            raise self.retry(countdown=delay, max_retries=MAX_TRANSIENT_RETRIES) from None
        service.job_failed(job_id, error)
        raise error from None
    service.audio_finished(job_id, result)
    return result


#: Errors of a node's own disk: another node may well succeed.
_NODE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS})


def _node_trouble(exc: BaseException) -> bool:
    """Whether an error comes from this node's disk (full, read-only, failing)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in _NODE_ERRNOS:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@shared_task(bind=True, name=TASK_MERGE)
def merge(
    self: Task, job_id: str, chunks: list[dict[str, Any]], audio: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Check and concatenate every segment without re-encoding, mux the audio, store output."""
    service = hooks.current()
    if not service.merge_started(job_id):
        return None
    try:
        spec = JobSpec.from_dict(service.job_spec(job_id))
        check_identity(spec.id, job_id)
        if audio is not None and not isinstance(audio, dict):
            raise JobRefused(f"merge of job {job_id}: its audio result is not an object")
        # Before any work: a job the worker will not deliver fails now, not after stitching.
        check_outputs(spec.id, spec.destination, spec.output_url, spec.storage_url)
        with _renewing(lambda: service.merge_alive(job_id), MERGE_HEARTBEAT):
            summary = _merge(spec, chunks, audio, service)
    except Stopped:
        return None  # cancelled while it merged: nothing delivered
    except (RenderError, OSError) as exc:
        error = exc if isinstance(exc, RenderError) else _scratch_error(job_id, exc)
        if _cancelled(service, job_id):
            # Cancelled under it (its parts removed): the job's end, not a failure to report.
            log.info("merge of job %s stopped: the job was cancelled (%s)", job_id, error)
            return None
        if error.transient or _node_trouble(exc):
            # Storage away for a while, or this node's scratch disk full: merged again later
            # or on another node, as many times in all as MAX_MERGE_ATTEMPTS allows (a merge
            # resent for ever left the job merging with no error).
            attempts = service.merge_retry(job_id)
            if attempts < MAX_MERGE_ATTEMPTS:
                log.warning("merge of job %s: %s; it is merged again", job_id, error)
                delay = backoff(min(self.request.retries + 1, MAX_TRANSIENT_RETRIES))
                raise self.retry(countdown=delay, max_retries=None) from None
            error = RenderError(f"{error} (the merge failed {attempts} times)")
        service.job_failed(job_id, error)
        raise error from None
    if summary is None:
        return None  # cached parts were gone: they render again, and a new merge follows
    if not _finish(service, job_id, summary):
        # Cancelled while the video was stored and delivered: a cancelled job delivers nothing
        # (its cancel may also have swept the job's objects before this one was stored).
        _take_back(spec, summary)
        return None
    # Only once the job is recorded complete: a merge sent again (its message restored while
    # Redis was away) must still find every part, not fail the job for a missing segment.
    if not spec.keep_segments:
        _remove_parts(spec.storage(), spec, _chunk_indexes(spec, chunks), bool(audio))
    return summary


#: Merges of one job that may start before a merge failing on storage or a node's disk fails
#: the job (with the backoff between them: several minutes).
MAX_MERGE_ATTEMPTS = 8


def _scratch_error(job_id: str, exc: OSError) -> RenderError:
    """A merge's own file error (its scratch disk) as one line naming the job."""
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    return RenderError(f"merge of job {job_id}: {exc.strerror or exc}{where}")


#: Seconds a finished merge keeps trying to record the job's completion while Redis is away.
FINISH_PATIENCE = 180.0


def _finish(service: hooks.Hooks, job_id: str, summary: dict[str, Any]) -> bool:
    """Record the job complete, waiting out a Redis restart: the video is stitched and stored,
    and giving up here would leave the job merging with its parts about to go. False when the
    job was cancelled (or failed) meanwhile."""
    deadline = time.monotonic() + FINISH_PATIENCE
    attempt = 0
    while True:
        try:
            return service.merge_finished(job_id, summary) is not False
        except (redis.RedisError, OSError) as exc:
            attempt += 1
            if time.monotonic() > deadline:
                raise
            log.warning("job %s: completion not recorded yet (%s); retrying", job_id, exc)
            time.sleep(min(backoff(attempt), 10.0))


def _take_back(spec: JobSpec, summary: dict[str, Any]) -> None:
    """Remove what a merge stored and delivered for a job that ended otherwise meanwhile: the
    video at the job's destination (only if it is this video: it was created as new) or output
    URL, and every object of the job."""
    digest = str(summary.get("sha256") or "")
    try:
        for target in (spec.destination, spec.output_url):
            if target and digest:
                remove_output(target, digest, seal=spec.sealed)
        spec.storage().delete_prefix(spec.prefix)
    except (RenderError, OSError) as exc:
        log.warning("job %s ended while merging; its video could not be taken back: %s",
                    spec.id, exc)  # fmt: skip


def _remove_parts(storage: Any, spec: JobSpec, indexes: list[int], audio: bool) -> None:
    """Remove a completed job's segments and audio (the video holds them now)."""
    for i in indexes:
        storage.delete(spec.segment_key(i))
    if audio:
        storage.delete(spec.audio_key)


@contextlib.contextmanager
def _renewing(renew: Callable[[], None], interval: float) -> Iterator[None]:
    """Call ``renew`` every ``interval`` seconds in a thread while the block runs."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            try:
                renew()
            except Exception:  # noqa: BLE001 - Redis away: the next renewal may get through
                pass

    thread = threading.Thread(target=loop, name="lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


#: Seconds between a chunk's "still working" reports while it renders no frames (fetching
#: assets before the render, uploading after it): well inside health.STALLED_SECONDS.
ALIVE_SECONDS = 15.0


def _reporting(
    service: hooks.Hooks, job_id: str, index: int, done: int, total: int
) -> contextlib.AbstractContextManager[None]:
    """Report the chunk's progress (`done` of `total`) every ALIVE_SECONDS while the block runs."""
    return _renewing(lambda: service.chunk_progress(job_id, index, done, total), ALIVE_SECONDS)


def _merge(
    spec: JobSpec, chunks: list[dict[str, Any]], audio: dict[str, Any] | None, service: hooks.Hooks
) -> dict[str, Any] | None:
    timeline = spec.timeline()
    storage = spec.storage()
    began = time.perf_counter()
    # Which objects to read (and delete) comes from the job's own document, never from the
    # message: a merge reads the segment cache entries its document names (digests) and reads
    # and removes only what lies under its own prefix.
    indexes = _chunk_indexes(spec, chunks)
    sweep_scratch(MERGE_SCRATCH)
    with tempfile.TemporaryDirectory(prefix=scratch_prefix(MERGE_SCRATCH)) as tmp:
        parts = merge_parts(service, spec, storage, timeline.fps, indexes, bool(audio), tmp)
        if parts is None:
            return None
        # A mix the segment cache gave (no audio task ran) warns only through its own notes.
        notes = audio_file_notes(parts.audio) if parts.audio else []
        out = os.path.join(tmp, f"output.{spec.output_ext}")
        report = stitch(parts.segments, timeline.fps, out, timeline.export.container,
                        parts.audio, parts.infos)  # fmt: skip
        if _cancelled(service, spec.id):
            # Cancelled while it stitched: a cancelled job delivers nothing (its output would
            # also block a new render to the same name).
            raise Stopped("cancelled")
        storage.put_file(spec.output_key, out)
        undelivered = _delivered(spec, out, tmp)
        digest = sha256_file(out)
    return {
        "output_key": spec.output_key,
        "frames": report.frames,
        "bytes": report.bytes,
        "duration": report.duration,
        "drift": report.drift,
        "audio": audio.get("codec") if audio else None,
        "merge_seconds": round(time.perf_counter() - began, 3),
        # What this worker's key made of the output, whatever the job asked (job_spec.sealed).
        "encrypted": isinstance(storage, EncryptedStorage),
        "sha256": digest,  # of the video as delivered
        **({"delivery_error": undelivered} if undelivered else {}),
        **({"notes": notes} if notes else {}),
    }


def _delivered(spec: JobSpec, out: str, tmp: str) -> str | None:
    """Deliver the stored video where the job asked; what went wrong, or None.

    The video is already in the job's storage: a destination that fails now (its disk full,
    its directory gone, a file of someone else's at the name) must not throw the render away,
    so the job completes with this message and the video stays downloadable.
    """
    target = spec.destination or spec.output_url
    try:
        if spec.destination:
            deliver(out, spec.destination)
        if spec.output_url:
            target = spec.output_url
            _put_output(spec, spec.output_url, out, tmp)
    except RenderError as exc:
        log.warning("job %s: video not delivered to %s: %s", spec.id, target, exc)
        return f"the video was not delivered to {target}: {exc}"
    return None


def _cancelled(service: hooks.Hooks, job_id: str) -> bool:
    """Whether the job was cancelled (failed, or lost with Redis's data); False while Redis
    cannot say."""
    return service.should_stop(job_id, -1, "") in ("cancelled", "gone")


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


def _chunk_indexes(spec: JobSpec, chunks: list[dict[str, Any]]) -> list[int]:
    """The chunk indexes a merge message lists, in order, if they are exactly the job's."""
    try:
        indexes = sorted(int(c["index"]) for c in chunks)
    except (KeyError, TypeError, ValueError):
        indexes = []
    # An audio-only export (-o mix.wav) has no chunk: its merge writes the audio task's mix.
    none_needed = audio_only(spec.output_ext)
    if (not spec.chunks and not none_needed) or indexes != list(range(len(spec.chunks))):
        raise JobRefused(
            f"merge of job {spec.id}: the chunks it was sent are not the job's "
            f"{len(spec.chunks)} chunks"
        )
    return indexes


def _put_output(spec: JobSpec, url: str, path: str, tmp: str) -> None:
    """Put the finished video at the user's output URL, encrypted if the job's objects are."""
    put_output(url, path, tmp, seal=spec.sealed)


def node_name() -> str:
    """This worker process, as job records name it."""
    return f"{socket.gethostname()}:{os.getpid()}"

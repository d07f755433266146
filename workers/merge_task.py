"""The merge task: check and concatenate a job's segments without re-encoding, mux its audio,
store the video and deliver it (``workers.tasks`` renders the parts it joins)."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from typing import Any

import redis
from celery import Task, shared_task

from chunking.timeline.audio_export import audio_only
from common.errors import RenderError
from common.names import TASK_MERGE
from common.scratch import scratch_prefix, sweep_scratch
from providers.storage.encrypted import EncryptedStorage
from providers.storage.local import remove_temps
from workers import hooks
from workers.assets import sha256_file
from workers.audio import audio_file_notes
from workers.cache_use import merge_parts
from workers.delivery import check_outputs, deliver, put_output, remove_output
from workers.job_policy import JobRefused, check_identity
from workers.job_spec import JobSpec
from workers.retry import MAX_TRANSIENT_RETRIES, backoff
from workers.stitch import stitch
from workers.task_support import Stopped, cancelled, node_trouble, renewing

log = logging.getLogger(__name__)

#: Seconds between a running merge's lease renewals (orchestrator.health.MERGE_LEASE: 30 s).
MERGE_HEARTBEAT = 5.0
#: Merge scratch folders (``common.scratch``): the next merge on this machine removes those a
#: killed merge left (every segment and the partial video).
MERGE_SCRATCH = "merge"


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
        with renewing(lambda: service.merge_alive(job_id), MERGE_HEARTBEAT):
            summary = _merge(spec, chunks, audio, service)
    except Stopped:
        return None  # cancelled while it merged: nothing delivered
    except (RenderError, OSError) as exc:
        error = exc if isinstance(exc, RenderError) else _scratch_error(job_id, exc)
        if cancelled(service, job_id):
            # Cancelled under it (its parts removed): the job's end, not a failure to report.
            log.info("merge of job %s stopped: the job was cancelled (%s)", job_id, error)
            return None
        if error.transient or node_trouble(exc):
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
    _remove_temps(spec)
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


def _remove_temps(spec: JobSpec) -> None:
    """Remove what uploads killed mid-write left in a completed job's prefix (a chunk's
    segment, an earlier merge's video): no write into it is wanted any more, and the storage's
    own clean-up leaves those younger than an hour (providers.storage.local.TMP_STALE), which
    then stayed for ever beside the video."""
    try:
        remove_temps(spec.storage(), spec.prefix)
    except (RenderError, OSError) as exc:
        log.warning("job %s: temp files of killed uploads stay: %s", spec.id, exc)


def _remove_parts(storage: Any, spec: JobSpec, indexes: list[int], audio: bool) -> None:
    """Remove a completed job's segments and audio (the video holds them now)."""
    for i in indexes:
        storage.delete(spec.segment_key(i))
    if audio:
        storage.delete(spec.audio_key)


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
        try:
            # A mix the segment cache gave (no audio task ran) warns only through its own notes.
            notes = audio_file_notes(parts.audio) if parts.audio else []
            out = os.path.join(tmp, f"output.{spec.output_ext}")
            report = stitch(parts.segments, timeline.fps, out, timeline.export.container,
                            parts.audio, parts.infos)  # fmt: skip
        finally:
            parts.release()
        if cancelled(service, spec.id):
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

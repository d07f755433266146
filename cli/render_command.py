"""`cloudrender render` on workers: submit one job, follow it, and return its summary.

Without a broker URL, a private Redis and local worker processes are started for the render and
stopped afterwards, also on Ctrl-C (which cancels the job first). On a cluster, a render needs a
node that plans jobs (one consuming the orchestrator queue, seen by its heartbeat): without one
it stops within seconds and says what to start, instead of waiting on a job nothing plans.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chunking.timeline.project import Project
from cli import WORKER_APP
from cli.job_follow import Progress, await_orchestrator, follow
from cli.output_url import check_output_url, is_output_url
from cli.private_runs import (
    dropping_run_job,
    lasting_storage,
    record_run_job,
    sweep_dead_runs,
)
from cli.render_prewarm import Warmed, prewarm
from common.errors import ClusterUnreachable, RenderError
from common.scratch import scratch_prefix
from common.settings import Settings
from common.urls import redact_url
from orchestrator import keys
from orchestrator.assets import resolve_path
from orchestrator.embedded import EmbeddedCluster
from orchestrator.job_record import JobState
from orchestrator.local_workers import threads_per_slot
from orchestrator.processes import adopting_orphans
from providers.storage import ObjectNotFound, StorageError, open_storage, split_object_url
from workers.assets import copy_document, is_asset_ref, media_fields
from workers.atomic import check_not_media, check_writable, write_target
from workers.job_policy import policy_env
from workers.job_spec import JobSpec

if TYPE_CHECKING:
    # The client's API stack (redis-py, the Celery app, the planner: 0.3-0.6 s on a 2-core
    # machine): imported while a private cluster's workers start (``cli.render_prewarm``), not
    # before they are spawned.
    from orchestrator.api import CloudRenderingAPI

#: How long a private cluster's idle workers may take to stop after a finished render before
#: they are killed: not at all. Their job is over and its video fetched, and their Redis goes
#: next, so a warm Celery shutdown (its pool, beat's lock, the heartbeat's key, about a second)
#: has nothing to keep; a 0.2 s grace ran out every time and cost the user 0.2-0.4 s.
QUICK_STOP_SECONDS = 0.0


def render_distributed(
    project: Project,
    output: str,
    *,
    workers: int,
    chunk_frames: int | None = None,
    broker_url: str | None = None,
    priority: str = "normal",
    progress: Progress | None = None,
    keep_segments: bool = False,
    use_cache: bool = True,
    project_name: str = "",
    user: str = "",
    announce: Callable[[str, str | None], None] | None = None,
    notify: Callable[[str], None] | None = None,
    vet: Callable[[Project], Project] | None = None,
) -> dict[str, Any]:
    """Render as one job on the cluster, deliver it to `output`, and return a summary.

    `output` is a local path (this client writes it, replacing a file there) or a storage URL
    (the job's merge puts the video there, never over an existing object). `announce(url,
    url_file)` learns the broker's URL, and for a private cluster the file (readable by this
    user alone) that holds it with its password; `notify(note)` hears what the user should
    know while waiting (no render worker is running, say). `vet(project)` returns the project
    to render, its media checked (it may refuse it): for a private cluster it runs while the
    workers start, which are spawned before any media file is opened.
    """
    url_output = is_output_url(output)
    embedded = (broker_url or Settings.from_env().broker_url) is None
    if vet is not None and not embedded:
        project = vet(project)
    if embedded:
        project = _software_here(project)
    output_roots: list[str] = []
    if url_output:
        # A file:// URL on a cluster of our own is this machine's disk; elsewhere it is the
        # workers' disk, which the merge checks against their own output roots.
        local = check_output_url(output) if embedded else _checked_url(output)
        if local is not None:
            output_roots.append(os.path.dirname(os.path.realpath(local)))
        target = output
    else:
        target = write_target(os.path.abspath(output))
        # Before rendering: this client writes the file only once the job is done.
        check_writable(target)
        check_not_media(target, project.timeline)
    began = time.perf_counter()
    roots = _media_roots(project)
    warmed: list[Warmed] = []  # what a private cluster's meanwhile made: its client, the project
    meanwhile = functools.partial(
        prewarm, project, chunk_frames, use_cache, vet if embedded else None, warmed.append
    )
    cluster = _cluster(broker_url, workers, roots, output_roots, meanwhile)
    with cluster as (url, storage_url, url_file, lost):
        import redis

        from orchestrator.api import CloudRenderingAPI
        from orchestrator.job_events import EventCursor

        if warmed:
            api, project = warmed[0].api, warmed[0].project
        else:
            api = CloudRenderingAPI(url, storage_url=storage_url)
        if announce is not None:
            announce(url, url_file)
        await_orchestrator(api, lost=lost)
        if notify is not None and not api.render_nodes() and not api.get_pools():
            # With autoscaled pools no worker is expected yet: the autoscaler starts them.
            notify(
                f"no render worker is running on the cluster at {redact_url(url)}; the job "
                "waits until one starts (`cloudrender worker --broker URL`)"
            )
        # This client writes a local `output` itself, from storage: it may replace the user's
        # own file, which a worker never does (workers.delivery).
        job_id = api.submit_job(
            project,
            output=target,
            priority=priority,
            chunk_frames=chunk_frames,
            keep_segments=keep_segments,
            local_delivery=False,
            use_cache=use_cache,
            project_name=project_name,
            user=user,
        )
        if url_file is not None and not keep_segments:
            record_run_job(os.path.dirname(url_file), job_id)
        try:
            events = EventCursor(api.store.redis, job_id)
            record = follow(api, job_id, progress, lost, notify, pause=events.wait)
        except ClusterUnreachable:
            raise  # a cancel would wait on the Redis that stopped answering as long again
        except BaseException:
            if lost() is None:  # with its Redis gone there is no job left to cancel
                with contextlib.suppress(RenderError, redis.RedisError):
                    api.cancel_job(job_id)
            raise
        notes = sorted(api.store.redis.smembers(keys.notes(job_id)))
        spec = JobSpec.from_dict(api.store.spec(job_id))
        undelivered = (record.result or {}).get("delivery_error")
        if record.state is JobState.COMPLETED and undelivered:
            # Rendered but not put at `output`: on a cluster of the user's the video stays in
            # storage for `cloudrender download`; a private one goes with this command.
            if embedded:
                raise RenderError(undelivered)
            raise RenderError(
                f"{undelivered}; the video is kept: cloudrender download {job_id} -o FILE"
            )
        if record.state is JobState.COMPLETED and not url_output and spec.destination is None:
            # Remote workers cannot write to this disk: fetch the video from storage.
            _fetch(api, job_id, target, output, kept=not embedded, cached=use_cache)
        # The video is delivered to `output`; the job's objects in storage are not needed.
        storage = open_storage(storage_url)
        if keep_segments:
            storage.delete(spec.output_key)
        else:
            storage.delete_prefix(spec.prefix)
    if record.state is not JobState.COMPLETED:
        raise RenderError(record.error or f"job {job_id} ended {record.state}")
    seconds = time.perf_counter() - began
    result = record.result or {}
    return {
        "mode": "distributed",
        "job": job_id,
        "output": output,
        "frames": record.frames,
        "seconds": round(seconds, 3),
        "fps": round(record.frames / seconds, 2),
        "workers": workers,
        "chunk_count": record.chunk_count,
        "reused_chunks": record.reused_chunks,
        "encoder": record.encoder,
        # As --direct says it: whether the chunks' encoder is a hardware one.
        "hardware": _hardware(record.encoder),
        "compositor": record.compositor,
        "audio": result.get("audio"),
        "bytes": result.get("bytes"),
        "duration": result.get("duration"),
        "drift": result.get("drift"),
        "merge_seconds": result.get("merge_seconds"),
        "node_seconds": record.node_seconds,
        "cost": record.actual_cost,
        "estimated_cost": record.estimated_cost,
        "chunks": [
            {
                "index": c.index,
                "start": c.start,
                "end": c.end,
                "node": c.node,
                "seconds": c.seconds,
                "attempts": c.attempts,
                "reused": c.reused,
            }
            for c in record.chunks
        ],
        "warnings": list(project.timeline.warnings) + notes,
    }


def _fetch(
    api: CloudRenderingAPI,
    job_id: str,
    target: str,
    output: str,
    *,
    kept: bool = True,
    cached: bool = False,
) -> None:
    """Copy a finished video from storage to ``target``; when this disk cannot take it, say so
    and how to get the video, which stays in storage (not storage's fault, not lost) when
    ``kept`` (a private cluster's job goes with it; its segments stay when ``cached``)."""
    try:
        api.download(job_id, target)
    except ObjectNotFound:
        raise
    except StorageError as exc:
        cause = exc.__cause__
        reason = f"{cause.strerror}" if isinstance(cause, OSError) and cause.strerror else exc
        if not kept:
            again = " (it takes the chunks from the segment cache)" if cached else ""
            raise RenderError(
                f"cannot write {output}: {reason}; nothing was written there and the video "
                f"went with the private cluster: render again once it can be written, or to "
                f"another -o{again}"
            ) from None
        raise RenderError(
            f"cannot write {output}: {reason}; the video is kept: "
            f"cloudrender download {job_id} -o FILE"
        ) from None


def _software_here(project: Project) -> Project:
    """The project as this machine's own workers will encode it: one that asks for hardware
    encoding where no hardware encoder opens (a machine without a GPU, the demo's case) is
    encoded in software, so say so in the job. A job that may use a hardware encoder is
    never cached (its bytes depend on the node); this one's chunks are kept for re-renders."""
    export = project.timeline.export
    if not export.hardware_acceleration or export.lossless:
        return project
    from workers.encoder import HARDWARE, hardware_encoder_works  # the codec stack

    if any(hardware_encoder_works(name) for name in HARDWARE.get(export.codec, ())):
        return project
    return project.with_export({"hardware_acceleration": False})


def _hardware(encoder: str | None) -> bool:
    """Whether an encoder's name is one of the hardware encoders."""
    from workers.encoder import HARDWARE  # the codec stack: only when rendering

    return any(encoder in names for names in HARDWARE.values()) if encoder else False


def _checked_url(url: str) -> str | None:
    split_object_url(url)  # malformed: refused here, not after the render
    return None


def _media_roots(project: Project) -> list[str]:
    """The directories the project's media are in (symlinks resolved), and its own."""
    roots = {os.path.realpath(project.base_dir)}
    for media in media_fields(copy_document(project.document)):
        if isinstance(media.value, str) and not is_asset_ref(media.value):
            real = os.path.realpath(resolve_path(media.value, project.base_dir))
            roots.add(os.path.dirname(real))
    return sorted(roots)


@contextlib.contextmanager
def _cluster(
    broker_url: str | None,
    workers: int,
    media_roots: Sequence[str] = (),
    output_roots: Sequence[str] = (),
    meanwhile: Callable[[str, str], object] | None = None,
) -> Iterator[tuple[str, str, str | None, Callable[[], str | None]]]:
    """The broker URL and storage URL to use: given ones, or a private embedded cluster (then
    also a file holding its URL, password included, readable by this user alone); and what
    of a private cluster died on its own, if anything (``EmbeddedCluster.lost``). A private
    cluster runs ``meanwhile(broker URL, storage URL)`` while its workers start (its Redis
    answers by then).

    The private cluster's workers are confined (``workers.job_policy``) to its storage, the
    project's media directories and `output_roots` (the directory of a ``file://`` output),
    and deliver no local path (this client fetches the video): whoever else reaches its Redis
    during the render cannot make them read or write anything else.
    """
    settings = Settings.from_env()
    url = broker_url or settings.broker_url
    if url is not None:
        if settings.storage_url is None:
            raise RenderError(
                "with --broker, set CLOUDRENDER_STORAGE_URL to storage the "
                "workers share (e.g. file:///shared/cloudrender)"
            )
        yield url, settings.storage_url, None, lambda: None
        return
    # Chunks are the parallelism: share the cores between the worker processes instead of
    # letting every encoder and BLAS call start a thread per core.
    threads = threads_per_slot(os.cpu_count() or 1, workers)
    env = {
        "CLOUDRENDER_ENCODER_THREADS": str(threads),
        "OPENBLAS_NUM_THREADS": str(threads),
        "OMP_NUM_THREADS": str(threads),
    }
    # Lasting storage, so the segment cache of one render serves the next (a fixed title
    # re-renders one chunk); each job's own objects are removed after its render.
    storage_dir = lasting_storage(settings)
    sweep_dead_runs(storage_dir)  # what killed clients left
    with tempfile.TemporaryDirectory(prefix=scratch_prefix("run")) as private:
        storage_url = Path(storage_dir).as_uri()
        env |= policy_env(
            storage_url=storage_url, media_roots=media_roots, output_roots=output_roots
        )
        embedded = EmbeddedCluster(workers=workers, env=env, beat=True, app=WORKER_APP)
        if meanwhile is not None:
            # Its URL (port, password) exists once its Redis started, before its workers.
            embedded.meanwhile = lambda: meanwhile(embedded.broker_url, storage_url)
        with dropping_run_job(private, storage_dir), adopting_orphans(), embedded as cluster:
            url_file = os.path.join(private, "broker-url")
            fd = os.open(url_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(cluster.broker_url + "\n")
            yield cluster.broker_url, storage_url, url_file, cluster.lost
            # Reached only when the render ended without an error: its job is over and its
            # video fetched, so no task of this private cluster is left to finish.
            cluster.stop(grace=QUICK_STOP_SECONDS)

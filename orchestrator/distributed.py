"""Render a timeline in parallel chunks on Celery workers and fetch the stitched result.

One chord per job: a render_chunk task per chunk plus one render_audio task, with merge as the
callback. Without a broker URL, a private Redis and local worker processes are started for the
render and stopped afterwards, also on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from celery import chord, group
from celery.result import AsyncResult

from chunking.errors import RenderError
from chunking.export import export_problems
from chunking.plan import Chunk, plan_chunks
from chunking.timeline import ExportSettings, Timeline
from orchestrator.celery_app import configure
from orchestrator.embedded import EmbeddedCluster
from orchestrator.settings import PRIORITIES, Settings
from providers.storage import open_storage
from workers.job import JobSpec
from workers.probe import min_chunk_frames
from workers.tasks import merge, render_audio, render_chunk

POLL_SECONDS = 0.2


@dataclass
class ChunkProgress:
    """Live state of one chunk."""

    index: int
    frames: int
    done: int = 0
    state: str = "PENDING"


@dataclass
class JobProgress:
    """Live state of a distributed render, handed to the progress callback."""

    frames: int
    chunks: list[ChunkProgress]
    started: float = field(default_factory=time.monotonic)

    @property
    def done(self) -> int:
        """Frames rendered so far."""
        return sum(c.done for c in self.chunks)

    @property
    def finished_chunks(self) -> int:
        """Chunks whose segment is stored."""
        return sum(1 for c in self.chunks if c.state == "SUCCESS")


Progress = Callable[[JobProgress], None]


def render_distributed(
    timeline: Timeline,
    document: dict[str, Any],
    base_dir: str,
    output: str,
    export: ExportSettings,
    *,
    workers: int,
    chunk_frames: int | None = None,
    broker_url: str | None = None,
    priority: str = "normal",
    progress: Progress | None = None,
    keep_segments: bool = False,
) -> dict[str, Any]:
    """Render through the chord and write the result to `output` atomically; return a summary."""
    problems = export_problems(timeline.width, timeline.height, export)
    if problems:
        raise RenderError("; ".join(problems))
    directory = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(directory):
        raise RenderError(f"output directory does not exist: {directory}")
    chunks = plan_chunks(
        timeline,
        workers=workers,
        chunk_frames=chunk_frames,
        min_frames=None if chunk_frames else min_chunk_frames(timeline),
    )
    began = time.perf_counter()
    with _cluster(broker_url, workers) as (url, storage_url):
        spec = JobSpec(
            id=uuid.uuid4().hex,
            project=document,
            base_dir=base_dir,
            export=asdict(export),
            storage_url=storage_url,
            frames=timeline.frames,
            output_ext=os.path.splitext(output)[1].lstrip(".") or export.container,
            keep_segments=keep_segments,
        )
        configure(url)
        storage = open_storage(storage_url)
        fd, partial = tempfile.mkstemp(
            prefix=".partial-", suffix="-" + os.path.basename(output), dir=directory
        )
        os.close(fd)
        try:
            summary = _run(spec, chunks, PRIORITIES[priority], progress)
            storage.get_file(spec.output_key, partial)
            os.replace(partial, output)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            if keep_segments:
                storage.delete(spec.output_key)
            else:
                storage.delete_prefix(spec.prefix)
    seconds = time.perf_counter() - began
    notes = summary.pop("notes", [])
    return {
        "mode": "distributed",
        "output": output,
        "seconds": round(seconds, 3),
        "fps": round(timeline.frames / seconds, 2),
        "workers": workers,
        "chunk_count": len(chunks),
        **summary,
        "warnings": list(timeline.warnings) + notes,
    }


def _run(
    spec: JobSpec, chunks: list[Chunk], priority: int, progress: Progress | None
) -> dict[str, Any]:
    job = spec.to_dict()
    header = [render_chunk.si(job, c.index, c.start, c.end).set(priority=priority) for c in chunks]
    header.append(render_audio.si(job).set(priority=priority))
    result = chord(group(header), merge.s(job).set(priority=priority)).apply_async()
    parts: list[AsyncResult] = list(result.parent.results) if result.parent else []
    state = JobProgress(spec.frames, [ChunkProgress(c.index, c.frames) for c in chunks])
    try:
        while not result.ready():
            _poll(parts[: len(chunks)], state)
            failed = next((p for p in parts if p.state == "FAILURE"), None)
            if failed is not None:
                raise _error(failed)
            if progress is not None:
                progress(state)
            time.sleep(POLL_SECONDS)
        if result.state == "FAILURE":
            # The chord names only a task id; the failed header task has the real message.
            failed = next((p for p in parts if p.state == "FAILURE"), result)
            raise _error(failed)
        _poll(parts[: len(chunks)], state)
        if progress is not None:
            progress(state)
        value: dict[str, Any] = result.get(timeout=10, propagate=True)
        return value
    except BaseException:
        for part in [result, *parts]:
            part.revoke()
        raise
    finally:
        for part in [result, *parts]:
            part.forget()


def _poll(parts: list[AsyncResult], state: JobProgress) -> None:
    for part, chunk in zip(parts, state.chunks, strict=True):
        chunk.state = part.state
        if chunk.state == "SUCCESS":
            chunk.done = chunk.frames
        elif chunk.state == "PROGRESS" and isinstance(part.info, dict):
            chunk.done = int(part.info.get("done", 0))


def _error(result: AsyncResult) -> RenderError:
    exc = result.result
    if isinstance(exc, RenderError):
        return RenderError(str(exc))
    return RenderError(f"task {result.id} failed: {exc!r}")


@contextlib.contextmanager
def _cluster(broker_url: str | None, workers: int) -> Iterator[tuple[str, str]]:
    """The broker URL and storage URL to use: given ones, or a private embedded cluster."""
    settings = Settings.from_env()
    url = broker_url or settings.broker_url
    if url is not None:
        if settings.storage_url is None:
            raise RenderError(
                "with --broker, set CLOUDRENDER_STORAGE_URL to storage the "
                "workers share (e.g. file:///shared/cloudrender)"
            )
        yield url, settings.storage_url
        return
    # Chunks are the parallelism: share the cores between the worker processes instead of
    # letting every encoder and BLAS call start a thread per core.
    threads = max(1, (os.cpu_count() or 1) // workers)
    env = {
        "CLOUDRENDER_ENCODER_THREADS": str(threads),
        "OPENBLAS_NUM_THREADS": str(threads),
        "OMP_NUM_THREADS": str(threads),
    }
    with (
        tempfile.TemporaryDirectory(prefix="cloudrender-storage-") as storage_dir,
        EmbeddedCluster(workers=workers, env=env) as cluster,
    ):
        yield cluster.broker_url, storage_dir

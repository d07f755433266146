"""What the task bodies tell the rest of the service, without importing it.

Workers must not depend on the orchestrator (DESIGN 2), so the orchestrator installs an
implementation of `Hooks` when its Celery app loads; the task bodies only call these methods.
"""

from __future__ import annotations

from typing import Any, Protocol

from common.errors import RenderError
from providers.storage.base import Storage


class Hooks(Protocol):
    """Callbacks from the task bodies into the job store, dispatcher and progress events."""

    def job_spec(self, job_id: str) -> dict[str, Any]:
        """The job document (JobSpec.to_dict()) of a job."""
        ...

    def chunk_started(self, job_id: str, index: int, task_id: str | None, node: str) -> bool:
        """Record a chunk starting on `node`; False when it must not run here or at all."""
        ...

    def chunk_progress(self, job_id: str, index: int, done: int, total: int) -> None:
        """Frames of a running chunk done so far (called often: implementations throttle)."""
        ...

    def cancelled(self, job_id: str) -> bool:
        """Whether the job wants no more work: being cancelled, or already ended."""
        ...

    def should_stop(self, job_id: str, index: int, node: str) -> str | None:
        """Why a running chunk must stop now (polled between frames), or None to go on.

        "cancelled": the job ended; "gone": its record is gone (Redis lost its data), so
        nothing will ever merge it; "done": another copy finished the chunk first;
        "evicted": this node is being pre-empted and hands its work back.
        """
        ...

    def chunk_finished(self, job_id: str, index: int, result: dict[str, Any]) -> None:
        """A chunk's segment is stored."""
        ...

    def chunk_failed(self, job_id: str, index: int, error: RenderError) -> None:
        """A chunk failed for good."""
        ...

    def chunk_retrying(self, job_id: str, index: int, error: RenderError, delay: float) -> None:
        """A transient error: the chunk runs again after `delay` seconds."""
        ...

    def chunk_node_trouble(self, job_id: str, index: int, node: str, error: RenderError) -> bool:
        """The chunk failed on `node`'s own disk: hand it to another node now; False when no
        other node may take it (the task then retries here with backoff)."""
        ...

    def chunk_crashed(self, job_id: str, index: int, node: str, error: str) -> None:
        """An unexpected failure on `node`: another worker should try the chunk."""
        ...

    def chunk_released(self, job_id: str, index: int, node: str) -> None:
        """A pre-empted node hands the chunk back at once (not a failure)."""
        ...

    def chunk_lost(self, job_id: str, index: int, task_id: str, node: str, reason: str) -> None:
        """The process rendering the chunk died (seen by the worker's main process); its
        message goes back to the broker and runs again."""
        ...

    def audio_finished(self, job_id: str, result: dict[str, Any] | None) -> None:
        """The job's audio is stored (None: the timeline is silent)."""
        ...

    def segment_digests(self, job_id: str) -> dict[int, str]:
        """The sha256 of each chunk's segment as its worker stored it, where known."""
        ...

    def chunk_renders(self, job_id: str) -> dict[int, int]:
        """How many times each chunk was started (its attempts), where known."""
        ...

    def merge_started(self, job_id: str) -> bool:
        """Record the merge starting; False when it must not run."""
        ...

    def merge_alive(self, job_id: str) -> None:
        """The job's merge is still running (called every few seconds while it runs)."""
        ...

    def merge_retry(self, job_id: str) -> int:
        """Give up the merge's lease so a retry may start it again; how many merges of the job
        have started."""
        ...

    def merge_finished(self, job_id: str, summary: dict[str, Any]) -> bool:
        """The finished video is stored: whether the job is now complete (False when it was
        cancelled or failed meanwhile)."""
        ...

    def job_failed(self, job_id: str, error: RenderError) -> None:
        """The job cannot complete (audio or merge failed)."""
        ...

    # The segment cache (orchestrator.segment_cache); used by workers.cache_use.

    def cache_put(self, storage: Storage, key: str, path: str) -> None:
        """Keep a finished segment (or audio mix) in the segment cache under its content key."""
        ...

    def cache_get(self, storage: Storage, key: str, path: str) -> None:
        """Copy a cached segment to ``path``; ObjectNotFound when the cache lost it."""
        ...

    def cache_discard(self, storage: Storage, key: str) -> None:
        """Drop a cached segment that turned out unusable, so no job takes it again."""
        ...

    def cache_lost(self, job_id: str, chunks: list[int], audio: bool) -> None:
        """Reused parts the merge could not read: render them after all, then merge again."""
        ...


_installed: list[Hooks] = []


def install(hooks: Hooks) -> None:
    """Make `hooks` the implementation the task bodies call."""
    _installed[:] = [hooks]


def current() -> Hooks:
    """The installed hooks; a clear error when no orchestrator installed any."""
    if not _installed:
        raise RenderError(
            "no job service is configured in this worker (load the app orchestrator.celery_app)"
        )
    return _installed[0]

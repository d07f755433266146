"""What every hook of the job service shares: its store, Celery app and dispatcher, progress
events (and the render counters they move), and a job's end by failure.

Every event sent through `publish` also moves the render counters it stands for
(`orchestrator.render_counters`: chunk outcomes, frames, job ends and their seconds), on the
counters of the Celery node whose task sends it, so each event counts once however many pool
processes the node has.
"""

from __future__ import annotations

import logging
from typing import Any

from common.errors import RenderError
from common.names import PRIORITIES, QUEUE_AUDIO, TASK_RENDER_AUDIO
from common.settings import Settings
from orchestrator.budgets import settle_job
from orchestrator.dispatcher import Dispatcher
from orchestrator.job_cancel import cost_so_far, end_chunks
from orchestrator.job_events import publish_event
from orchestrator.job_record import CHUNK_STOPPED, JobNotFound, JobState
from orchestrator.job_store import JobStore
from orchestrator.render_counters import CLUSTER, event_counts, record
from workers.job_spec import JobSpec, job_prefix

log = logging.getLogger(__name__)


class HookBase:
    """The job store, app and dispatcher behind the hooks; events; failing a job."""

    def __init__(self, store: JobStore, app: Any, *, cache_max_bytes: int | None = None) -> None:
        self.store = store
        self.app = app
        self.dispatcher = Dispatcher(store, app)
        self._last_event: dict[tuple[str, int], float] = {}
        if cache_max_bytes is None:
            cache_max_bytes = Settings.from_env().cache_max_bytes
        #: the segment cache's cap (Settings.cache_max_bytes)
        self.cache_max_bytes = cache_max_bytes

    def job_failed(self, job_id: str, error: RenderError) -> None:
        """Fail the job with this error and stop its other chunks."""
        try:
            changed = self.store.transition(job_id, JobState.FAILED, error=str(error))
        except JobNotFound:
            return
        if changed:
            self.store.request_cancel(job_id)  # running chunks stop between frames
            # Those chunks stop without a word: recorded failed now, or `status` showed them
            # running (and the rest pending) under the failed job for ever.
            end_chunks(self.store, job_id, CHUNK_STOPPED, keep_errors=True)
            # What it consumed is spent even though it failed: chunks recorded theirs as they
            # finished, the rest (the audio's time) is recorded now.
            cost = cost_so_far(self.store.redis, job_id)
            self.store.update(job_id, actual_cost=cost)  # `status` showed $0 for it
            settle_job(self.store.redis, job_id, cost, self.store.now(), app=self.app)
            self.dispatcher.forget(job_id)
            self._remove_objects(job_id)
            self.publish(job_id, "failed", error=str(error), seconds=self.job_seconds(job_id))
            self.dispatcher.fill()

    def _remove_objects(self, job_id: str) -> None:
        """Remove a failed job's segments and audio from its storage (as a cancel does): they
        would stay for ever, and after a full disk failed the job, keep the disk full."""
        try:
            JobSpec.from_dict(self.store.spec(job_id)).storage().delete_prefix(job_prefix(job_id))
        except (RenderError, JobNotFound, OSError) as exc:
            log.warning("job %s failed; its objects were not removed: %s", job_id, exc)

    def send_audio(self, job_id: str) -> None:
        """Send the job's audio task (again, if an earlier one was lost)."""
        level = self.store.get_fields(job_id, "effective_priority")["effective_priority"]
        self.store.update(job_id, audio_sent_at=self.store.now())
        self.app.send_task(
            TASK_RENDER_AUDIO, args=[job_id], queue=QUEUE_AUDIO, priority=PRIORITIES[level]
        )

    def publish(self, job_id: str, event: str, **data: Any) -> None:
        """Send a progress event (channel and the job's event log) and count what it stands for
        on this node's render counters."""
        publish_event(self.store.redis, job_id, event, **data)
        counts = event_counts(event, data)
        if counts:
            record(self.store.redis, self.node_name(), counts)

    def node_name(self) -> str:
        """The Celery node whose task calls now (its exporter serves its counters); outside a
        worker's task, the cluster's pseudo node, which the orchestrator's exporter serves."""
        task = getattr(self.app, "current_worker_task", None)
        hostname = getattr(getattr(task, "request", None), "hostname", None)
        return hostname if isinstance(hostname, str) and hostname else CLUSTER

    def job_seconds(self, job_id: str) -> float | None:
        """Seconds from the job's submission to its end (None when the record lacks them)."""
        try:
            fields = self.store.get_fields(job_id, "submitted_at", "finished_at")
        except JobNotFound:
            return None
        submitted, finished = fields["submitted_at"], fields["finished_at"]
        if not submitted or finished is None:
            return None
        return round(max(float(finished) - float(submitted), 0.0), 3)

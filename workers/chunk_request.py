"""The request of a chunk task as the worker's main process handles it: it reports a chunk whose
pool process died at once.

A pool process killed mid-chunk (SIGKILL, the OOM killer) says nothing; Celery's main process
sees the loss (WorkerLostError) and gives the message back to the broker
(task_reject_on_worker_lost), which hands it out again only some seconds later. Till then the
chunk read ``running`` with the frames of the dead process. Here the main process tells the job
service first, so the chunk reads ``retrying`` with the reason the moment its process is gone.
"""

from __future__ import annotations

import logging
from typing import Any

from billiard.einfo import ExceptionWithTraceback  # type: ignore[import-untyped]
from celery.exceptions import WorkerLostError
from celery.worker.request import Request

from workers import hooks

log = logging.getLogger(__name__)


class ChunkRequest(Request):  # type: ignore[misc]
    """Celery's request, which also reports a lost render process to the job service."""

    def on_failure(
        self, exc_info: Any, send_failed_event: bool = True, return_ok: bool = False
    ) -> None:
        """Report a lost process (before the message goes back: its next run must not be
        mistaken for this one), then let Celery requeue or fail the task as it does."""
        if self._lost(exc_info.exception):
            self._report_lost(exc_info.exception)
        super().on_failure(exc_info, send_failed_event=send_failed_event, return_ok=return_ok)

    def _lost(self, exc: BaseException) -> bool:
        """Whether the task's pool process died under it (not a revoke or a cancel)."""
        if isinstance(exc, ExceptionWithTraceback):
            exc = exc.exc
        if isinstance(exc, WorkerLostError):
            return True
        # billiard >= 4.3 reports the exit before the child is reaped: Celery treats it as a
        # lost worker unless the task was revoked or cancelled (then the kill was ours).
        stopped = getattr(self, "_already_cancelled", False) or getattr(
            self, "_already_revoked", False
        )
        return isinstance(exc, (SystemExit, KeyboardInterrupt)) and not stopped

    def _report_lost(self, exc: BaseException) -> None:
        """Tell the job service; a failure to tell it only leaves the old, slower path."""
        try:
            job_id, index = self.args[0], int(self.args[1])
        except (IndexError, TypeError, ValueError):
            return
        if isinstance(exc, ExceptionWithTraceback):
            exc = exc.exc
        reason = str(exc) or type(exc).__name__
        try:
            hooks.current().chunk_lost(job_id, index, self.id, str(self.hostname), reason)
        except Exception as err:  # noqa: BLE001 - never break Celery's own handling
            log.warning("job %s chunk %d: its lost process not reported (%s)", job_id, index, err)

"""Following a job on a cluster until it ends: the orchestrator's heartbeat before submitting,
then the job's record, read when its event stream says it changed, its progress shown, and one
line when what the job waits on (a private cluster's workers or Redis, the orchestrator) is gone.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from cli.render_progress import ChunkProgress, JobProgress
from common.errors import RenderError
from common.urls import redact_url
from orchestrator.job_record import JobRecord, JobState

if TYPE_CHECKING:
    from orchestrator.api import CloudRenderingAPI

#: A poll's period: where no event stream wakes a follower it reads the job's record every half
#: of it, and after Redis failed to answer it reads again after a whole one.
POLL_SECONDS = 0.2
#: The longest a render waits on its job's event stream before it reads the record anyway (and
#: looks for dead private workers and a gone orchestrator): events wake it at once.
EVENT_WAIT_SECONDS = 0.5
#: How often a render looks for the orchestrator's heartbeat before submitting: a private
#: cluster's first beat follows its workers' readiness by tens of milliseconds, and every
#: render waited out a whole POLL_SECONDS for it.
HEARTBEAT_POLL_SECONDS = 0.05
#: Seconds without an orchestrator heartbeat before a render says that none is running: long
#: enough for one that is restarting, short enough that nobody waits on a job nothing plans.
ORCHESTRATOR_PATIENCE = 4.0


Progress = Callable[[JobProgress], None]


def no_orchestrator(url: str) -> str:
    """The one line that says a cluster has nobody to plan jobs, and what to start."""
    return (
        f"no orchestrator is running on the cluster at {redact_url(url)}, so nothing plans "
        "submitted jobs: start one with `cloudrender orchestrator --broker URL` (it needs "
        "CLOUDRENDER_STORAGE_URL too) and render again"
    )


def await_orchestrator(
    api: CloudRenderingAPI,
    patience: float | None = None,
    lost: Callable[[], str | None] = lambda: None,
) -> None:
    """Return once a node consumes the orchestrator queue; RenderError after `patience` s, or
    as soon as ``lost`` says what of a private cluster died."""
    deadline = time.monotonic() + (ORCHESTRATOR_PATIENCE if patience is None else patience)
    while not api.orchestrator_running():
        gone = lost()
        if gone is not None:
            raise RenderError(f"{gone} before the render began")
        if time.monotonic() > deadline:
            raise RenderError(no_orchestrator(api.broker_url))
        time.sleep(HEARTBEAT_POLL_SECONDS)


def follow(
    api: CloudRenderingAPI,
    job_id: str,
    progress: Progress | None,
    lost: Callable[[], str | None] = lambda: None,
    notify: Callable[[str], None] | None = None,
    pause: Callable[[float], object] | None = None,
) -> JobRecord:
    """Read the job's record until it ends, showing its progress; between reads ``pause(s)``
    (default: sleep): an ``EventCursor.wait`` reads it again as soon as it changes."""
    import redis

    if pause is None:
        pause = _poll_pause
    state: JobProgress | None = None
    unplanned_since: float | None = None
    away_since: float | None = None  # the orchestrator, while the job renders
    warned = False
    while True:
        gone = lost()
        if gone is not None:
            # A private cluster's workers (or its Redis) died: nothing else would ever render
            # or fail the job, and the render would wait for ever.
            raise RenderError(f"{gone} while rendering job {job_id}; the render is abandoned")
        try:
            # One read (its retries while Redis is away included); the pause below waits.
            record = api.wait(job_id, timeout=0.0, poll=POLL_SECONDS / 2, lost=lost)
        except (RenderError, redis.RedisError):
            gone = lost()  # a Redis that died is what went wrong, not the user's --broker
            if gone is not None:
                raise RenderError(
                    f"{gone} while rendering job {job_id}; the render is abandoned"
                ) from None
            raise
        if progress is not None and record.chunks:
            if state is None:
                state = JobProgress(
                    record.frames, [ChunkProgress(c.index, c.frames) for c in record.chunks]
                )
            for chunk, live in zip(record.chunks, state.chunks, strict=False):
                live.done, live.state, live.reused = chunk.frames_done, chunk.state, chunk.reused
            progress(state)
        if record.state.finished:
            return record
        if record.state is JobState.QUEUED and not api.orchestrator_running():
            # The orchestrator went away after the submit: its plan task would wait forever.
            now = time.monotonic()
            unplanned_since = unplanned_since or now
            if now - unplanned_since > ORCHESTRATOR_PATIENCE:
                message = no_orchestrator(api.broker_url)
                with contextlib.suppress(RenderError):
                    api.cancel_job(job_id, reason=message)
                raise RenderError(f"{message} (job {job_id} cancelled)")
        else:
            unplanned_since = None
        if record.state is not JobState.QUEUED and not api.orchestrator_running():
            # It may come back (a service restart): say what waits on it, once, and go on.
            now = time.monotonic()
            away_since = away_since or now
            if notify is not None and not warned and now - away_since > ORCHESTRATOR_PATIENCE:
                warned = True
                notify(
                    f"the orchestrator of the cluster at {redact_url(api.broker_url)} stopped: "
                    "a chunk lost from now on is not sent again, nor the merge, until one runs "
                    "(`cloudrender orchestrator --broker URL`)"
                )
        else:
            away_since, warned = None, False
        try:
            pause(EVENT_WAIT_SECONDS)
        except redis.RedisError:
            time.sleep(POLL_SECONDS)  # the next read says what became of Redis


def _poll_pause(_seconds: float) -> None:
    """Between two reads of a job's record where no event stream wakes the reader."""
    time.sleep(POLL_SECONDS / 2)

"""Start a chunk's warm render process (``workers.zygote``) as its task begins, not at its render.

A chunk's task records its start, reads its job, checks its media's stamps and computes its
cache key before it renders (``workers.tasks``): tenths of a second, then the zygote's start
(bubblewrap, an interpreter, NumPy and PyAV imported: about half a second on a 2-core machine)
came on top. Celery's ``task_prerun`` (connected in ``workers.zygote``) calls ``warm_for_task``
in the pool process just before the task body; it reads the job's spec and media as the render
will (the parse is cached per process, so the task reads it again for free) and launches the
zygote (``zygote.prestart``), which imports while the task does its checks; the render then
waits for what is left of its start. A zygote for other media, or one that did not start, is
replaced or skipped by the render as before. Launched from the task's own thread, not a
helper thread: bwrap's --die-with-parent follows the thread that started it.

A worker whose pool is one process and which takes both the orchestrator's and the render queue
(a private cluster of ``cloudrender render`` on a small machine) runs a job's plan task and then
its chunks in that one process: there the plan task's ``task_prerun`` launches the zygote, which
imports while the job is planned (its spec read, media hashed, the segment cache looked up, a few
tenths of a second), not after it. ``note_worker`` (Celery's worker_init, before the pool forks)
decides once per worker whether it is such a worker; a plan that leaves nothing to render closes
the zygote again (``plan_rendered_nothing``).

Best effort: whatever goes wrong here is logged at debug level and left to the task, which
meets the same problem itself and reports it as it always did.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

from common.names import QUEUE_ORCHESTRATOR, QUEUE_RENDER, TASK_PLAN_JOB, TASK_RENDER_CHUNK

log = logging.getLogger(__name__)

#: Whether this worker's plan tasks launch their job's zygote (``note_worker``): set in the
#: worker's main process before its pool forks, so every pool process inherits it.
_PLANS_AHEAD: list[bool] = [False]


def note_worker(worker: Any) -> None:
    """At worker_init: a plan task warms its job's zygote only where that job's chunks run in
    the same process after it: a pool of one process that consumes both queues."""
    try:
        consumed = set(worker.app.amqp.queues.consume_from or ())
        single = int(worker.concurrency) == 1
    except (AttributeError, TypeError, ValueError):
        consumed, single = set(), False
    _PLANS_AHEAD[0] = single and {QUEUE_ORCHESTRATOR, QUEUE_RENDER} <= consumed


def plan_rendered_nothing(job: str) -> None:
    """Close the zygote a plan task launched when its plan left no chunk to render (every one
    in the segment cache): nothing would take it before its idle timeout."""
    from workers import zygote

    if zygote._current and zygote._current[0].key[0] == job:
        zygote.drop()


def warm_for_task(task: Any, args: Sequence[Any] | None, kwargs: Mapping[str, Any] | None) -> bool:
    """Start the zygote of the job a render_chunk task names (or a plan task, on a worker that
    renders its chunks next: ``note_worker``), under bubblewrap; whether one is starting now."""
    name = getattr(task, "name", None)
    if name != TASK_RENDER_CHUNK and not (name == TASK_PLAN_JOB and _PLANS_AHEAD[0]):
        return False
    job = args[0] if args else (kwargs or {}).get("job_id")
    if not isinstance(job, str):
        return False
    try:
        return _warm(job)
    except Exception as exc:  # noqa: BLE001 - the task itself meets and reports it
        log.debug("job %s: no warm render process ahead of its chunk (%s)", job, exc)
        return False


def _warm(job: str) -> bool:
    """Launch the zygote for ``job``'s chunks if this worker sandboxes them with bubblewrap."""
    from workers import hooks, sandbox, zygote
    from workers import isolation as iso
    from workers.job_spec import JobSpec

    settings = sandbox._settings()
    isolation = iso.current(settings.sandbox)
    if isolation.bwrap is None or isolation.error is not None:
        return False  # chunks are forks of the worker: nothing to start
    if zygote._current and zygote._current[0].key[0] == job and not zygote._current[0].gone:
        return False  # the job's zygote runs: the render checks the rest
    spec = JobSpec.from_dict(hooks.current().job_spec(job))
    if spec.assets:
        return False  # its media are fetched first: not before the task records its start
    timeline = spec.timeline()  # parsed once per process: the task's own read is free
    media = sandbox._media(timeline, settings, 0, timeline.frames)  # as sandbox._start binds
    return zygote.prestart(job, isolation.bwrap, media, os.environ)

"""Names several packages must spell the same way: Celery tasks, queues, job priorities, and
the longest chunk the API and the command line both accept."""

from __future__ import annotations

#: Celery task names (the contract between whoever sends a task and the worker that runs it).
TASK_PLAN_JOB = "cloudrender.plan_job"
TASK_TICK = "cloudrender.tick"
TASK_AUTOSCALE = "cloudrender.autoscale"
TASK_SWEEP = "cloudrender.sweep_storage"
TASK_RENDER_CHUNK = "cloudrender.render_chunk"
TASK_RENDER_AUDIO = "cloudrender.render_audio"
TASK_MERGE = "cloudrender.merge"

#: Queues: chunk rendering, audio, merging, and the orchestrator itself.
QUEUE_RENDER = "render"
QUEUE_AUDIO = "audio"
QUEUE_MERGE = "merge"
QUEUE_ORCHESTRATOR = "orchestrator"
QUEUES = (QUEUE_RENDER, QUEUE_AUDIO, QUEUE_MERGE, QUEUE_ORCHESTRATOR)

#: Our four priorities on kombu's Redis priority steps (0 is served first on Redis).
PRIORITIES = {"urgent": 0, "high": 3, "normal": 6, "low": 9}
#: The priority names from most to least urgent (command-line choices, escalation order).
LEVELS = tuple(sorted(PRIORITIES, key=PRIORITIES.__getitem__))


def render_queue(fingerprint: str) -> str:
    """The render queue of the nodes with this render fingerprint: ``render.<fingerprint>``."""
    return f"{QUEUE_RENDER}.{fingerprint}"


#: The longest chunk one may ask for, in frames (over 9 hours at 30 fps): the API's bound and
#: the command line's alike, so a typo of many digits is refused where it is typed.
MAX_CHUNK_FRAMES = 1_000_000

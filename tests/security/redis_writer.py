"""What anyone who can write to a cluster's Redis can do without any of our code: store a job
document and put a ``plan_job`` message on the orchestrator queue, as raw Redis commands.

The job hash is spelled with ``JobStore.create`` (an HSET and two ZADDs); the message is the
Celery protocol 2 JSON that kombu's Redis transport keeps in a list per priority step, pushed
with LPUSH. Nothing here goes through the API's checks.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import time
import uuid
from pathlib import Path
from typing import Any

import redis

from chunking.timeline.project import read_project
from common.names import PRIORITIES, QUEUE_ORCHESTRATOR, TASK_PLAN_JOB
from orchestrator import keys
from orchestrator.job_record import JobRecord
from orchestrator.job_store import JobStore
from workers.job_spec import JobSpec


def job_document(
    doc: dict[str, Any], base_dir: Path, storage_url: str, /, **fields: Any
) -> dict[str, Any]:
    """A well-formed job document for ``doc`` (as the API would store it), with ``fields`` set."""
    prepared = read_project(doc, base_dir=str(base_dir))
    timeline = prepared.timeline
    spec = JobSpec(
        id=uuid.uuid4().hex[:16],
        project=dict(prepared.document),
        base_dir=prepared.base_dir,
        export=dataclasses.asdict(timeline.export),
        storage_url=storage_url,
        frames=timeline.frames,
        output_ext=timeline.export.container,
    )
    return {**spec.to_dict(), **fields}


def inject(broker_url: str, document: dict[str, Any], job_id: str | None = None) -> str:
    """Store ``document`` as a queued job and push a raw ``plan_job`` message for it; its id."""
    job_id = job_id or str(document.get("id") or uuid.uuid4().hex[:16])
    store = JobStore.from_url(broker_url)
    frames = document.get("frames")
    record = JobRecord(
        id=job_id,
        submitted_at=time.time(),
        frames=frames if isinstance(frames, int) else 0,
        output=str(document.get("destination") or document.get("output_url") or ""),
    )
    store.create(record, document)
    push_task(broker_url, TASK_PLAN_JOB, [job_id], QUEUE_ORCHESTRATOR)
    return job_id


def push_task(broker_url: str, task: str, args: list[Any], queue: str) -> None:
    """LPUSH a Celery protocol 2 message for ``task(*args)`` onto ``queue`` (normal priority)."""
    task_id = str(uuid.uuid4())
    body = [args, {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}]
    message = {
        "body": base64.b64encode(json.dumps(body).encode()).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {
            "lang": "py",
            "task": task,
            "id": task_id,
            "root_id": task_id,
            "parent_id": None,
            "group": None,
            "retries": 0,
            "eta": None,
            "expires": None,
            "timelimit": [None, None],
            "argsrepr": repr(args),
            "kwargsrepr": "{}",
            "origin": "attacker",
        },
        "properties": {
            "correlation_id": task_id,
            "reply_to": "",
            "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": queue},
            "priority": PRIORITIES["normal"],
            "body_encoding": "base64",
            "delivery_tag": str(uuid.uuid4()),
        },
    }
    with redis.Redis.from_url(broker_url) as client:
        client.lpush(keys.queue_keys(queue)["normal"], json.dumps(message))

"""A node blocklisted for a job that takes one of its chunks from the shared queue hands it
back: sent again at once only when a node that may render it has an idle slot. Sent again
regardless, the idle blocklisted node took it back at once, refused it, and so on: about 200
refusals a second, each storing a result for a day, while the healthy nodes were busy."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from common.settings import Settings
from orchestrator import keys
from orchestrator.celery_app import make_app
from orchestrator.job_record import ChunkRecord, JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.worker_hooks import BLOCKLIST_AFTER, WorkerHooks

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def service(redis_url: str) -> WorkerHooks:
    """A rendering job "j" of four chunks pinned to fp-a, its node n1 blocklisted."""
    store = JobStore.from_url(redis_url)
    svc = WorkerHooks(store, make_app(Settings(broker_url=redis_url, result_backend=redis_url)))
    store.create(JobRecord(id="j", submitted_at=time.time(), frames=40), {"chunks": []})
    store.set_chunks("j", [ChunkRecord(i, i * 10, i * 10 + 10) for i in range(4)], {})
    store.transition("j", JobState.PLANNING)
    store.transition("j", JobState.RENDERING)
    store.redis.delete(keys.pending("j"))
    store.update("j", renderer="fp-a")
    store.redis.hset(keys.failures("j"), "n1", BLOCKLIST_AFTER)
    return svc


def _beat(service: WorkerHooks, node: str, busy: int, fingerprint: str = "fp-a") -> None:
    now = time.time()
    beat = {"name": node, "concurrency": 1, "busy": busy, "since": now, "time": now,
            "fingerprint": fingerprint, "queues": ["render", f"render.{fingerprint}"]}  # fmt: skip
    service.store.redis.set(keys.node(node), json.dumps(beat), ex=60)


def _sends(service: WorkerHooks, monkeypatch: pytest.MonkeyPatch) -> list[list[Any]]:
    """The chunk messages the dispatcher sends from now on (their args), instead of sending."""
    sent: list[list[Any]] = []
    monkeypatch.setattr(service.app, "send_task", lambda name, args, **_: sent.append(args))
    return sent


@pytest.mark.parametrize(
    ("peer", "resent"),
    [
        (("n2", 1, "fp-a"), False),  # the one node that may take it is busy: the tick sends it
        (("n2", 0, "fp-b"), False),  # an idle node, of another fingerprint: not a taker
        (("n2", 0, "fp-a"), True),  # an idle node that may take it: handed on at once
    ],
)
def test_a_refused_chunk_is_sent_again_at_once_only_with_a_taker_idle(
    service: WorkerHooks,
    monkeypatch: pytest.MonkeyPatch,
    peer: tuple[str, int, str],
    resent: bool,
) -> None:
    _beat(service, "n1", 0)
    _beat(service, *peer)
    sent = _sends(service, monkeypatch)
    assert not service.chunk_started("j", 2, "t1", "n1")
    assert sent == ([["j", 2]] if resent else [])
    pending = [int(i) for i in service.store.redis.lrange(keys.pending("j"), 0, -1)]
    assert pending == ([] if resent else [2])  # or waiting in the job store for the tick
    assert service.store.state("j") is JobState.RENDERING


def test_an_idle_blocklisted_node_does_not_spin_on_a_chunk(
    service: WorkerHooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop the broker ran: the idle blocklisted node takes every message sent to the
    job's queue while the only other node is busy."""
    _beat(service, "n1", 0)
    _beat(service, "n2", 1)
    sent = _sends(service, monkeypatch)
    service.store.push_pending("j", [2])
    service.dispatcher.fill()  # the tick sends it
    refusals = 0
    deadline = time.monotonic() + 2.0
    while sent and time.monotonic() < deadline:
        job, index = sent.pop(0)
        assert not service.chunk_started(job, index, service.store.chunk(job, index).task_id,
                                         "n1")  # fmt: skip
        refusals += 1
    assert refusals == 1 and sent == []  # it waits for the next tick

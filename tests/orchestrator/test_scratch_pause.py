"""A render node whose scratch disk is full stops consuming the queues other nodes take, and only
while they do (a real Redis holds the heartbeats; the consumer commands go out over it)."""

from __future__ import annotations

import json
import time

import pytest
import redis

from common.settings import Settings
from orchestrator import keys, scratch_pause
from orchestrator.celery_app import make_app
from orchestrator.node_roles import takes_work
from orchestrator.scheduling import renderer_groups
from orchestrator.scratch_pause import ScratchPause

MINE = ["audio", "merge", "orchestrator", "render", "render.fp"]


class Disk:
    """This node's scratch disk: full or not."""

    def __init__(self) -> None:
        self.full = False

    def __call__(self) -> bool:
        return self.full


def _beat(client: redis.Redis, name: str, queues: list[str], **extra: object) -> None:
    now = time.time()
    beat = {"name": name, "concurrency": 1, "since": now, "time": now, "queues": queues, **extra}
    client.set(keys.node(name), json.dumps(beat), ex=60)


@pytest.fixture
def setup(redis_url: str) -> tuple[ScratchPause, Disk, redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    app = make_app(Settings(broker_url=redis_url, result_backend=redis_url))
    disk = Disk()
    pause = ScratchPause(app, client, "sick@a", MINE, full=disk)
    _beat(client, "sick@a", MINE, fingerprint="fp")
    return pause, disk, client


def test_a_full_disk_beside_a_working_node_stops_the_queues_it_takes(
    setup: tuple[ScratchPause, Disk, redis.Redis],
) -> None:
    pause, disk, client = setup
    _beat(client, "well@b", ["audio", "merge", "render", "render.fp"], fingerprint="fp")
    pause.check(held_back=False)
    assert pause.paused == []  # room on the disk: nothing changes
    disk.full = True
    pause.check(held_back=False)
    # Never the orchestrator's queue: this may be the only node that plans.
    assert pause.paused == ["audio", "merge", "render", "render.fp"]
    disk.full = False
    pause.check(held_back=False)
    assert pause.paused == []


@pytest.mark.parametrize(
    "peer",
    [
        None,
        {"draining": True},
        {"scratch_full": True},
        {"scratch_room": False},  # on the same full disk: the two must not stop for each other
        {"queues": ["orchestrator"]},  # a node that only plans takes none of this work
    ],
)
def test_a_full_disk_with_nobody_else_to_take_the_work_keeps_consuming(
    setup: tuple[ScratchPause, Disk, redis.Redis], peer: dict[str, object] | None
) -> None:
    """Its tasks then retry here with backoff, and a disk that stays full fails the job in the
    disk's own words rather than leaving it waiting in a queue nobody consumes."""
    pause, disk, client = setup
    if peer is not None:
        queues = peer.pop("queues", ["audio", "merge", "render", "render.fp"])
        _beat(client, "other@b", queues, fingerprint="fp", **peer)  # type: ignore[arg-type]
    disk.full = True
    pause.check(held_back=False)
    assert pause.paused == []


def test_only_the_queues_another_node_consumes_are_stopped(
    setup: tuple[ScratchPause, Disk, redis.Redis],
) -> None:
    """A peer of another render fingerprint does not take this node's fingerprint queue."""
    pause, disk, client = setup
    _beat(client, "other@b", ["audio", "merge", "render", "render.fp2"], fingerprint="fp2")
    disk.full = True
    pause.check(held_back=False)
    assert pause.paused == ["audio", "merge", "render"]


def test_a_paused_node_takes_work_again_when_the_last_other_node_leaves(
    setup: tuple[ScratchPause, Disk, redis.Redis], monkeypatch: pytest.MonkeyPatch
) -> None:
    pause, disk, client = setup
    monkeypatch.setattr(scratch_pause, "PEERS_SECONDS", 0.0)
    _beat(client, "well@b", ["audio", "merge", "render", "render.fp"], fingerprint="fp")
    disk.full = True
    pause.check(held_back=False)
    assert pause.paused
    client.delete(keys.node("well@b"))
    pause.check(held_back=False)
    assert pause.paused == []


def test_a_drain_owns_the_consumers(setup: tuple[ScratchPause, Disk, redis.Redis]) -> None:
    pause, disk, client = setup
    _beat(client, "well@b", ["audio", "merge", "render", "render.fp"], fingerprint="fp")
    disk.full = True
    pause.check(held_back=False)
    assert pause.paused
    pause.check(held_back=True)  # the drain stopped everything; it resumes them itself
    assert pause.paused == []


def test_a_node_out_of_scratch_space_gets_no_chunks_and_no_share_of_a_renderer_group() -> None:
    beat = {"name": "n", "queues": ["render", "render.fp"], "fingerprint": "fp", "concurrency": 2}
    assert takes_work(beat)
    assert renderer_groups({"n": beat}) == {"fp": 2}
    full = {**beat, "scratch_full": True}
    assert not takes_work(full)
    assert renderer_groups({"n": full}) == {}

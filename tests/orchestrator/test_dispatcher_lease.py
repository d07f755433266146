"""The dispatch lock is renewed while its holder works: a pass slower than the lock's lifetime
(a slow Redis, a broker that stalls a send) let a second dispatcher take the lapsed lock and
fill the broker beside the first, each with its own count of what the broker holds."""

from __future__ import annotations

import time

import pytest

from orchestrator import dispatcher as dispatcher_module
from orchestrator import keys
from orchestrator.dispatcher import Dispatcher
from orchestrator.job_store import JobStore

pytestmark = pytest.mark.timeout(30)


def test_a_pass_longer_than_the_lock_keeps_it(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Renewed every 300 ms: only a renewal 600 ms late (a loaded machine) lets it lapse.
    monkeypatch.setattr(dispatcher_module, "LOCK_MS", 900)
    first = Dispatcher(JobStore.from_url(redis_url), app=None)
    second = Dispatcher(JobStore.from_url(redis_url), app=None)
    with first.locked() as held:
        assert held
        time.sleep(2.5)  # near three lifetimes of the lock
        with second.locked() as taken:
            assert not taken
    assert not first.redis.exists(keys.DISPATCH_LOCK)


def test_a_dead_holder_s_lock_still_lapses(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Renewal stops with the block: a lock left by a holder that died lapses as before."""
    monkeypatch.setattr(dispatcher_module, "LOCK_MS", 300)
    store = JobStore.from_url(redis_url)
    store.redis.set(keys.DISPATCH_LOCK, "a-dead-dispatcher", px=300)
    with Dispatcher(store, app=None).locked(wait=2.0) as held:
        assert held
    assert not store.redis.exists(keys.DISPATCH_LOCK)

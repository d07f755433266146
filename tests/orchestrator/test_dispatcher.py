"""The dispatch lock is released only while it is still its holder's, in one step: checked
and then deleted in two, a lock that lapsed and was taken in between was deleted from under
its new holder, and two dispatchers filled the broker side by side."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from orchestrator import keys
from orchestrator.dispatcher import Dispatcher
from orchestrator.job_store import JobStore

pytestmark = pytest.mark.timeout(30)


def test_a_lock_taken_over_between_the_check_and_the_delete_is_left_to_its_holder(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock lapses and another dispatcher takes it right after the release's first Redis
    command, whatever that command is (a check, or the whole release in one script)."""
    store = JobStore.from_url(redis_url)
    dispatcher = Dispatcher(store, app=None)
    other = redis.Redis.from_url(redis_url, decode_responses=True)
    real = store.redis.execute_command
    commands: list[str] = []

    def then_taken_over(*args: Any, **options: Any) -> Any:
        result = real(*args, **options)
        commands.append(str(args[0]))
        if len(commands) == 1:
            other.set(keys.DISPATCH_LOCK, "another-dispatcher")  # ours lapsed just now
        return result

    with dispatcher.locked() as held:
        assert held
        monkeypatch.setattr(store.redis, "execute_command", then_taken_over)
    monkeypatch.undo()
    assert commands  # the release spoke to Redis, and the takeover came right after
    assert other.get(keys.DISPATCH_LOCK) == "another-dispatcher"
    other.close()


def test_the_lock_is_released_after_the_block(redis_url: str) -> None:
    store = JobStore.from_url(redis_url)
    dispatcher = Dispatcher(store, app=None)
    with dispatcher.locked() as held:
        assert held
        with dispatcher.locked() as second:
            assert not second
    assert not store.redis.exists(keys.DISPATCH_LOCK)

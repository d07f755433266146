"""The autoscaler's lock as a lease renewed while its round runs: one round at a time across
orchestrators, however long a round waits on engines' APIs (a hung AWS endpoint holds a call
for minutes), and released at once when the round ends or its process dies (the lease lapses)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: Renews the lease only while it is still this holder's (a lapsed one taken over is left).
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('expire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


@contextmanager
def lease(client: Any, key: str, seconds: int) -> Iterator[bool]:
    """Hold `key` for the block, renewing it every third of `seconds`; yields False (and holds
    nothing) when another holder has it."""
    token = uuid.uuid4().hex
    if not client.set(key, token, nx=True, ex=seconds):
        yield False
        return
    done = threading.Event()

    def renew() -> None:
        while not done.wait(seconds / 3):
            try:
                client.eval(_RENEW, 1, key, token, seconds)
            except Exception:  # noqa: BLE001 - Redis away a moment: the next try may reach it
                continue

    thread = threading.Thread(target=renew, name="autoscale-lease", daemon=True)
    thread.start()
    try:
        yield True
    finally:
        done.set()
        thread.join(timeout=5)
        client.eval(_RELEASE, 1, key, token)

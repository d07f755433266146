"""How long a job-store call keeps retrying Redis: a time budget, not a count of attempts.

redis-py's ``Retry`` counts attempts, and each attempt on a frozen Redis (stopped, paused VM,
partitioned host) lasts a whole socket timeout: twelve attempts held a caller 77 s. Here the
retries stop once the call has spent its patience, whatever each attempt cost, and a caller
that promised an answer sooner (the CLI's wait) can shorten it with ``redis_deadline``.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

T = TypeVar("T")

#: The monotonic time by which the calls of this thread (or task) must end, if one is set.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "redis_deadline", default=None
)


@contextlib.contextmanager
def redis_deadline(seconds: float) -> Iterator[None]:
    """Within the block, job-store calls stop retrying `seconds` from now at the latest."""
    token = _DEADLINE.set(time.monotonic() + max(seconds, 0.0))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def retries_left(started: float, patience: float, now: float, deadline: float | None) -> bool:
    """Whether a call begun at `started` may try again at `now` (all monotonic seconds)."""
    end = started + patience if deadline is None else min(started + patience, deadline)
    return now < end


class PatientRetry(Retry):  # type: ignore[misc]
    """Retries a job-store call with backoff for at most `patience` seconds in all."""

    def __init__(self, patience: float) -> None:
        super().__init__(ExponentialBackoff(cap=2.0), -1)  # -1: no count; the clock decides
        self.patience = patience

    def call_with_retry(
        self,
        do: Callable[[], T],
        fail: Callable[..., Any],
        is_retryable: Callable[[Exception], bool] | None = None,
        with_failure_count: bool = False,
    ) -> T:
        """``do()``, again after each connection error or timeout while patience lasts."""
        started = time.monotonic()
        self._backoff.reset()
        failures = 0
        while True:
            try:
                return do()
            except self._supported_errors as error:
                failures += 1
                # A refused user or password is a ConnectionError to redis-py, but no restart:
                # retried, a mistyped --broker password was said only after the patience.
                refused = isinstance(error, redis.AuthenticationError)
                if refused or (self._is_retryable is not None and not self._is_retryable(error)):
                    # Still tell the handler: it cleans up the connection (a pipeline's WATCH).
                    fail(error, failures) if with_failure_count else fail(error)
                    raise
                if is_retryable is not None and not is_retryable(error):
                    raise
                fail(error, failures) if with_failure_count else fail(error)
                pause = self._backoff.compute(failures)
                if not retries_left(
                    started, self.patience, time.monotonic() + pause, _DEADLINE.get()
                ):
                    raise error
                if pause > 0:
                    time.sleep(pause)

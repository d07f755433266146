"""Redis's exceptions as the exception tree's ClusterError at the Python API's edge (DESIGN 5:
no client library's exception leaks out of the public API).

    NoPermissionError, ResponseError         ClusterRefused
    any other redis.RedisError               ClusterUnreachable (transient)

The redis-py exception stays the ``__cause__``: the command line words its exit 3 or 4 line
from it, and the HTTP service its 503 or 500.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import redis

from common.errors import ClusterRefused, ClusterUnreachable
from common.redis_refusal import redis_user, refused
from common.urls import redact_url

T = TypeVar("T")


@contextmanager
def map_redis_errors(url: str) -> Iterator[None]:
    """Raise the Redis client's errors inside the block as ClusterRefused/ClusterUnreachable,
    each one line naming the (password-redacted) URL."""
    shown = redact_url(url)
    try:
        yield
    except redis.exceptions.NoPermissionError as exc:
        raise ClusterRefused(
            f"Redis user {redis_user(url)!r} at {shown} may not do this: {refused(exc)}"
        ) from exc
    except redis.ResponseError as exc:
        raise ClusterRefused(
            f"the cluster's Redis at {shown} refused a command: {exc} (see its memory limit "
            "(maxmemory) and role)"
        ) from exc
    except redis.RedisError as exc:
        raise ClusterUnreachable(f"cannot talk to the cluster's Redis at {shown}: {exc}") from exc


def redis_errors_mapped(cls: type[T]) -> type[T]:
    """``cls`` with every public method (its own and inherited) raising ClusterError instead
    of the Redis client's errors; the instance's ``broker_url`` names the Redis."""
    for name in dir(cls):
        method = inspect.getattr_static(cls, name)
        if name.startswith("_") or not inspect.isfunction(method):
            continue
        setattr(cls, name, _mapped(method))
    return cls


def _mapped(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        with map_redis_errors(self.broker_url):
            return method(self, *args, **kwargs)

    return call

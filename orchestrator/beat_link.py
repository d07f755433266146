"""A node heartbeat's own link to Redis: it notices every outage, and a refused password.

The failover excuses a chunk that went silent while its node had lost Redis (the heartbeat's
``reconnected``, orchestrator.failover). That only works if the heartbeat sees each outage:
through redis-py's silent retries a Redis restart between two beats went unseen, and with no
socket timeout a paused or partitioned Redis held the beat until it came back, unseen too.
Here the beat writes over a connection of its own that is never silently replaced, never
retried and times out, so an outage always costs at least one failed beat, and the first beat
after it says when Redis came back.

A password rotated under a running node (the ACL user's password changed, the old one
removed) let Celery's consumer reconnect for ever ("Cannot connect ... invalid username-password
pair ... Trying again in 2.00 seconds... (1/100)"), then 100 tries later stop without a word
an operator could act on. A beat refused for REFUSED_SECONDS stops the node instead, saying why
in one line, with the CLI's exit status for a refused login (4): its supervisor restarts it
with the new password, or an operator sees the line. The login is watched from the worker's
start (``watch_login``), not only from its first beat: a password rotated between the node's
name claim and its consumer's first connection left the consumer refused and never ready, so
no heartbeat ever started to notice.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from common.redis_refusal import redis_user
from common.urls import redact_url
from orchestrator import keys

log = logging.getLogger(__name__)

#: Seconds a beat may wait on Redis before it counts as lost: under NODE_TTL, so a node whose
#: beats hang on a frozen Redis is seen to have lost it, not taken for dead by a later beat.
BEAT_TIMEOUT = 4.0
#: Seconds a refused login must last before the node stops: a Redis restarting with its ACL
#: file loaded after the port opened, or an operator rotating in two steps, refuses briefly.
REFUSED_SECONDS = 10.0
#: A refused login's exit status, the command line's (cli.failures.EXIT_FORBIDDEN).
EXIT_REFUSED = 4

#: Why this process's node stopped itself (the one line), read once its worker has stopped.
refusal: list[str] = []


def beat_client(url: str, timeout: float = BEAT_TIMEOUT, single: bool = False) -> redis.Redis:
    """A Redis client that never retries and times out; ``single``: over one connection it
    keeps (a pool replaces a connection Redis closed without a word, at its next use)."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        single_connection_client=single,
    )


def refused_for(since: float | None, now: float, limit: float = REFUSED_SECONDS) -> bool:
    """Whether logins refused since ``since`` (None: the last one was taken) have been refused
    long enough to stop the node."""
    return since is not None and now - since >= limit


def refusal_line(url: str, error: BaseException) -> str:
    """The one line a node stopped by a refused login says (its URL redacted)."""
    return (
        f"error: the cluster's Redis at {redact_url(url)} refused user {redis_user(url)!r}: "
        f"{error} (its password was changed while this node ran? check the user and password "
        "in --broker or CLOUDRENDER_BROKER_URL and start the node again)"
    )


class BeatLink:
    """Writes one node's heartbeats; knows when Redis came back and when it refuses the node."""

    def __init__(
        self,
        url: str,
        client: Any | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        #: Made at the first beat (``_connected``): a single-connection client logs in as it is
        #: made, so one made while Redis was away or refused the node raised out of the
        #: worker's start, and that node never beat.
        self.client: Any | None = client
        self._monotonic = monotonic
        #: Cluster time at which the last outage this link saw ended (0.0: none yet).
        self.reconnected = 0.0
        self._lost = False
        self._refused_since: float | None = None
        self._refused: BaseException | None = None

    def write(self, name: str, payload: Mapping[str, Any], now: float) -> bool:
        """Write the beat (``now``: cluster time, told as ``reconnected`` by the first beat
        that gets through after a failed one); False when Redis is away or refuses us."""
        if self._lost:
            self.reconnected = now
        body = {**payload, "reconnected": self.reconnected}
        try:
            self._connected().set(keys.node(name), json.dumps(body), ex=keys.NODE_TTL)
        except redis.AuthenticationError as exc:
            if self._refused_since is None:
                self._refused_since = self._monotonic()
            self._refused, self._lost = exc, True
            return False
        except redis.RedisError:
            self._lost = True
            self._refused_since = None
            return False
        self._lost, self._refused_since = False, None
        return True

    def _connected(self) -> Any:
        if self.client is None:
            self.client = beat_client(self.url, single=True)
        return self.client

    def close(self) -> None:
        """Close this link's connection, if it has one."""
        if self.client is not None:
            self.client.close()

    def check(self) -> bool:
        """Log in and PING, with a beat's accounting of refusals (before the node beats:
        its consumer, refused, never gets ready); False when Redis is away or refuses us."""
        try:
            self._connected().ping()
        except redis.AuthenticationError as exc:
            if self._refused_since is None:
                self._refused_since = self._monotonic()
            self._refused = exc
            return False
        except redis.RedisError:
            self._refused_since = None
            return False
        self._refused_since = None
        return True

    def refused(self) -> str | None:
        """The one line to stop the node with, once its logins were refused long enough."""
        if self._refused is None or not refused_for(
            self._refused_since, self._monotonic(), REFUSED_SECONDS
        ):
            return None
        return refusal_line(self.url, self._refused)


def stop_refused_node(line: str) -> None:
    """Stop this worker node (warm, exit EXIT_REFUSED) because Redis refuses its login."""
    from celery.worker import state as worker_state

    if refusal:
        return  # asked already
    refusal.append(line)
    log.critical("%s", line.removeprefix("error: "))
    # Seen by the consumer's reconnect loop (each second) and its event loop: a warm shutdown.
    worker_state.should_stop = EXIT_REFUSED


#: Seconds between a starting node's looks at its login (``watch_login``).
LOGIN_POLL_SECONDS = 1.0


def watch_login(url: str, until: threading.Event, poll: float = LOGIN_POLL_SECONDS) -> None:
    """Until ``until`` is set (the heartbeat took over, or the worker stops), look at this
    node's login every ``poll`` seconds and stop the node once it was refused REFUSED_SECONDS."""
    link = BeatLink(url)
    try:
        while not until.wait(poll):
            if not link.check() and (line := link.refused()):
                stop_refused_node(line)
                return
    finally:
        link.close()

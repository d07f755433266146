"""The heartbeat's own link to Redis: every outage seen, a refused login long enough stops."""

from __future__ import annotations

import json
import threading

import pytest
import redis

from orchestrator import beat_link, keys
from orchestrator.beat_link import REFUSED_SECONDS, BeatLink, refusal_line, refused_for

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize(
    ("since", "now", "stop"),
    [
        (None, 100.0, False),  # the last login was taken
        (100.0, 100.0, False),  # refused just now: a restarting Redis may refuse briefly
        (100.0, 100.0 + REFUSED_SECONDS - 0.1, False),
        (100.0, 100.0 + REFUSED_SECONDS, True),
        (100.0, 500.0, True),
    ],
)
def test_a_refusal_stops_the_node_only_once_it_lasted(
    since: float | None, now: float, stop: bool
) -> None:
    assert refused_for(since, now) is stop


def test_the_refusal_line_names_the_user_without_the_password() -> None:
    line = refusal_line("redis://render:s3cret@redis:6379/0", redis.AuthenticationError("no"))
    assert line.startswith("error: the cluster's Redis at redis://render:***@redis:6379/0 ")
    assert "refused user 'render': no" in line and "s3cret" not in line


class _Clock:
    def __init__(self) -> None:
        self.at = 0.0

    def __call__(self) -> float:
        return self.at


def test_a_beat_after_a_dropped_connection_says_redis_came_back(redis_url: str) -> None:
    """redis-py retried a command on a dropped connection silently: a Redis restart between
    two beats went unseen, and the failover blamed the node for chunks that died with it."""
    admin = redis.Redis.from_url(redis_url)
    link = BeatLink(redis_url)
    try:
        assert link.write("render@a", {"name": "render@a"}, 10.0)
        assert json.loads(admin.get(keys.node("render@a")))["reconnected"] == 0.0
        assert link.client is not None
        admin.execute_command("CLIENT", "KILL", "ID", link.client.client_id())
        assert not link.write("render@a", {"name": "render@a"}, 12.0)  # the drop is seen
        assert link.write("render@a", {"name": "render@a"}, 14.0)
        assert json.loads(admin.get(keys.node("render@a")))["reconnected"] == 14.0
        assert link.write("render@a", {"name": "render@a"}, 16.0)
        assert json.loads(admin.get(keys.node("render@a")))["reconnected"] == 14.0
        assert link.refused() is None
    finally:
        link.close()
        admin.close()


def test_a_refused_login_stops_the_node_after_a_while_not_at_once(redis_url: str) -> None:
    admin = redis.Redis.from_url(redis_url)
    admin.acl_setuser("beat", enabled=True, passwords=["+old"], commands=["+@all"], keys=["*"])
    host = redis_url.split("://", 1)[1].rsplit("@", 1)[-1]
    clock = _Clock()
    link = BeatLink(f"redis://beat:old@{host}", monotonic=clock)
    try:
        assert link.write("render@b", {}, 1.0)
        # When the password is rotated and the connection dropped
        admin.acl_setuser("beat", enabled=True, passwords=["-old", "+new"])
        admin.execute_command("CLIENT", "KILL", "USER", "beat")
        assert not link.write("render@b", {}, 2.0)  # the drop
        assert not link.write("render@b", {}, 2.5)  # the login refused
        assert link.refused() is None  # not yet: it may be a Redis still loading its ACL file
        clock.at = REFUSED_SECONDS - 1
        assert not link.write("render@b", {}, 3.0)
        assert link.refused() is None
        clock.at = REFUSED_SECONDS
        line = link.refused()
        assert line is not None and "refused user 'beat'" in line and "old@" not in line
        # An outage of another kind in between starts the count again
        admin.acl_setuser("beat", enabled=True, passwords=["+old"])
        assert link.write("render@b", {}, 4.0) and link.refused() is None
    finally:
        link.close()
        admin.acl_deluser("beat")
        admin.close()


def test_a_link_made_while_redis_refuses_the_node_counts_the_refusal(redis_url: str) -> None:
    """Its client logged in as it was made: made while Redis refused the node (a password
    rotated as the node started) or was away, it raised out of the worker's start, and that
    node never beat, nor stopped."""
    admin = redis.Redis.from_url(redis_url)
    admin.acl_setuser("late", enabled=True, passwords=["+new"], commands=["+@all"], keys=["*"])
    host = redis_url.split("://", 1)[1].rsplit("@", 1)[-1]
    clock = _Clock()
    link = BeatLink(f"redis://late:old@{host}", monotonic=clock)  # refused: no raise
    try:
        assert not link.check() and not link.write("render@c", {}, 1.0)
        clock.at = REFUSED_SECONDS
        line = link.refused()
        assert line is not None and "refused user 'late'" in line
        away = BeatLink("redis://127.0.0.1:1/0")  # nothing listens: no raise either
        assert not away.write("render@d", {}, 1.0) and away.refused() is None
        away.close()
    finally:
        link.close()
        admin.acl_deluser("late")
        admin.close()


def test_the_login_is_watched_until_the_heartbeat_takes_over(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = redis.Redis.from_url(redis_url)
    admin.acl_setuser("early", enabled=True, passwords=["+new"], commands=["+@all"], keys=["*"])
    host = redis_url.split("://", 1)[1].rsplit("@", 1)[-1]
    stopped: list[str] = []
    monkeypatch.setattr(beat_link, "REFUSED_SECONDS", 0.2)
    monkeypatch.setattr(beat_link, "stop_refused_node", stopped.append)
    try:
        beat_link.watch_login(f"redis://early:old@{host}", threading.Event(), poll=0.05)
        assert len(stopped) == 1 and "refused user 'early'" in stopped[0]
        # A login that works is watched until the heartbeat starts, and nothing stops
        started = threading.Event()
        threading.Timer(0.3, started.set).start()
        beat_link.watch_login(f"redis://early:new@{host}", started, poll=0.05)
        assert len(stopped) == 1
    finally:
        admin.acl_deluser("early")
        admin.close()

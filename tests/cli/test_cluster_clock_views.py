"""`status` and `cluster status` measure the cluster's records with the cluster's clock (Redis's
time), not this machine's: a laptop whose clock is off showed speed, ETA, cost so far, uptimes
and heartbeat ages off by as much."""

from __future__ import annotations

import json
import re

import pytest

from cli.main import main
from orchestrator import keys
from orchestrator.job_store import JobStore
from tests.helpers import clock_ahead, ten_seconds_into_rendering

pytestmark = pytest.mark.timeout(60)

#: This machine's clock, five minutes ahead of the cluster's.
SKEW = 300.0


@pytest.fixture
def ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine's clock runs SKEW seconds ahead (the cluster's clock is Redis's)."""
    clock_ahead(monkeypatch, SKEW)


def test_status_measures_speed_and_eta_on_the_clusters_clock(
    redis_url: str, ahead: None, capsys: pytest.CaptureFixture[str]
) -> None:
    store = JobStore.from_url(redis_url)
    ten_seconds_into_rendering(store)
    # When it is looked at from a machine five minutes ahead
    assert main(["status", "skew", "--broker", redis_url]) == 0
    line = capsys.readouterr().out.splitlines()[1]
    # Then: not "0.2 fps  ETA 2790s" (60 frames over 310 s)
    found = re.search(r"([\d.]+) fps  ETA (\d+)s", line)
    assert found, line
    assert 4.0 <= float(found[1]) <= 6.5 and 80 <= int(found[2]) <= 140, line


def test_cluster_status_shows_uptime_and_heartbeat_age_on_the_clusters_clock(
    redis_url: str, ahead: None, capsys: pytest.CaptureFixture[str]
) -> None:
    store = JobStore.from_url(redis_url)
    now = store.now()
    beat = {"name": "render@a", "concurrency": 2, "pid": 7, "since": now - 60, "time": now - 1}
    store.redis.set(keys.node("render@a"), json.dumps(beat), ex=60)
    assert main(["cluster", "status", "--broker", redis_url]) == 0
    (row,) = [line for line in capsys.readouterr().out.splitlines() if "render@a" in line]
    # Not "6m" up and "301.0s ago"
    up, ago = row.split()[4], float(row.split()[5].removesuffix("s"))
    assert up.startswith("1m"), row
    assert ago < 30, row

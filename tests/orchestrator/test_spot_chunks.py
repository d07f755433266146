"""Chunks are sized for spot: with spot pools configured, a chunk renders well inside the
slowest spot pool's interruption notice, so a notice costs at most a short chunk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis

from chunking.complexity import complexity
from chunking.timeline.studio import load_project
from orchestrator import keys
from orchestrator.costing import Throughput
from orchestrator.tasks import spot_chunk_cap
from tests.helpers import colour_project

POOLS = """
[pools.spot-gcp]
provider = "gcp"
region = "us-central1"
market = "spot"
max_nodes = 4
price_per_hour = 0.3

[pools.spot-aws]
provider = "aws"
region = "us-east-1"
market = "spot"
max_nodes = 4
price_per_hour = 0.3

[pools.steady]
provider = "aws"
region = "us-east-1"
max_nodes = 4
price_per_hour = 1.0
"""


def test_the_cap_follows_the_shortest_notice_at_the_measured_speed(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = redis.Redis.from_url(redis_url)
    timeline = load_project(colour_project(2.0), str(tmp_path))
    units = complexity(timeline)
    pools = tmp_path / "pools.toml"
    pools.write_text(POOLS)
    monkeypatch.setenv("CLOUDRENDER_POOLS_FILE", str(pools))
    # The GCP spot class renders a unit in 0.1 s: a frame takes 0.1 x units seconds, and 25 %
    # of GCP's 30 s notice holds 7.5 s of frames.
    client.hset(keys.THROUGHPUT, "spot-gcp", json.dumps(Throughput(0.1, 5).to_json()))
    client.hset(keys.THROUGHPUT, "spot-aws", json.dumps(Throughput(0.1, 5).to_json()))
    expected = int(0.25 * 30 / (0.1 * units) + 1e-9)
    assert spot_chunk_cap(client, timeline) == expected
    pools.write_text(POOLS.replace('market = "spot"', 'market = "on-demand"'))
    assert spot_chunk_cap(client, timeline) is None  # no spot pool: no cap
    monkeypatch.delenv("CLOUDRENDER_POOLS_FILE")
    assert spot_chunk_cap(client, timeline) is None

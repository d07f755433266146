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
from orchestrator.api import CloudRenderingAPI
from orchestrator.costing import NODE_CLASS, Throughput, record_throughput
from orchestrator.planning import plan_job_chunks
from orchestrator.spot_chunks import job_chunk_frames
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


def spot_cluster(client: redis.Redis, tmp: Path, seconds_per_unit: float) -> None:
    """Spot pools configured (CLOUDRENDER_POOLS_FILE is set by the caller), at this speed."""
    for pool in ("spot-gcp", "spot-aws"):
        client.hset(keys.THROUGHPUT, pool, json.dumps(Throughput(seconds_per_unit, 5).to_json()))


def test_a_drifting_speed_keeps_the_chunks_a_re_render_reuses(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = redis.Redis.from_url(redis_url)
    timeline = load_project(colour_project(10.0), str(tmp_path))
    pools = tmp_path / "pools.toml"
    pools.write_text(POOLS)
    monkeypatch.setenv("CLOUDRENDER_POOLS_FILE", str(pools))

    def cut() -> list[tuple[int, int]]:
        frames = job_chunk_frames(client, timeline, None)
        return [(c.start, c.end) for c in plan_job_chunks(timeline, 4, frames)]

    spot_cluster(client, tmp_path, 0.9)
    cap = spot_chunk_cap(client, timeline)
    first = cut()
    assert len(first) > 2 and all(end - start <= (cap or 0) for start, end in first)
    # Chunks finished in between measured the pools a little faster (a longer cap): the same
    # cut, so the second render of the project finds its chunks in the cache.
    spot_cluster(client, tmp_path, 0.8)
    assert spot_chunk_cap(client, timeline) != cap
    assert cut() == first
    # An explicit length shorter than the cap is kept.
    assert job_chunk_frames(client, timeline, 3) == 3


def test_an_estimate_on_spot_counts_the_chunks_its_job_gets(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pools = tmp_path / "pools.toml"
    pools.write_text(POOLS)
    monkeypatch.setenv("CLOUDRENDER_POOLS_FILE", str(pools))
    api = CloudRenderingAPI(redis_url, storage_url=f"file://{tmp_path / 'storage'}")
    record_throughput(api.store.redis, NODE_CLASS, 1.0, 30, 1.0)
    spot_cluster(api.store.redis, tmp_path, 1.0)
    doc = colour_project(10.0)
    timeline = load_project(doc, str(tmp_path))
    frames = job_chunk_frames(api.store.redis, timeline, None)
    planned = plan_job_chunks(timeline, api.dispatcher.slots(), frames)
    assert len(planned) > 1
    assert api.estimate_cost(doc).chunks == len(planned)

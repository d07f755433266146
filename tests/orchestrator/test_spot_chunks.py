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
from orchestrator.planning import keyed_plan, plan_job_chunks
from orchestrator.spot_chunks import job_chunking
from orchestrator.tasks import spot_chunk_cap
from tests.helpers import clip, colour_project
from tests.media import project, video_track

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
        return [(c.start, c.end) for c in plan_job_chunks(timeline, 4, *cutting(None))]

    def cutting(frames: int | None) -> tuple[int | None, int | None]:
        return job_chunking(client, timeline, frames)

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
    assert cutting(3) == (3, None)
    assert cutting(10_000)[0] == cutting(None)[1]  # one longer than the cap is cut to it


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
    planned = plan_job_chunks(
        timeline, api.dispatcher.slots(), *job_chunking(api.store.redis, timeline, None)
    )
    assert len(planned) > 1
    assert api.estimate_cost(doc).chunks == len(planned)


def test_a_clip_inserted_near_the_start_keeps_the_later_chunks_on_spot(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With spot pools, chunks were cut on a grid from frame 0: a 0.7 s clip put before the
    first shot moved every boundary, and the re-render reused none of the chunks after it.
    The capped plan keeps its boundaries on the cuts: only the chunks near the edit change."""
    client = redis.Redis.from_url(redis_url)
    pools = tmp_path / "pools.toml"
    pools.write_text(POOLS)
    monkeypatch.setenv("CLOUDRENDER_POOLS_FILE", str(pools))
    spot_cluster(client, tmp_path, 0.9)
    colours = ["#aa0000", "#00aa00", "#0000aa", "#aaaa00", "#00aaaa", "#aa00aa"]

    def keys_of(inserted: float) -> list[str]:
        shots = [clip("new", 0, inserted, "#ffffff")] if inserted else []
        shots += [
            clip(f"s{i}", inserted + 2 * i, inserted + 2 * (i + 1), colour)
            for i, colour in enumerate(colours)
        ]
        timeline = load_project(project([video_track("v", shots)]), str(tmp_path))
        cap = spot_chunk_cap(client, timeline)
        frames, most = job_chunking(client, timeline, None)
        keyed = keyed_plan(timeline, 4, frames, {}, "f", max_frames=most)
        # The cap still holds with the anchored cut.
        assert cap is not None and all(c.frames <= cap for c, _ in keyed)
        return [key for _, key in keyed]

    before, after = keys_of(0), keys_of(0.7)
    assert len(before) > len(colours)  # the cap cuts the shots: the grid is what is tested
    kept = [key for key in before if key in after]
    assert len(kept) >= len(before) - 2

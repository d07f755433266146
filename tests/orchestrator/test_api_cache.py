"""The API's view of the segment cache: an estimate prices only the chunks still to render,
``use_cache=False`` prices them all and reaches the job, and the cache's statistics and clearing.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from chunking.plan import Chunk
from chunking.timeline.project import read_project
from common.names import QUEUE_RENDER, render_queue
from orchestrator import keys
from orchestrator.api import CloudRenderingAPI
from orchestrator.api_cache import job_quote, open_cache, with_reuse
from orchestrator.costing import NODE_CLASS, Throughput, estimate, record_throughput
from orchestrator.planning import job_fingerprint, keyed_plan, media_ids
from orchestrator.scheduling import GPU_COMPOSITOR as GPU
from tests.helpers import clip
from tests.media import project, video_track, write_project
from workers.fingerprint import render_fingerprint

pytestmark = pytest.mark.timeout(120)

#: Four half-second clips at 30 fps, one per chunk of 15 frames.
CHUNK = 15
COLOURS = ["#224466", "#aa3300", "#33aa00", "#8800cc"]


def film(tmp: Path, colours: list[str], name: str = "p.json") -> Path:
    """A project of one clip per chunk, so that every chunk has a key of its own."""
    clips = [clip(f"c{i}", i / 2, (i + 1) / 2, colour) for i, colour in enumerate(colours)]
    doc = project([video_track("v", clips)], settings={"export": {"preset": "ultrafast"}})
    return write_project(tmp / name, doc)


def test_reused_chunks_are_counted_but_not_priced() -> None:
    full = estimate(
        120, 2.0, Throughput(0.01, 3), workers=2, chunk_count=4, hourly_rate=3.6, basis="history"
    )
    chunks = [Chunk(i, i * 30, (i + 1) * 30) for i in range(4)]
    quoted = with_reuse(full, chunks[3:], chunks[:3], slots=2)
    assert (quoted.frames, quoted.chunks, quoted.reused_chunks) == (120, 4, 3)
    # One chunk of 30 frames at 0.02 s a frame plus its 0.3 s start: the rate is the full one.
    assert quoted.node_seconds == pytest.approx(30 * 0.02 + 0.3)
    assert quoted.cost == pytest.approx(quoted.node_seconds / 3600 * 3.6)
    assert quoted.cost < full.cost / 3
    assert quoted.seconds_per_frame == full.seconds_per_frame
    everything = with_reuse(full, [], chunks, slots=2)
    assert everything.node_seconds == 0 and everything.cost == 0
    assert everything.wall_seconds < full.wall_seconds
    nothing = with_reuse(full, chunks, [], slots=2)
    assert (nothing.node_seconds, nothing.cost, nothing.reused_chunks) == (
        full.node_seconds,
        full.cost,
        0,
    )
    assert nothing.to_json()["chunks"] == 4


@pytest.fixture
def api(redis_url: str, tmp_path: Path) -> CloudRenderingAPI:
    """A client of the test Redis with file storage; its throughput is known (no calibration)."""
    client = CloudRenderingAPI(redis_url, storage_url=f"file://{tmp_path / 'storage'}")
    record_throughput(client.store.redis, NODE_CLASS, 1.0, 30, 1.0)
    return client


def cache_chunks(api: CloudRenderingAPI, path: Path, indexes: list[int], tmp: Path) -> list[str]:
    """Put a segment for these chunks of the project into the cache, under the keys a job of it
    gets on this (node-less) cluster; return every chunk's key."""
    timeline = read_project(str(path)).timeline
    media = media_ids({}, timeline=timeline, client=api.store.redis)
    keyed = keyed_plan(timeline, api.dispatcher.slots(), CHUNK, media, render_fingerprint())
    cache = open_cache(str(api.storage_url), api.store.redis, api.settings)
    segment = tmp / "segment.mkv"
    segment.write_bytes(b"\x1a\x45\xdf\xa3" + bytes(2000))
    for index in indexes:
        cache.put(keyed[index][1], str(segment))
    return [key for _, key in keyed]


def test_estimate_prices_only_the_chunks_the_cache_lacks(
    api: CloudRenderingAPI, tmp_path: Path
) -> None:
    path = film(tmp_path, COLOURS)
    before = api.estimate_cost(str(path), chunk_frames=CHUNK)
    assert (before.chunks, before.reused_chunks) == (4, 0)
    keys = cache_chunks(api, path, [0, 1, 2], tmp_path)
    assert all(keys) and len(set(keys)) == 4
    after = api.estimate_cost(str(path), chunk_frames=CHUNK)
    assert (after.frames, after.chunks, after.reused_chunks) == (60, 4, 3)
    assert after.node_seconds == pytest.approx(before.node_seconds / 4, rel=0.01)
    assert after.cost < before.cost / 3
    # An estimate is a question: it counts no hit and no miss.
    assert (api.cache_stats().hits, api.cache_stats().misses) == (0, 0)
    off = api.estimate_cost(str(path), chunk_frames=CHUNK, use_cache=False)
    assert (off.reused_chunks, off.cost) == (0, before.cost)
    # The last clip recoloured: its chunk is to render, and it is the one the cache lacked.
    edited = film(tmp_path, [*COLOURS[:3], "#000000"], "q.json")
    assert api.estimate_cost(str(edited), chunk_frames=CHUNK).reused_chunks == 3
    # The first clip recoloured: its chunk changed, and the last was never cached.
    edited = film(tmp_path, ["#000000", *COLOURS[1:]], "r.json")
    assert api.estimate_cost(str(edited), chunk_frames=CHUNK).reused_chunks == 2


def test_submit_records_the_reduced_estimate_and_the_choice(
    api: CloudRenderingAPI, tmp_path: Path
) -> None:
    path = film(tmp_path, COLOURS)
    cache_chunks(api, path, [0, 1, 2, 3], tmp_path)
    cached = api.submit_job(str(path), output=str(tmp_path / "a.mp4"), chunk_frames=CHUNK)
    fresh = api.submit_job(
        str(path), output=str(tmp_path / "b.mp4"), chunk_frames=CHUNK, use_cache=False
    )
    assert api.store.spec(cached)["use_cache"] is True
    assert api.store.spec(fresh)["use_cache"] is False
    reused_cost = api.get_job_status(cached).estimated_cost or 0.0
    full_cost = api.get_job_status(fresh).estimated_cost or 0.0
    assert reused_cost == 0.0 < full_cost
    # The cost ceiling sees the same numbers: a cached re-render fits under a tiny limit.
    api.submit_job(
        str(path), output=str(tmp_path / "c.mp4"), chunk_frames=CHUNK, max_cost=full_cost / 10
    )


def test_cache_stats_and_clear(api: CloudRenderingAPI, tmp_path: Path) -> None:
    path = film(tmp_path, COLOURS)
    empty = api.cache_stats()
    assert (empty.entries, empty.bytes, empty.max_bytes) == (0, 0, api.settings.cache_max_bytes)
    cache_chunks(api, path, [0, 1], tmp_path)
    stats = api.cache_stats()
    assert (stats.entries, stats.bytes) == (2, 2 * 2004)
    assert api.clear_cache() == 2
    assert api.cache_stats().entries == 0
    assert api.estimate_cost(str(path), chunk_frames=CHUNK).reused_chunks == 0
    assert not list((tmp_path / "storage").rglob("cache/*"))


def test_job_quote_without_storage_reuses_nothing(api: CloudRenderingAPI, tmp_path: Path) -> None:
    path = film(tmp_path, COLOURS)
    cache_chunks(api, path, [0], tmp_path)
    timeline = read_project(str(path)).timeline
    quoted = job_quote(
        timeline,
        api.store,
        api.settings,
        slots=1,
        chunk_frames=CHUNK,
        storage_url=None,
        use_cache=True,
    )
    assert (quoted.chunks, quoted.reused_chunks) == (4, 0)


def test_the_estimate_of_a_hardware_encoding_project_counts_what_its_job_reuses(
    api: CloudRenderingAPI, tmp_path: Path
) -> None:
    """A project asking for hardware encoding (the editor's) is planned on the GPU render
    group; its estimate looks the cache up under that group's keys too, not the CPU group's."""
    cpu, gpu = "a" * 16, "b" * 16
    for name, fingerprint, slots, compositor in (("cpu1", cpu, 4, "numpy"), ("gpu1", gpu, 1, GPU)):
        beat = {
            "name": name,
            "fingerprint": fingerprint,
            "concurrency": slots,
            "compositor": compositor,
            "hardware_encoders": [],  # none opens: the job is encoded in software and cached
            "queues": [QUEUE_RENDER, render_queue(fingerprint)],
            "pid": 1,
            "since": 0.0,
            "time": time.time(),
        }
        api.store.redis.set(keys.node(name), json.dumps(beat), ex=60)
    clips = [clip(f"c{i}", i / 2, (i + 1) / 2, colour) for i, colour in enumerate(COLOURS)]
    export = {"preset": "ultrafast", "hardware_acceleration": True}
    path = write_project(
        tmp_path / "p.json", project([video_track("v", clips)], settings={"export": export})
    )
    timeline = read_project(str(path)).timeline
    assert timeline.export.hardware_acceleration
    media = media_ids({}, timeline=timeline, client=api.store.redis)
    # The keys plan_job gives the job: those of the GPU group, the one a GPU job is pinned to.
    fingerprint = job_fingerprint(api.store.heartbeats(), render_fingerprint(), True)
    assert fingerprint == gpu
    keyed = keyed_plan(timeline, api.dispatcher.slots(), CHUNK, media, gpu, set())
    assert all(key for _, key in keyed)
    cache = open_cache(str(api.storage_url), api.store.redis, api.settings)
    segment = tmp_path / "segment.mkv"
    segment.write_bytes(b"\x1a\x45\xdf\xa3" + bytes(2000))
    for _, key in keyed:
        cache.put(key, str(segment))
    quoted = api.estimate_cost(str(path), chunk_frames=CHUNK)
    assert (quoted.chunks, quoted.reused_chunks) == (4, 4)

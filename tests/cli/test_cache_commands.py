"""`cloudrender cache stats|clear`, `--no-cache`, and "reused N of M chunks" in `status` and in
the render's progress line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chunking.timeline.project import read_project
from cli.render_progress import ChunkProgress, JobProgress, progress_detail
from cli.status_view import render_status
from orchestrator.api import CloudRenderingAPI
from orchestrator.api_cache import open_cache
from orchestrator.costing import NODE_CLASS, record_throughput
from orchestrator.job_record import ChunkRecord, ChunkState, JobRecord, JobState
from orchestrator.planning import keyed_plan, media_ids
from tests.helpers import CLI, clip
from tests.media import project, video_track, write_project
from workers.fingerprint import render_fingerprint

pytestmark = pytest.mark.timeout(300)

CHUNK = 15
COLOURS = ["#224466", "#aa3300", "#33aa00"]


def film(tmp: Path, colours: list[str] = COLOURS) -> Path:
    """One half-second clip per 15-frame chunk: every chunk has a key of its own."""
    clips = [clip(f"c{i}", i / 2, (i + 1) / 2, colour) for i, colour in enumerate(colours)]
    doc = project([video_track("v", clips)], settings={"export": {"preset": "ultrafast"}})
    return write_project(tmp / "p.json", doc)


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    return tmp_path / "storage"


@pytest.fixture
def run(cli: CLI, redis_url: str, storage: Path) -> CLI:
    """The command line on the test Redis (no workers: nothing here renders) and storage."""
    return cli.with_env(
        CLOUDRENDER_BROKER_URL=redis_url, CLOUDRENDER_STORAGE_URL=f"file://{storage}"
    )


def fill_cache(
    redis_url: str, storage: Path, path: Path, count: int, chunk_frames: int | None = CHUNK
) -> int:
    """Cache segments for the first `count` chunks of the project, as a finished job would;
    return how many chunks the plan has."""
    api = CloudRenderingAPI(redis_url, storage_url=f"file://{storage}")
    # A known throughput: the estimate needs no calibration render.
    record_throughput(api.store.redis, NODE_CLASS, 1.0, 30, 1.0)
    timeline = read_project(str(path)).timeline
    media = media_ids({}, timeline=timeline, client=api.store.redis)
    keyed = keyed_plan(timeline, api.dispatcher.slots(), chunk_frames, media, render_fingerprint())
    cache = open_cache(str(api.storage_url), api.store.redis, api.settings)
    segment = path.parent / "segment.mkv"
    segment.write_bytes(bytes(3 * 2**20))
    for _, key in keyed[:count]:
        cache.put(key, str(segment))
    cache.present([key for _, key in keyed], count=True)  # one job's lookup: 2 hits, 1 miss
    return len(keyed)


def test_stats_then_clear(run: CLI, redis_url: str, storage: Path, tmp_path: Path) -> None:
    empty = run("cache", "stats")
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout.strip() == "0 cached segments, 0 bytes of 50.0 GiB (0 %); no lookups yet"
    fill_cache(redis_url, storage, film(tmp_path), 2)
    text = run("cache", "stats").stdout.strip()
    assert text == (
        "2 cached segments, 6.0 MiB of 50.0 GiB (0 %); hit rate 67 % (2 of 3 chunk lookups)"
    )
    stats = json.loads(run("cache", "stats", "--json").stdout)
    assert stats == {
        "entries": 2,
        "bytes": 6 * 2**20,
        "max_bytes": 50 * 2**30,
        "hits": 2,
        "misses": 1,
        "hit_rate": 0.6667,
    }
    capped = run.with_env(CLOUDRENDER_CACHE_MAX_BYTES=str(2**30))("cache", "stats")
    assert "6.0 MiB of 1.0 GiB (1 %)" in capped.stdout
    cleared = run("cache", "clear")
    assert cleared.returncode == 0, cleared.stderr
    assert cleared.stdout.strip() == "removed 2 cached segments (6.0 MiB)"
    assert not list(storage.rglob("cache/*"))
    assert json.loads(run("cache", "stats", "--json").stdout)["entries"] == 0
    again = json.loads(run("cache", "clear", "--json").stdout)
    assert again == {"removed": 0, "bytes": 0}


def test_cache_needs_storage_said_in_command_line_words(cli: CLI, redis_url: str) -> None:
    bare = cli.with_env(CLOUDRENDER_BROKER_URL=redis_url, CLOUDRENDER_STORAGE_URL=None)
    result = bare("cache", "stats")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--storage URL or set CLOUDRENDER_STORAGE_URL" in lines[0]


def test_estimate_counts_only_chunks_to_render_unless_no_cache(
    run: CLI, redis_url: str, storage: Path, tmp_path: Path
) -> None:
    path = film(tmp_path)
    # Every chunk of the plan the estimate makes (the default one, as `submit` gets).
    chunks = fill_cache(redis_url, storage, path, 99, chunk_frames=None)
    full = json.loads(run("estimate", str(path), "--json", "--no-cache").stdout)
    assert (full["frames"], full["chunks"], full["reused_chunks"]) == (45, chunks, 0)
    cached = run("estimate", str(path), "--json")
    assert cached.returncode == 0, cached.stderr
    with_cache = json.loads(cached.stdout)
    assert (with_cache["chunks"], with_cache["reused_chunks"]) == (chunks, chunks)
    # Nothing is rendered again; what is left to pay for is the merge.
    assert 0 < with_cache["cost"] < full["cost"]
    text = run("estimate", str(path)).stdout.strip()
    assert text.startswith("45 frames") and f"({chunks} cached: not rendered again)" in text
    assert "cached" not in run("estimate", str(path), "--no-cache").stdout


def test_submit_no_cache_reaches_the_job(run: CLI, redis_url: str, tmp_path: Path) -> None:
    path = film(tmp_path)
    record_throughput(CloudRenderingAPI(redis_url).store.redis, NODE_CLASS, 1.0, 30, 1.0)
    jobs = []
    for extra in ([], ["--no-cache"]):
        done = run("submit", str(path), "-o", str(tmp_path / f"o{len(jobs)}.mp4"), *extra)
        assert done.returncode == 0, done.stderr
        jobs.append(done.stdout.strip().splitlines()[-1])
    api = CloudRenderingAPI(redis_url)
    assert [api.store.spec(job)["use_cache"] for job in jobs] == [True, False]


def test_status_says_how_many_chunks_were_reused() -> None:
    chunks = [
        ChunkRecord(0, 0, 30, ChunkState.DONE, reused=True, frames_done=30),
        ChunkRecord(1, 30, 60, ChunkState.DONE, reused=True, frames_done=30),
        ChunkRecord(2, 60, 90, ChunkState.RUNNING, node="n", frames_done=5, started_at=1.0),
    ]
    job = JobRecord(
        id="j", state=JobState.RENDERING, frames=90, frames_done=65, chunks=chunks, started_at=1.0
    )
    text = render_status(job, now=3.0)
    assert "reused 2 of 3 chunks from the segment cache" in text.splitlines()
    fresh = JobRecord(id="k", state=JobState.RENDERING, frames=90, chunks=chunks[2:])
    assert "reused" not in render_status(fresh, now=3.0)
    live = JobProgress(
        90, [ChunkProgress(c.index, c.frames, c.frames_done, c.state, c.reused) for c in chunks]
    )
    assert progress_detail(live) == "chunks 2/3 (reused 2 of 3 chunks) #2:16%"
    live.chunks[0].reused = live.chunks[1].reused = False
    assert progress_detail(live) == "chunks 2/3 #2:16%"


def test_resubmit_reuses_every_chunk_and_says_so(
    cli: CLI, cluster: str, tmp_path: Path, storage: Path
) -> None:
    run = cli.with_env(CLOUDRENDER_BROKER_URL=cluster, CLOUDRENDER_STORAGE_URL=f"file://{storage}")
    path = film(tmp_path)
    statuses = []
    for name in ("first", "again"):
        out = tmp_path / f"{name}.mp4"
        submitted = run("submit", str(path), "-o", str(out))
        assert submitted.returncode == 0, submitted.stderr
        job = submitted.stdout.strip().splitlines()[-1]
        watched = run("status", job, "--watch")
        assert watched.returncode == 0 and "completed" in watched.stdout, watched.stdout
        statuses.append((watched.stdout, json.loads(run("status", job, "--json").stdout)))
    (first_text, first), (again_text, again) = statuses
    assert first["reused_chunks"] == 0 and "reused" not in first_text
    chunks = len(again["chunks"])
    assert again["reused_chunks"] == chunks and all(c["reused"] for c in again["chunks"])
    assert f"reused {chunks} of {chunks} chunks from the segment cache" in again_text
    assert (tmp_path / "again.mp4").read_bytes() == (tmp_path / "first.mp4").read_bytes()
    stats = json.loads(run("cache", "stats", "--json").stdout)
    assert stats["entries"] >= 1 and stats["hits"] >= chunks


def test_render_twice_on_the_private_cluster_reuses_the_unchanged_chunks(
    cli: CLI, tmp_path: Path
) -> None:
    """The editor's loop with the default `cloudrender render` (a private cluster each time):
    the segment cache lives in lasting storage, so the second render of an edited project
    renders only the edited chunk, and the cache is indexed again from storage."""
    run = cli.with_env(
        CLOUDRENDER_BROKER_URL=None,
        CLOUDRENDER_STORAGE_URL=None,
        CLOUDRENDER_EMBEDDED_DIR=str(tmp_path / "embedded"),
    )
    results = []
    for name, colours in (("first", COLOURS), ("edited", [*COLOURS[:2], "#ffffff"])):
        folder = tmp_path / name
        folder.mkdir()
        path = film(folder, colours)
        out = tmp_path / f"{name}.mkv"
        done = run("render", str(path), "-o", str(out), "--chunk-frames", str(CHUNK), "--json")
        assert done.returncode == 0, done.stderr
        results.append(json.loads(done.stdout))
    first, edited = results
    assert first["reused_chunks"] == 0
    assert edited["reused_chunks"] == len(COLOURS) - 1
    # The job's own objects are gone; only the cache stays in the lasting storage.
    storage = tmp_path / "embedded" / "storage"
    assert sorted(p.name for p in storage.iterdir()) == ["cache"]
    # Local renders counted their lookups in private Redis servers, gone now: `cache stats`
    # says so instead of "no lookups yet" after a render that reused chunks.
    stats = run("cache", "stats")
    assert stats.returncode == 0, stats.stderr
    assert "4 cached segments" in stats.stdout and "no lookups yet" not in stats.stdout
    assert "hit rate not kept for local renders" in stats.stdout
    shown = json.loads(run("cache", "stats", "--json").stdout)
    assert shown["entries"] == 4 and shown["hit_rate"] is None


@pytest.mark.parametrize("command", [["cache", "stats"], ["cache", "clear"], ["render"]])
def test_a_local_storage_folder_that_cannot_be_made_is_one_line(
    cli: CLI, tmp_path: Path, command: list[str]
) -> None:
    """CLOUDRENDER_EMBEDDED_DIR under a file (or a folder not ours): the local renders' storage
    cannot be made, and the command said so with a NotADirectoryError traceback."""
    (tmp_path / "a-file").write_text("")
    local = cli.with_env(
        CLOUDRENDER_EMBEDDED_DIR=str(tmp_path / "a-file" / "embedded"),
        CLOUDRENDER_STORAGE_URL=None,
        CLOUDRENDER_BROKER_URL=None,
    )
    doc = project([video_track("v", [clip("c", 0, 1)])])
    args = [str(write_project(tmp_path / "p.json", doc)), "-o", str(tmp_path / "out.mp4")]
    done = local(*command, *(args if command == ["render"] else []))
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert str(tmp_path / "a-file" / "embedded") in done.stderr
    assert "CLOUDRENDER_EMBEDDED_DIR" in done.stderr
    assert not (tmp_path / "out.mp4").exists()

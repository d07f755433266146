"""`cloudrender render` without a broker: a private cluster, started and stopped by the CLI."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from cli.render_progress import ChunkProgress, JobProgress, progress_detail
from orchestrator.job_record import ChunkState
from tests.helpers import CLI
from tests.media import make_video, project, solid, video_track, write_project

pytestmark = pytest.mark.timeout(300)


def descendants(root: int) -> set[int]:
    """Pids of every process below `root` (from /proc's parent links)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of `pids` that still exist and are not zombies."""
    living = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            living.add(pid)
    return living


@pytest.fixture
def cli(cli: CLI) -> CLI:
    """No broker in the command's environment: it must start a private cluster of its own."""
    return cli.with_env(CLOUDRENDER_BROKER_URL=None)


def test_render_starts_and_stops_a_private_cluster(cli: CLI, tmp_path: Path) -> None:
    doc = project(
        [video_track("v", [{"id": "c", "start_time": 0, "end_time": 2, **solid("#3366ff")}])],
        settings={"export": {"preset": "ultrafast"}},
    )
    path = write_project(tmp_path / "p.json", doc)
    out = tmp_path / "out.mp4"
    proc = cli.start("render", str(path), "-o", str(out), "--workers", "2", "--json")
    children: set[int] = set()
    while proc.poll() is None:
        children |= descendants(proc.pid)
        time.sleep(0.2)
    stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 0, stderr
    summary = json.loads(stdout)
    assert summary["mode"] == "distributed" and summary["frames"] == 60
    # The keys --direct's summary has, so a script need not know which mode ran.
    assert (summary["encoder"], summary["hardware"]) == ("libx264", False)
    assert summary["chunk_count"] >= 2
    assert out.stat().st_size == summary["bytes"]
    assert len(children) >= 3  # redis-server, the worker and its pool processes
    assert alive(children) == set()


def test_ctrl_c_leaves_no_process_and_no_file(cli: CLI, tmp_path: Path) -> None:
    src = make_video(tmp_path / "src.mp4", frames=300, size=(640, 360))
    doc = project(
        [
            video_track(
                "v",
                [
                    {
                        "id": "c",
                        "start_time": 0,
                        "end_time": 10,
                        "source": {"File": "src.mp4"},
                        "effects": ["b"],
                    }
                ],
            )
        ],
        size=(640, 360),
        effects=[{"id": "b", "effect_type": "Blur"}],
        settings={"export": {"preset": "veryslow"}},  # still rendering when Ctrl-C comes
    )
    assert src.exists()
    path = write_project(tmp_path / "p.json", doc)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    jobs = Path(os.environ["CLOUDRENDER_EMBEDDED_DIR"], "storage", "jobs")
    before = set(jobs.iterdir()) if jobs.exists() else set()
    proc = cli.start(
        "render", str(path), "-o", str(out_dir / "x.mp4"), "--workers", "2", "--chunk-frames", "30"
    )
    # Wait until the workers are up and rendering, then interrupt like a terminal's Ctrl-C.
    children: set[int] = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(children) < 4:
        children |= descendants(proc.pid)
        time.sleep(0.2)
    time.sleep(2.0)
    children |= descendants(proc.pid)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert len(children) >= 4
    assert alive(children) == set()
    assert list(out_dir.iterdir()) == []
    # Its job's segments do not stay in the lasting storage for ever
    assert not _new_segments(jobs, before)


def test_progress_shows_the_running_chunks() -> None:
    chunks = [
        ChunkProgress(0, 30, 30, ChunkState.DONE),
        ChunkProgress(1, 30, 15, ChunkState.RUNNING),
        ChunkProgress(2, 30, 3, ChunkState.RUNNING),
        ChunkProgress(3, 30, 0, ChunkState.PENDING),
    ]
    state = JobProgress(120, chunks)
    assert progress_detail(state) == "chunks 1/4 #1:50% #2:10%"
    assert progress_detail(state, shown=1) == "chunks 1/4 #1:50% +1"
    assert progress_detail(JobProgress(10, [ChunkProgress(0, 10)])) == "chunks 0/1"


@pytest.mark.parametrize("victim", ["workers", "redis"])
def test_a_private_cluster_killed_mid_render_ends_the_render_in_one_line(
    cli: CLI, tmp_path: Path, victim: str
) -> None:
    """The OOM killer takes the private workers (which also plan and fail over) or its Redis:
    the render must say so and exit, not wait for ever (workers) or 90 s (Redis)."""
    make_video(tmp_path / "src.mp4", frames=300, size=(640, 360))
    doc = project(
        [video_track("v", [{"id": "c", "start_time": 0, "end_time": 10,
                            "source": {"File": "src.mp4"}, "effects": ["b"]}])],
        size=(640, 360),
        effects=[{"id": "b", "effect_type": "Blur"}],
        settings={"export": {"preset": "medium"}},
    )  # fmt: skip
    path = write_project(tmp_path / "p.json", doc)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    jobs = Path(os.environ["CLOUDRENDER_EMBEDDED_DIR"], "storage", "jobs")
    before = set(jobs.iterdir()) if jobs.exists() else set()
    proc = cli.start(
        "render", str(path), "-o", str(out_dir / "x.mp4"), "--workers", "2", "--chunk-frames", "30",
        "--no-cache",  # every chunk renders into the job's own objects
    )  # fmt: skip
    worker: int | None = None
    children: set[int] = set()
    deadline = time.monotonic() + 60
    while worker is None and time.monotonic() < deadline:
        children |= descendants(proc.pid)
        for pid in children:
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"orchestrator.local_workers" in command and os.getpgid(pid) == pid:
                worker = pid
        time.sleep(0.2)
    assert worker is not None, "the private workers never started"
    # Rendering, a first segment stored: its objects must not outlive the render.
    deadline = time.monotonic() + 120
    while not _new_segments(jobs, before) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _new_segments(jobs, before), "no segment was ever stored"
    assert proc.poll() is None
    children |= descendants(proc.pid)
    if victim == "workers":
        os.killpg(worker, signal.SIGKILL)
    else:
        (server,) = [p for p in children if b"redis-server" in _command(p)]
        os.kill(server, signal.SIGKILL)
    killed = time.monotonic()
    _, stderr = proc.communicate(timeout=90)
    assert time.monotonic() - killed < 40
    assert proc.returncode not in (0, None), stderr
    said = {"workers": "the local render workers", "redis": "the private Redis of this render"}
    assert f"{said[victim]} died (killed by SIGKILL)" in stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert alive(children) == set()
    assert list(out_dir.iterdir()) == []
    # Its job's segments do not stay in the lasting storage for ever
    assert not _new_segments(jobs, before)


def _new_segments(jobs: Path, before: set[Path]) -> list[Path]:
    """Segments stored under job folders that were not there before."""
    found = set(jobs.iterdir()) - before if jobs.exists() else set()
    return [p for job in found for p in job.glob("segments/*.mkv")]


def _command(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_the_local_renders_cache_is_seen_and_cleared_without_a_cluster(
    cli: CLI, tmp_path: Path
) -> None:
    """`cloudrender render` keeps its segment cache on this machine: `cache stats|clear`
    without --broker or --storage are about that one (they said "no broker")."""
    local = cli.with_env(CLOUDRENDER_EMBEDDED_DIR=str(tmp_path / "embedded"),
                         CLOUDRENDER_STORAGE_URL=None)  # fmt: skip
    doc = project(
        [video_track("v", [{"id": "c", "start_time": 0, "end_time": 2, **solid("#3366ff")}])],
        settings={"export": {"preset": "ultrafast"}},
    )
    path = write_project(tmp_path / "p.json", doc)
    done = local("render", str(path), "-o", str(tmp_path / "out.mp4"), "--workers", "2")
    assert done.returncode == 0, done.stderr
    stats = local("cache", "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    entries = json.loads(stats.stdout)["entries"]
    assert entries >= 1  # its chunks (and audio mix, if any)
    cleared = local("cache", "clear", "--json")
    assert cleared.returncode == 0, cleared.stderr
    assert json.loads(cleared.stdout)["removed"] == entries
    assert json.loads(local("cache", "stats", "--json").stdout)["entries"] == 0


def test_a_relative_embedded_dir_is_taken_from_the_working_directory(
    cli: CLI, tmp_path: Path
) -> None:
    """CLOUDRENDER_EMBEDDED_DIR=renders-cache: `render` and `cache stats` failed with a
    ValueError traceback (a relative path is no file URI); both use that folder under the
    directory they run in, and the second render there reuses the first's chunks."""
    local = cli.with_env(CLOUDRENDER_EMBEDDED_DIR="renders-cache", CLOUDRENDER_STORAGE_URL=None)
    doc = project(
        [video_track("v", [{"id": "c", "start_time": 0, "end_time": 1, **solid("#3366ff")}])],
        settings={"export": {"preset": "ultrafast"}},
    )
    write_project(tmp_path / "p.json", doc)
    outcomes = []
    for name in ("a.mp4", "b.mp4"):
        done = local("render", "p.json", "-o", name, "--workers", "1", "--json", cwd=tmp_path)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        outcomes.append(json.loads(done.stdout)["reused_chunks"])
    assert outcomes[0] == 0 and outcomes[1] >= 1
    assert list((tmp_path / "renders-cache" / "storage" / "cache").iterdir())
    stats = local("cache", "stats", "--json", cwd=tmp_path)
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["entries"] >= 1


def test_a_project_asking_for_hardware_encoding_is_cached_where_none_opens(
    cli: CLI, tmp_path: Path
) -> None:
    """The editor's projects ask for hardware encoding (the demo too); on a machine where no
    hardware encoder opens, the private workers encode in software, so the chunks are kept
    and an unchanged re-render reuses them all (it reused none)."""
    local = cli.with_env(CLOUDRENDER_EMBEDDED_DIR=str(tmp_path / "embedded"))
    doc = project(
        [video_track("v", [{"id": "c", "start_time": 0, "end_time": 2, **solid("#3366ff")}])],
        settings={"export": {"preset": "ultrafast", "hardware_acceleration": True}},
    )
    path = write_project(tmp_path / "p.json", doc)

    def render(name: str) -> dict[str, Any]:
        done = local("render", str(path), "-o", str(tmp_path / name), "--workers", "2", "--json")
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    first, again = render("first.mp4"), render("again.mp4")
    if first["hardware"]:
        pytest.skip("a hardware encoder opens on this machine: its jobs are not cached")
    assert first["reused_chunks"] == 0
    # Its two chunks are one solid colour, so they share a content key: both workers put it at
    # once, and now and then one's sha256 was kept beside the other's segment, which the next
    # render found damaged and rendered every chunk again (it reused none).
    assert again["reused_chunks"] == again["chunk_count"] >= 1


def test_an_output_name_too_long_is_refused_before_a_cluster_starts(
    cli: CLI, tmp_path: Path
) -> None:
    doc = project(
        [video_track("v", [{"id": "c", "start_time": 0, "end_time": 1, **solid("#3366ff")}])]
    )
    path = write_project(tmp_path / "p.json", doc)
    out = tmp_path / ("n" * 300 + ".mp4")
    began = time.monotonic()
    result = cli("render", str(path), "-o", str(out), "--workers", "1")
    assert result.returncode == 2
    assert "is 304 bytes long" in result.stderr and "Traceback" not in result.stderr
    assert time.monotonic() - began < 30  # refused up front, not after rendering every chunk
    assert os.listdir(tmp_path) == ["p.json"]


def test_an_output_that_is_a_clips_media_is_refused_before_a_cluster_starts(
    cli: CLI, tmp_path: Path
) -> None:
    source = make_video(tmp_path / "interview.mp4", frames=10)
    before = source.read_bytes()
    doc = project([video_track("v", [{"id": "talk", "start_time": 0, "end_time": 0.3,
                                      "source": {"File": str(source)}}])])  # fmt: skip
    path = write_project(tmp_path / "p.json", doc)
    result = cli("render", str(path), "-o", str(source), "--workers", "1")
    assert result.returncode == 2
    assert "is the media of clip 'talk'" in result.stderr and "Traceback" not in result.stderr
    assert source.read_bytes() == before


def test_what_the_submit_needs_is_computed_while_the_workers_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    # Given a project of one video (the CLI's work before a private cluster's workers are ready)
    from chunking.timeline.project import read_project
    from cli.render_prewarm import prewarm
    from orchestrator import estimate_inputs
    from workers import fingerprint
    from workers import probe_keyframes as probe

    video = make_video(tmp_path / "a.mp4", frames=120, gop=30)
    clip = {"id": "c", "start_time": 0, "end_time": 4, "source": {"File": str(video)}}
    path = write_project(tmp_path / "p.json", project([video_track("v", [clip])]))
    reads: list[str] = []
    real = probe._keyframe_interval

    def counted(name: str) -> float | None:
        reads.append(name)
        return real(name)

    monkeypatch.setattr(probe, "_keyframe_interval", counted)
    opened: list[str] = []
    real_probe = estimate_inputs._probe

    def probed(name: str) -> tuple[bool, tuple[int, int] | None]:
        opened.append(name)
        return real_probe(name)

    monkeypatch.setattr(estimate_inputs, "_probe", probed)
    monkeypatch.setattr(estimate_inputs, "_PROBED", {})
    fingerprint._fingerprint.cache_clear()
    fingerprint._parts.cache_clear()
    loaded = read_project(str(path))
    kept: list[Any] = []

    # When the prewarm runs, as it does meanwhile, once the private Redis answers
    prewarm(loaded, None, True, None, kept.append, redis_url, (tmp_path / "store").as_uri())

    # Then the fingerprint is this process's, and the submit's plan reads no file again
    assert fingerprint._fingerprint.cache_info().currsize == 1
    assert probe.min_chunk_frames(read_project(str(path)).timeline) == 60  # two 1 s GOPs
    assert reads == [str(video)]
    # nor do its quote and estimate (each probes the files for their size and sound)
    again = read_project(str(path)).timeline
    for _ in range(2):
        assert estimate_inputs.source_sizes(again) == {str(video): (160, 90)}
        estimate_inputs.audio_work(again)
    assert opened == [str(video)]
    # and the client it keeps talks to the cluster's Redis already
    api = kept[0].api
    assert api.broker_url == redis_url and api.store.redis.connection_pool._created_connections

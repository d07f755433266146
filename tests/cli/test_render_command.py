"""Distributed renders on a real Redis with real worker processes, compared with --direct."""

from __future__ import annotations

import errno
import glob
import os
import threading
import time
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from chunking.timeline.project import Project, read_project
from cli import job_follow, render_command
from cli.render_command import _fetch, render_distributed
from common.errors import RenderError
from orchestrator.api import CloudRenderingAPI
from orchestrator.job_events import EventCursor
from orchestrator.job_record import JobRecord, JobState
from providers.storage.base import map_storage_errors
from tests.media import decode_rgb, make_video, project, solid, video_track
from workers.render import render_to_file

# Two worker slots in the module's `cluster`: chunks render side by side.
pytestmark = [pytest.mark.timeout(600), pytest.mark.cluster(workers=2)]


@pytest.fixture
def storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "storage"
    monkeypatch.setenv("CLOUDRENDER_STORAGE_URL", f"file://{root}")
    return root


def editing_project(tmp: Path) -> dict[str, Any]:
    """Transitions, speed changes, a 24 fps source on a 30 fps timeline, and audio."""
    a = make_video(tmp / "a.mp4", frames=90, gop=12, audio_hz=440.0)
    b = make_video(tmp / "b.mkv", frames=60, fps=24, size=(128, 96), gop=8)
    return project(
        [
            video_track(
                "v",
                [
                    {
                        "id": "one",
                        "start_time": 0,
                        "end_time": 1.0,
                        "source": {"File": str(a)},
                        "speed": 0.5,
                        "source_start": 0.2,
                    },
                    {"id": "two", "start_time": 1.0, "end_time": 2.0, "source": {"File": str(b)}},
                    {
                        "id": "three",
                        "start_time": 2.0,
                        "end_time": 2.6,
                        "source": {"File": str(a)},
                        "speed": 2.0,
                    },
                ],
            ),
            video_track(
                "top",
                [
                    {
                        "id": "card",
                        "start_time": 0.5,
                        "end_time": 1.5,
                        "opacity": 0.5,
                        **solid("#ff0000"),
                        "transform": {"scale_x": 0.3, "scale_y": 0.3},
                    }
                ],
            ),
        ],
        transitions=[
            {
                "id": "t1",
                "transition_type": "Dissolve",
                "from_clip_id": "one",
                "to_clip_id": "two",
                "duration": 0.4,
            },
            {
                "id": "t2",
                "transition_type": "Wipe",
                "direction": "left",
                "from_clip_id": "two",
                "to_clip_id": "three",
                "duration": 0.3,
            },
        ],
        subtitles=[{"id": "s", "text": "chunks", "start_time": 0.9, "end_time": 1.7}],
        settings={"export": {"preset": "ultrafast"}},
    )


def lossless(doc: dict[str, Any], tmp: Path) -> Project:
    return read_project(doc, base_dir=str(tmp)).with_export({"container": "mkv", "lossless": True})


@pytest.mark.parametrize("chunk_frames", [1, 7, None])
def test_lossless_distributed_equals_direct(
    cluster: str, storage: Path, tmp_path: Path, chunk_frames: int | None
) -> None:
    prepared = lossless(editing_project(tmp_path), tmp_path)
    tl = prepared.timeline
    direct = tmp_path / "direct.mkv"
    render_to_file(tl, str(direct))
    out = tmp_path / "distributed.mkv"
    summary = render_distributed(
        prepared,
        str(out),
        workers=2,
        chunk_frames=chunk_frames,
        broker_url=cluster,
    )
    assert summary["frames"] == tl.frames == 78
    if chunk_frames == 1:
        assert summary["chunk_count"] == 78
    ours, reference = decode_rgb(out), decode_rgb(direct)
    assert len(ours) == len(reference) == tl.frames
    for t, (a, b) in enumerate(zip(ours, reference, strict=True)):
        assert np.array_equal(a, b), f"frame {t} differs from the direct render"
    assert summary["audio"] == "flac"  # a lossless export's sound is lossless too
    assert list(storage.rglob("*.mkv")) == [] and list(storage.rglob("*.mka")) == []


def test_h264_output_is_a_remux_of_the_segments(
    cluster: str, storage: Path, tmp_path: Path
) -> None:
    prepared = read_project(editing_project(tmp_path), base_dir=str(tmp_path))
    out = tmp_path / "out.mp4"
    summary = render_distributed(
        prepared,
        str(out),
        workers=2,
        chunk_frames=20,
        broker_url=cluster,
        keep_segments=True,
    )
    segments = sorted(glob.glob(str(storage / "jobs" / "*" / "segments" / "*.mkv")))
    assert len(segments) == summary["chunk_count"] == 4
    expected = []
    for path in segments:
        with av.open(path) as seg:
            expected += [bytes(p) for p in seg.demux(video=0) if p.size]
    with av.open(str(out)) as final:
        assert final.streams.video[0].codec_context.name == "h264"
        got = [bytes(p) for p in final.demux(video=0) if p.size]
    assert got == expected  # byte-identical packets: nothing was re-encoded
    assert len(decode_rgb(out)) == prepared.timeline.frames


def test_audio_is_continuous_across_chunk_joins(
    cluster: str, storage: Path, tmp_path: Path
) -> None:
    src = make_video(tmp_path / "tone.mp4", frames=90, audio_hz=440.0)
    doc = project(
        [
            video_track(
                "v", [{"id": "c", "start_time": 0, "end_time": 3.0, "source": {"File": str(src)}}]
            )
        ],
        settings={"export": {"preset": "ultrafast"}},
    )
    prepared = read_project(doc, base_dir=str(tmp_path))
    out = tmp_path / "tone-out.mp4"
    render_distributed(prepared, str(out), workers=2, chunk_frames=10, broker_url=cluster)
    with av.open(str(out)) as c:
        stream = c.streams.audio[0]
        samples = np.concatenate([f.to_ndarray()[0] for f in c.decode(stream)])
        rate = stream.rate
    # RMS in 10 ms windows stays at the tone's level through every chunk boundary.
    body = samples[rate // 10 : -rate // 10]
    windows = body[: len(body) // 480 * 480].reshape(-1, 480)
    rms = np.sqrt((windows**2).mean(axis=1))
    assert rms.min() > 0.3 and rms.max() < 0.4


def test_undecodable_chunk_fails_once_naming_clip_and_range(
    cluster: str, storage: Path, tmp_path: Path
) -> None:
    good = make_video(tmp_path / "good.mp4", frames=60)
    doc = project(
        [
            video_track(
                "v",
                [
                    {"id": "fine", "start_time": 0, "end_time": 1.0, "source": {"File": str(good)}},
                    {
                        "id": "broken",
                        "start_time": 1.0,
                        "end_time": 2.0,
                        "source": {"File": "bad.mp4"},
                    },
                ],
            )
        ]
    )
    (tmp_path / "bad.mp4").write_bytes(good.read_bytes())
    prepared = read_project(doc, base_dir=str(tmp_path))
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 4096)  # corrupted after validation
    out = tmp_path / "never.mp4"
    with pytest.raises(RenderError) as info:
        render_distributed(
            prepared,
            str(out),
            workers=2,
            chunk_frames=30,
            broker_url=cluster,
        )
    assert "clip 'broken'" in str(info.value) and "frames 30-59" in str(info.value)
    assert not out.exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".partial")]


class _FullDisk:
    """An API whose download fails as a full client disk makes it fail."""

    def download(self, job_id: str, destination: str) -> str:
        with map_storage_errors("jobs/j1/output.mp4"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), destination)


def test_a_full_client_disk_names_the_output_and_keeps_the_video() -> None:
    """Not storage's fault (its advice would be to move storage): the output's disk is full,
    and the video waits in storage for `cloudrender download`."""
    with pytest.raises(RenderError) as caught:
        _fetch(_FullDisk(), "j1", "/out/film.mp4", "/out/film.mp4")  # type: ignore[arg-type]
    assert str(caught.value) == (
        "cannot write /out/film.mp4: No space left on device; the video is kept: "
        "cloudrender download j1 -o FILE"
    )


class _OrchestratorGone:
    """A cluster whose orchestrator stopped while the job renders; the job ends after a while."""

    broker_url = "redis://:secret@cluster:6379/0"

    def __init__(self) -> None:
        self.polls = 0

    def wait(self, job_id: str, **_: Any) -> JobRecord:
        self.polls += 1
        time.sleep(0.01)
        done = self.polls > 8
        return JobRecord(id=job_id, state=JobState.COMPLETED if done else JobState.RENDERING)

    def orchestrator_running(self) -> bool:
        return False


def test_an_orchestrator_gone_mid_render_is_said_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing re-sends a lost chunk or the merge without it: the render waited in silence."""
    monkeypatch.setattr(job_follow, "ORCHESTRATOR_PATIENCE", 0.02)
    notes: list[str] = []
    record = job_follow.follow(
        _OrchestratorGone(),
        "j1",
        None,
        notify=notes.append,  # type: ignore[arg-type]
    )
    assert record.state is JobState.COMPLETED
    (note,) = notes
    assert note.startswith("the orchestrator of the cluster at redis://") and "secret" not in note
    assert "is not sent again" in note and "cloudrender orchestrator --broker URL" in note


def test_an_existing_folder_as_output_is_refused_before_rendering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`-o renders/` meant a file inside it: say so before the render, not after the whole job
    ran (the delivery into a folder fails, as --direct refuses it at once)."""

    def no_cluster(*_: Any, **__: Any) -> Any:
        raise AssertionError("a cluster started for an output that cannot be written")

    monkeypatch.setattr(render_command, "_cluster", no_cluster)
    clip = {"id": "c", "start_time": 0, "end_time": 0.2, **solid("#336699")}
    doc = project([video_track("v", [clip])], settings={"export": {"preset": "ultrafast"}})
    folder = tmp_path / "renders"
    folder.mkdir()
    for output in (str(folder), f"{folder}/"):
        with pytest.raises(RenderError, match="exists and is not a regular file: name a file"):
            render_distributed(read_project(doc, base_dir=str(tmp_path)), output, workers=1)
    assert folder.is_dir() and not any(folder.iterdir())


def test_a_full_client_disk_after_a_private_render_promises_no_download() -> None:
    """A private cluster's job ends with the render: no `cloudrender download` can reach it,
    so the message says what does work, and that the chunks are cached for it."""
    with pytest.raises(RenderError) as caught:
        _fetch(
            _FullDisk(),  # type: ignore[arg-type]
            "j1",
            "/out/film.mp4",
            "/out/film.mp4",
            kept=False,
            cached=True,
        )
    assert str(caught.value) == (
        "cannot write /out/film.mp4: No space left on device; nothing was written there and "
        "the video went with the private cluster: render again once it can be written, or "
        "to another -o (it takes the chunks from the segment cache)"
    )


def test_a_render_notices_the_orchestrators_first_heartbeat_within_a_tenth_of_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a cluster whose orchestrator beats for the first time just after the first look
    # (a private cluster's heartbeat follows its workers' readiness by tens of milliseconds)
    looks = iter([False, True])

    class Cluster:
        broker_url = "redis://127.0.0.1:1/0"

        def orchestrator_running(self) -> bool:
            return next(looks)

    slept: list[float] = []
    monkeypatch.setattr(job_follow.time, "sleep", slept.append)

    # When the render waits for it
    job_follow.await_orchestrator(Cluster())  # type: ignore[arg-type]

    # Then it waited one short poll, not a whole progress interval (0.2 s, every render)
    assert len(slept) == 1 and slept[0] <= 0.1


def test_a_render_follows_its_job_by_its_events_not_a_poll(redis_url: str) -> None:
    """The client read the job's record 10 times a second whatever happened; it now reads it
    when the job's event stream says it changed (and every EVENT_WAIT_SECONDS regardless), and
    sees the job's end at once."""
    api = CloudRenderingAPI(redis_url)
    store = api.store
    store.create(JobRecord(id="j1", state=JobState.MERGING, frames=10), {})
    reads: list[float] = []
    wait = api.wait

    def counted(job_id: str, **kwargs: Any) -> JobRecord:
        reads.append(time.monotonic())
        return wait(job_id, **kwargs)

    api.wait = counted  # type: ignore[method-assign]
    api.orchestrator_running = lambda: True  # type: ignore[method-assign]
    ended: list[float] = []
    failed: list[str] = []

    def finish() -> None:
        time.sleep(1.5)
        ended.append(time.monotonic())
        try:
            store.transition("j1", JobState.COMPLETED)
        except Exception as exc:  # noqa: BLE001 - ends the follow below with the reason
            failed.append(repr(exc))

    finisher = threading.Thread(target=finish)
    finisher.start()
    try:
        events = EventCursor(store.redis, "j1")
        record = job_follow.follow(
            api, "j1", None, lost=lambda: failed[0] if failed else None, pause=events.wait
        )
    finally:
        finisher.join()
    done = time.monotonic()
    assert record.state is JobState.COMPLETED
    # 1.5 s without an event: a read at the start, one per EVENT_WAIT_SECONDS, one at the end
    # (a 0.1 s poll made about 15).
    assert len(reads) <= 2 + 1.5 / job_follow.EVENT_WAIT_SECONDS + 1, len(reads)
    assert done - ended[0] < 0.4  # the end seen at its event, not at the next wait's timeout

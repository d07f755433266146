"""The whole life of a job over HTTP, as the editor lives it: the media uploaded by content
hash, the project submitted, progress followed over Server-Sent Events to the end, the video
downloaded, on a real uvicorn in front of a real embedded cluster. The video is the one
``cloudrender render --direct --lossless`` makes of the same project, frame for frame; a second
submit of the project uploads nothing; another user's key finds no such job."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from common.settings import Settings
from orchestrator.http_client import HTTPRenderingAPI
from orchestrator.job_record import JobNotFound, JobState
from tests.helpers import CLI, file_clip
from tests.media import decode_rgb, make_image, make_video, project, solid, video_track

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def editor_project(tmp_path: Path) -> Path:
    """A project on the editor's disk: a video clip, a still over it, a colour after them."""
    media = tmp_path / "editor" / "media"
    media.mkdir(parents=True)
    make_video(media / "shot.mp4", frames=30, size=(320, 180))
    make_image(media / "logo.png", (64, 36), (250, 200, 0, 255))
    # Relative paths, as the editor writes them beside its project file.
    doc = project(
        [
            video_track(
                "v1",
                [
                    file_clip("shot", Path("media/shot.mp4"), 0, 0.6),
                    {"id": "end", "start_time": 0.6, "end_time": 1.0, **solid("#336699")},
                ],
            ),
            video_track("v2", [file_clip("logo", Path("media/logo.png"), 0.2, 0.8)]),
        ],
        settings={"export": {"preset": "ultrafast"}},
    )
    path = tmp_path / "editor" / "film.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def alice(live_server: str, user_key: str) -> Iterator[HTTPRenderingAPI]:
    with HTTPRenderingAPI(live_server, user_key, settings=Settings()) as api:
        yield api


@pytest.fixture
def bob(live_server: str, other_user_key: str) -> Iterator[HTTPRenderingAPI]:
    with HTTPRenderingAPI(live_server, other_user_key, settings=Settings()) as api:
        yield api


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_life_of_a_job_over_http(
    alice: HTTPRenderingAPI,
    bob: HTTPRenderingAPI,
    editor_project: Path,
    storage_dir: Path,
    cli: CLI,
    tmp_path: Path,
) -> None:
    media = editor_project.parent / "media"
    expected = {f"{sha(media / 'shot.mp4')}.mp4", f"{sha(media / 'logo.png')}.png"}

    # Upload and submit: each media file goes up once, by its hash.
    lossless = {"lossless": True}
    job = alice.submit_job(str(editor_project), lossless, output="film.mkv", chunk_frames=8)
    first = alice.last_transfer
    assert first is not None and set(first.uploaded) == expected and first.skipped_bytes == 0
    for name in expected:
        assert (storage_dir / "assets" / name).is_file()

    # Progress over SSE, in order, to the end.
    events: list[dict[str, Any]] = list(alice.events(job))
    names = [e["event"] for e in events]
    assert names[-1] == "completed" and "planned" in names
    assert names.count("chunk_done") == 4  # 30 frames in chunks of 8
    done = [e["status"]["frames_done"] for e in events]
    assert done == sorted(done) and done[-1] == 30
    assert events[-1]["status"]["state"] == "completed"

    record = alice.get_job_status(job)
    assert record.state is JobState.COMPLETED and record.user == "alice"

    # Download: the same frames as the reference render of the same project on this machine.
    ours = tmp_path / "downloaded.mkv"
    assert alice.download(job, str(ours)) == str(ours)
    direct = tmp_path / "direct.mkv"
    reference = cli("render", str(editor_project), "-o", str(direct), "--direct", "--lossless")
    assert reference.returncode == 0, reference.stderr
    got, want = decode_rgb(ours), decode_rgb(direct)
    assert len(got) == len(want) == 30
    for index, (a, b) in enumerate(zip(got, want, strict=True)):
        assert np.array_equal(a, b), f"frame {index} differs from the --direct render"

    # The same project again: nothing to upload.
    again = alice.submit_job(str(editor_project), lossless, output=str(tmp_path / "again.mkv"))
    second = alice.last_transfer
    assert second is not None and second.uploaded == [] and second.uploaded_bytes == 0
    assert second.skipped_bytes == first.uploaded_bytes

    # Another user's key: neither job exists for it.
    for attempt in (
        lambda: bob.get_job_status(job),
        lambda: bob.cancel_job(again),
        lambda: bob.download(job, str(tmp_path / "stolen.mkv")),
        lambda: bob.output_url(job),
        lambda: next(bob.events(job)),
    ):
        with pytest.raises(JobNotFound):
            attempt()
    assert not (tmp_path / "stolen.mkv").exists()
    assert job not in [j.id for j in bob.list_jobs()]
    # Bob could not cancel it: it renders (from the segment cache) to its end.
    assert alice.wait(again, timeout=120).state is JobState.COMPLETED
    # Waited for, it is at its output path, as over Redis: the same frames.
    assert len(decode_rgb(tmp_path / "again.mkv")) == 30

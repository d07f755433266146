"""Uploaded media checked at submit and estimate as ``cloudrender validate`` checks local media:
a clip that cannot play its asset (no picture on a video track, a sound stream that is not
there) is refused in one line naming the clip and the asset, not queued to fail on a worker
after its frames were rendered with the worker's cache path in the error; and an audio-only
output whose sound comes from video clips is rendered, not refused as silent."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient

import chunking.timeline.project as project_module
from tests.media import make_video
from tests.server.conftest import bearer

pytestmark = pytest.mark.timeout(120)


def _sound_only(path: Path) -> Path:
    """Half a second of silent stereo AAC and no video stream."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=48000, layout="stereo")
        assert isinstance(stream, av.AudioStream)
        for pos in range(0, 24000, 1024):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((2, 1024), np.float32), format="fltp", layout="stereo"
            )
            frame.sample_rate, frame.pts = 48000, pos
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _upload(client: TestClient, key: str, path: Path) -> str:
    """PUT ``path`` to the service; its asset reference."""
    data = path.read_bytes()
    name = hashlib.sha256(data).hexdigest() + path.suffix
    answer = client.put(f"/v1/assets/{name}", content=data, headers=bearer(key))
    assert answer.status_code in (200, 201), answer.text
    return "asset:sha256:" + name


def _project(ref: str, **clip: Any) -> dict[str, Any]:
    taken = {"id": "take", "start_time": 0, "end_time": 0.5, "source": {"File": ref}, **clip}
    return {
        "timeline": {"fps": 10, "resolution": [64, 36], "sample_rate": 48000},
        "tracks": [{"id": "v", "track_type": "Video", "clips": [taken]}],
    }


def _refused(client: TestClient, key: str, body: dict[str, Any], words: str, ref: str) -> None:
    """Both routes answer 400 naming the clip, ``words`` and ``ref`` (no disk path), and no
    job is made."""
    jobs_before = client.get("/v1/jobs", headers=bearer(key)).json()["jobs"]
    for route in ("/v1/estimate", "/v1/jobs"):
        answer = client.post(route, json=body, headers=bearer(key))
        assert answer.status_code == 400, (route, answer.text)
        error = answer.json()["error"]
        assert "clip 'take'" in error and words in error and ref in error, error
        assert "/" not in error.replace(ref, ""), error  # no path of this server's disk
    assert client.get("/v1/jobs", headers=bearer(key)).json()["jobs"] == jobs_before


def test_a_sound_file_on_a_video_track_is_refused_at_submit(
    client: TestClient, user_key: str, tmp_path: Path
) -> None:
    ref = _upload(client, user_key, _sound_only(tmp_path / "voice.m4a"))
    _refused(client, user_key, {"project": _project(ref)}, "no video stream", ref)


def test_an_audio_stream_the_asset_lacks_is_refused_at_submit(
    client: TestClient, user_key: str, tmp_path: Path
) -> None:
    shot = make_video(tmp_path / "shot.mp4", frames=5, size=(64, 36), audio_hz=440.0)
    ref = _upload(client, user_key, shot)
    body = {"project": _project(ref, audio_stream=3)}
    _refused(client, user_key, body, "audio_stream 3", ref)


def test_sound_from_a_video_clip_makes_an_audio_only_output(
    client: TestClient, user_key: str, tmp_path: Path
) -> None:
    shot = make_video(tmp_path / "shot.mp4", frames=5, size=(64, 36), audio_hz=440.0)
    ref = _upload(client, user_key, shot)
    answer = client.post(
        "/v1/jobs",
        json={"project": _project(ref), "output_name": "mix.wav"},
        headers=bearer(user_key),
    )
    assert answer.status_code == 201, answer.text
    client.post(f"/v1/jobs/{answer.json()['id']}/cancel", headers=bearer(user_key))


def test_a_clip_playing_past_its_asset_is_warned_of_at_submit(
    client: TestClient, user_key: str, tmp_path: Path
) -> None:
    shot = make_video(tmp_path / "shot.mp4", frames=3, size=(64, 36))
    ref = _upload(client, user_key, shot)
    answer = client.post("/v1/jobs", json={"project": _project(ref)}, headers=bearer(user_key))
    assert answer.status_code == 201, answer.text
    client.post(f"/v1/jobs/{answer.json()['id']}/cancel", headers=bearer(user_key))
    warned = answer.json()["warnings"]
    assert any("clip 'take'" in w and "last frame holds" in w for w in warned), warned


@pytest.mark.parametrize("route", ["/v1/estimate", "/v1/jobs"])
def test_the_project_is_read_once_when_its_media_are_checked(
    client: TestClient,
    user_key: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    route: str,
) -> None:
    """The media check read the whole document a second time, over links to the stored files:
    a 9,000-clip submit took 3.5 times as long. Its clips are pointed at the files instead."""
    shot = make_video(tmp_path / "shot.mp4", frames=3, size=(64, 36))
    ref = _upload(client, user_key, shot)
    reads: list[object] = []
    load = project_module.load_document

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(args[0])
        return load(*args, **kwargs)

    monkeypatch.setattr(project_module, "load_document", counted)
    answer = client.post(route, json={"project": _project(ref)}, headers=bearer(user_key))
    assert answer.status_code in (200, 201), answer.text
    if route == "/v1/jobs":
        client.post(f"/v1/jobs/{answer.json()['id']}/cancel", headers=bearer(user_key))
    assert len(reads) == 1
    if route == "/v1/jobs":  # ... and the media still checked: the clip plays past 3 frames
        warned = answer.json()["warnings"]
        assert any("clip 'take'" in w and "last frame holds" in w for w in warned), warned


def test_a_reference_outside_the_clips_does_not_switch_the_check_off(
    client: TestClient, user_key: str, tmp_path: Path
) -> None:
    """Every asset-like string of the document had to be stored for the check to run: a note
    naming one that is not let a sound file on a video track be queued to fail on a worker."""
    ref = _upload(client, user_key, _sound_only(tmp_path / "voice.m4a"))
    body = {"project": {**_project(ref), "metadata": {"note": f"asset:sha256:{'0' * 64}.mp4"}}}
    _refused(client, user_key, body, "no video stream", ref)

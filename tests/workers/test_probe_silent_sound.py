"""A clip on an Audio track whose file has no sound (a picture-only export dropped on the
music track) is a warning naming the clip, in validate and render alike: it rendered silence
with nothing said. A muted clip, or one whose file has sound, is not warned about."""

from __future__ import annotations

from pathlib import Path

import pytest

from chunking.timeline.model import Timeline
from chunking.timeline.studio import load_project
from tests.media import make_video, project
from workers.probe import header_warnings, media_report

WARNING = "clip 'm': its media has no sound (no audio stream): on an audio track it is silent"


def _timeline(tmp_path: Path, media: Path, kind: str, **extra: object) -> Timeline:
    clip = {"id": "m", "start_time": 0, "end_time": 1, "source": {"File": str(media)}, **extra}
    return load_project(project([{"id": "a", "track_type": kind, "clips": [clip]}]), str(tmp_path))


def test_a_soundless_file_on_an_audio_track_is_a_warning(tmp_path: Path) -> None:
    media = make_video(tmp_path / "picture.mp4", frames=30)
    timeline = _timeline(tmp_path, media, "Audio")
    problems, warnings = media_report(timeline, str(tmp_path))
    assert problems == [] and warnings == [WARNING]
    assert header_warnings(timeline) == [WARNING]


@pytest.mark.parametrize(
    ("kind", "sound", "extra"),
    [("Video", False, {}), ("Audio", True, {}), ("Audio", False, {"muted": True})],
)
def test_not_when_the_silence_is_meant(
    tmp_path: Path, kind: str, sound: bool, extra: dict[str, object]
) -> None:
    media = make_video(tmp_path / "clip.mp4", frames=30, audio_hz=440.0 if sound else None)
    timeline = _timeline(tmp_path, media, kind, **extra)
    assert media_report(timeline, str(tmp_path)) == ([], [])
    assert header_warnings(timeline) == []

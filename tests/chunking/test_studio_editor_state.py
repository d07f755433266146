"""The current editor's saved project: its Rust project state (``Project`` in chatman-media/
timeline-studio src-tauri app state, mirrored in src/types/generated/tauri-bindings.ts; MIT with
the Commons Clause, Copyright (c) 2023-2025 Alexander Kireyev (Chatman Media)), written here
with every field serde writes, ``Option`` fields null."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import FileSource, TrackKind
from common.errors import ValidationError
from tests.chunking.test_studio_editor import make_wav
from tests.helpers import CLI
from tests.media import make_video


def clip(cid: str, media: str, t_in: float, t_out: float, **extra: Any) -> dict[str, Any]:
    return {"id": cid, "media_id": media, "name": f"{cid}.mp4", "timeline_in": t_in,
            "timeline_out": t_out, "source_in": 0.0, "source_out": t_out - t_in,
            "playback_rate": 1.0, "enabled": True, "effects": [], "transitions": [],
            **extra}  # fmt: skip


def track(tid: str, kind: str, clips: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"id": tid, "name": tid, "track_type": kind, "enabled": True, "locked": False,
            "height": 80, "clips": clips, "effects": [], "volume": 1.0, "pan": 0.0,
            **extra}  # fmt: skip


def item(mid: str, path: str, kind: str) -> dict[str, Any]:
    return {"id": mid, "path": path, "name": Path(path).name, "media_type": kind,
            "duration": 2.0, "metadata": {"format": "mp4", "codec": None, "resolution": None,
            "frame_rate": None, "bitrate": None, "audio_channels": None, "sample_rate": None},
            "thumbnail": None, "usage_count": 1}  # fmt: skip


def state(tracks: list[dict[str, Any]], items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "5b1c", "metadata": {"name": "Holiday", "description": None,
        "created_at": "2025-08-01T10:00:00Z", "modified_at": "2025-08-01T11:00:00Z",
        "file_path": "/Users/anna/Holiday.json", "is_dirty": False, "version": "1.0.0"},
        "timeline": {"duration": 3.0, "fps": 25.0, "sample_rate": 48000, "tracks": tracks,
                     "markers": []},
        "media_pool": {"items": {i["id"]: i for i in items}},
        "settings": {"resolution": {"width": 320, "height": 180}, "frame_rate": 25.0,
                     "audio_sample_rate": 48000, "audio_channels": 2},
    }  # fmt: skip


@pytest.fixture
def holiday(tmp_path: Path) -> Path:
    """A saved state: a video track (a clip at double speed from 0.4 s in, a switched-off
    one), a music track, a title track; its media saved on a Mac and copied beside it."""
    make_video(tmp_path / "beach.mp4", frames=50, fps=25, size=(320, 180))
    make_wav(tmp_path / "song.wav", seconds=3.0)
    doc = state(
        [
            track("v", "Video", [
                clip("a", "m1", 0.0, 1.0, source_in=0.4, playback_rate=2.0),
                clip("b", "m1", 1.0, 2.0, enabled=False),
                clip("c", "m1", 1.0, 3.0)]),
            track("mu", "Music", [clip("bed", "m2", 0.0, 3.0)], volume=0.5),
            track("t", "Title", [clip("hello", "", 0.5, 1.5, name="Hello")]),
        ],
        [item("m1", "/Users/anna/Movies/beach.mp4", "Video"),
         item("m2", "/Users/anna/Music/song.wav", "Audio")],
    )  # fmt: skip
    path = tmp_path / "Holiday.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_a_saved_project_state_renders_its_tracks(holiday: Path) -> None:
    """Refused before: "track 'v': type must be video, audio, subtitle, ..., not None"."""
    timeline = load(str(holiday))
    assert timeline.name == "Holiday" and timeline.fps == Fraction(25)
    assert (timeline.width, timeline.height, timeline.frames) == (320, 180, 75)
    video, music = timeline.tracks
    assert [(c.id, c.start, c.end, c.source_start, c.speed) for c in video.clips] == [
        ("a", 0, 25, 0.4, 2.0),
        ("c", 25, 75, 0.0, 1.0),
    ]
    assert isinstance(video.clips[0].source, FileSource)
    assert video.clips[0].source.path == str(holiday.parent / "beach.mp4")
    assert music.kind is TrackKind.AUDIO and music.volume == 0.5
    (title,) = timeline.subtitles
    assert (title.text, title.start, title.end) == ("Hello", 13, 38)
    assert [w for w in timeline.warnings if "found by its name" not in w] == []


def test_what_the_file_does_not_hold_is_named(holiday: Path) -> None:
    doc = json.loads(holiday.read_text(encoding="utf-8"))
    video = doc["timeline"]["tracks"][0]
    video["pan"] = -0.5
    video["clips"][0]["effects"] = ["applied-1"]
    video["clips"][0]["transitions"] = [
        {"id": "x", "transition_type": "fade", "duration": 0.5, "params": {}}
    ]
    holiday.write_text(json.dumps(doc), encoding="utf-8")
    said = [w for w in load(str(holiday)).warnings if "found by its name" not in w]
    assert said == [
        "clip 'a': fade is not rendered: the project file does not say which side of the "
        "clip it joins",
        "clip 'a': its applied effects are not in the project file; not rendered",
    ]


def test_a_clip_whose_media_is_not_in_the_pool_is_named(holiday: Path) -> None:
    doc = json.loads(holiday.read_text(encoding="utf-8"))
    doc["timeline"]["tracks"][0]["clips"][0]["media_id"] = "m9"
    holiday.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load(str(holiday))
    assert info.value.problems == ["clip 'a': no media path: media_id 'm9' is not in media_pool"]


def test_cli_validate_reads_it(cli: CLI, holiday: Path) -> None:
    result = cli("validate", str(holiday))
    assert result.returncode == 0, result.stderr
    assert "320x180 at 25 fps, 75 frames" in result.stdout

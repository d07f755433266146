"""Track types of the editor's current ProjectSchema: chatman-media/timeline-studio's TrackType
(src/types/generated/tauri-bindings.ts: Video, Audio, Title, Music, Voiceover, Sfx, Ambient;
MIT with the Commons Clause, Copyright (c) 2023-2025 Alexander Kireyev (Chatman Media)), whose
timelineToProjectSchema writes a subtitle or text track as ``Title``."""

from __future__ import annotations

from pathlib import Path

import pytest

from chunking.timeline.loader import load_document
from chunking.timeline.model import TrackKind
from common.errors import ValidationError
from tests.chunking.test_studio_editor import make_wav
from tests.media import make_image, project


@pytest.mark.parametrize("sound", ["Music", "Voiceover", "Sfx", "Ambient"])
def test_title_and_audio_kinds_of_the_current_editor_load(tmp_path: Path, sound: str) -> None:
    """Refused before: "track 's': track_type 'Title' is not Video, Audio or Subtitle"."""
    make_image(tmp_path / "still.png", (32, 18), (200, 100, 50, 255))
    make_wav(tmp_path / "music.wav")
    tracks = [
        {"id": "v", "track_type": "Video", "clips": [
            {"id": "c", "source_path": "still.png", "start_time": 0.0, "end_time": 1.0}]},
        # convertClip writes a subtitle clip with no media; its text is the subtitles[] entry.
        {"id": "s", "track_type": "Title", "name": "subtitle Track", "clips": [
            {"id": "sub", "source_path": "", "start_time": 0.0, "end_time": 1.0}]},
        {"id": "m", "track_type": sound, "clips": [
            {"id": "bed", "source_path": "music.wav", "start_time": 0.0, "end_time": 1.0}]},
    ]  # fmt: skip
    subtitles = [{"id": "sub", "text": "Hello", "start_time": 0.0, "end_time": 1.0}]
    doc = project(tracks, fps=10, size=(32, 18), subtitles=subtitles)
    timeline = load_document(doc, str(tmp_path))[1]
    assert [t.kind for t in timeline.tracks] == [
        TrackKind.VIDEO,
        TrackKind.SUBTITLE,
        TrackKind.AUDIO,
    ]
    assert [s.text for s in timeline.subtitles] == ["Hello"]
    assert timeline.warnings == ()


def test_a_track_type_no_editor_writes_is_still_named(tmp_path: Path) -> None:
    doc = project([{"id": "x", "track_type": "Hologram", "clips": []}], fps=10, size=(32, 18))
    with pytest.raises(ValidationError, match="track 'x': track_type 'Hologram' is not Video"):
        load_document(doc, str(tmp_path))

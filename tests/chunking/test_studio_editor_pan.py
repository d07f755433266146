"""A Timeline Studio track's ``pan`` (its audio mixer's balance, -1 left to 1 right) is rendered
as the editor's mixer plays it, through a stereo panner after the track's own effects.

Documents are shaped as the editor writes them: TimelineTrack ``pan`` (src/features/timeline/
types/timeline.ts; set by src/features/timeline/components/audio-mixer.tsx and played by a
StereoPannerNode in src/features/fairlight-audio/services/audio-engine.ts) and the saved
project state's ``tracks[].pan`` (src-tauri/src/app_state); Timeline Studio by Chatman Media,
MIT with Commons Clause.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chunking.timeline.loader import load_document
from chunking.timeline.model import Timeline
from tests.media import write_wav
from workers.audio_mix import mix_timeline


def tone(folder: Path) -> str:
    """A short stereo WAV beside the document."""
    data = np.full((2, 4800), 0.1, dtype=np.float32)
    write_wav(folder / "tone.wav", data, 48_000)
    return "tone.wav"


def timeline_project(folder: Path, effects: Any = (), **track: Any) -> Timeline:
    """A TimelineProject of one music track of one clip, its track fields ``track``, its
    resources' effects ``effects``."""
    clip = {
        "id": "c", "name": "tone", "mediaId": "m", "trackId": "t", "startTime": 0,
        "duration": 0.1, "mediaStartTime": 0, "mediaEndTime": 0.1, "offset": 0, "volume": 1,
        "speed": 1, "isReversed": False, "opacity": 1, "effects": [], "filters": [],
        "transitions": [], "mediaFile": {"id": "m", "path": tone(folder)},
    }  # fmt: skip
    raw = {
        "id": "t", "name": "Music", "type": "music", "order": 0, "clips": [clip],
        "isLocked": False, "isMuted": False, "isHidden": False, "isSolo": False, "volume": 1,
        "pan": 0, "height": 80, "trackEffects": [], "trackFilters": [], **track,
    }  # fmt: skip
    doc = {
        "id": "p", "name": "p", "duration": 0.1, "fps": 25, "sampleRate": 48000,
        "sections": [], "globalTracks": [raw], "resources": {"effects": list(effects)},
        "settings": {"resolution": {"width": 32, "height": 18}, "fps": 25},
    }  # fmt: skip
    return load_document(doc, str(folder))[1]


@pytest.mark.parametrize("pan", [-0.5, 1])
def test_a_panned_track_is_rendered_panned(tmp_path: Path, pan: float) -> None:
    """Was: "track 't': pan -0.5 is not rendered (centred)", the sound left centred."""
    timeline = timeline_project(tmp_path, pan=pan)
    (track,) = timeline.tracks
    assert [(e.kind, dict(e.params)) for e in track.effects] == [("audiopan", {"pan": pan})]
    assert timeline.warnings == ()


def test_a_centred_track_gets_no_panner(tmp_path: Path) -> None:
    assert timeline_project(tmp_path, pan=0).tracks[0].effects == ()


def test_the_pan_comes_after_the_tracks_own_effects(tmp_path: Path) -> None:
    """The editor's channel strip: its inserts, then the panner (a mixer's usual order)."""
    compressor = {"id": "comp", "name": "Compressor", "type": "audio-compressor"}
    applied = {"id": "a", "effectId": "comp", "isEnabled": True, "order": 0}
    timeline = timeline_project(tmp_path, [compressor], pan=0.25, trackEffects=[applied])
    assert [e.kind for e in timeline.tracks[0].effects] == ["audiocompressor", "audiopan"]


@pytest.mark.parametrize("pan", [2, "left", float("nan")])
def test_a_pan_outside_the_mixers_range_is_named_and_left_centred(tmp_path: Path, pan: Any) -> None:
    timeline = timeline_project(tmp_path, pan=pan)
    assert timeline.tracks[0].effects == ()
    (warning,) = timeline.warnings
    assert warning.startswith("track 't': pan ") and "-1 to 1" in warning


def test_the_saved_project_states_track_pan_is_rendered(tmp_path: Path) -> None:
    """The Rust app state's Project (``media_pool``, ``tracks[].track_type``)."""
    doc = {
        "id": "p", "metadata": {"name": "p"},
        "timeline": {"fps": 25, "tracks": [{
            "id": "a", "name": "A", "track_type": "Audio", "enabled": True, "volume": 1.0,
            "pan": -1.0, "effects": [],
            "clips": [{"id": "c", "media_id": "m", "timeline_in": 0, "timeline_out": 0.1,
                       "source_in": 0, "source_out": 0.1, "playback_rate": 1.0}],
        }]},
        "media_pool": {"items": {"m": {"id": "m", "path": tone(tmp_path)}}},
        "settings": {"resolution": {"width": 32, "height": 18}, "frame_rate": 25},
    }  # fmt: skip
    timeline = load_document(doc, str(tmp_path))[1]
    assert [(e.kind, dict(e.params)) for e in timeline.tracks[0].effects] == [
        ("audiopan", {"pan": -1.0})
    ]
    assert timeline.warnings == ()


def test_a_track_panned_hard_right_is_heard_on_the_right_only(tmp_path: Path) -> None:
    """End to end through the mixer: the StereoPannerNode's balance at 1 moves the left channel
    into the right (0.1 + 0.1) and leaves the left silent."""
    mix = np.asarray(mix_timeline(timeline_project(tmp_path, pan=1)))
    left, right = mix[0, 100:2000], mix[1, 100:2000]
    assert np.abs(left).max() < 1e-3
    assert abs(float(right.mean()) - 0.2) < 0.01

"""A Timeline Studio clip's ``playbackRate`` (the rate-stretch tool's) plays its media faster or
slower, on top of its ``speed``.

The editor's rate stretch (``rateStretch`` in src/features/timeline/services/timeline-machine.ts)
divides the clip's ``duration`` by the rate and writes ``playbackRate``, leaving ``speed``: the
clip keeps its media in a shorter or longer span. The montage planner (src/features/
montage-planner/services/timeline-integration-service.ts) writes a clip's speed multiplier there
too. TimelineClip in src/features/timeline/types/timeline.ts; Timeline Studio by Chatman Media,
MIT with Commons Clause.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.loader import load_document
from chunking.timeline.model import Timeline
from chunking.timeline.studio_editor import convert
from tests.media import make_image


def timeline_project(folder: Path, **fields: Any) -> Timeline:
    """A TimelineProject of one video clip of a still, 2 s at 0 s, with clip ``fields``."""
    make_image(folder / "still.png", (32, 18), (200, 100, 50, 255))
    clip = {
        "id": "c", "name": "c", "mediaId": "m", "trackId": "t", "startTime": 0, "duration": 2,
        "mediaStartTime": 0, "mediaEndTime": 4, "offset": 0, "volume": 1, "speed": 1,
        "isReversed": False, "opacity": 1, "effects": [], "filters": [], "transitions": [],
        "mediaFile": {"id": "m", "path": "still.png", "isImage": True}, **fields,
    }  # fmt: skip
    track = {
        "id": "t", "name": "V", "type": "video", "order": 0, "clips": [clip],
        "isLocked": False, "isMuted": False, "isHidden": False, "isSolo": False, "volume": 1,
        "pan": 0, "height": 80, "trackEffects": [], "trackFilters": [],
    }  # fmt: skip
    doc = {
        "id": "p", "name": "p", "duration": 2, "fps": 10, "sampleRate": 48000,
        "sections": [{"id": "s", "index": 0, "name": "s", "startTime": 0, "endTime": 2,
                      "duration": 2, "tracks": [track], "isCollapsed": False}],
        "globalTracks": [], "resources": {},
        "settings": {"resolution": {"width": 32, "height": 18}, "fps": 10},
    }  # fmt: skip
    return load_document(doc, str(folder))[1]


@pytest.mark.parametrize(
    ("speed", "rate", "plays"),
    [(1, 2, 2.0), (1, 0.5, 0.5), (1.5, 2, 3.0), (None, 2, 2.0)],
)
def test_a_rate_stretched_clip_plays_its_media_at_speed_times_rate(
    tmp_path: Path, speed: float | None, rate: float, plays: float
) -> None:
    """Was: "playbackRate 2 is not rendered; speed is": the stretched clip played at its
    speed, showing only part of its media."""
    timeline = timeline_project(tmp_path, speed=speed, playbackRate=rate)
    assert timeline.clip("c").speed == plays
    assert timeline.warnings == ()


def test_a_rate_of_one_changes_nothing(tmp_path: Path) -> None:
    timeline = timeline_project(tmp_path, speed=2, playbackRate=1)
    assert timeline.clip("c").speed == 2.0 and timeline.warnings == ()


def test_the_stretched_clip_keeps_its_pitch_as_the_stretch_asks(tmp_path: Path) -> None:
    """rateStretch writes ``maintainPitch: true``: the pitch shift undoes the whole speed."""
    timeline = timeline_project(tmp_path, playbackRate=2, maintainPitch=True)
    (pitch,) = timeline.clip("c").effects
    assert (pitch.kind, dict(pitch.params)) == ("audiopitch", {"ratio": 0.5})


@pytest.mark.parametrize("rate", [0, -1, "fast", float("inf")])
def test_a_rate_that_is_not_a_speed_is_named_and_left_out(tmp_path: Path, rate: Any) -> None:
    timeline = timeline_project(tmp_path, speed=1.5, playbackRate=rate)
    assert timeline.clip("c").speed == 1.5
    (warning,) = timeline.warnings
    assert warning.startswith("clip 'c': playbackRate ") and "above 0" in warning


def test_a_product_past_the_editors_speed_range_is_named_and_played_at_its_end(
    tmp_path: Path,
) -> None:
    """The editor clamps ``speed`` to 0.1-10 (setClipSpeed), not its product with a stretch:
    refusing the whole project for it would render nothing."""
    timeline = timeline_project(tmp_path, speed=8, playbackRate=2)
    assert timeline.clip("c").speed == 10.0
    assert timeline.warnings == (
        "clip 'c': speed 8 x playbackRate 2 = 16 is outside 0.1 to 10; played at 10",
    )


def ramp(*values: float) -> dict[str, Any]:
    """A SpeedRampingConfig of keys at 0, 1, ... s (src/features/timeline/types/speed-ramping.ts:
    its "slow-motion" and "fast-forward" presets are one key of 0.5 and of 2)."""
    keys = [{"id": f"k{n}", "time": n, "value": v, "interpolation": "linear"}
            for n, v in enumerate(values)]  # fmt: skip
    return {"enabled": True, "keyframes": keys, "maintainPitch": False}


def test_a_ramp_of_one_speed_plays_at_that_speed(tmp_path: Path) -> None:
    """getSpeedAtTime gives a ramp whose keys share a value that value everywhere: a constant
    speed, rendered as one. Was: "speed ramping (speedRamping) is not rendered; speed is"."""
    timeline = timeline_project(tmp_path, speedRamping=ramp(0.5))
    assert timeline.clip("c").speed == 0.5 and timeline.warnings == ()
    timeline = timeline_project(tmp_path, speedRamping=ramp(2, 2), playbackRate=2)
    assert timeline.clip("c").speed == 4.0 and timeline.warnings == ()


def test_a_projects_ramp_config_of_one_speed_plays_at_that_speed(tmp_path: Path) -> None:
    """TimelineProject.speedRampingConfigs (by clip id) in the current editor's timeline.ts."""
    make_image(tmp_path / "still.png", (32, 18), (200, 100, 50, 255))
    clip = {"id": "c", "startTime": 0, "duration": 2, "mediaFile": {"id": "m", "path": "still.png"}}
    doc = {
        "id": "p", "name": "p", "sections": [],
        "globalTracks": [{"id": "t", "type": "video", "clips": [clip]}],
        "speedRampingConfigs": {"c": ramp(2), "gone": ramp(1, 3)},
        "settings": {"resolution": {"width": 32, "height": 18}, "fps": 10},
    }  # fmt: skip
    result = convert(doc, str(tmp_path))
    assert result is not None and result.warnings == ()
    assert result.document["tracks"][0]["clips"][0]["speed"] == 2.0

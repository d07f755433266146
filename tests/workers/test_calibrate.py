"""Calibration: real, bounded, deterministic timing of a few frames of a timeline."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.model import Timeline
from chunking.timeline.studio import load_project
from common.errors import AssetNotFound, EncodeError, RenderError
from tests.media import make_video, project, solid, video_track
from workers import calibrate as calibrate_module
from workers.calibrate import calibrate
from workers.compositor import Compositor

pytestmark = pytest.mark.timeout(120)


def timeline(tmp: Path, **export: Any) -> Timeline:
    """320x180, two seconds: a solid background under a half-size video clip."""
    src = make_video(tmp / "src.mp4", frames=60, gop=30)
    doc = project(
        [
            video_track("bg", [{"id": "bg", "start_time": 0, "end_time": 2, **solid("#204060")}]),
            video_track(
                "fg",
                [
                    {
                        "id": "v",
                        "start_time": 0,
                        "end_time": 2,
                        "source": {"File": str(src)},
                        "transform": {"scale_x": 0.5, "scale_y": 0.5},
                    }
                ],
            ),
        ],
        settings={"export": {"preset": "veryfast", **export}},
    )
    return load_project(doc, str(tmp))


@pytest.mark.parametrize(
    "export",
    [{}, {"container": "mkv", "codec": "vp9"}, {"lossless": True}, {"container": "mov"}],
)
def test_returns_a_positive_finite_rate_quickly(tmp_path: Path, export: dict[str, Any]) -> None:
    tl = timeline(tmp_path, **export)
    began = time.perf_counter()
    seconds = calibrate(tl)
    took = time.perf_counter() - began
    assert math.isfinite(seconds) and seconds > 0
    assert seconds < 1.0  # a 320x180 frame is far cheaper than a second
    assert took < 5.0


def test_leaves_no_files_behind(tmp_path: Path) -> None:
    tl = timeline(tmp_path)
    before = sorted(tmp_path.iterdir())
    calibrate(tl, frames=3)
    assert sorted(tmp_path.iterdir()) == before


def test_renders_the_evenly_spaced_frames_each_after_its_predecessor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[int] = []
    real_frame = Compositor.frame

    def spy(self: Compositor, t: int) -> Any:
        rendered.append(t)
        return real_frame(self, t)

    monkeypatch.setattr(Compositor, "frame", spy)
    tl = timeline(tmp_path)  # 60 frames
    calibrate(tl, frames=4)
    assert rendered == [6, 7, 21, 22, 36, 37, 51, 52]
    rendered.clear()
    calibrate(tl, frames=4)
    assert rendered == [6, 7, 21, 22, 36, 37, 51, 52]


def test_first_frame_needs_no_warm_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[int] = []
    real_frame = Compositor.frame

    def spy(self: Compositor, t: int) -> Any:
        rendered.append(t)
        return real_frame(self, t)

    monkeypatch.setattr(Compositor, "frame", spy)
    tl = replace(timeline(tmp_path), frames=2)
    assert calibrate(tl, frames=6) > 0
    assert rendered == [0, 0, 1]


def test_stops_when_out_of_time_after_one_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real_encode = calibrate_module._encode

    def counting(*args: Any) -> float:
        calls.append(1)
        return real_encode(*args)

    monkeypatch.setattr(calibrate_module, "_encode", counting)
    assert calibrate(timeline(tmp_path), frames=6, max_seconds=0.0) > 0
    assert len(calls) == 1


def test_thread_cap_is_accepted(tmp_path: Path) -> None:
    assert calibrate(timeline(tmp_path), frames=2, threads=1) > 0


@pytest.mark.parametrize("frames", [0, -3])
def test_needs_a_frame(tmp_path: Path, frames: int) -> None:
    with pytest.raises(ValueError, match="frames"):
        calibrate(timeline(tmp_path), frames=frames)


def test_empty_timeline_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="no frames"):
        calibrate(replace(timeline(tmp_path), frames=0))


def test_missing_media_error_passes_through(tmp_path: Path) -> None:
    tl = timeline(tmp_path)
    (tmp_path / "src.mp4").unlink()
    with pytest.raises(AssetNotFound, match="'v'"):
        calibrate(tl)


def test_impossible_export_settings_are_an_encode_error(tmp_path: Path) -> None:
    tl = timeline(tmp_path)
    odd = replace(tl, width=321)  # yuv420p needs even dimensions
    with pytest.raises(EncodeError):
        calibrate(odd)

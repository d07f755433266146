"""A ProjectSchema clip of ``speed`` 0: a freeze frame, the frame at its ``source_start`` held
over the whole clip, silent (the editor's speed ramps stop a clip so: the "freeze-frame" preset
of src/features/timeline/types/speed-ramping.ts is one key of speed 0)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.model import Timeline
from chunking.timeline.studio import load_project
from common.errors import ValidationError
from tests.media import make_image, project, video_track


def load(folder: Path, **fields: Any) -> Timeline:
    make_image(folder / "still.png", (32, 18), (200, 100, 50, 255))
    clip = {"id": "c", "source_path": "still.png", "start_time": 0, "end_time": 2, **fields}
    return load_project(project([video_track("v", [clip])]), str(folder))


def test_speed_zero_holds_the_frame_at_source_start_silently(tmp_path: Path) -> None:
    """Was: "clip 'c': speed must be between 0.1 and 10, not 0": the project was refused."""
    timeline = load(tmp_path, speed=0, source_start=1.5, reverse=True)
    clip = timeline.clip("c")
    # The renderer shows the frame just before source_end: one a few milliseconds on.
    assert (clip.speed, clip.source_start) == (1.0, 1.5)
    assert clip.source_end is not None and 0 < clip.source_end - 1.5 <= 0.005
    assert clip.muted and not clip.reverse
    assert timeline.warnings == ()


def test_a_frozen_clips_source_end_changes_nothing(tmp_path: Path) -> None:
    """Was: "source_end 0.5s must be after source_start 1.5s", the project refused for an out
    point a held frame never reaches."""
    timeline = load(tmp_path, speed=0, source_start=1.5, source_end=0.5)
    clip = timeline.clip("c")
    assert clip.source_end is not None and 0 < clip.source_end - 1.5 <= 0.005
    assert timeline.warnings == ()


@pytest.mark.parametrize("speed", [0.05, -1, False])
def test_other_speeds_below_the_range_are_still_refused(tmp_path: Path, speed: Any) -> None:
    with pytest.raises(ValidationError, match="clip 'c': speed must be"):
        load(tmp_path, speed=speed)

"""A ProjectSchema clip of ``speed`` 0: a freeze frame, the frame at its ``source_start`` held
over the whole clip, silent (the editor's speed ramps stop a clip so: the "freeze-frame" preset
of src/features/timeline/types/speed-ramping.ts is one key of speed 0)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest

from chunking.timeline.loader import load as load_file
from chunking.timeline.model import Timeline
from chunking.timeline.studio import load_project
from common.errors import ValidationError
from tests.media import make_image, make_video, project, video_track


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


def test_a_hold_whose_out_point_is_the_clips_length_still_holds(tmp_path: Path) -> None:
    """An OTIO freeze frame (otio_layout: source_end a millisecond after source_start) at 2 s
    into its media on a 2 s clip: its source_end equals the clip's length, which the editor's
    export writes for "no out point"; was dropped with that warning, and the clip played on."""
    timeline = load(tmp_path, source_start=2.0, source_end=2.001)
    assert timeline.clip("c").source_end == 2.001
    assert timeline.warnings == ()


@pytest.mark.parametrize("speed", [0.05, -1, False])
def test_other_speeds_below_the_range_are_still_refused(tmp_path: Path, speed: Any) -> None:
    with pytest.raises(ValidationError, match="clip 'c': speed must be"):
        load(tmp_path, speed=speed)


def test_an_otio_freeze_frame_at_its_clips_length_into_the_media_holds(tmp_path: Path) -> None:
    """The same through the OTIO importer: a FreezeFrame 2 s into its media on a 2 s clip
    played on from 2 s (with the editor's "no out point" warning)."""
    make_video(tmp_path / "a.mp4", frames=150, fps=30)
    media = otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, 30), otio.opentime.RationalTime(150, 30)
    )
    used = otio.opentime.TimeRange(
        otio.opentime.RationalTime(60, 30), otio.opentime.RationalTime(60, 30)
    )
    ref = otio.schema.ExternalReference(target_url=str(tmp_path / "a.mp4"), available_range=media)
    clip = otio.schema.Clip(name="c", media_reference=ref, source_range=used)
    clip.effects.append(otio.schema.FreezeFrame())
    timeline = otio.schema.Timeline(name="t")
    timeline.tracks.append(otio.schema.Track(kind="Video", children=[clip]))
    otio.adapters.write_to_file(timeline, str(tmp_path / "t.otio"))
    loaded = load_file(str(tmp_path / "t.otio"))
    held = loaded.tracks[0].clips[0]
    assert (held.source_start, held.source_end, loaded.warnings) == (2.0, 2.001, ())

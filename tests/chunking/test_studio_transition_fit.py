"""A transition that needs more than its clips have: media before the incoming clip's first
frame or past the outgoing clip's out point (held frames), a window longer than both clips,
one reaching before the timeline starts, and one shorter than a frame."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.model import Timeline
from chunking.timeline.studio import load_project
from common.errors import ValidationError
from tests.media import make_video, project, solid, video_track


@pytest.fixture(autouse=True)
def in_media_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Clips of a small video beside the project (its length does not matter here)."""
    make_video(tmp_path / "x.mkv", frames=10, size=(32, 18))
    monkeypatch.chdir(tmp_path)


def media(cid: str, start: float, end: float, **extra: Any) -> dict[str, Any]:
    return {"id": cid, "start_time": start, "end_time": end, "source": {"File": "x.mkv"}, **extra}


def flat(cid: str, start: float, end: float) -> dict[str, Any]:
    return {"id": cid, "start_time": start, "end_time": end, **solid("#ff0000")}


def load(clips: list[dict[str, Any]], duration: float = 1.0) -> Timeline:
    dissolve = {"id": "t", "from_clip_id": "a", "to_clip_id": "b", "duration": duration}
    doc = project([video_track("v", clips)], transitions=[dissolve])
    return load_project(doc, ".")


@pytest.mark.parametrize(("source_start", "held"), [(0, 15), (0.2, 9), (0.5, 0), (1, 0)])
def test_an_incoming_clip_without_media_before_it_is_warned(source_start: float, held: int) -> None:
    tl = load([media("a", 0, 1, source_start=1), media("b", 1, 2, source_start=source_start)])
    said = [w for w in tl.warnings if "before its media" in w]
    assert said == (
        [
            f"transition 't': starts clip 'b' {held} frames before its media (it begins 15 "
            f"frames early, source_start {source_start:g}s); the first frame is held"
        ]
        if held
        else []
    )


def test_an_outgoing_clip_past_its_out_point_is_warned() -> None:
    tl = load([media("a", 0, 1, source_end=1.2), media("b", 1, 2, source_start=1)])
    assert tl.warnings == (
        "transition 't': runs clip 'a' 9 frames past its media (it ends 15 frames late, "
        "source_end 1.2s); the last frame is held",
    )


def test_a_transition_longer_than_both_clips_is_shortened_to_them() -> None:
    tl = load([flat("a", 0, 1), flat("b", 1, 2)], duration=2.5)
    ((start, end),) = [(t.start, t.end) for t in tl.transitions]
    assert (start, end) == (0, 60)
    assert tl.warnings == (
        "transition 't': is 75 frames long, longer than clips 'a' and 'b' together (60 frames); "
        "shortened to 60 frames",
    )


def test_a_transition_reaching_before_the_timeline_says_how_far_in_it_opens() -> None:
    tl = load([flat("a", 0, 0.1), flat("b", 0.1, 2)])
    ((start, end),) = [(t.start, t.end) for t in tl.transitions]
    assert (start, end) == (-12, 18)  # centred on the cut, as documented
    assert tl.warnings == (
        "transition 't': begins 12 frames before clip 'a', before the timeline starts: frame 0 "
        "is already 42% through it (it is centred on the cut)",
    )


@pytest.mark.parametrize("duration", [0, 0.01])
def test_a_transition_under_one_frame_is_refused(duration: float) -> None:
    with pytest.raises(ValidationError, match=r"transition 't': duration must be at least one "):
        load([flat("a", 0, 1), flat("b", 1, 2)], duration=duration)

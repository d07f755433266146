"""Kdenlive's .otio export lists its video tracks top first (chunking.timeline.otio_track_order):
a later release names them as its user did, none by default, so their numbers cannot tell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import opentimelineio as otio
import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import Timeline, TrackKind
from workers.compositor import Compositor

RT = otio.opentime.RationalTime


def colour(name: str, hex_rgba: str, frames: int) -> Any:
    """A Kdenlive colour clip as its export writes one (a rate-0 available range)."""
    return otio.schema.Clip(
        name=name,
        media_reference=otio.schema.GeneratorReference(
            name=name,
            generator_kind="kdenlive:SolidColor",
            parameters={"kdenlive": {"color": hex_rgba}},
            available_range=otio.opentime.TimeRange(RT(0, 0), RT(120, 0)),
        ),
        source_range=otio.opentime.TimeRange(RT(0, 24), RT(frames, 24)),
    )


def track(kind: str, *items: Any, ranged: bool = True) -> Any:
    """A track as Kdenlive's export writes one: no name, its own range from 0 as long as what
    it holds."""
    held = sum(int(i.duration().value) for i in items)
    own = otio.opentime.TimeRange(RT(0, 24), RT(held, 24)) if ranged else None
    return otio.schema.Track(name="", kind=kind, source_range=own, children=list(items))


def kdenlive(**change: Any) -> Any:
    """The timeline of Kdenlive's tests/dataset/test-color-clips.otio in shape: V2 (red, on
    top in the editor) listed first, then V1 (blue), then two audio tracks."""
    ranged = change.get("ranged", True)
    tracks = [
        track("Video", colour("Red", "0xff0000ff", 24), ranged=ranged),
        track("Video", colour("Blue", "0x0000ffff", 24), ranged=ranged),
        track("Audio", ranged=ranged),
        track("Audio", ranged=ranged),
    ]
    if change.get("audio_first"):
        tracks = tracks[2:] + tracks[:2]
    timeline = otio.schema.Timeline(name="", tracks=tracks)
    if "clip_metadata" in change:
        tracks[0][0].metadata["Resolve_OTIO"] = change["clip_metadata"]
    if change.get("longer"):
        tracks[0].source_range = otio.opentime.TimeRange(RT(0, 24), RT(48, 24))
    return timeline


def loaded(tmp_path: Path, timeline: Any) -> Timeline:
    path = tmp_path / "kdenlive.otio"
    otio.adapters.write_to_file(timeline, str(path))
    return load(str(path))


def on_top(timeline: Timeline) -> str:
    """The clip of the uppermost video track."""
    video = [t for t in timeline.tracks if t.kind is TrackKind.VIDEO]
    return video[-1].clips[0].id


def test_kdenlives_unnamed_video_tracks_are_stacked_as_the_editor_shows_them(
    tmp_path: Path,
) -> None:
    """The first listed track is Kdenlive's top one: its red clip hides the blue one. (Taken in
    OTIO's bottom-first order, the blue clip covered it.)"""
    timeline = loaded(tmp_path, kdenlive())
    assert on_top(timeline) == "Red"
    assert any("listed top first, as Kdenlive's export" in w for w in timeline.warnings)
    comp = Compositor(timeline)
    try:
        pixel = np.asarray(comp.frame(3))[540, 960]
    finally:
        comp.close()
    assert pixel[0] > 200 and pixel[2] < 50


@pytest.mark.parametrize(
    "change",
    [
        {"ranged": False},  # tracks without a range of their own: OTIO's order
        {"audio_first": True},
        {"clip_metadata": {"x": 1}},  # another writer's metadata
        {"longer": True},  # a track range that is not what the track holds
    ],
)
def test_other_listings_keep_otios_bottom_first_order(
    tmp_path: Path, change: dict[str, Any]
) -> None:
    timeline = loaded(tmp_path, kdenlive(**change))
    assert on_top(timeline) == "Blue"
    assert not any("listed top first" in w for w in timeline.warnings)

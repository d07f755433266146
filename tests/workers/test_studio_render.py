"""Round trip: Timeline Studio documents in the editor's own shapes render with every subtitle,
transition, filter parameter and template cell where the editor would put them (pixel checks)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import Timeline
from workers.compositor import Compositor

W, H = 320, 180
DATA = Path(__file__).resolve().parents[1] / "data" / "timeline-studio-editor"


def _solid(hex_colour: str) -> dict[str, Any]:
    return {"type": "color", "color": hex_colour}


def _serde_clip(cid: str, start: float, end: float, colour: str, **extra: Any) -> dict[str, Any]:
    """A clip as serde serialises the Rust ``Clip`` (every field present, defaults written)."""
    return {
        "id": cid,
        "source": "Generated",
        "start_time": start,
        "end_time": end,
        "source_start": 0.0,
        "source_end": end - start,
        "speed": 1.0,
        "opacity": 1.0,
        "effects": [],
        "filters": [],
        "template_id": None,
        "template_position": None,
        "color_correction": None,
        "crop": None,
        "transform": None,
        "audio_track_index": None,
        "properties": {"notes": None, "tags": [], "custom_metadata": {"generator": _solid(colour)}},
        **extra,
    }


def _serde_track(tid: str, clips: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "id": tid,
        "track_type": "Video",
        "name": tid,
        "enabled": True,
        "volume": 1.0,
        "locked": False,
        "effects": [],
        "filters": [],
        "clips": clips,
        **extra,
    }


def serde_document() -> dict[str, Any]:
    """Two seconds: a 2x2 multicam layout for 1 s (one cell through a Saturation filter at 0,
    i.e. grey), then a red→blue dissolve; a subtitle placed at the top by a Relative position."""
    cams = [
        _serde_track(
            f"cam{i}",
            [_serde_clip(f"c{i}", 0.0, 1.0, colour, template_id="quad", template_position=i)],
            filters=["grey"] if i == 3 else [],
        )
        for i, colour in enumerate(["#ff0000", "#00ff00", "#0000ff", "#ffff00"])
    ]
    cut = _serde_track(
        "main",
        [_serde_clip("red", 1.0, 1.5, "#ff0000"), _serde_clip("blue", 1.5, 2.0, "#0000ff")],
    )
    cell = {"fit_mode": "Fill", "align_x": "Center", "align_y": "Center", "scale": None}
    return {
        "version": "1.0.0",
        "metadata": {"name": "Round trip", "description": None, "author": None},
        "timeline": {
            "duration": 2.0,
            "fps": 30,
            "resolution": [W, H],
            "sample_rate": 48000,
            "aspect_ratio": "Ratio16x9",
        },
        "tracks": [*cams, cut],
        "effects": [],
        "filters": [
            {
                "id": "grey",
                "filter_type": "Saturation",
                "name": "Grey",
                "enabled": True,
                "parameters": {"saturation": 0.0},
                "ffmpeg_command": None,
                "intensity": 1.0,
                "custom_filter": None,
            }
        ],
        "transitions": [
            {
                "id": "mix",
                "transition_type": "dissolve",
                "name": "Dissolve",
                "duration": {"value": 0.4, "min": 0.1, "max": 2.0},
                "enabled": True,
                "parameters": {},
                "from_clip_id": "red",
                "to_clip_id": "blue",
            }
        ],
        "templates": [
            {
                "id": "quad",
                "template_type": "Grid",
                "name": "2x2",
                "screens": 4,
                "cells": [
                    {"index": i, "x": x, "y": y, "width": 50.0, "height": 50.0, **cell}
                    for i, (x, y) in enumerate([(0, 0), (50, 0), (0, 50), (50, 50)])
                ],
                "regions": [],
            }
        ],
        "style_templates": [],
        "subtitles": [
            {
                "id": "title",
                "text": "HELLO",
                "start_time": 1.0,
                "end_time": 2.0,
                "position": {"type": "Relative", "align_x": "Center", "align_y": "Top"},
                "style": {"font_size": 40.0, "color": "#ffffff"},
                "enabled": True,
                "animations": [],
            },
            {
                "id": "hidden",
                "text": "NOT DRAWN",
                "start_time": 0.0,
                "end_time": 1.0,
                "position": {"type": "Relative", "align_x": "Center", "align_y": "Center"},
                "style": {"font_size": 40.0, "color": "#ffffff"},
                "enabled": False,
                "animations": [],
            },
        ],
        "settings": {"export": {"format": "Mp4", "quality": 85}},
    }


@pytest.fixture
def frames(tmp_path: Path) -> Iterator[Any]:
    """A function rendering timeline frames of a document written to a project file."""
    opened: list[Compositor] = []

    def render(document: dict[str, Any], *at: int, name: str = "project.json") -> list[Any]:
        path = tmp_path / name
        path.write_text(json.dumps(document))
        timeline: Timeline = load(str(path), strict=True)
        comp = Compositor(timeline)
        opened.append(comp)
        return [comp.frame(t).astype(np.int32) for t in at]

    yield render
    for comp in opened:
        comp.close()


def _mean(frame: Any, ys: slice, xs: slice) -> Any:
    return frame[ys, xs, :3].reshape(-1, 3).mean(axis=0)


def test_serde_project_renders_cells_filter_transition_and_subtitle(frames: Any) -> None:
    quad, mixed, titled = frames(serde_document(), 10, 45, 55)
    # The four cells hold their cameras; camera 3's cell went through the grey filter.
    expected = {(0, 0): (255, 0, 0), (0, 1): (0, 255, 0), (1, 0): (0, 0, 255)}
    for (row, col), rgb in expected.items():
        centre = _mean(
            quad, slice(row * 90 + 30, row * 90 + 60), slice(col * 160 + 50, col * 160 + 110)
        )
        assert np.abs(centre - rgb).max() < 12, (row, col, centre)
    grey = _mean(quad, slice(120, 150), slice(210, 270))
    assert grey.max() - grey.min() < 6 and 150 < grey.mean() < 255, grey
    # The disabled subtitle (centred) is not drawn: just above the centre, the top-left cell is
    # plain red where its text would be.
    assert np.abs(quad[72:89, 90:159, :3] - (255, 0, 0)).max() < 12
    # Halfway through the dissolve (centred on the cut at frame 45), red and blue are mixed.
    r, g, b = _mean(mixed, slice(120, 170), slice(0, 320))
    assert 80 < r < 180 and 80 < b < 180 and g < 20, (r, g, b)
    # The title sits at the top: white pixels in the top third, none in the bottom third.
    white = (titled[:, :, :3] > 200).all(axis=2)
    assert white[:60].sum() > 100 and white[120:].sum() == 0


def test_the_same_project_from_the_editor_frontend_shape_draws_the_same_layout(
    frames: Any,
) -> None:
    """timeline-to-project.ts writes ``template_cell`` and plain filter numbers: same picture."""
    document = serde_document()
    front = copy.deepcopy(document)
    for track in front["tracks"]:
        for clip in track["clips"]:
            if clip.get("template_position") is not None:
                clip["template_cell"] = clip.pop("template_position")
    (serde_frame,) = frames(document, 10, name="serde.json")
    (front_frame,) = frames(front, 10, name="front.json")
    assert np.array_equal(serde_frame, front_frame)


def test_editor_camelcase_fixture_shows_its_clips_at_their_times(
    frames: Any, tmp_path: Path
) -> None:
    """The editor's e2e fixture (camelCase document) with its media relinked to generated
    pictures: each clip's picture appears over its own time span."""
    from PIL import Image

    document = json.loads((DATA / "test-project-with-videos.json").read_text())
    colours = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40)]
    seen: dict[str, tuple[int, int, int]] = {}
    for track in document["timeline"]["tracks"]:
        kept = []
        for clip in track["clips"]:
            media = clip["mediaFile"]
            if not media["type"].startswith("video"):
                continue  # sound only: nothing to see
            rgb = colours[len(seen) % len(colours)]
            image = tmp_path / f"{clip['id']}.png"
            Image.new("RGB", (64, 36), rgb).save(image)
            media.update(path=image.name, type="image/png")
            seen[clip["id"]] = rgb
            kept.append(clip)
        track["clips"] = kept
    document["timeline"]["tracks"] = [t for t in document["timeline"]["tracks"] if t["clips"]]
    assert len(seen) >= 3
    starts = {
        clip["id"]: round(clip["startTime"] * 30)
        for track in document["timeline"]["tracks"]
        for clip in track["clips"]
    }
    at = [starts[cid] + 5 for cid in seen]
    rendered = frames(document, *at, name="fixture.json")
    for (cid, rgb), frame in zip(seen.items(), rendered, strict=True):
        h, w = frame.shape[:2]
        centre = _mean(frame, slice(h // 2 - 10, h // 2 + 10), slice(w // 2 - 10, w // 2 + 10))
        assert np.abs(centre - rgb).max() < 12, (cid, centre)


def test_a_transitions_easing_runs_linearly_as_the_editor_runs_it(frames: Any) -> None:
    """The editor's export never applies a transition's easing: ease-in shows as much blue a
    quarter of the way in as linear does (it showed CSS ease-in's 0.11)."""
    linear = serde_document()
    eased = copy.deepcopy(linear)
    eased["transitions"][0]["easing"] = "ease-in"
    # The 0.4 s dissolve runs over frames 39..50; frame 42 is (42 - 39 + 0.5) / 12 = 0.29 in.
    (plain,) = frames(linear, 42, name="linear.json")
    (slow,) = frames(eased, 42, name="eased.json")
    blue_plain = _mean(plain, slice(120, 170), slice(0, 320))[2]
    blue_slow = _mean(slow, slice(120, 170), slice(0, 320))[2]
    assert abs(blue_plain - 0.29 * 255) < 10 and blue_slow == blue_plain, (blue_plain, blue_slow)

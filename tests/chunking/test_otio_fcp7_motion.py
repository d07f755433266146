"""FCP 7 XML's Basic Motion filter (Premiere's Motion: scale, position, rotation, anchor point)
as the clip's transform (chunking.timeline.otio_fcp7_motion)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import Timeline, TrackKind
from chunking.timeline.otio_fcp7_motion import basic_motion
from tests.media import make_image
from workers.compositor import Compositor

RATE = "<rate><timebase>25</timebase><ntsc>FALSE</ntsc></rate>"
PREMIERE = ' authoringApp="PremierePro"'


def motion(
    scale: float | None = None,
    centre: tuple[float, float] | None = None,
    rotation: float | None = None,
    anchor: tuple[float, float] | None = None,
    app: str = PREMIERE,
) -> str:
    """A Basic Motion filter element with the parameters given."""
    params = ""
    if scale is not None:
        params += (
            f"<parameter{app}><parameterid>scale</parameterid><value>{scale}</value></parameter>"
        )
    if rotation is not None:
        params += (
            f"<parameter{app}><parameterid>rotation</parameterid><value>{rotation}</value>"
            "</parameter>"
        )
    for pid, point in (("center", centre), ("centerOffset", anchor)):
        if point is not None:
            params += (
                f"<parameter{app}><parameterid>{pid}</parameterid><value><horiz>{point[0]}"
                f"</horiz><vert>{point[1]}</vert></value></parameter>"
            )
    return (
        "<filter><effect><name>Basic Motion</name><effectid>basic</effectid>"
        "<effectcategory>motion</effectcategory><effecttype>motion</effecttype>"
        f"<mediatype>video</mediatype>{params}</effect></filter>"
    )


def load_sequence(folder: Path, inner: str, media: tuple[int, int] | None = (160, 90)) -> Timeline:
    """A 160x90 sequence of one white still (declared ``media`` pixels, None: not declared)
    holding ``inner``, loaded."""
    make_image(folder / "white.png", (160, 90), (255, 255, 255, 255))
    size = (
        ""
        if media is None
        else "<media><video><samplecharacteristics>"
        f"<width>{media[0]}</width><height>{media[1]}</height>"
        "</samplecharacteristics></video></media>"
    )
    path = folder / "edit.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n<xmeml version="4">'
        f'<sequence id="s"><name>S</name><duration>25</duration>{RATE}<media><video><format>'
        "<samplecharacteristics><width>160</width><height>90</height></samplecharacteristics>"
        '</format><track><clipitem id="v"><name>white</name><enabled>TRUE</enabled>'
        f"<duration>25</duration>{RATE}<start>0</start><end>25</end><in>0</in><out>25</out>"
        '<file id="f"><name>white.png</name><pathurl>white.png</pathurl>'
        f"{RATE}<duration>25</duration>{size}</file>{inner}</clipitem></track></video>"
        "</media></sequence></xmeml>\n"
    )
    return load(str(path))


def rendered(timeline: Timeline) -> np.ndarray:
    comp = Compositor(timeline)
    try:
        return np.asarray(comp.frame(5))
    finally:
        comp.close()


def test_a_premiere_picture_in_picture_is_drawn_in_its_corner(tmp_path: Path) -> None:
    """Half size, moved right and down by a quarter of the media: the bottom-right quarter.
    (The filter was ignored: the still filled the frame.)"""
    timeline = load_sequence(tmp_path, motion(scale=50, centre=(0.25, 0.25)))
    (clip,) = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips]
    assert (clip.transform.scale_x, clip.transform.scale_y) == (0.5, 0.5)
    assert (clip.transform.position_x, clip.transform.position_y) == (40, 22.5)
    assert not [w for w in timeline.warnings if "Basic Motion" in w]
    image = rendered(timeline)
    assert image[50:88, 84:158].min() > 240  # inside the picture
    assert image[2:40, 2:78].max() < 16  # the rest of the frame is empty
    assert image[2:40, 84:158].max() < 16 and image[50:88, 2:78].max() < 16


def test_a_premiere_scale_that_fits_larger_media_fills_the_frame(tmp_path: Path) -> None:
    """Premiere's scale is of the media's own pixels: 50 % of 320x180 media fits 160x90, as the
    renderer fits a picture (its own file may be a smaller proxy)."""
    timeline = load_sequence(tmp_path, motion(scale=50), media=(320, 180))
    (clip,) = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips]
    assert clip.transform.is_identity()
    assert rendered(timeline)[2:88, 2:158].min() > 240


FRAME = (1920, 1080)


def _premiere(**values: Any) -> dict[str, Any]:
    """A Basic Motion effect's metadata, as the adapter keeps it, written by Premiere."""
    params: list[dict[str, Any]] = []
    for pid, value in values.items():
        if isinstance(value, tuple):
            value = {"horiz": str(value[0]), "vert": str(value[1])}
        params.append({"@authoringApp": "PremierePro", "parameterid": pid, "value": value})
    return {"effectid": "basic", "parameter": params}


@pytest.mark.parametrize(
    ("effect", "media", "transform"),
    [
        # Premiere's own fit of 2048x858 media (93.75 %, written 93.8): nothing to change.
        (_premiere(scale="93.8", center=(0, 0)), (2048, 858), None),
        # A 4K clip at 25 %: half the fitted size.
        (_premiere(scale="25"), (3840, 2160), {"scale_x": 0.5, "scale_y": 0.5}),
        # Premiere's centre is in the media's size: 0.1 of 3840 px.
        (
            _premiere(scale="50", center=(0.1, -0.2)),
            (3840, 2160),
            {"position_x": 384, "position_y": -432},
        ),  # fmt: skip
        (_premiere(rotation="90"), (1920, 1080), {"rotation": 90}),
        (_premiere(rotation="-7205"), (1920, 1080), {"rotation": -5}),
        # Turned around an anchor point a quarter of the media's width right of its centre:
        # the picture's centre lands a quarter width below the anchor's place.
        (
            _premiere(rotation="90", centerOffset=(0.25, 0)),
            (1920, 1080),
            {"rotation": 90, "position_x": 0, "position_y": -480},
        ),  # fmt: skip
    ],
)
def test_basic_motion_as_premiere_writes_it(
    effect: dict[str, Any], media: tuple[int, int], transform: dict[str, float] | None
) -> None:
    found = basic_motion(effect, media, FRAME)
    assert "notes" not in found
    if transform is None:
        assert "transform" not in found
        return
    assert found["transform"].keys() == transform.keys()
    for key, value in transform.items():
        assert found["transform"][key] == pytest.approx(value, abs=1e-6)


def test_another_writers_centre_and_scale_are_measured_in_the_frame() -> None:
    effect = {
        "effectid": "basic",
        "parameter": [{"parameterid": "center", "value": {"horiz": "0.25", "vert": "0.5"}}],
    }
    found = basic_motion(effect, (3840, 2160), FRAME)
    assert found == {"transform": {"position_x": 480, "position_y": 540}}
    effect["parameter"].append({"parameterid": "scale", "value": "50"})
    found = basic_motion(effect, (3840, 2160), FRAME)
    assert found["transform"]["scale_x"] == 0.5  # of the fitted picture
    assert "taken of the picture fitted to the frame" in found["notes"][0][1]


@pytest.mark.parametrize(
    ("effect", "media", "frame", "note"),
    [
        (_premiere(scale="abc"), (1920, 1080), FRAME, "Scale 'abc' is not a number"),
        (_premiere(center="1"), (1920, 1080), FRAME, "Center '1' is not a point"),
        (_premiere(scale="0"), (1920, 1080), FRAME, "scale 0 % is left out"),
        (_premiere(scale="50"), (1920, 1080), None, "sequence's frame size is unknown"),
        (_premiere(scale="50"), None, FRAME, "media's frame size is not in the export"),
        (
            {
                "effectid": "basic",
                "parameter": [
                    {
                        "parameterid": "scale",
                        "value": "100",
                        "keyframe": [{"when": "0", "value": "100"}, {"when": "10", "value": "50"}],
                    }
                ],
            },
            (1920, 1080),
            FRAME,
            "Scale keyframes are not rendered",
        ),  # fmt: skip
    ],
)
def test_what_basic_motion_cannot_draw_is_named(
    effect: dict[str, Any],
    media: tuple[int, int] | None,
    frame: tuple[int, int] | None,
    note: str,
) -> None:
    found = basic_motion(effect, media, frame)
    assert any(note in text for _, text in found["notes"]), found


def test_a_clip_without_its_media_size_is_measured_against_the_sequence(tmp_path: Path) -> None:
    timeline = load_sequence(tmp_path, motion(scale=50), media=None)
    (clip,) = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips]
    assert clip.transform.scale_x == 0.5
    assert any("media's frame size is not in the export" in w for w in timeline.warnings)


def test_a_moved_generator_is_measured_against_the_sequence_without_a_warning(
    tmp_path: Path,
) -> None:
    """A colour matte has no media size: it is drawn at the sequence's, so nothing to warn of."""
    path = tmp_path / "matte.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n<xmeml version="4">'
        f'<sequence id="s"><name>S</name><duration>25</duration>{RATE}<media><video><format>'
        "<samplecharacteristics><width>160</width><height>90</height></samplecharacteristics>"
        '</format><track><generatoritem id="g"><name>Color</name><enabled>TRUE</enabled>'
        f"<duration>25</duration>{RATE}<start>0</start><end>25</end><in>0</in><out>25</out>"
        "<effect><name>Color</name><effectid>Color</effectid><effectcategory>Matte"
        "</effectcategory><effecttype>generator</effecttype><mediatype>video</mediatype>"
        "<parameter><parameterid>fillcolor</parameterid><name>Color</name><value><alpha>255"
        "</alpha><red>255</red><green>0</green><blue>0</blue></value></parameter></effect>"
        f"{motion(scale=50, centre=(0.25, 0))}</generatoritem></track></video></media>"
        "</sequence></xmeml>\n"
    )
    timeline = load(str(path))
    (clip,) = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips]
    assert (clip.transform.scale_x, clip.transform.position_x) == (0.5, 40)
    assert timeline.warnings == ()

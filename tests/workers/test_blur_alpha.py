"""Blur, sharpen and noise reduction on a layer with alpha (a logo, a title PNG): no halo of
the colour stored under its transparent pixels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from chunking.timeline.studio import load_project
from tests.helpers import clip, file_clip
from tests.media import project, video_track
from workers.compositor import Compositor

BLUR = [{"id": "soft", "effect_type": "blur", "parameters": {"radius": 5}}]


def frame0(doc: dict[str, Any], base: Path) -> np.ndarray:
    comp = Compositor(load_project(doc, str(base)))
    try:
        return comp.frame(0)
    finally:
        comp.close()


def logo(
    path: Path,
    transparent: tuple[int, int, int, int] = (0, 0, 0, 0),
    colour: tuple[int, int, int] = (255, 255, 255),
) -> Path:
    """A rectangle of `colour` on a transparent 160x90 picture, whose hidden colour is
    `transparent`."""
    rgba = np.zeros((90, 160, 4), np.uint8)
    rgba[...] = transparent
    rgba[30:60, 50:110] = (*colour, 255)
    Image.fromarray(rgba, "RGBA").save(path)
    return path


def over(
    background: str, src: Path, effects: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    effects = effects or BLUR
    return project(
        [
            video_track("bg", [clip("bg", 0, 0.1, background)]),
            video_track("fg", [file_clip("logo", src, 0, 0.1, effects=["soft"], **extra)]),
        ],
        effects=effects,
    )


@pytest.mark.parametrize("rotation", [0, 20])
def test_a_blurred_white_logo_over_white_stays_white(tmp_path: Path, rotation: int) -> None:
    # Blurring straight colour mixed the transparent pixels' black into the logo: a grey band
    # (down to 122) along its edges, over any bright background.
    img = frame0(
        over("#ffffff", logo(tmp_path / "l.png"), transform={"rotation": rotation}), tmp_path
    )
    assert img.min() >= 254  # 1 level: 8-bit rounding of the blurred alpha and colour


def test_a_blurred_logo_softens_its_edges_as_its_flattened_picture_does(tmp_path: Path) -> None:
    # The colour hidden under transparent pixels must not matter, and over black the blurred
    # layer is the blur of the logo drawn on black (an opaque picture: no alpha involved).
    red_hidden = frame0(over("#000000", logo(tmp_path / "a.png", (255, 0, 0, 0))), tmp_path)
    flat = logo(tmp_path / "flat.png", (0, 0, 0, 255))
    reference = frame0(over("#000000", flat), tmp_path)
    edge = reference[90, 94:106, 0]  # the rectangle starts at column 100 (drawn 2x)
    assert 0 < edge.min() < 128 < edge.max() < 255  # the edge really is soft
    # 1 level: the layer's alpha and colour are each rounded to 8 bits before the blur.
    assert np.abs(red_hidden.astype(int) - reference).max() <= 1


@pytest.mark.parametrize(
    ("kind", "params"),
    [("sharpen", {"amount": 3, "radius": 3}), ("noisereduction", {"intensity": 30, "radius": 4})],
)
def test_neighbour_effects_never_read_the_colour_under_transparent_pixels(
    tmp_path: Path, kind: str, params: dict[str, float]
) -> None:
    # A flat grey logo over the same grey: nothing to sharpen or smooth, so the frame is flat.
    # Reading the black (or red) stored under the transparent pixels drew a rim along the edge.
    effects = [{"id": "soft", "effect_type": kind, "parameters": params}]
    for n, hidden in enumerate([(0, 0, 0, 0), (255, 0, 0, 0)]):
        src = logo(tmp_path / f"{n}.png", hidden, colour=(128, 128, 128))
        img = frame0(over("#808080", src, effects), tmp_path)
        assert np.abs(img.astype(int) - 128).max() <= 1, hidden  # 1 level: float rounding

"""Sources shown as their display matrix says: turned, mirrored, or both."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from workers.video_source import VideoSource

W, H = 64, 32


def mirrored(path: Path, degrees: float, hflip: bool, vflip: bool) -> Path:
    """One frame, red in its top-left quarter, written with this display matrix."""
    image = np.zeros((H, W, 3), dtype=np.uint8)
    image[: H // 2, : W // 2] = (255, 0, 0)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.codec_context.options = {"crf": "0"}
        stream.set_display_rotation(degrees, hflip=hflip, vflip=vflip)
        out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode(None))
    return path


def red_corner(path: Path) -> tuple[tuple[int, int], str]:
    """The shown picture's size (width, height) and which corner is red."""
    source = VideoSource(str(path), "m")
    try:
        rgb = source.picture_at(Fraction(0)).rgb
    finally:
        source.close()
    h, w = rgb.shape[:2]
    corners = {
        "top-left": rgb[: h // 4, : w // 4],
        "top-right": rgb[: h // 4, -w // 4 :],
        "bottom-left": rgb[-h // 4 :, : w // 4],
        "bottom-right": rgb[-h // 4 :, -w // 4 :],
    }
    (red,) = [name for name, part in corners.items() if part[..., 0].mean() > 200]
    return (w, h), red


@pytest.mark.parametrize(
    ("degrees", "hflip", "vflip", "size", "corner"),
    [
        (0, False, False, (W, H), "top-left"),
        # QuickTime's Flip Horizontal: a mirror, which FFmpeg reports as a 180 degree turn
        (0, True, False, (W, H), "top-right"),
        (180, False, False, (W, H), "bottom-right"),
        (90, False, False, (H, W), "bottom-left"),  # a phone held the other way
        (-90, False, False, (H, W), "top-right"),
    ],
)
def test_a_source_is_shown_turned_and_mirrored_as_its_matrix_says(
    tmp_path: Path,
    degrees: float,
    hflip: bool,
    vflip: bool,
    size: tuple[int, int],
    corner: str,
) -> None:
    assert red_corner(mirrored(tmp_path / "m.mp4", degrees, hflip, vflip)) == (size, corner)

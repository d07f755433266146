"""Sources shown as their display matrix says: turned, mirrored, or both."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from workers.sources import open_file
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


def _phone_photo(path: Path, orientation: int) -> Path:
    """A landscape JPEG, red in its top-left quarter, tagged with an EXIF orientation."""
    image = np.zeros((H, W, 3), dtype=np.uint8)
    image[: H // 2, : W // 2] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(image).save(path, format="JPEG", quality=95, exif=exif)
    return path


@pytest.mark.parametrize(
    ("orientation", "corner"),
    [(2, "top-right"), (3, "bottom-right"), (5, "top-left"), (6, "top-right"), (8, "bottom-left")],
)
def test_a_jfif_photo_is_shown_upright_and_unmirrored(
    tmp_path: Path, orientation: int, corner: str
) -> None:
    # Browsers save JPEG downloads as .jfif: read as video, FFmpeg 8's EXIF side data stopped
    # the render with a traceback, and a mirror would have been shown as a turn.
    path = _phone_photo(tmp_path / "download.jfif", orientation)
    source = open_file(str(path), "photo")
    rgb = source.picture_at(Fraction(0)).rgb
    size = (W, H) if orientation < 5 else (H, W)
    assert (rgb.shape[1], rgb.shape[0]) == size
    assert _red_corner(rgb) == corner


def test_a_turned_jpeg_read_as_video_is_shown_turned_not_a_traceback(tmp_path: Path) -> None:
    # A JPEG under a video's name goes to FFmpeg, whose EXIF side data PyAV cannot name.
    path = _phone_photo(tmp_path / "photo.mov", 6)
    source = VideoSource(str(path), "photo")
    try:
        rgb = source.picture_at(Fraction(0)).rgb
    finally:
        source.close()
    assert (rgb.shape[1], rgb.shape[0]) == (H, W)
    assert _red_corner(rgb) == "top-right"


def _red_corner(rgb: np.ndarray) -> str:
    """Which quarter of a picture is red."""
    h, w = rgb.shape[:2]
    corners = {
        "top-left": rgb[h // 4, w // 4],
        "top-right": rgb[h // 4, 3 * w // 4],
        "bottom-left": rgb[3 * h // 4, w // 4],
        "bottom-right": rgb[3 * h // 4, 3 * w // 4],
    }
    return next(name for name, px in corners.items() if px[0] > 200 and px[1] < 60)

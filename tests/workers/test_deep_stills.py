"""32-bit greyscale stills: float ones show their 0-1 levels, integer ones are refused by
validate and render alike (both rendered solid black, without a word)."""

from __future__ import annotations

import struct
import zlib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from chunking.timeline.project import read_project
from common.errors import DecodeError
from tests.media import project, video_track
from workers.probe import media_report
from workers.sources import StillSource, open_file


def test_a_float_greyscale_still_shows_its_levels(tmp_path: Path) -> None:
    levels = np.array([[0.0, 0.25, 0.5, 1.0, 1.5, -0.5]], np.float32).repeat(2, axis=0)
    path = tmp_path / "depth.tif"
    Image.fromarray(levels, mode="F").save(path)
    picture = StillSource(str(path), "matte").picture
    assert picture.rgb[0, :, 0].tolist() == [0, 64, 128, 255, 255, 0]
    assert (picture.rgb[:, :, 0] == picture.rgb[:, :, 1]).all()


def test_a_32_bit_integer_greyscale_still_is_refused_naming_clip_and_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "scan.tif"
    Image.new("RGB", (8, 8), (200, 50, 50)).convert("I").save(path)
    with pytest.raises(DecodeError, match=r"^clip 'scan': 32-bit integer greyscale .*scan\.tif"):
        StillSource(str(path), "scan")
    clip = {"id": "scan", "start_time": 0, "end_time": 1, "source": {"File": "scan.tif"}}
    timeline = read_project(project([video_track("v", [clip])]), base_dir=str(tmp_path)).timeline
    problems, _ = media_report(timeline, str(tmp_path))
    assert len(problems) == 1 and problems[0].startswith("clip 'scan': 32-bit integer greyscale")


def test_16_bit_tiffs_are_still_read_as_16_bit(tmp_path: Path) -> None:
    path = tmp_path / "grey16.tif"
    Image.fromarray(np.full((2, 2), 65535, np.uint16)).save(path)
    assert StillSource(str(path), "scan").picture.rgb.min() == 255


def test_a_16_bit_greyscale_png_with_a_transparent_level_keeps_its_greys(tmp_path: Path) -> None:
    # A tRNS key sent it through Pillow's RGBA conversion, which clipped every grey to white.
    levels = np.array([[0, 1000, 32896, 65535]], np.uint16).repeat(2, axis=0)
    raw = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in levels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    path = tmp_path / "matte.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 2, 16, 0, 0, 0, 0))
        + chunk(b"tRNS", struct.pack(">H", 1000))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    picture = StillSource(str(path), "matte").picture
    assert picture.rgb[0, :, 0].tolist() == [0, 4, 128, 255]
    assert picture.alpha is not None and picture.alpha[0].tolist() == [255, 0, 255, 255]


def test_a_still_longer_than_65535_pixels_on_a_side_is_refused(tmp_path: Path) -> None:
    # Under the pixel limit, but Pillow's per-row cost made a 1 x 67,108,864 PNG of 130 KB
    # take 2.3 GB and 8 s to open; this one has 70,000 rows.
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = 70_000
    path = tmp_path / "strip.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, rows, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\x80" * rows))
        + chunk(b"IEND", b"")
    )
    expected = f"image is too large (1x{rows}: over 65535 pixels on a side): {path}"
    with pytest.raises(DecodeError) as info:
        StillSource(str(path), "strip")
    assert str(info.value) == f"clip 'strip': {expected}"
    clip = {"id": "strip", "start_time": 0, "end_time": 1, "source": {"File": "strip.png"}}
    timeline = read_project(project([video_track("v", [clip])]), base_dir=str(tmp_path)).timeline
    assert media_report(timeline, str(tmp_path))[0] == [f"clip 'strip': {expected}"]


def test_a_16_bit_grey_and_alpha_tiff_is_read_by_ffmpeg(tmp_path: Path) -> None:
    # Pillow cannot identify this TIFF layout (a matte from compositing software), so it was
    # refused; FFmpeg's TIFF reader shows it, as a one-frame video.
    import av

    rgba = np.zeros((4, 8, 4), np.uint8)
    rgba[:, :, :3] = 200
    rgba[:2, :, 3] = 255  # opaque top half, clear bottom half
    ctx = av.CodecContext.create("tiff", "w")
    assert isinstance(ctx, av.VideoCodecContext)
    ctx.width, ctx.height, ctx.pix_fmt = 8, 4, "ya16le"
    ctx.time_base = Fraction(1, 25)
    frame = av.VideoFrame.from_ndarray(rgba, format="rgba").reformat(format="ya16le")
    path = tmp_path / "matte.tif"
    path.write_bytes(b"".join(bytes(p) for p in [*ctx.encode(frame), *ctx.encode(None)]))
    source = open_file(str(path), "matte")
    try:
        picture = source.picture_at(Fraction(0))
    finally:
        source.close()
    assert picture.alpha is not None and picture.alpha[:, 0].tolist() == [255, 255, 0, 0]
    assert abs(int(picture.rgb[0, 0, 0]) - 200) <= 1
    clip = {"id": "matte", "start_time": 0, "end_time": 1, "source": {"File": "matte.tif"}}
    timeline = read_project(project([video_track("v", [clip])]), base_dir=str(tmp_path)).timeline
    assert media_report(timeline, str(tmp_path))[0] == []

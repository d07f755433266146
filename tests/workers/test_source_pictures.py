"""What a source frame shows, as users' media mean it: video alpha (lower thirds in ProRes
4444, QuickTime Animation, PNG-in-MOV, VP9 WebM), non-square pixels (PAL and HDV anamorphic),
16-bit greyscale stills and animated GIFs."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from common.errors import DecodeError
from workers.sources import Picture, StillSource, open_file, rgba_image
from workers.video_source import VideoSource


def _encode(
    path: Path,
    codec: str,
    pix_fmt: str,
    *,
    size: tuple[int, int] = (64, 36),
    aspect: Fraction | None = None,
) -> Path:
    """Four frames: the left half opaque red, the right half fully transparent."""
    width, height = size
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=25)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        if aspect is not None:
            stream.codec_context.sample_aspect_ratio = aspect
        for _ in range(4):
            rgba = np.zeros((height, width, 4), np.uint8)
            rgba[:, : width // 2] = (255, 0, 0, 255)
            frame = av.VideoFrame.from_ndarray(rgba, format="rgba")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.mark.parametrize(
    ("name", "codec", "pix_fmt"),
    [
        ("png.mov", "png", "rgba"),
        ("animation.mov", "qtrle", "argb"),
        ("prores4444.mov", "prores_ks", "yuva444p10le"),
        ("vp9.webm", "libvpx-vp9", "yuva420p"),
    ],
)
def test_a_videos_alpha_is_kept(tmp_path: Path, name: str, codec: str, pix_fmt: str) -> None:
    if codec not in av.codecs_available:
        pytest.skip(f"this FFmpeg has no {codec} encoder")
    path = _encode(tmp_path / name, codec, pix_fmt)
    source = VideoSource(str(path), "lower third")
    try:
        for seconds in (Fraction(0), Fraction(3, 25), Fraction(1, 25)):  # forward, then a seek
            picture = source.picture_at(seconds)
            assert picture.alpha is not None, f"{name}: the alpha was dropped"
            assert picture.alpha[:, :28].min() >= 250 and picture.alpha[:, 36:].max() <= 5
            assert picture.rgb[:, :28, 0].min() >= 250  # the opaque half is still red
    finally:
        source.close()


def test_an_opaque_video_has_no_alpha(tmp_path: Path) -> None:
    path = _encode(tmp_path / "plain.mp4", "libx264", "yuv420p")
    source = VideoSource(str(path), "plain")
    try:
        assert source.picture_at(Fraction(0)).alpha is None
    finally:
        source.close()


def test_anamorphic_pixels_are_shown_square(tmp_path: Path) -> None:
    """72x36 stored pixels at 64:45 (PAL widescreen's ratio) are 102x36 shown: the fit sees
    that size and the picture arrives at what the sizer asks for."""
    path = _encode(tmp_path / "pal.mp4", "libx264", "yuv420p", size=(72, 36),
                   aspect=Fraction(64, 45))  # fmt: skip
    asked: list[tuple[int, int]] = []

    def sizer(width: int, height: int) -> tuple[int, int]:
        asked.append((width, height))
        return 204, 72

    source = VideoSource(str(path), "pal")
    try:
        assert source.aspect == Fraction(64, 45)
        assert source.picture_at(Fraction(0)).rgb.shape == (36, 102, 3)
        assert source.picture_at(Fraction(1, 25), sizer).rgb.shape == (72, 204, 3)
        assert asked == [(102, 36)]
    finally:
        source.close()


@pytest.mark.parametrize("name", ["grey16.png", "grey16.tif"])
def test_a_16_bit_greyscale_still_keeps_its_levels(tmp_path: Path, name: str) -> None:
    levels = np.array([[0, 19275, 38550, 65535]], dtype=np.uint16).repeat(4, axis=0)
    path = tmp_path / name
    Image.fromarray(levels).save(path)
    with Image.open(path) as written:  # the premise: Pillow reads it in a 16-bit mode
        assert written.mode.startswith("I")
    picture = StillSource(str(path), "scan").picture
    assert picture.rgb.shape == (4, 4, 3)
    assert picture.rgb[0, :, 0].tolist() == [0, 75, 150, 255]
    assert (picture.rgb[:, :, 0] == picture.rgb[:, :, 2]).all()


def test_an_animated_gif_plays(tmp_path: Path) -> None:
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames = [Image.new("RGB", (32, 18), c) for c in colours]
    path = tmp_path / "loop.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=200, loop=0)
    source = open_file(str(path), "gif")
    assert isinstance(source, VideoSource)
    try:
        shown = [source.picture_at(Fraction(n, 5)).rgb[9, 16].tolist() for n in (0, 1, 2, 0)]
    finally:
        source.close()
    assert [max(range(3), key=lambda i: s[i]) for s in shown] == [0, 1, 2, 0]
    Image.new("RGB", (8, 8)).save(tmp_path / "still.gif")
    assert isinstance(open_file(str(tmp_path / "still.gif"), "still"), StillSource)


@pytest.mark.parametrize("delay", [10, 0])
def test_a_gif_whose_frames_are_too_short_plays_as_browsers_play_it(
    tmp_path: Path, delay: int
) -> None:
    """Delays under 20 ms are shown as 100 ms by browsers; at 10 ms the GIF ran 10x fast."""
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames = [Image.new("RGB", (32, 18), c) for c in colours]
    path = tmp_path / "fast.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=delay, loop=0)
    source = open_file(str(path), "gif")
    assert isinstance(source, VideoSource)
    try:
        at = [Fraction(n, 20) for n in (0, 1, 2, 3, 4, 5)]  # every 50 ms
        shown = [source.picture_at(t).rgb[9, 16].tolist() for t in at]
        assert source.duration == Fraction(3, 10)
    finally:
        source.close()
    assert [max(range(3), key=lambda i: s[i]) for s in shown] == [0, 0, 1, 1, 2, 2]


def _green_yuv(path: Path, size: tuple[int, int], colorspace: int | None) -> Path:
    """A lossless FFV1 frame of one saturated green in YUV, tagged with ``colorspace`` or not."""
    width, height = size
    with av.open(str(path), "w") as out:
        stream = out.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv444p"
        frame = av.VideoFrame(width, height, "yuv444p")
        for plane, value in zip(frame.planes, (150, 60, 50), strict=True):
            plane.update(np.full((height, plane.line_size), value, np.uint8).tobytes())
        if colorspace is not None:
            stream.codec_context.colorspace = colorspace
            frame.colorspace = colorspace
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


@pytest.mark.parametrize(
    ("size", "tag", "read_as"),
    [
        ((1280, 720), None, "ITU709"),  # untagged HD: BT.709, as players show it
        ((640, 360), None, "ITU601"),  # untagged SD: BT.601
        ((1280, 720), 5, "ITU601"),  # what a frame says wins
        ((640, 360), 1, "ITU709"),
    ],
)
def test_untagged_hd_is_read_with_the_bt709_matrix(
    tmp_path: Path, size: tuple[int, int], tag: int | None, read_as: str
) -> None:
    path = _green_yuv(tmp_path / "green.mkv", size, tag)
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        expected = {
            m: frame.reformat(format="rgb24", src_colorspace=m).to_ndarray()[0, 0]
            for m in ("ITU709", "ITU601")
        }
    assert not np.array_equal(expected["ITU709"], expected["ITU601"])  # the matrices differ here
    source = VideoSource(str(path), "green")
    try:
        shown = source.picture_at(Fraction(0)).rgb[0, 0]
    finally:
        source.close()
    assert shown.tolist() == expected[read_as].tolist()


@pytest.mark.timeout(30)
def test_a_fifo_named_as_an_image_is_refused_not_waited_on(tmp_path: Path) -> None:
    """A sequence's frame replaced by a FIFO hung the render for ever, deaf to Ctrl-C."""
    fifo = tmp_path / "frame_0003.png"
    os.mkfifo(fifo)
    with pytest.raises(DecodeError, match=r"clip 'c': cannot decode image .*: not a regular file"):
        StillSource(str(fifo), "c")


def test_an_empty_image_is_refused_as_empty(tmp_path: Path) -> None:
    # Pillow's words were "cannot identify image file '<the path again>'".
    empty = tmp_path / "logo.png"
    empty.write_bytes(b"")
    with pytest.raises(
        DecodeError, match=r"^clip 'c': cannot decode image .*logo\.png: the file is empty"
    ):
        StillSource(str(empty), "c")


def test_a_tga_lower_third_keeps_its_alpha(tmp_path: Path) -> None:
    # Broadcast graphics come as TGA with alpha; the format was refused as not allowed.
    rgba = np.zeros((4, 8, 4), np.uint8)
    rgba[:2] = (250, 200, 20, 255)  # the bar
    rgba[2:] = (0, 0, 0, 0)  # clear below it
    path = tmp_path / "lower_third.tga"
    Image.fromarray(rgba).save(path, compression="tga_rle")
    source = open_file(str(path), "lt")
    assert isinstance(source, StillSource)
    picture = source.picture_at(Fraction(0))
    assert picture.alpha is not None and picture.alpha[:, 0].tolist() == [255, 255, 0, 0]
    assert picture.rgb[0, 0].tolist() == [250, 200, 20]


@pytest.mark.parametrize("alpha", [False, True])
@pytest.mark.parametrize("view", [False, True])
def test_a_picture_becomes_one_rgba_image_band_for_band(alpha: bool, view: bool) -> None:
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    level = rng.integers(0, 256, (40, 60), dtype=np.uint8)
    if view:  # a crop's view, not contiguous
        rgb, level = rgb[3:37, 5:51], level[3:37, 5:51]
    picture = Picture(rgb, level if alpha else None)
    bands = np.asarray(rgba_image(picture))
    assert np.array_equal(bands[:, :, :3], rgb)
    assert np.array_equal(bands[:, :, 3], level if alpha else np.full(rgb.shape[:2], 255))

"""An MP4/MOV recording that was never finalised (no ``moov`` index: the camera or app stopped
before closing the file) is refused in words that say so and what to do, not FFmpeg's
"Invalid data found when processing input"."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from common.errors import DecodeError
from tests.media import make_video
from workers.media_open import open_media


def _cut_before_index(path: Path) -> Path:
    """The file up to its ``moov`` box (written last, as a recorder writes it)."""
    data = path.read_bytes()
    at = data.rindex(b"moov") - 4
    assert b"mdat" in data[:at]
    path.write_bytes(data[:at])
    return path


def test_an_mp4_without_its_index_is_named_an_unfinished_recording(tmp_path: Path) -> None:
    path = _cut_before_index(make_video(tmp_path / "crash.mp4", frames=20))
    with pytest.raises(DecodeError) as caught:
        open_media(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path} is an MP4/MOV recording that was never finished")
    assert "no index (moov box)" in message and "repair tool" in message


def test_a_recording_in_progress_is_named_so_too(tmp_path: Path) -> None:
    """A recorder writes ``mdat`` with size 0 ("to the end of the file") until it closes it."""
    path = _cut_before_index(make_video(tmp_path / "live.mov", frames=20))
    data = bytearray(path.read_bytes())
    at = data.index(b"mdat") - 4
    data[at : at + 4] = bytes(4)
    path.write_bytes(bytes(data))
    with pytest.raises(DecodeError, match="never finished"):
        open_media(str(path))


def test_other_undecodable_files_keep_ffmpegs_words(tmp_path: Path) -> None:
    path = tmp_path / "noise.mp4"
    path.write_bytes(b"not a video at all, not even a box" * 4)
    with pytest.raises(DecodeError, match="cannot open .*: Invalid data"):
        open_media(str(path))


@pytest.mark.parametrize(
    ("codec", "muxer", "name", "what"),
    [("libx264", "h264", "cam.h264", "H.264"), ("libx265", "hevc", "cam.hevc", "HEVC (H.265)")],
)
def test_a_raw_elementary_stream_is_refused_with_how_to_wrap_it(
    tmp_path: Path, codec: str, muxer: str, name: str, what: str
) -> None:
    """A camera's or encoder's bare .h264/.hevc (no container) is named as such, with the
    remux that makes it usable, not "not an allowed media format"."""
    if codec not in av.codecs_available:
        pytest.skip(f"this FFmpeg has no {codec} encoder")
    path = tmp_path / name
    with av.open(str(path), "w", format=muxer) as out:
        stream = out.add_stream(codec, rate=25)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        if codec == "libx265":
            stream.codec_context.options = {"x265-params": "log-level=none"}
        for index in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((180, 320, 3), index * 40, np.uint8))
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    with pytest.raises(DecodeError) as caught:
        open_media(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path} is a raw {what} elementary stream")
    assert f"-i {name} -c copy {path.stem}.mp4" in message
    assert "not an allowed media format" not in message


def test_other_refused_formats_are_still_called_not_allowed(tmp_path: Path) -> None:
    """A format outside the allow-list that is no elementary stream keeps its refusal."""
    path = tmp_path / "clip.nut"
    with av.open(str(path), "w", format="nut") as out:
        stream = out.add_stream("ffv1", rate=25)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        for packet in stream.encode(av.VideoFrame.from_ndarray(np.zeros((36, 64, 3), np.uint8))):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    with pytest.raises(DecodeError, match="its format is not an allowed media format"):
        open_media(str(path))


def _box(kind: bytes, payload: bytes) -> bytes:
    """An ISO base media box."""
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


@pytest.mark.parametrize(("major", "compatible"), [(b"heic", b"mif1heic"), (b"mif1", b"mif1heic")])
def test_a_heic_photo_is_refused_as_such(tmp_path: Path, major: bytes, compatible: bytes) -> None:
    """A phone's HEIC photo was called "an MP4/MOV recording that was never finished" (no
    moov box: a HEIF keeps its pictures as items), sending the user to a repair tool."""
    handler = _box(b"hdlr", bytes(8) + b"pict" + bytes(13))
    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(
        _box(b"ftyp", major + bytes(4) + compatible)
        + _box(b"meta", bytes(4) + handler)
        + _box(b"mdat", bytes(256))
    )
    with pytest.raises(DecodeError) as caught:
        open_media(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path} is a HEIC/HEIF photo, which this renderer does not read")
    assert "convert it to JPEG or PNG" in message and "never finished" not in message


def test_an_avif_photo_still_opens(tmp_path: Path) -> None:
    """AVIF shares HEIF's boxes (brands avif, mif1) and FFmpeg reads it: not refused."""
    from PIL import Image, features

    if not features.check("avif"):
        pytest.skip("this Pillow writes no AVIF")
    path = tmp_path / "photo.avif"
    Image.new("RGB", (64, 36), (200, 40, 40)).save(path)
    with open_media(str(path)) as container:
        assert container.streams.video[0].width == 64

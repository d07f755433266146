"""A video file whose cover art FFmpeg lists as its first video stream shows its video.

An MP4 whose tags (``moov/udta/meta/ilst/covr``) come before its tracks, as iTunes and tagging
tools write them, reads back with the cover as stream 0. The render and validate took the
first video stream: "no video frames in FILE", for a file any player plays.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

from chunking.timeline.project import read_project
from tests.media import decode_rgb, identify, make_video, project, video_track
from workers.media_open import open_media, picture_stream
from workers.probe import media_report
from workers.video_source import VideoSource


def _box(kind: bytes, payload: bytes) -> bytes:
    """An ISO BMFF box."""
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of the boxes in data[start:end]."""
    found, at = [], start
    while at < end:
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        found.append((kind, at, size))
        at += size
    return found


def _cover_first(path: Path) -> Path:
    """Put a PNG cover in the file's tags, before its tracks (the file's index is at its end,
    so no sample offset moves)."""
    png = io.BytesIO()
    Image.new("RGB", (16, 16), (255, 0, 0)).save(png, "PNG")
    handler = _box(b"hdlr", bytes(8) + b"mdirappl" + bytes(9))
    covr = _box(b"covr", _box(b"data", struct.pack(">II", 14, 0) + png.getvalue()))
    udta = _box(b"udta", _box(b"meta", bytes(4) + handler + _box(b"ilst", covr)))
    data = path.read_bytes()
    top = _boxes(data, 0, len(data))
    kind, at, size = top[-1]
    assert kind == b"moov", "the test needs the index at the end"
    children = _boxes(data, at + 8, at + size)
    assert children[0][0] == b"mvhd"
    mvhd_end = children[0][1] + children[0][2]
    moov = data[at + 8 : mvhd_end] + udta + data[mvhd_end : at + size]
    path.write_bytes(data[:at] + _box(b"moov", moov))
    return path


def test_the_cover_is_listed_first_and_skipped(tmp_path: Path) -> None:
    path = _cover_first(make_video(tmp_path / "tagged.mp4", frames=12))
    with open_media(str(path)) as container:
        first = container.streams.video[0]
        assert first.disposition & av.stream.Disposition.attached_pic  # the case at hand
        picture = picture_stream(container)
        assert picture is not None and picture.index != first.index
    source = VideoSource(str(path), "c")
    try:
        shown = [identify(source.picture_at(Fraction(n, 30)).rgb) for n in (0, 5, 11)]
    finally:
        source.close()
    assert shown == [0, 5, 11]


def test_validate_and_the_render_pass_it(tmp_path: Path) -> None:
    path = _cover_first(make_video(tmp_path / "tagged.mp4", frames=12))
    clip = {"id": "c", "source": {"File": str(path)}, "start_time": 0, "end_time": 0.4}
    doc = project([video_track("v", [clip])], size=(160, 90))
    timeline = read_project(doc, base_dir=str(tmp_path)).timeline
    problems, _ = media_report(timeline, str(tmp_path))
    assert problems == []
    (tmp_path / "p.json").write_text(json.dumps(doc))
    out = tmp_path / "out.mkv"
    rendered = subprocess.run(
        [sys.executable, "-m", "cli", "render", str(tmp_path / "p.json"), "-o", str(out)]
        + ["--direct", "--quiet", "--lossless"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rendered.returncode == 0, rendered.stderr[-500:]
    assert [identify(f) for f in decode_rgb(out)] == list(range(12))

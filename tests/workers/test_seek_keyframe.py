"""Files whose keyframe table misses their first frame render as FFmpeg plays them.

An MP4 whose sync-sample table (``stss``) no longer lists its first sample made every seek to
the file's start fail in FFmpeg with EPERM: validate and render refused the file as ``cannot
seek in F: Operation not permitted`` (as if it were locked), where ffmpeg plays it from the top.
``workers.media_open.seek_keyframe`` seeks to the packet itself when no listed keyframe precedes
it. An MKV whose packets carry no keyframe flag refuses even that: it is refused, saying why
(``tests/workers/test_probe_decode.py``).
"""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import numpy as np

from chunking.timeline.project import read_project
from tests.media import make_video, project, video_track
from workers.probe import media_report
from workers.sources import open_file

FRAMES = 30


def _pictures(path: Path, order: list[int]) -> dict[int, np.ndarray]:
    """Frames of the file as the render decodes them, asked for in this order (each seek
    path: from the start, forward, back to the start)."""
    source = open_file(str(path), "take")
    try:
        return {n: source.picture_at(Fraction(n, 30)).rgb.copy() for n in order}
    finally:
        source.close()


def _no_first_sync_sample(good: Path, path: Path) -> Path:
    """`good` with its stss table's first entry (sample 1) pointing at the second keyframe."""
    data = bytearray(good.read_bytes())
    at = data.index(b"stss")
    first, second = struct.unpack(">II", data[at + 12 : at + 20])
    assert (first, second) == (1, 11)  # the premise: keyframes at samples 1, 11, 21
    data[at + 12 : at + 16] = struct.pack(">I", second)
    path.write_bytes(bytes(data))
    return path


def _valid(folder: Path, name: str) -> list[str]:
    clip = {"id": "take", "start_time": 0, "end_time": 1, "source": {"File": name}}
    doc = project([video_track("v", [clip])], size=(64, 36))
    return media_report(read_project(doc, base_dir=str(folder)).timeline, str(folder))[0]


def test_an_mp4_whose_sync_table_misses_its_first_frame_renders_every_frame(
    tmp_path: Path,
) -> None:
    good = make_video(tmp_path / "good.mp4", frames=FRAMES, size=(64, 36), gop=10)
    path = _no_first_sync_sample(good, tmp_path / "take.mp4")
    order = [0, 3, 12, 25, 1, 0, 15]
    want, got = _pictures(good, order), _pictures(path, order)
    assert all(np.array_equal(want[n], got[n]) for n in order)
    assert _valid(tmp_path, "take.mp4") == []

"""An MP4 whose time scale is one tick a second (frame times in whole seconds, so two frames
share a time) is refused by ``validate`` and ``render`` for the same reason: its frame times
are out of order. Validate said so; the render said a frame "cannot be decoded", as if the
file were corrupt there."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np
import pytest

from tests.helpers import CLI
from tests.media import project, video_track, write_project
from workers.video_index import VideoIndex

pytestmark = pytest.mark.timeout(120)


def whole_second_mp4(path: Path, frames: int = 40, fps: int = 3) -> Path:
    """An H.264 MP4 muxed with a time scale of 1: its frame times round to whole seconds and
    the muxer drops the packets whose times collide, leaving two frames at time 0."""
    with av.open(str(path), "w", options={"video_track_timescale": "1"}) as out:
        stream = out.add_stream("libx264", rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        stream.codec_context.options = {"preset": "ultrafast", "crf": "10"}
        stream.codec_context.gop_size = 10
        for i in [*range(frames), None]:
            frame = None
            if i is not None:
                img = np.full((36, 64, 3), (i * 8) % 256, dtype=np.uint8)
                frame = av.VideoFrame.from_ndarray(img, format="rgb24")
                frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in stream.encode(frame):
                try:
                    out.mux(packet)
                except av.error.FFmpegError:
                    pass  # a time the muxer already holds: what a careless muxer leaves out
    with av.open(str(path)) as opened:
        video = opened.streams.video[0]
        assert video.time_base == 1
        pts = [p.pts for p in opened.demux(video) if p.pts is not None]
    assert pts[:3] == [0, 0, 1], pts
    return path


def test_validate_and_render_give_the_same_reason(cli: CLI, tmp_path: Path) -> None:
    whole_second_mp4(tmp_path / "ticks.mp4")
    clip = {"id": "take", "start_time": 0, "end_time": 5, "source": {"File": "ticks.mp4"}}
    path = write_project(tmp_path / "p.json", project([video_track("v", [clip])]))
    reason = (
        f"error: clip 'take': the frame times of {tmp_path / 'ticks.mp4'} are out of order at "
        "0.000s: its timing table is broken (re-export the file)\n"
    )
    validated = cli("validate", str(path))
    assert (validated.returncode, validated.stderr) == (2, reason)
    rendered = cli("render", str(path), "--direct", "-o", str(tmp_path / "out.mp4"))
    assert (rendered.returncode, rendered.stderr) == (2, reason)


def test_a_missing_frame_among_distinct_times_still_cannot_be_decoded() -> None:
    index = VideoIndex([0, 512, 1024], [0], Fraction(1, 15360))
    assert index.missing_frame(512, "a.mp4") == "frame at 0.033s cannot be decoded from a.mp4"
    shared = VideoIndex([0, 512, 1024, 1024], [0], Fraction(1, 15360))
    assert shared.missing_frame(512, "a.mp4").startswith(
        "the frame times of a.mp4 are out of order at 0.067s: "
    )

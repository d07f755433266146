"""A frame stamped far past its place (a bit flipped in a Matroska block's time: frame 4 of 30
fps at 8.325 s) comes out of the decoder before the frames after it: the render, decoding
forward to the frame it wants, stops at the first frame past it and refuses "frame at 0.167s
cannot be decoded", and validate, which skipped frames past the clip's range, said ok (found by
bench/fuzz_media.py)."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from chunking.timeline.project import read_project
from common.errors import DecodeError
from tests.media import make_video, project, video_track
from workers.probe import media_report
from workers.render import render_to_file


def _one_frame_stamped_late(folder: Path) -> Path:
    """A WebM of 60 VP9 frames whose frame 4 is stamped at 8.325 s (its neighbours at 0.1 and
    0.167 s)."""
    whole = make_video(folder / "whole.webm", frames=60, size=(64, 36), codec="libvpx-vp9")
    path = folder / "take.webm"
    with av.open(str(whole)) as source, av.open(str(path), "w") as out:
        video = source.streams.video[0]
        copy = out.add_stream_from_template(video)
        for count, packet in enumerate(source.demux(video)):
            if not packet.size:
                continue
            if count == 4:
                packet.pts = 8325  # its decode time stays in order, as the muxer wants
            packet.stream = copy
            out.mux(packet)
    return path


def test_a_frame_stamped_past_later_ones_is_refused_by_validate_as_by_the_render(
    tmp_path: Path,
) -> None:
    path = _one_frame_stamped_late(tmp_path)
    with av.open(str(path)) as container:  # the premise
        times = [p.pts for p in container.demux(video=0) if p.size]
        assert times[3:6] == [100, 8325, 167]
    clip = {"id": "take", "start_time": 0, "end_time": 1.5, "source": {"File": "take.webm"}}
    timeline = read_project(project([video_track("v", [clip])]), base_dir=str(tmp_path)).timeline
    with pytest.raises(DecodeError, match="clip 'take': "):
        render_to_file(timeline, str(tmp_path / "out.mp4"), audio=False)
    problems = media_report(timeline, str(tmp_path))[0]
    assert problems == [
        f"clip 'take': the frame times of {path} are out of order at 8.325s: its timing table "
        "is broken (re-export the file)"
    ]

"""Damaged packets before a video's first keyframe are checked as the render reads them:
the render never decodes them (``workers.video_index``: frames before the first keyframe show
it, held, as a capture cut mid-GOP does), and validate refused "corrupt video" a file the
render renders (found by damaging files at random and comparing validate with render)."""

from __future__ import annotations

import struct
from pathlib import Path

import av

from chunking.timeline.model import Timeline
from chunking.timeline.project import read_project
from tests.media import identify, make_video, project, video_track
from workers.probe import media_report
from workers.render import render_to_file
from workers.video_source import VideoSource


def _damaged_before_first_keyframe(path: Path, keyframed: bool) -> Path:
    """An MP4 of 60 frames in GOPs of 10 whose first packet is garbage; unless
    ``keyframed``, its sync-sample table no longer calls that packet a keyframe (the first
    is then frame 10)."""
    make_video(path, frames=60, size=(64, 36), gop=10)
    data = bytearray(path.read_bytes())
    with av.open(str(path)) as container:
        first = next(p for p in container.demux(video=0) if p.size)
        assert first.pos is not None and first.is_keyframe
        start, size = first.pos, first.size
    data[start + 4 : start + size] = b"\xff" * (size - 4)  # its length prefix kept
    if not keyframed:
        at = data.find(b"stss")
        count, one, two = struct.unpack(">I2I", data[at + 8 : at + 20])[0:3]
        assert count == 6 and (one, two) == (1, 11)
        data[at + 12 : at + 16] = struct.pack(">I", two)  # sample 1 is a keyframe no more
    path.write_bytes(bytes(data))
    return path


def _timeline(folder: Path, name: str) -> Timeline:
    clip = {"id": "take", "start_time": 0, "end_time": 1.5, "source": {"File": name}}
    return read_project(project([video_track("v", [clip])]), base_dir=str(folder)).timeline


def test_garbage_before_the_first_keyframe_is_not_refused_where_the_render_renders(
    tmp_path: Path,
) -> None:
    path = _damaged_before_first_keyframe(tmp_path / "take.mp4", keyframed=False)
    with av.open(str(path)) as container:  # the premise: the first packet does not decode
        packets = [p for p in container.demux(video=0) if p.size]
        assert not packets[0].is_keyframe and packets[10].is_keyframe
    timeline = _timeline(tmp_path, "take.mp4")
    source = VideoSource(str(path), "take")
    try:  # what the render shows: frame 10, held from the start
        assert identify(source.picture_at(source.duration * 0).rgb) == 10
    finally:
        source.close()
    render_to_file(timeline, str(tmp_path / "out.mp4"), audio=False)
    assert media_report(timeline, str(tmp_path))[0] == []


def test_garbage_in_a_first_packet_that_is_a_keyframe_is_still_refused(tmp_path: Path) -> None:
    """The render decodes a keyframe: damage there is refused by validate as before."""
    _damaged_before_first_keyframe(tmp_path / "take.mp4", keyframed=True)
    problems = media_report(_timeline(tmp_path, "take.mp4"), str(tmp_path))[0]
    assert len(problems) == 1 and "corrupt video" in problems[0], problems

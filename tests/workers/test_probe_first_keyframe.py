"""Damaged packets before a video's first keyframe are checked as the render reads them:
the render never decodes them (``workers.video_index``: frames before the first keyframe show
it, held, as a capture cut mid-GOP does), and validate refused "corrupt video" a file the
render renders (found by damaging files at random and comparing validate with render)."""

from __future__ import annotations

from pathlib import Path

import av
import av.error
import pytest

from chunking.timeline.model import Timeline
from chunking.timeline.project import read_project
from common.errors import DecodeError
from tests.media import identify, make_video, project, video_track
from workers.probe import media_report
from workers.render import render_to_file
from workers.video_source import VideoSource


def _garbage_first_packet(path: Path, gop: int) -> Path:
    """An MP4 of 60 frames in GOPs of ``gop`` whose first packet is garbage (its length prefix
    kept): FFmpeg's parser then flags it no keyframe, and the first keyframe is frame ``gop``
    (none, for a GOP of 60)."""
    make_video(path, frames=60, size=(64, 36), gop=gop)
    data = bytearray(path.read_bytes())
    with av.open(str(path)) as container:
        first = next(p for p in container.demux(video=0) if p.size)
        assert first.pos is not None and first.is_keyframe
        start, size = first.pos, first.size
    data[start + 4 : start + size] = b"\xff" * (size - 4)
    path.write_bytes(bytes(data))
    return path


def _timeline(folder: Path, name: str) -> Timeline:
    clip = {"id": "take", "start_time": 0, "end_time": 1.5, "source": {"File": name}}
    return read_project(project([video_track("v", [clip])]), base_dir=str(folder)).timeline


def test_garbage_before_the_first_keyframe_is_not_refused_where_the_render_renders(
    tmp_path: Path,
) -> None:
    path = _garbage_first_packet(tmp_path / "take.mp4", gop=10)
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


def test_garbage_that_no_keyframe_follows_is_refused_by_both(tmp_path: Path) -> None:
    """One GOP: the render decodes from the garbage (no later keyframe to start at), and
    validate refuses it as the render does."""
    path = _garbage_first_packet(tmp_path / "take.mp4", gop=60)
    with av.open(str(path)) as container:  # the premise: no keyframe at all
        assert not any(p.is_keyframe for p in container.demux(video=0) if p.size)
    timeline = _timeline(tmp_path, "take.mp4")
    problems = media_report(timeline, str(tmp_path))[0]
    assert len(problems) == 1 and "corrupt video" in problems[0], problems
    with pytest.raises(DecodeError, match="corrupt video"):
        render_to_file(timeline, str(tmp_path / "out.mp4"), audio=False)


def test_a_damaged_mov_found_at_random_is_rendered_and_validated_alike(tmp_path: Path) -> None:
    """Two bit flips (a track's hdlr, a chunk offset) of a small MOV, as the random damage
    found them: its first GOP's packets are no keyframe and do not decode. The render shows
    frame 10 held; validate's decode of the clip's range refused "corrupt video at about
    0.033s" there, before the keyframe the render starts at."""
    path = make_video(tmp_path / "take.mov", frames=60, size=(64, 36), audio_hz=440.0)
    data = bytearray(path.read_bytes())
    for at, bit in ((46087, 2), (45415, 2)):
        data[at] ^= 1 << bit
    path.write_bytes(bytes(data))
    with av.open(str(path)) as container:  # the premise (it depends on the encoder's bytes)
        packets = [p for p in container.demux(video=0) if p.size]
        assert not packets[0].is_keyframe and packets[10].is_keyframe
        try:
            packets[0].decode()
            garbage = False
        except av.error.InvalidDataError:
            garbage = True
        assert garbage
    timeline = _timeline(tmp_path, "take.mov")
    render_to_file(timeline, str(tmp_path / "out.mp4"), audio=False)
    assert media_report(timeline, str(tmp_path))[0] == []

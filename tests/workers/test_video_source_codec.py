"""A source whose video codec FFmpeg cannot decode, reaching a worker without the client's
checks (a job submitted over Redis or the API naming a file on a shared mount)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chunking.timeline.studio import load_project
from common.errors import DecodeError
from tests.media import make_video, project, video_track
from workers.render import render_to_file
from workers.video_source import VideoSource


def _undecodable(tmp_path: Path) -> Path:
    """An MP4 whose sample entry names a codec no decoder exists for (a damaged fourcc)."""
    path = make_video(tmp_path / "take.mp4", frames=15, size=(64, 36))
    data = path.read_bytes()
    entry = data.index(b"avc1", data.index(b"stsd"))
    path.write_bytes(data[:entry] + b"zzzz" + data[entry + 4 :])
    return path


def test_the_source_names_the_clip_and_the_file(tmp_path: Path) -> None:
    path = _undecodable(tmp_path)
    with pytest.raises(DecodeError) as refused:
        VideoSource(str(path), "take")
    # Was: AttributeError 'NoneType' object has no attribute 'thread_count', a crashed chunk.
    assert str(refused.value) == f"clip 'take': no decoder for the video codec of {path}"


def test_the_render_stops_in_one_line_and_leaves_no_output(tmp_path: Path) -> None:
    path = _undecodable(tmp_path)
    clip = {"id": "take", "start_time": 0, "end_time": 0.5, "source": {"File": path.name}}
    timeline = load_project(project([video_track("v", [clip])], size=(64, 36)), str(tmp_path))
    out = tmp_path / "out" / "x.mp4"
    out.parent.mkdir()
    with pytest.raises(DecodeError, match="clip 'take': no decoder for the video codec"):
        render_to_file(timeline, str(out), audio=False)
    assert list(out.parent.iterdir()) == []

"""A file cut short is refused where a clip plays past the cut, by validate and render alike,
and not where the clips use only its intact part (validate refused such a project that renders
fine, and render froze or failed with a misleading message where validate refused)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from chunking.timeline.model import Timeline
from chunking.timeline.project import read_project
from common.errors import DecodeError, ValidationError
from tests.media import make_video, project, video_track, zero_frame_times
from workers import render_process
from workers.probe import header_warnings, media_problem, media_report
from workers.sources import collapsed_times, open_file


def _faststart(path: Path, frames: int = 60) -> Path:
    """A 64x36 30 fps MP4 with its index before its frames, so a cut-short copy still opens."""
    rng = np.random.default_rng(2)
    with av.open(str(path), "w", format="mp4", container_options={"movflags": "faststart"}) as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        stream.codec_context.gop_size = 10
        for i in range(frames):
            image = rng.integers(0, 255, (36, 64, 3), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _timeline(folder: Path, name: str, end: float) -> Timeline:
    clip = {"id": "take", "start_time": 0, "end_time": end, "source": {"File": name}}
    doc = project([video_track("v", [clip])], size=(64, 36))
    return read_project(doc, base_dir=str(folder)).timeline


def _refusal(folder: Path, name: str, seconds: float) -> str:
    """What validate says of a clip playing ``seconds`` of ``name`` (it must refuse it)."""
    problems = media_report(_timeline(folder, name, seconds), str(folder))[0]
    assert len(problems) == 1 and problems[0].startswith("clip 'take': "), problems
    return problems[0]


def test_a_cut_file_is_refused_only_where_a_clip_plays_past_the_cut(tmp_path: Path) -> None:
    whole = _faststart(tmp_path / "whole.mp4").read_bytes()
    (tmp_path / "cut.mp4").write_bytes(whole[: len(whole) // 2])  # the camera died mid-take
    head = _timeline(tmp_path, "cut.mp4", 0.5)
    assert media_report(head, str(tmp_path))[0] == []  # validate: ok
    assert header_warnings(head) == []  # render: ok
    # Asset sync and uploads know no clips: they refused it ("cut short") where validate and
    # render accept the project, so `render` on a cluster failed after validate said ok.
    assert media_problem(str(tmp_path / "cut.mp4")) is None
    past = _timeline(tmp_path, "cut.mp4", 2.0)
    problems = media_report(past, str(tmp_path))[0]
    assert len(problems) == 1 and problems[0].startswith("clip 'take': ")
    assert "cut.mp4 is cut short" in problems[0]
    with pytest.raises(ValidationError) as refused:
        header_warnings(past)  # what render runs first, direct or distributed
    assert refused.value.problems == problems


def test_a_file_whose_frame_times_collapse_is_refused_not_frozen(tmp_path: Path) -> None:
    path = make_video(tmp_path / "stuck.mp4", frames=60, size=(64, 36))
    zero_frame_times(path)
    # It rendered a frozen picture without a word, direct and distributed (each chunk opens it).
    with pytest.raises(DecodeError, match=r"^clip 'take': the frame times of .*stuck\.mp4 "):
        open_file(str(path), "take")


def test_frame_times_with_a_stray_duplicate_still_play(tmp_path: Path) -> None:
    assert collapsed_times([0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10], "a.ts") is None
    assert collapsed_times([0, 0, 0, 1], "a.mp4") is not None


def _late_mkv(path: Path, start: int = 100, frames: int = 60) -> Path:
    """A 64x36 30 fps Matroska whose times start at ``start`` seconds, as a remux keeping a
    capture's times writes it (FFmpeg's muxer then declares its last time as its Duration)."""
    rng = np.random.default_rng(3)
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        stream.codec_context.gop_size = 10
        for i in range(frames):
            image = rng.integers(0, 255, (36, 64, 3), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = start * 30 + i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def test_an_intact_matroska_starting_late_is_not_taken_for_a_cut_one(tmp_path: Path) -> None:
    """Asset sync and uploads refused it: "cut short: its video ends at 102.000s of the
    202.000s it declares"; and a clip playing past its end was not warned of (105 s long)."""
    path = _late_mkv(tmp_path / "capture.mkv")
    with av.open(str(path)) as container:  # the case at hand
        assert container.duration / av.time_base > container.start_time / av.time_base > 99
    assert media_problem(str(path)) is None
    past = _timeline(tmp_path, "capture.mkv", 3.0)
    warned = header_warnings(past)
    assert len(warned) == 1 and "but the file lasts 2.00s" in warned[0]


def test_a_cut_file_is_measured_in_the_seconds_clips_use(tmp_path: Path) -> None:
    """From its first frame, as ``source_start`` is: not FFmpeg's times from 100 s on."""
    whole = _late_mkv(tmp_path / "whole.mkv", frames=90).read_bytes()
    (tmp_path / "cut.mkv").write_bytes(whole[: len(whole) // 2])
    problem = _refusal(tmp_path, "cut.mkv", 3.0)
    assert "is cut short: its video ends at 1." in problem
    assert problem.endswith("of the 3.000s it declares")


def _sound_outlasting(path: Path, frames: int = 30, sound_seconds: int = 3) -> Path:
    """A 64x36 30 fps Matroska/WebM of ``frames`` frames whose sound lasts ``sound_seconds``
    (a screen recording stopped on the picture first, a music video's closing chord)."""
    video_codec, audio_codec = (
        ("libvpx-vp9", "libopus")
        if path.suffix == ".webm"
        else (
            "libx264",
            "aac",
        )
    )
    with av.open(str(path), "w") as out:
        stream = out.add_stream(video_codec, rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        sound = out.add_stream(audio_codec, rate=48000, layout="mono")
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((36, 64, 3), i * 8, np.uint8), "rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        tone = np.sin(np.arange(48000 * sound_seconds, dtype=np.float32) / 10)[None, :]
        samples = av.AudioFrame.from_ndarray(tone * 0.1, format="flt", layout="mono")
        samples.sample_rate, samples.pts = 48000, 0
        out.mux(sound.encode(samples))
        out.mux(sound.encode(None))
    return path


@pytest.mark.parametrize(("suffix", "tagged"), [(".mkv", True), (".webm", True), (".mkv", False)])
def test_a_matroska_whose_sound_outlasts_its_picture_is_not_taken_for_a_cut_one(
    tmp_path: Path, suffix: str, tagged: bool
) -> None:
    """Its Duration is its sound's end: it was refused as "cut short: its video ends at 1.000s
    of the 3.001s it declares"; the video track's own length (its DURATION tag) is what a clip
    plays out, and without tags no stream reaching the Duration is a cut."""
    path = _sound_outlasting(tmp_path / f"take{suffix}")
    if not tagged:  # a muxer that writes no track statistics
        path.write_bytes(path.read_bytes().replace(b"DURATION", b"XURATION"))
    assert media_problem(str(path)) is None
    if tagged:
        warned = header_warnings(_timeline(tmp_path, path.name, 2.0))
        assert len(warned) == 1 and "but the file lasts 1.00s" in warned[0]
        assert "its last frame holds while its sound plays on" in warned[0]


def test_a_short_matroska_cut_by_a_second_is_refused_not_frozen(tmp_path: Path) -> None:
    """A 2 s copy cut 60 % in rendered its last 0.8 s as its last frame frozen, exit 0: the
    second of slack a container's rounded length needs hid the cut."""
    whole = make_video(tmp_path / "whole.mkv", frames=60, size=(64, 36)).read_bytes()
    (tmp_path / "cut.mkv").write_bytes(whole[: len(whole) * 6 // 10])
    problem = _refusal(tmp_path, "cut.mkv", 2.0)
    assert "cut.mkv is cut short: its video ends at" in problem
    assert problem.endswith("of the 2.000s it declares")
    with pytest.raises(ValidationError, match="cut short"):
        header_warnings(_timeline(tmp_path, "cut.mkv", 2.0))


def test_an_animated_gif_cut_short_is_refused_where_a_clip_plays_past_its_whole_frames(
    tmp_path: Path,
) -> None:
    """A GIF download cut in half played as a shorter animation, its last frame garbled and
    then held, with only a warning that the file 'lasts 0.35s' (a PNG or JPEG cut short is
    refused)."""
    frames = [Image.fromarray(np.full((36, 64, 3), 40 * i, np.uint8)) for i in range(5)]
    whole = tmp_path / "whole.gif"
    frames[0].save(whole, save_all=True, append_images=frames[1:], duration=100, loop=0)
    data = whole.read_bytes()
    (tmp_path / "cut.gif").write_bytes(data[: len(data) * 6 // 10])
    assert media_problem(str(whole)) is None
    assert "cut.gif is cut short: its GIF frames end at" in _refusal(tmp_path, "cut.gif", 0.5)
    past = _timeline(tmp_path, "cut.gif", 0.5)
    with pytest.raises(ValidationError, match="cut.gif is cut short"):
        header_warnings(past)  # what render runs first
    assert media_report(past, str(tmp_path))[0][0].startswith("clip 'take': ")
    head = _timeline(tmp_path, "cut.gif", 0.1)  # its first frame only: whole
    assert media_report(head, str(tmp_path))[0] == [] and header_warnings(head) == []


def test_a_cut_avi_says_how_much_of_it_is_left(tmp_path: Path) -> None:
    """An AVI cut mid-packet was refused as "cut short: its last video packet is incomplete",
    which did not say whether one frame or most of the take was lost."""
    rng = np.random.default_rng(5)
    with av.open(str(tmp_path / "whole.avi"), "w", format="avi") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        stream.options = {"x264-params": "keyint=10:min-keyint=10:bframes=0:scenecut=0"}
        for number in range(60):
            image = rng.integers(0, 255, (36, 64, 3), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = number
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    whole = (tmp_path / "whole.avi").read_bytes()
    (tmp_path / "cut.avi").write_bytes(whole[: len(whole) * 6 // 10 + 7])  # mid-packet
    problems = media_report(_timeline(tmp_path, "cut.avi", 2.0), str(tmp_path))[0]
    assert len(problems) == 1, problems
    found = re.search(
        r"cut\.avi is cut short: its last video packet is incomplete: it holds about "
        r"(\d+\.\d+)s$",
        problems[0],
    )
    assert found is not None, problems[0]
    assert 0.9 <= float(found.group(1)) <= 1.5  # six tenths of a 2 s file of even packets


def _chunk_report(timeline: Timeline, output: Path, start: int, end: int) -> dict[str, Any]:
    """The last report of a chunk's render process rendering frames [start, end)."""
    channel = io.StringIO()
    request = {"timeline": timeline, "output": str(output), "start": start, "end": end,
               "hardware": {}, "threads": 1}  # fmt: skip
    render_process.serve(request, channel)
    report: dict[str, Any] = json.loads(channel.getvalue().splitlines()[-1])
    return report


def test_a_chunk_whose_clip_plays_past_an_uploaded_cut_is_refused_naming_it(
    tmp_path: Path,
) -> None:
    """An upload knows no clips, so it takes a file cut short; a cluster's chunk (no
    ``header_warnings`` before it) rendered a Matroska one's last frame frozen, exit 0."""
    whole = make_video(tmp_path / "whole.mkv", frames=60, size=(64, 36))
    (tmp_path / "cut.mkv").write_bytes(whole.read_bytes()[: whole.stat().st_size * 6 // 10])
    clips = [
        {"id": "intact", "start_time": 0, "end_time": 1.0, "source": {"File": "whole.mkv"}},
        {"id": "past", "start_time": 1.0, "end_time": 3.0, "source": {"File": "cut.mkv"}},
    ]
    doc = project([video_track("v", clips)], size=(64, 36))
    timeline = read_project(doc, base_dir=str(tmp_path)).timeline
    assert "done" in _chunk_report(timeline, tmp_path / "a.mkv", 0, 30)  # the intact clip only
    error = _chunk_report(timeline, tmp_path / "b.mkv", 30, 90)["error"]
    assert error["kind"] == "render" and error["class"] == "DecodeError"
    assert (
        error["message"].startswith("clip 'past': ") and "cut.mkv is cut short" in error["message"]
    )

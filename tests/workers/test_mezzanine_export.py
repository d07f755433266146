"""ProRes and DNxHR exports, the mezzanine codecs editors hand over: each profile encodes with
its pixel format, chunks render as the workers write them, and the stitched file is the
single-pass render packet for packet, every frame a keyframe, with the right frame count."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import av
import numpy as np
import pytest

from chunking.timeline.export_overrides import with_overrides
from chunking.timeline.model import Timeline
from chunking.timeline.studio import load_project
from tests.helpers import colour_project, file_clip
from tests.media import decode_rgb, make_video, project, video_track
from workers.encoder import segment_format
from workers.render import render_to_file
from workers.stitch import stitch

FRAMES = 12
BOUNDS = [0, 5, 6, FRAMES]  # a one-frame chunk too

#: (codec, profile, container) -> (FFmpeg codec name, profile as FFmpeg reads it, pixel format)
CASES = {
    ("prores", "proxy", "mov"): ("prores", "Proxy", "yuv422p10le"),
    ("prores", "lt", "mov"): ("prores", "LT", "yuv422p10le"),
    ("prores", "standard", "mov"): ("prores", "Standard", "yuv422p10le"),
    ("prores", "hq", "mov"): ("prores", "HQ", "yuv422p10le"),
    ("prores", "4444", "mov"): ("prores", "4444", "yuv444p12le"),  # decoded as 12-bit
    ("prores", "hq", "mkv"): ("prores", "HQ", "yuv422p10le"),
    ("dnxhr", "lb", "mov"): ("dnxhd", "DNXHR LB", "yuv422p"),
    ("dnxhr", "sq", "mov"): ("dnxhd", "DNXHR SQ", "yuv422p"),
    ("dnxhr", "hq", "mov"): ("dnxhd", "DNXHR HQ", "yuv422p"),
    ("dnxhr", "hqx", "mov"): ("dnxhd", "DNXHR HQX", "yuv422p10le"),
    ("dnxhr", "444", "mov"): ("dnxhd", "DNXHR 444", "yuv444p10le"),
}


def _timeline(tmp: Path, codec: str, profile: str, container: str) -> Timeline:
    source = make_video(tmp / "source.mp4", frames=FRAMES, size=(320, 180))
    doc = project([video_track("v", [file_clip("c", source, 0, FRAMES / 30)])])
    timeline = load_project(doc, str(tmp))
    export = with_overrides(timeline.export, container=container, codec=codec, profile=profile)
    return dataclasses.replace(timeline, export=export)


def _packets(path: Path) -> list[tuple[bytes, bool]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [(bytes(p), bool(p.is_keyframe)) for p in container.demux(stream) if p.size]


@pytest.mark.parametrize(("codec", "profile", "container"), list(CASES))
def test_a_chunked_mezzanine_render_is_the_single_pass_render(
    tmp_path: Path, codec: str, profile: str, container: str
) -> None:
    name, profile_name, pix_fmt = CASES[codec, profile, container]
    timeline = _timeline(tmp_path, codec, profile, container)
    whole = tmp_path / f"whole.{container}"
    summary = render_to_file(timeline, str(whole), audio=False)
    assert summary.encoder == {"prores": "prores_ks", "dnxhr": "dnxhd"}[codec]
    segments = []
    for index, (start, end) in enumerate(zip(BOUNDS, BOUNDS[1:], strict=False)):
        path = tmp_path / f"{index}.seg"
        fmt = segment_format(timeline.export)
        render_to_file(timeline, str(path), start=start, end=end, audio=False, file_format=fmt)
        segments.append((str(path), start, end))
    stitched = tmp_path / f"stitched.{container}"
    report = stitch(segments, timeline.fps, str(stitched), container)
    assert report.frames == FRAMES
    with av.open(str(stitched)) as result:
        stream = result.streams.video[0]
        ctx = stream.codec_context
        assert (ctx.codec.name, ctx.profile, ctx.pix_fmt) == (name, profile_name, pix_fmt)
        frames = [f.to_ndarray(format="rgb24") for f in result.decode(stream)]
    assert len(frames) == FRAMES
    assert _packets(stitched) == _packets(whole)  # frame-exact joins: the very same packets
    assert all(key for _, key in _packets(stitched))
    # The picture survives: the source's frames are flat colours a step of 16 apart.
    with av.open(str(tmp_path / "source.mp4")) as source:
        first = next(source.decode(video=0)).to_ndarray(format="rgb24")
    assert np.abs(frames[0].astype(int) - first.astype(int)).mean() < 4


@pytest.mark.parametrize(("codec", "profile"), [("prores", "4444"), ("dnxhr", "sq")])
def test_an_odd_frame_size_renders_whole(tmp_path: Path, codec: str, profile: str) -> None:
    """The odd sizes the loader lets through come out whole, the last column too."""
    doc = colour_project(0.2, size=(321, 181))
    doc["settings"]["export"].update({"format": "mov", "codec": codec, "profile": profile})
    timeline = load_project(doc, str(tmp_path))
    out = tmp_path / "odd.mov"
    render_to_file(timeline, str(out), audio=False)
    frames = decode_rgb(out)
    assert len(frames) == timeline.frames and frames[0].shape == (181, 321, 3)
    # colour_project's #3366ff everywhere (DNxHR SQ is within 10 levels of a flat colour)
    assert np.abs(frames[0].astype(int) - (0x33, 0x66, 0xFF)).max() <= 10


def test_a_worker_writes_a_dnxhr_chunk_its_merge_reads(tmp_path: Path) -> None:
    """Chunks render in a child process (workers.sandbox) into Matroska, which FFmpeg's muxer
    refuses for DNxHR: the child writes QuickTime for it, and the merge takes it."""
    from tests.workers.test_sandbox import settings_for
    from workers.sandbox import render_segment

    timeline = _timeline(tmp_path, "dnxhr", "sq", "mov")
    (tmp_path / "scratch").mkdir()
    path = tmp_path / "scratch" / "000000.mkv"  # the worker's name for every segment
    run = render_segment(timeline, str(path), start=0, end=FRAMES, settings=settings_for("off"))
    assert run.summary.frames == FRAMES
    with av.open(str(path)) as segment:
        assert segment.format.name.startswith("mov")
    out = tmp_path / "film.mov"
    assert stitch([(str(path), 0, FRAMES)], timeline.fps, str(out), "mov").frames == FRAMES


@pytest.mark.parametrize(("codec", "profile"), [("prores", "hq"), ("dnxhr", "hqx")])
def test_a_10_bit_422_master_at_an_sd_width_is_its_colour_every_time(
    tmp_path: Path, codec: str, profile: str
) -> None:
    """At 720 pixels wide (SD), the RGB to yuv422p10le conversion, sliced across threads, left
    chroma samples unwritten at random: blotches of mid-grey that differed from run to run
    (so chunks were not the single-pass render either)."""
    doc = colour_project(0.2, size=(720, 180))
    doc["settings"]["export"].update({"format": "mov", "codec": codec, "profile": profile})
    timeline = load_project(doc, str(tmp_path))
    runs = []
    for run in range(2):
        out = tmp_path / f"sd{run}.mov"
        render_to_file(timeline, str(out), audio=False)
        runs.append(_packets(out))
        for frame in decode_rgb(out):
            assert np.abs(frame.astype(int) - (0x33, 0x66, 0xFF)).max() <= 4
    assert runs[0] == runs[1]

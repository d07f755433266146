"""Interlaced footage (1080i/576i broadcast, camera and NLE exports) is deinterlaced as it is
decoded: no combing on moving edges, each frame the same wherever a decode starts, and
progressive frames (progressive files, progressive runs of a mixed stream) left as they were."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from chunking.timeline.studio import load_project
from tests.helpers import file_clip
from tests.media import decode_rgb, make_interlaced, make_video, project, video_track
from workers.compositor import Compositor
from workers.deinterlace import Deinterlacer, deinterlaced, filterable
from workers.video_source import VideoSource

FPS = 25


def combing(rgb: np.ndarray) -> float:
    """How far each row stands from the mean of the rows around it (0 for a clean picture)."""
    img = rgb.astype(np.int32)
    return float(np.abs(img[1:-1] - (img[:-2] + img[2:]) // 2).max(axis=2).mean())


def pictures(source: VideoSource, order: list[int]) -> dict[int, np.ndarray]:
    """The source's frames at these indices, decoded in this order."""
    return {i: source.picture_at(Fraction(i, FPS)).rgb.copy() for i in order}


@pytest.mark.parametrize(
    ("name", "codec", "fields"),
    [
        ("i.mp4", "libx264", "top"),
        ("i.mpg", "mpeg2video", "bottom"),
        # Raw DV declares no field order: its frames say they are interlaced
        ("i.dv", "dvvideo", "flagged"),
    ],
)
def test_interlaced_video_shows_no_combing(
    tmp_path: Path, name: str, codec: str, fields: str
) -> None:
    dv = codec == "dvvideo"
    path = make_interlaced(
        tmp_path / name, codec=codec, frames=6 if dv else 20, size=(720, 576) if dv else (320, 180)
    )
    # Given a source whose frames, decoded as they are, are combed where the bar moves
    raw = decode_rgb(path)
    assert min(combing(img) for img in raw) > 3
    source = VideoSource(str(path), "interview")
    try:
        # When its frames are read
        shown = pictures(source, list(range(len(source.pts))))
        # Then none is combed, and each still shows the bar
        for i, img in shown.items():
            assert combing(img) < 1, f"frame {i} is combed ({combing(img):.2f})"
            assert img.max() > 150, f"frame {i} lost its bar"
        assert source.fields == fields
    finally:
        source.close()


def test_a_frame_is_the_same_wherever_the_decode_starts(tmp_path: Path) -> None:
    path = make_interlaced(tmp_path / "i.mkv", frames=20, gop=6)
    forward = VideoSource(str(path), "a")
    try:
        frames = len(forward.pts)
        expected = pictures(forward, list(range(frames)))
    finally:
        forward.close()
    # Backwards (a seek for every frame), at random, and each keyframe on its own
    orders = [
        list(reversed(range(frames))),
        random.Random(7).sample(range(frames), frames),
        [6, 12, 18, 19, 0, 7, 13],
    ]
    for order in orders:
        source = VideoSource(str(path), "b")
        try:
            for i, img in pictures(source, order).items():
                assert np.array_equal(img, expected[i]), f"frame {i} depends on the decode start"
        finally:
            source.close()


def _decoded(path: Path) -> list[Any]:
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


def test_progressive_frames_of_an_interlaced_stream_pass_untouched(tmp_path: Path) -> None:
    # Given a stream that mixes progressive frames into interlaced ones (soft telecine, edits)
    interlaced = _decoded(make_interlaced(tmp_path / "i.mkv", frames=6))
    progressive = _decoded(make_video(tmp_path / "p.mkv", frames=6, size=(320, 180)))
    mixed = [f for pair in zip(progressive, interlaced, strict=True) for f in pair]
    planes = [[np.array(p, copy=True) for p in f.planes] for f in mixed]
    flagged = [f.interlaced_frame for f in mixed]
    for n, frame in enumerate(mixed):
        frame.pts = n
    # When it is deinterlaced
    out = list(deinterlaced(iter(mixed), Fraction(1, FPS)))
    # Then there is one frame for each, in order; the progressive ones keep every byte
    assert [f.pts for f in out] == list(range(len(mixed)))
    for n, frame in enumerate(out):
        same = all(
            np.array_equal(np.asarray(a), b) for a, b in zip(frame.planes, planes[n], strict=True)
        )
        assert same != flagged[n], f"frame {n} (interlaced: {flagged[n]})"


def test_a_progressive_source_is_not_filtered(tmp_path: Path) -> None:
    path = make_video(tmp_path / "p.mp4", frames=12, fps=FPS, size=(320, 180), gop=4)
    source = VideoSource(str(path), "p")
    try:
        shown = pictures(source, [5, 4, 11, 0])
    finally:
        source.close()
    raw = decode_rgb(path)
    for i, img in shown.items():
        assert np.array_equal(img, raw[i])


def test_the_filter_keeps_the_decoders_pixel_format() -> None:
    # ProRes (10-bit 4:2:2), NTSC DV (4:1:1), ... are filtered as decoded, never converted
    formats = [n for n in sorted(av.video.format.names) if filterable(n)]
    assert {"yuv420p", "yuv422p10le", "yuv411p", "yuva444p10le", "gray"} <= set(formats)
    for pix_fmt in formats:
        frame = av.VideoFrame(64, 36, pix_fmt)
        frame.pts = 0
        filt = Deinterlacer(frame, Fraction(1, FPS))
        out = filt.push(frame) + filt.push(None)
        assert [f.format.name for f in out] == [pix_fmt]


def test_a_clip_can_show_its_interlaced_frames_as_decoded(tmp_path: Path) -> None:
    path = make_interlaced(tmp_path / "i.mp4", frames=20)
    # Given the same footage twice, the second clip with deinterlacing turned off
    doc = project(
        [
            video_track(
                "v",
                [
                    file_clip("on", path, 0, 0.4),
                    file_clip("off", path, 0.4, 0.8, deinterlace=False),
                ],
            )
        ],
        fps=FPS,
        size=(320, 180),
    )
    tl = load_project(doc, str(tmp_path))
    assert [c.deinterlace for c in tl.tracks[0].clips] == [True, False]
    comp = Compositor(tl)
    try:
        # Then the first shows each source frame deinterlaced, the second as it was decoded
        raw = decode_rgb(path)
        for t in (3, 8):
            assert combing(comp.frame(t)) < 1
            assert np.array_equal(comp.frame(t + 10), raw[t])
    finally:
        comp.close()


def test_sources_of_one_file_share_only_frames_they_would_both_show(tmp_path: Path) -> None:
    path = str(make_interlaced(tmp_path / "i.mkv", frames=8))
    shared: dict[Any, Any] = {}
    on, off = VideoSource(path, "on"), VideoSource(path, "off", deinterlace=False)
    try:
        for source in (on, off):
            source.share(shared)
        # A picture-in-picture of the same moment, one deinterlaced and one not
        for i in (2, 5):
            assert combing(pictures(on, [i])[i]) < 1
            assert combing(pictures(off, [i])[i]) > 3
    finally:
        on.close()
        off.close()

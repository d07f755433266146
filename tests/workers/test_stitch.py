"""Stitching segments by remuxing: exact frames, untouched packets, exact timestamps, atomicity."""

from __future__ import annotations

import math
import os
import stat
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from common.errors import EncodeError, RenderError
from tests.media import decode_rgb, level
from tests.workers.test_atomic import assert_durable, record_sync, umask
from workers.stitch import MergeError, StitchReport, inspect_segment, stitch

NTSC = Fraction(30000, 1001)
FILM = Fraction(24000, 1001)
PAL = Fraction(25)
SIZE = (64, 48)
PIX_FMT = {"ffv1": "bgr0", "libx264rgb": "rgb24"}
OPTIONS = {
    # veryfast keeps B-frames, so decode order differs from display order (negative dts in mp4)
    "libx264": {"preset": "veryfast", "crf": "20", "x264-params": "keyint=1000:scenecut=0"},
    "libx264rgb": {"preset": "ultrafast", "qp": "0"},
    "ffv1": {"level": "3", "slicecrc": "1"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8", "b": "0", "crf": "40"},
    "libx265": {"preset": "ultrafast", "x265-params": "log-level=error:keyint=1000:bframes=3"},
    "libsvtav1": {"preset": "12"},
}

Segments = list[tuple[str, int, int]]


def picture(index: int, size: tuple[int, int] = SIZE) -> np.ndarray:
    """Timeline frame `index`: a flat colour plus a white marker bar that moves with the index."""
    width, height = size
    img = np.full((height, width, 3), level(index), dtype=np.uint8)
    img[: height // 4, (index * 3) % width] = 255
    return img


def make_segment(
    path: Path,
    first: int,
    count: int,
    fps: Fraction,
    *,
    codec: str = "libx264",
    size: tuple[int, int] = SIZE,
    options: dict[str, str] | None = None,
) -> str:
    """Encode timeline frames [first, first + count) as a Matroska segment, as a worker would."""
    pix_fmt = PIX_FMT.get(codec, "yuv420p")
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream(codec, rate=fps, options=options or OPTIONS[codec])
        stream.width, stream.height = size
        stream.pix_fmt = pix_fmt
        stream.codec_context.time_base = 1 / fps
        stream.codec_context.gop_size = 1000  # the first frame is the segment's only keyframe
        for i in range(count):
            rgb = av.VideoFrame.from_ndarray(picture(first + i, size), format="rgb24")
            frame = rgb.reformat(format=pix_fmt)
            frame.pts, frame.time_base = i, 1 / fps
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return str(path)


def make_segments(folder: Path, bounds: list[int], fps: Fraction, **kwargs: Any) -> Segments:
    """Segments for chunks [bounds[i], bounds[i + 1])."""
    folder.mkdir(exist_ok=True)
    return [
        (make_segment(folder / f"seg{i:03d}.mkv", start, end - start, fps, **kwargs), start, end)
        for i, (start, end) in enumerate(zip(bounds, bounds[1:], strict=False))
    ]


def make_audio(path: Path, codec: str, seconds: Fraction, rate: int = 48000) -> str:
    """A 440 Hz stereo tone of `seconds` encoded once into a Matroska audio file."""
    total = round(seconds * rate)
    tone = (0.4 * np.sin(2 * math.pi * 440 * np.arange(total) / rate)).astype(np.float32)
    data = np.stack([tone, tone])
    step = 960 if codec == "libopus" else 1024
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream(codec, rate=rate, layout="stereo")
        for pos in range(0, total, step):
            chunk = data[:, pos : pos + step]
            if chunk.shape[1] < step:  # libopus wants whole frames
                chunk = np.pad(chunk, ((0, 0), (0, step - chunk.shape[1])))
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(chunk), format="fltp", layout="stereo"
            )
            frame.sample_rate, frame.pts = rate, pos
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return str(path)


def video_packets(path: str) -> list[Any]:
    """The video packets of a file in stored (decode) order, end-of-stream markers dropped."""
    with av.open(path) as container:
        return [p for p in container.demux(container.streams.video[0]) if p.size > 0]


def leftovers(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


CASES = [
    # codec, fps, container, audio codec
    ("libx264", NTSC, "mp4", "aac"),
    ("libx264", FILM, "mov", "aac"),
    ("libx264", PAL, "mkv", "libopus"),
    ("libx264", NTSC, "mkv", "aac"),
    ("libvpx-vp9", NTSC, "webm", "libopus"),
    ("libx264rgb", NTSC, "mp4", None),
    ("ffv1", NTSC, "mkv", None),
    ("ffv1", FILM, "mp4", "aac"),
    ("libx265", NTSC, "mp4", "aac"),
    ("libsvtav1", PAL, "mkv", "libopus"),
    ("libx264", Fraction(60000, 1001), "mp4", "aac"),
]
#: AAC's last 1024-sample frame is padded, which at 60 fps is longer than a video frame.
AAC_FRAME = Fraction(1024, 48000)


def top_level_boxes(path: Path) -> list[str]:
    """An MP4/MOV file's top-level box types, in file order."""
    data, at, found = path.read_bytes(), 0, []
    while at + 8 <= len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        if size == 1:
            size = int.from_bytes(data[at + 8 : at + 16], "big")
        if size < 8:
            break
        found.append(data[at + 4 : at + 8].decode("latin-1"))
        at += size
    return found


@pytest.mark.parametrize(
    ("codec", "fps", "container", "audio_codec"),
    CASES,
    ids=[f"{c}-{float(f):.2f}fps-{k}-{a}" for c, f, k, a in CASES],
)
def test_stitched_file_is_the_segments_packets_on_an_exact_frame_grid(
    tmp_path: Path, codec: str, fps: Fraction, container: str, audio_codec: str | None
) -> None:
    bounds = [0, 7, 20, 21, 33, 45]
    frames = bounds[-1]
    segments = make_segments(tmp_path / "segs", bounds, fps, codec=codec)
    audio = make_audio(tmp_path / "a.mka", audio_codec, frames / fps) if audio_codec else None
    (tmp_path / "out").mkdir()
    output = str(tmp_path / "out" / f"movie.{container}")

    report = stitch(segments, fps, output, container, audio)

    assert isinstance(report, StitchReport)
    assert report.frames == frames
    assert report.duration == pytest.approx(float(frames / fps), abs=0.001)
    assert report.bytes == os.path.getsize(output)
    if codec == "libx265":  # the tag Apple players need
        with av.open(output) as result:
            assert result.streams.video[0].codec_context.codec_tag == "hvc1"
    assert leftovers(tmp_path / "out") == [f"movie.{container}"]
    if container in ("mp4", "mov"):  # fast start: the index before the media it indexes
        boxes = top_level_boxes(Path(output))
        assert boxes.index("moov") < boxes.index("mdat"), boxes
    # No re-encode: every packet is copied byte for byte, in order.
    source = [bytes(p) for path, _, _ in segments for p in video_packets(path)]
    assert [bytes(p) for p in video_packets(output)] == source
    # Every packet shows exactly one frame of the timeline, each frame once.
    shown = sorted(p.pts * p.time_base * fps for p in video_packets(output))
    if container in ("mp4", "mov"):  # exact time bases; Matroska keeps milliseconds
        assert shown == list(range(frames))
    else:
        assert [round(t) for t in shown] == list(range(frames))
    # Decodes fully, to the same pictures as the segments, in timeline order.
    stitched = decode_rgb(output)
    assert len(stitched) == frames
    expected = [img for path, _, _ in segments for img in decode_rgb(path)]
    assert all(np.array_equal(a, b) for a, b in zip(stitched, expected, strict=True))
    if codec in PIX_FMT:  # lossless: bit-identical to what the workers rendered
        assert all(np.array_equal(img, picture(i)) for i, img in enumerate(stitched))
    if audio_codec is None:
        assert report.audio_duration is None
        return
    assert report.audio_duration is not None
    tolerance = max(1 / fps, AAC_FRAME) if audio_codec == "aac" else 1 / fps
    assert abs(report.drift) < tolerance
    with av.open(output) as result:
        assert [s.codec_context.name for s in result.streams.audio] == [
            {"aac": "aac", "libopus": "opus"}[audio_codec]
        ]
        kinds = [p.stream.type for p in result.demux() if p.size > 0]
    assert {"video", "audio"} <= set(kinds[:12])  # interleaved, not all video then all audio
    with av.open(output) as result:
        samples = sum(f.samples for f in result.decode(audio=0))
    assert abs(samples / 48000 - frames / fps) < tolerance
    if container in ("mp4", "mov"):
        # The sound ends with the last picture, the encoder's padding after it cut off: the
        # muxer's edit list, which players honour, is made from the packets' ends.
        with av.open(output) as result:
            stream = result.streams.audio[0]
            base = stream.time_base  # read while the container is open
            ends = [p.pts + p.duration for p in result.demux(stream) if p.size > 0]
        assert max(ends) * base == Fraction(round(frames / fps * 48000), 48000)


def test_mp4_keeps_b_frame_order_with_dts_before_pts(tmp_path: Path) -> None:
    segments = make_segments(tmp_path / "segs", [0, 15, 30], NTSC)
    infos = [inspect_segment(path, i, s, e) for i, (path, s, e) in enumerate(segments)]
    assert all(info.reorder_delay > 0 for info in infos)  # the encoder did reorder frames
    output = str(tmp_path / "movie.mp4")
    stitch(segments, NTSC, output, "mp4")
    packets = video_packets(output)
    dts = [p.dts for p in packets]
    assert dts == sorted(set(dts))
    assert all(p.dts <= p.pts for p in packets)
    assert packets[0].pts == 0


def test_one_frame_segments(tmp_path: Path) -> None:
    bounds = [0, 1, 2, 3, 8, 9]
    segments = make_segments(tmp_path / "segs", bounds, NTSC)
    output = str(tmp_path / "movie.mp4")
    report = stitch(segments, NTSC, output, "mp4")
    assert report.frames == 9
    source = [bytes(p) for path, _, _ in segments for p in video_packets(path)]
    assert [bytes(p) for p in video_packets(output)] == source
    assert len(decode_rgb(output)) == 9


def test_inspect_segment_reports_codec_parameters(tmp_path: Path) -> None:
    path = make_segment(tmp_path / "s.mkv", 10, 12, PAL)
    info = inspect_segment(path, 3, 10, 22, fps=PAL)
    assert (info.codec, info.width, info.height, info.pix_fmt) == ("h264", 64, 48, "yuv420p")
    assert info.frames == 12 and info.keyframe_first and info.extradata


def _missing(segs: Segments, tmp: Path) -> Segments:
    os.unlink(segs[2][0])
    return segs


def _truncated(segs: Segments, tmp: Path) -> Segments:
    cut = video_packets(segs[2][0])[6].pos + 4  # an upload that stopped inside packet 6
    data = Path(segs[2][0]).read_bytes()
    Path(segs[2][0]).write_bytes(data[:cut])
    return segs


def _garbage(segs: Segments, tmp: Path) -> Segments:
    # Fixed bytes: random ones sometimes probe as an audio-only format, which is a different error.
    Path(segs[2][0]).write_bytes(b"this is not a matroska file\n" * 100)
    return segs


def _wrong_count(segs: Segments, tmp: Path) -> Segments:
    make_segment(Path(segs[2][0]), 20, 9, NTSC)
    return segs


def _no_keyframe(segs: Segments, tmp: Path) -> Segments:
    # A segment that lost its leading keyframe (no B-frames, so pts alone order the packets).
    options = {**OPTIONS["libx264"], "preset": "ultrafast"}
    full = make_segment(tmp / "full.mkv", 19, 11, NTSC, options=options)
    headless = tmp / "headless.mkv"
    with av.open(full) as src, av.open(str(headless), "w", format="matroska") as out:
        stream = out.add_stream_from_template(src.streams.video[0])
        for packet in video_packets(full)[1:]:
            packet.stream = stream
            out.mux(packet)
    return [*segs[:2], (str(headless), 20, 30), *segs[3:]]


def _resolution(segs: Segments, tmp: Path) -> Segments:
    make_segment(Path(segs[2][0]), 20, 10, NTSC, size=(96, 48))
    return segs


def _codec(segs: Segments, tmp: Path) -> Segments:
    make_segment(Path(segs[2][0]), 20, 10, NTSC, codec="ffv1")
    return segs


def _settings(segs: Segments, tmp: Path) -> Segments:
    # x264 writes the rate control's initial QP into the PPS: other settings, other extradata.
    options = {**OPTIONS["libx264"], "crf": "35"}
    make_segment(Path(segs[2][0]), 20, 10, NTSC, options=options)
    return segs


def _gap(segs: Segments, tmp: Path) -> Segments:
    path, _, end = segs[2]
    return [*segs[:2], (path, 22, end), *segs[3:]]


def _overlap(segs: Segments, tmp: Path) -> Segments:
    path, _, end = segs[2]
    return [*segs[:2], (path, 18, end), *segs[3:]]


@pytest.mark.parametrize(
    ("spoil", "problem"),
    [
        (_missing, "is missing"),
        (_truncated, "has 6 frames, expected 10"),
        (_garbage, "cannot be read"),
        (_wrong_count, "has 9 frames, expected 10"),
        (_no_keyframe, "not a keyframe"),
        (_resolution, "width is 96 but segment 0"),
        (_codec, "codec is ffv1 but segment 0"),
        (_settings, "extradata is"),
        (_gap, "frames \\[20, 22\\) are in no segment"),
        (_overlap, "frames \\[18, 20\\) are also in segment 1"),
    ],
)
def test_bad_segment_names_the_chunk_and_leaves_no_output(
    tmp_path: Path, spoil: Any, problem: str
) -> None:
    segments = spoil(make_segments(tmp_path / "segs", [0, 10, 20, 30, 40], NTSC), tmp_path)
    (tmp_path / "out").mkdir()
    output = tmp_path / "out" / "movie.mp4"
    with pytest.raises(MergeError, match=f"segment 2 \\(frames \\[[0-9]+, 30\\)\\).*({problem})"):
        stitch(segments, NTSC, str(output), "mp4")
    assert leftovers(tmp_path / "out") == []


def test_failure_after_writing_removes_the_partial_file_and_keeps_the_old_output(
    tmp_path: Path,
) -> None:
    segments = make_segments(tmp_path / "segs", [0, 15, 30], NTSC)
    short = make_audio(tmp_path / "short.mka", "aac", Fraction(1, 2))
    (tmp_path / "out").mkdir()
    output = tmp_path / "out" / "movie.mp4"
    output.write_bytes(b"previous render")
    with pytest.raises(MergeError, match="drift"):
        stitch(segments, NTSC, str(output), "mp4", short)
    assert leftovers(tmp_path / "out") == ["movie.mp4"]
    assert output.read_bytes() == b"previous render"


def test_audio_problems(tmp_path: Path) -> None:
    segments = make_segments(tmp_path / "segs", [0, 10], PAL)
    output = tmp_path / "out" / "movie.mkv"
    output.parent.mkdir()
    with pytest.raises(MergeError, match="audio file .* is missing"):
        stitch(segments, PAL, str(output), "mkv", str(tmp_path / "nope.mka"))
    with pytest.raises(MergeError, match="has no audio stream"):
        stitch(segments, PAL, str(output), "mkv", segments[0][0])
    opus = make_audio(tmp_path / "a.mka", "libopus", Fraction(10, 25))
    with pytest.raises(EncodeError, match="mov container cannot hold h264 and opus"):
        stitch(segments, PAL, str(tmp_path / "out" / "movie.mov"), "mov", opus)
    assert leftovers(tmp_path / "out") == []


def test_bad_requests(tmp_path: Path) -> None:
    segments = make_segments(tmp_path / "segs", [0, 5], PAL)
    with pytest.raises(EncodeError, match="unknown container 'avi'"):
        stitch(segments, PAL, str(tmp_path / "m.avi"), "avi")
    with pytest.raises(MergeError, match="no segments"):
        stitch([], PAL, str(tmp_path / "m.mkv"), "mkv")
    with pytest.raises(MergeError, match="segment 0 .*: the frame range is empty"):
        stitch([(segments[0][0], 0, 0)], PAL, str(tmp_path / "m.mkv"), "mkv")
    with pytest.raises(RenderError, match="output directory does not exist"):
        stitch(segments, PAL, str(tmp_path / "nowhere" / "m.mkv"), "mkv")


def test_output_is_synced_before_the_rename_and_follows_the_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    segments = make_segments(tmp_path / "segs", [0, 5, 10], PAL)
    (tmp_path / "out").mkdir()
    output = tmp_path / "out" / "movie.mkv"
    calls = record_sync(monkeypatch)
    with umask(0o002):
        stitch(segments, PAL, str(output), "mkv")
    assert_durable(calls, output)
    assert stat.S_IMODE(output.stat().st_mode) == 0o664
    assert leftovers(tmp_path / "out") == ["movie.mkv"]

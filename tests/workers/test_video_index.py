"""Frame-exact reading of the containers users bring: MPEG transport and program streams,
MP4s trimmed without re-encoding, Matroska at 29.97 fps (workers.video_index, VideoSource)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from common.errors import DecodeError
from tests.media import identify, level, make_video
from workers.video_index import VideoIndex, frame_grid
from workers.video_source import VideoSource


def _shown(path: Path, times: list[Fraction]) -> list[int]:
    """Which source frames (make_video's numbering) a VideoSource shows at these times."""
    source = VideoSource(str(path), "clip")
    try:
        return [identify(source.picture_at(t).rgb) for t in times]
    finally:
        source.close()


@pytest.mark.parametrize("codec", ["libx264", "mpeg2video"])
def test_mpeg_transport_streams_decode_at_any_frame(tmp_path: Path, codec: str) -> None:
    """Seeking in MPEG-TS (AVCHD's .mts/.m2ts) lands a keyframe past the one asked for (or
    nowhere, past a file's only keyframe): every frame still decodes, forwards, backwards and
    at the start."""
    path = make_video(tmp_path / "clip.ts", frames=60, fps=25, size=(64, 36), gop=10, codec=codec)
    order = [0, 1, 2, 30, 31, 59, 45, 12, 0, 11]
    assert _shown(path, [Fraction(n, 25) for n in order]) == order


def test_a_ts_with_a_single_keyframe(tmp_path: Path) -> None:
    path = make_video(tmp_path / "one.ts", frames=30, fps=25, size=(64, 36), gop=300)
    order = [5, 0, 29, 3]
    assert _shown(path, [Fraction(n, 25) for n in order]) == order


def _trimmed(tmp_path: Path, cut: int) -> Path:
    """An MP4 cut `cut` frames into its first GOP without re-encoding, as `ffmpeg -ss -c copy`
    writes it: the packets before the cut stay (to decode from the keyframe), marked to be
    discarded by an edit list."""
    source = make_video(tmp_path / "camera.mp4", frames=60, fps=30, size=(64, 36), gop=10)
    out = tmp_path / "trimmed.mp4"
    with av.open(str(source)) as given, av.open(str(out), "w") as written:
        stream = given.streams.video[0]
        copy = written.add_stream_from_template(stream)
        step = int(1 / (Fraction(30) * stream.time_base))
        for packet in given.demux(stream):
            if packet.dts is None:
                continue
            assert packet.pts is not None
            packet.pts -= cut * step
            packet.dts -= cut * step
            packet.stream = copy
            written.mux(packet)
    return out


def test_a_recording_that_starts_mid_gop_holds_its_first_keyframe(tmp_path: Path) -> None:
    """A capture cut at a TS packet inside a GOP: its first frames cannot be decoded (every
    render of them failed); they hold the first keyframe, and later frames keep their times."""
    whole = make_video(tmp_path / "whole.ts", frames=60, fps=25, size=(64, 36), gop=20)
    with av.open(str(whole)) as probe:
        offsets = [p.pos for p in probe.demux(video=0) if p.size]
    path = tmp_path / "midgop.ts"
    path.write_bytes(whole.read_bytes()[(offsets[3] // 188) * 188 :])  # from frame 3 on
    with av.open(str(path)) as check:  # the premise: the first packet is not a keyframe
        assert not next(p for p in check.demux(video=0) if p.size).is_keyframe
    times = range(0, 40, 3)
    shown = _shown(path, [Fraction(n, 25) for n in times])
    assert shown == [max(20, 3 + n) for n in times]  # the keyframe is frame 20


def test_an_mp4_trimmed_without_re_encoding_starts_at_its_cut(tmp_path: Path) -> None:
    path = _trimmed(tmp_path, cut=7)
    with av.open(str(path)) as check:  # the premise: discarded packets before the cut
        packets = [p for p in check.demux(video=0) if p.size]
        assert [p.is_discard for p in packets[:8]] == [True] * 7 + [False]
    shown = _shown(path, [Fraction(n, 30) for n in (0, 1, 2, 10, 52, 0)])
    assert shown == [7, 8, 9, 17, 59, 7]


def test_matroska_at_29_97_shows_every_frame_once(tmp_path: Path) -> None:
    """Matroska rounds times to the millisecond; sampled half a millisecond before each
    frame's true start (a 29.97 fps timeline from 0.5 s in), every frame shows once, as from
    an MP4 of the same stream."""
    rate = Fraction(30000, 1001)
    times = [Fraction(1, 2) + n / rate for n in range(45)]
    for name in ("ntsc.mkv", "ntsc.mp4"):
        path = make_video(tmp_path / name, frames=70, fps=rate, size=(64, 36), gop=15)
        shown = _shown(path, times)
        assert shown == list(range(14, 59)), name


@pytest.mark.parametrize(
    ("pts", "base", "nominal", "rate"),
    [
        ([0, 33, 67, 100, 133, 167, 200], Fraction(1, 1000), (), Fraction(30000, 1001)),
        ([0, 512, 1024, 1536], Fraction(1, 15360), (Fraction(30),), Fraction(30)),
        ([0, 40, 80, 120], Fraction(1, 1000), (None,), Fraction(25)),
        ([0, 40, 80, 130], Fraction(1, 1000), (), None),  # a late frame: no grid
        ([0, 40, 40, 80], Fraction(1, 1000), (), None),  # a repeated time
        ([0, 40], Fraction(1, 1000), (), None),  # too few to tell
        ([0, 7, 14, 21], Fraction(1, 1000), (), Fraction(1000, 7)),  # an uncommon rate
        # `ffmpeg -r 29.97` writes 2997/100: the NTSC rate it means, an hour of it too
        (
            [k * 100 for k in range(107_892)],
            Fraction(1, 2997),
            (Fraction(2997, 100),),
            Fraction(30000, 1001),
        ),
        (
            [k * 125 for k in range(5000)],
            Fraction(1, 2997),
            (Fraction(2997, 125),),
            Fraction(24000, 1001),
        ),
    ],
)
def test_frame_grid(
    pts: list[int], base: Fraction, nominal: tuple[Fraction | None, ...], rate: Fraction | None
) -> None:
    assert frame_grid(pts, base, nominal) == rate


def test_a_phones_jittered_timestamps_with_a_dropped_frame_show_each_frame_on_time() -> None:
    """A recorder stamps 30 fps frames within a millisecond of their grid and drops one in low
    light (no grid then): each output frame shows the frame meant for it, as ffmpeg's fps filter
    does, not one frame late for a run and then one skipped."""
    numbers = [n for n in range(61) if n != 30]
    pts = [n * 3000 + math.floor(90 * math.sin(n * 12.9898)) for n in numbers]
    index = VideoIndex(pts=pts, keyframes=[pts[0]], time_base=Fraction(1, 90000))
    assert frame_grid(pts, index.time_base) is None
    step = Fraction(1, 30)  # each output frame lasts a frame of the timeline
    shown = [numbers[pts.index(index.shown_at(Fraction(n, 30), step))] for n in range(60)]
    assert shown == [*range(30), 29, *range(31, 60)]
    # A frame that truly starts later is not taken early: 10 fps in a 30 fps timeline
    slow = VideoIndex(pts=[0, 100, 200, 300], keyframes=[0], time_base=Fraction(1, 1000))
    assert [slow.shown_at(Fraction(n, 30), step) for n in range(9)] == [0, 0, 0, 100, 100, 100,
                                                                        200, 200, 200]  # fmt: skip


@pytest.mark.parametrize("container", ["mp4", "mkv"])
def test_ntsc_footage_on_a_30_fps_timeline_shows_the_same_frames_on_its_grid_or_off_it(
    container: str,
) -> None:
    """29.97 fps footage sampled on its frame grid showed frame 0 twice and then every frame
    one late for 33 s on a 30 fps timeline, while the same frames with irregular stamps (no
    grid) showed frame n at n: both now show frame n at output frame n until the rates drift
    half a frame apart (frame 500), then repeat one frame, as ffmpeg's fps filter does."""
    base, pts = (Fraction(1, 30000), [n * 1001 for n in range(1100)])
    if container == "mkv":  # times rounded to the millisecond
        base, pts = Fraction(1, 1000), [round(n * Fraction(1001, 30)) for n in range(1100)]
    grid = frame_grid(pts, base)
    assert grid == Fraction(30000, 1001)
    on = VideoIndex(pts=pts, keyframes=[0], time_base=base, grid=grid)
    off = VideoIndex(pts=pts, keyframes=[0], time_base=base)
    step = Fraction(1, 30)
    for index in (on, off):
        shown = [pts.index(index.shown_at(Fraction(k, 30), step)) for k in range(1000)]
        # Milliseconds put frames a hair either side of the middle near frame 500: there
        # the rounded time decides off the grid, the true one on it (as in an MP4).
        exact = 500 if container == "mp4" or index.grid else 450
        assert shown[:exact] == list(range(exact)), (container, index.grid)
        assert shown[550:] == list(range(549, 999)), (container, index.grid)
    assert [pts.index(on.shown_at(Fraction(k, 30), step)) for k in range(498, 503)] == [
        498, 499, 499, 500, 501]  # fmt: skip


@pytest.mark.parametrize(
    ("decimal", "ntsc"),
    [(Fraction(2997, 100), Fraction(30000, 1001)), (Fraction(2997, 125), Fraction(24000, 1001))],
)
def test_a_decimal_ntsc_rate_shows_every_frame_once_on_an_ntsc_timeline(
    tmp_path: Path, decimal: Fraction, ntsc: Fraction
) -> None:
    """A source written at 29.97 (2997/100) showed frame 1 twice, then every frame one late."""
    path = make_video(tmp_path / "decimal.mp4", frames=60, fps=decimal, size=(64, 36), gop=15)
    assert _shown(path, [n / ntsc for n in range(60)]) == list(range(60))


def test_h264_with_b_frames_in_avi_decodes_at_any_frame(tmp_path: Path) -> None:
    """AVI holds no presentation times: FFmpeg gives H.264's reordered frames decode-order
    counters, so frames are numbered as shown instead."""
    from tests.media import level

    path = tmp_path / "camera.avi"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        stream.codec_context.gop_size = 12
        stream.codec_context.options = {"preset": "medium", "bf": "3", "crf": "10"}
        for i in range(40):
            image = np.full((36, 64, 3), level(i), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    with av.open(str(path)) as check:  # the premise: shown frames carry reordered counters
        stamps = [f.pts for f in check.decode(video=0)]
        assert stamps != sorted(stamps)
    order = [0, 1, 2, 3, 17, 39, 25, 4, 0]
    assert _shown(path, [Fraction(n, 25) for n in order]) == order


def _concealed(path: Path) -> Path:
    """A copy of ``path`` with bytes flipped inside its second keyframe, as a bad card or a
    flaky transfer leaves them: FFmpeg conceals the damage from the picture before."""
    data = bytearray(path.read_bytes())
    with av.open(str(path)) as container:
        keys = [(p.pos, p.size) for p in container.demux(video=0) if p.is_keyframe and p.size]
    pos, size = keys[1]
    for k in range(6):
        data[pos + size // 2 + 7 * k] ^= 0xFF
    bad = path.with_name("bad" + path.suffix)
    bad.write_bytes(bytes(data))
    return bad


@pytest.mark.parametrize("start", [0, 40], ids=["whole", "a chunk after the damage"])
def test_damage_the_decoder_conceals_is_an_error_wherever_decoding_starts(
    tmp_path: Path, start: int
) -> None:
    """The concealed picture depends on what was decoded before it: a chunk starting after it
    rendered grey blocks where the whole render did not, without a word."""
    bad = _concealed(make_video(tmp_path / "v.mp4", frames=90, size=(160, 90), gop=30))
    source = VideoSource(str(bad), "clip")
    try:
        with pytest.raises(DecodeError, match=r"clip 'clip': corrupt video at 1\.000s in .*"
                                              r"conceal damage"):  # fmt: skip
            for n in range(start, 60):
                source.picture_at(Fraction(n, 30))
    finally:
        source.close()


def test_a_transport_stream_across_the_33_bit_wrap_decodes_from_its_start(tmp_path: Path) -> None:
    """About one broadcast capture in a day crosses it; FFmpeg unwraps it to a negative start,
    which a seek to 0 skipped: the first frames "could not be decoded"."""
    path = tmp_path / "wrap.ts"
    with av.open(str(path), "w", format="mpegts") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        stream.codec_context.time_base, stream.codec_context.gop_size = Fraction(1, 90000), 15
        for i in range(90):  # 1.5 s before the wrap, 1.5 s after
            frame = av.VideoFrame.from_ndarray(np.full((36, 64, 3), 40 + 2 * i, np.uint8), "rgb24")
            frame.pts, frame.time_base = 2**33 - 135000 + 3000 * i, Fraction(1, 90000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    source = VideoSource(str(path), "clip")
    try:
        for n in (0, 5, 45, 89, 3):  # back to the start after the wrap too
            shade = float(source.picture_at(Fraction(n, 30)).rgb.mean())
            assert abs(shade - (40 + 2 * n)) < 3, (n, shade)
    finally:
        source.close()


def _screen_recording(path: Path) -> Path:
    """A 64x36 screen recording: frame 0 held for a second (nothing on screen changed, so no
    frames were written), then 20 frames at 30 fps, stamped in 1/90000 s."""
    times = [0] + [90000 + n * 3000 for n in range(20)]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 90000)
        for number, pts in enumerate(times):
            image = np.empty((36, 64, 3), np.uint8)
            image[...] = level(number)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 90000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def test_a_screen_recordings_still_second_shows_its_change_on_time(tmp_path: Path) -> None:
    """What changed on screen 1 s in was shown from 0.767 s, 7 frames early (a quarter of the
    second with no frames); a phone's jitter (the test above) still snaps."""
    path = _screen_recording(tmp_path / "screen.mp4")
    shown = _shown(path, [Fraction(n, 30) for n in range(36)])
    assert shown == [0] * 30 + [1, 2, 3, 4, 5, 6]


def _open_gop_avi(path: Path, frames: int = 60) -> Path:
    """A 64x36 30 fps H.264 AVI in open GOPs (x264's open-gop: I-frames every 15 frames whose
    leading B-frames, decoded after them, are shown before them), frame i of level(i)."""
    ramp = np.tile((np.arange(64, dtype=np.uint8) * 4)[None, :, None], (18, 1, 3))
    with av.open(str(path), "w", format="avi") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        stream.options = {
            "x264-params": "open-gop=1:keyint=15:min-keyint=15:bframes=3:b-adapt=0:scenecut=0"
        }
        for number in range(frames):
            image = np.empty((36, 64, 3), np.uint8)
            image[...] = level(number)
            image[:18] = np.roll(ramp, 3 * number, axis=1)  # motion: x264 then uses B-frames
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = number
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def test_an_open_gop_avi_shows_the_same_frames_from_any_chunk_start(tmp_path: Path) -> None:
    """AVI numbers H.264 frames as decoded: from an open GOP's I-frame a frame was shown one
    place early (its leading B-frames are dropped there), so a chunk starting past it showed
    the wrong frames and one reaching the last frame failed ('cannot be decoded')."""
    path = _open_gop_avi(tmp_path / "open.avi")
    order = [50, 59, 44, 30, 29, 16, 15, 14, 0, 1, 45]
    assert _shown(path, [Fraction(n, 30) for n in order]) == order


def test_a_chunk_late_in_an_open_gop_avi_decodes_from_the_i_frame_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An open-GOP AVI had one keyframe, its first (no IDR after it): every chunk decoded the
    file from its start, a chunk ten minutes in ten minutes of frames. A chunk starts at the
    I-frame before its first frame, and shows the frames a decode from the start shows."""
    path = _open_gop_avi(tmp_path / "open.avi", frames=90)
    decoded: list[object] = []
    original = VideoSource._decoded

    def counting(self: VideoSource, *until: int | None) -> Iterator[object]:
        for frame in original(self, *until):
            decoded.append(frame)
            yield frame

    monkeypatch.setattr(VideoSource, "_decoded", counting)
    for number in range(10, 90):  # each as the first frame of a chunk: a fresh source
        decoded.clear()
        assert _shown(path, [Fraction(number, 30)]) == [number]
        # its first frame (opening), and at most a GOP (15) and the leading B-frames (3)
        assert len(decoded) <= 1 + 15 + 3, f"frame {number}: {len(decoded)} frames decoded"


def test_an_avi_cut_short_shows_the_frames_of_its_intact_head(tmp_path: Path) -> None:
    """Without its index (written last), FFmpeg's seek lands a keyframe late; AVI frames are
    numbered from the keyframe asked for, so frame 16 showed frame 31 and later 'corrupt
    video at 0.533s' (the cut last frame, misnumbered), for a clip using only the head."""
    with av.open(str(tmp_path / "whole.avi"), "w", format="avi") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        stream.options = {"x264-params": "keyint=15:min-keyint=15:bframes=0:scenecut=0"}
        rng = np.random.default_rng(7)
        for number in range(60):
            image = np.empty((36, 64, 3), np.uint8)
            image[...] = level(number)
            image[:18] = rng.integers(0, 255, (18, 64, 3))  # bytes enough to cut among
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = number
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    whole = (tmp_path / "whole.avi").read_bytes()
    (tmp_path / "cut.avi").write_bytes(whole[: len(whole) * 6 // 10])
    order = [16, 20, 5, 17, 30, 2]
    assert _shown(tmp_path / "cut.avi", [Fraction(n, 30) for n in order]) == order

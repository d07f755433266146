"""HDR (PQ, HLG) and BT.2020 video shown in the SDR BT.709 render: the levels ffmpeg's
``zscale``/``tonemap=hable`` chain gives, frame by frame, whatever the chunk."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from chunking.timeline.studio import load_project
from tests.media import decode_rgb, project, video_track
from workers import hdr
from workers.compositor import Compositor
from workers.frame_picture import frame_picture
from workers.probe import header_warnings
from workers.render import render_to_file
from workers.video_orientation import turned
from workers.video_source import VideoSource

W, H = 320, 180
KR, KB = hdr.BT2020
Colour = tuple[float, float, float]


def pq(nits: float) -> float:
    """The PQ signal (0..1) of a luminance in cd/m2 (SMPTE ST 2084's inverse EOTF)."""
    m1, m2 = 2610 / 16384, 2523 / 4096 * 128
    c1, c2, c3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    y = (nits / 10000) ** m1
    return float(((c1 + c2 * y) / (1 + c3 * y)) ** m2)


#: BT.2020 R'G'B' bars and the 8-bit RGB ffmpeg shows them as, measured with Debian's ffmpeg
#: 5.1 (zimg 3.0): zscale=t=linear:npl=100:agamma=0,format=gbrpf32le,zscale=p=bt709,
#: tonemap=tonemap=hable:desat=0,zscale=t=bt709:agamma=0,format=gbrp. The old render showed
#: the PQ 100 cd/m2 white as 130 and the HLG red as 191.
PQ_BARS: list[tuple[Colour, tuple[int, int, int]]] = [
    ((0.0, 0.0, 0.0), (0, 0, 0)),
    ((pq(20),) * 3, (87, 87, 87)),  # a mid grey
    ((pq(100),) * 3, (157, 157, 157)),  # SDR reference white
    ((pq(1000),) * 3, (255, 255, 255)),  # the tone curve's peak
    ((pq(1000), 0.0, 0.0), (255, 0, 0)),  # BT.2020 red: outside BT.709, clipped
    ((0.0, pq(400), 0.0), (0, 229, 0)),
    ((pq(200), pq(200), pq(50)), (195, 191, 89)),
    ((1.0, 1.0, 1.0), (255, 255, 255)),  # 10000 cd/m2
]
HLG_BARS: list[tuple[Colour, tuple[int, int, int]]] = [
    ((0.0, 0.0, 0.0), (0, 0, 0)),
    ((0.5, 0.5, 0.5), (124, 124, 124)),
    ((0.75, 0.75, 0.75), (193, 193, 193)),  # HLG reference white (203 cd/m2)
    ((1.0, 1.0, 1.0), (255, 255, 255)),
    ((0.75, 0.0, 0.0), (205, 0, 0)),
    ((0.0, 0.6, 0.0), (0, 151, 0)),
    ((0.7, 0.6, 0.3), (187, 134, 59)),
    ((0.3, 0.3, 0.6), (66, 73, 140)),
]
#: BT.2020 SDR (gamma 2.4) bars: a BT.709 orange, a grey, BT.2020's green, a sky blue.
_ORANGE = tuple(
    float(c)
    for c in (np.array([0.8, 0.3, 0.1]) @ np.linalg.inv(hdr.BT2020_TO_BT709).T) ** (1 / 2.4)
)
SDR_BARS: list[tuple[Colour, tuple[int, int, int]]] = [
    ((_ORANGE[0], _ORANGE[1], _ORANGE[2]), (233, 154, 97)),
    ((0.5, 0.5, 0.5), (128, 128, 128)),  # ffmpeg: 127
    ((0.0, 1.0, 0.0), (0, 255, 0)),
    ((0.2, 0.6, 0.9), (0, 159, 237)),
]
#: Levels may differ from ffmpeg's by this much (8-bit steps): measured 0 on every bar.
TOLERANCE = 1


def yuv_bars(colours: Sequence[Colour]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """10-bit limited-range BT.2020 YUV 4:2:0 planes of vertical bars of these R'G'B' colours."""
    n = len(colours)
    y = np.zeros((H, W), np.uint16)
    u = np.zeros((H // 2, W // 2), np.uint16)
    v = np.zeros((H // 2, W // 2), np.uint16)
    for i, (r, g, b) in enumerate(colours):
        luma = KR * r + (1 - KR - KB) * g + KB * b
        cols, half = (
            slice(i * W // n, (i + 1) * W // n),
            slice(i * W // n // 2, (i + 1) * W // n // 2),
        )
        y[:, cols] = round((16 + 219 * luma) * 4)
        u[:, half] = round((128 + 224 * (b - luma) / (2 * (1 - KB))) * 4)
        v[:, half] = round((128 + 224 * (r - luma) / (2 * (1 - KR))) * 4)
    return y, u, v


def hdr_frame(colours: Sequence[Colour], trc: int, primaries: int = 9) -> av.VideoFrame:
    """A yuv420p10le frame of bars, tagged with this transfer, BT.2020, limited range."""
    frame = av.VideoFrame(W, H, "yuv420p10le")
    for plane, values in zip(frame.planes, yuv_bars(colours), strict=True):
        rows = np.frombuffer(plane, np.uint16).reshape(values.shape[0], -1)
        rows[:, : values.shape[1]] = values
    frame.color_trc, frame.color_primaries, frame.colorspace, frame.color_range = (
        trc,
        primaries,
        9,
        1,
    )
    return frame


def hdr_clip(path: Path, colours: Sequence[Colour], trc: int, frames: int = 3) -> Path:
    """A lossless 10-bit HEVC (else H.264 High 10) clip of bars, tagged as a camera tags it."""
    x265 = "libx265" in av.codecs_available
    with av.open(str(path), "w") as out:
        if x265:
            stream = out.add_stream(
                "libx265", rate=30, options={"x265-params": "lossless=1:log-level=error"}
            )
        else:
            stream = out.add_stream("libx264", rate=30, options={"qp": "0"})
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p10le"
        ctx = stream.codec_context
        ctx.color_trc, ctx.color_primaries, ctx.colorspace, ctx.color_range = trc, 9, 9, 1
        for i in range(frames):
            frame = hdr_frame(colours, trc)
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def bar_levels(rgb: np.ndarray, bars: int) -> list[tuple[int, int, int]]:
    """The RGB at the middle of each of `bars` vertical bars."""
    width = rgb.shape[1]
    mid = rgb.shape[0] // 2
    return [tuple(int(c) for c in rgb[mid, (2 * i + 1) * width // (2 * bars)]) for i in range(bars)]


def assert_levels(rgb: np.ndarray, bars: list[tuple[Colour, tuple[int, int, int]]]) -> None:
    """Assert each bar shows its expected level, within TOLERANCE."""
    got = np.array(bar_levels(rgb, len(bars)))
    want = np.array([expected for _, expected in bars])
    assert np.abs(got - want).max() <= TOLERANCE, (got.tolist(), want.tolist())


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ((16, 9, 9, 1), hdr.ColourConversion("pq", hdr.BT2020, True, False)),
        ((18, 9, 9, 2), hdr.ColourConversion("hlg", hdr.BT2020, True, True)),
        ((18, 2, 2, 0), hdr.ColourConversion("hlg", hdr.BT2020, True, False)),  # untagged
        ((16, 1, 1, 1), hdr.ColourConversion("pq", hdr.MATRICES[1], False, False)),
        ((14, 9, 9, 1), hdr.ColourConversion("sdr", hdr.BT2020, True, False)),  # SDR, wide
        ((1, 1, 1, 1), None),
        ((2, 2, 2, 0), None),
        ((1, 9, 0, 2), None),  # an RGB frame
    ],
)
def test_the_colour_tags_choose_the_conversion(
    tags: tuple[int, int, int, int], expected: hdr.ColourConversion | None
) -> None:
    assert hdr.conversion_for(*tags) == expected


@pytest.mark.parametrize(("trc", "bars"), [(16, PQ_BARS), (18, HLG_BARS)])
def test_hdr_bars_are_tone_mapped_to_ffmpegs_levels(
    trc: int, bars: list[tuple[Colour, tuple[int, int, int]]]
) -> None:
    picture = frame_picture(hdr_frame([c for c, _ in bars], trc), None)
    assert picture.alpha is None
    assert_levels(picture.rgb, bars)


def test_the_transfer_curves_hit_their_reference_points() -> None:
    assert hdr.pq_eotf(np.array([pq(100), pq(1000), 1.0])) == pytest.approx([100, 1000, 10000])
    assert float(hdr.hlg_inverse_oetf(np.array(0.5))) == pytest.approx(1 / 12)
    # HLG's reference white (75 %) on a 1000 cd/m2 display is 203 cd/m2 (BT.2408).
    scene = float(hdr.hlg_inverse_oetf(np.array(0.75)))
    assert 1000 * scene ** hdr.hlg_gamma(1000) == pytest.approx(203, abs=1)
    assert float(hdr.hable(10.0)) == pytest.approx(0.7062, abs=1e-4)


def test_the_sizer_orientation_and_alpha_are_kept() -> None:
    frame = hdr_frame([c for c, _ in PQ_BARS], 16)
    sized = frame_picture(frame, lambda w, h: (w // 2, h // 2))
    assert sized.rgb.shape == (H // 2, W // 2, 3)
    assert_levels(sized.rgb, PQ_BARS)
    plain = frame_picture(frame, None).rgb
    upright = frame_picture(frame, None, orient=turned(90))
    assert upright.rgb.shape == (W, H, 3)
    assert np.array_equal(upright.rgb, turned(90).apply(plain))
    wide = frame_picture(frame, None, aspect=Fraction(2))
    assert wide.rgb.shape == (H, 2 * W, 3)
    assert_levels(wide.rgb, PQ_BARS)


def test_alpha_beside_hdr_colour_is_kept() -> None:
    frame = av.VideoFrame(64, 32, "yuva444p10le")
    for plane, value in zip(
        frame.planes, (round((16 + 219 * pq(100)) * 4), 512, 512, 512), strict=True
    ):
        np.frombuffer(plane, np.uint16)[:] = value
    frame.color_trc, frame.color_primaries, frame.colorspace, frame.color_range = 16, 9, 9, 1
    picture = frame_picture(frame, None)
    assert picture.alpha is not None
    assert int(picture.alpha[0, 0]) == round(512 / 1023 * 255)
    assert picture.rgb[0, 0].tolist() == [157, 157, 157]


def test_sdr_bt2020_primaries_are_converted_to_bt709() -> None:
    # A BT.709 orange and a grey written in BT.2020 come back as themselves; BT.2020's green,
    # outside BT.709, is clipped to BT.709's.
    colours = [c for c, _ in SDR_BARS]
    assert_levels(frame_picture(hdr_frame(colours, 14), None).rgb, SDR_BARS)
    exact = np.array([0.8, 0.3, 0.1]) ** (1 / 2.4) * 255  # the orange, as BT.709 shows it
    assert np.abs(exact - SDR_BARS[0][1]).max() <= TOLERANCE
    as_if_bt709 = frame_picture(hdr_frame(colours, 14, primaries=1), None)
    assert bar_levels(as_if_bt709.rgb, 4)[0] != SDR_BARS[0][1]  # tagged BT.709: read as before


@pytest.mark.parametrize(("trc", "bars", "name"), [(16, PQ_BARS, "PQ"), (18, HLG_BARS, "HLG")])
def test_an_encoded_hdr_clip_keeps_its_tags_and_decodes_to_the_levels(
    tmp_path: Path, trc: int, bars: list[tuple[Colour, tuple[int, int, int]]], name: str
) -> None:
    path = hdr_clip(tmp_path / "hdr.mkv", [c for c, _ in bars], trc)
    with av.open(str(path)) as container:
        ctx = container.streams.video[0].codec_context
        assert (ctx.color_trc, ctx.color_primaries, ctx.colorspace) == (trc, 9, 9)
    clip = {"id": "c", "start_time": 0, "end_time": 0.1, "source": {"File": str(path)}}
    timeline = load_project(project([video_track("v", [clip])]), str(tmp_path))
    (warning,) = header_warnings(timeline)
    assert f"HDR video ({name}, BT.2020), which is tone-mapped to SDR BT.709" in warning
    source = VideoSource(str(path), "c")
    try:
        assert_levels(source.picture_at(Fraction(1, 30)).rgb, bars)
    finally:
        source.close()


def _zscale() -> bool:
    """Whether a Debian ffmpeg with the zscale and tonemap filters is on the PATH."""
    if shutil.which("ffmpeg") is None:
        return False
    filters = subprocess.run(
        ["ffmpeg", "-hide_banner", "-filters"], capture_output=True, text=True, timeout=30
    ).stdout
    return " zscale " in filters and " tonemap " in filters


_TONE_MAPPED = (
    "zscale=t=linear:npl=100:agamma=0,format=gbrpf32le,zscale=p=bt709,"
    "tonemap=tonemap=hable:desat=0,zscale=t=bt709:agamma=0,format=gbrp"
)
_PRIMARIES_ONLY = (
    "zscale=t=linear:npl=100:agamma=0,format=gbrpf32le,zscale=p=bt709,"
    "zscale=t=bt709:agamma=0,format=gbrp"
)


@pytest.mark.skipif(not _zscale(), reason="needs ffmpeg with the zscale and tonemap filters")
@pytest.mark.parametrize(
    ("trc", "bars", "chain"),
    [(16, PQ_BARS, _TONE_MAPPED), (18, HLG_BARS, _TONE_MAPPED), (14, SDR_BARS, _PRIMARIES_ONLY)],
    ids=["pq", "hlg", "sdr-bt2020"],
)
def test_a_frame_matches_ffmpegs_zscale_tonemap_chain(
    tmp_path: Path, trc: int, bars: list[tuple[Colour, tuple[int, int, int]]], chain: str
) -> None:
    """The whole frame against ffmpeg's (``agamma=0``: zimg's default approximates HLG's OOTF
    per channel, 16 steps off on saturated HLG colours): the bars' insides agree within one
    step (measured: max 0 for PQ and HLG, 1 for SDR BT.2020); their edges differ where ffmpeg
    upsamples the chroma from another siting (measured: mean 0.01 (PQ), 0.24 (HLG) and 0.25
    (SDR) over the frame)."""
    path = hdr_clip(tmp_path / "hdr.mkv", [c for c, _ in bars], trc, frames=1)
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-frames:v", "1", "-vf", chain, "-f",
         "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    reference = np.frombuffer(raw, np.uint8).reshape(H, W, 3).astype(int)
    with av.open(str(path)) as container:
        ours = frame_picture(next(container.decode(video=0)), None).rgb.astype(int)
    diff = np.abs(ours - reference)
    bar = W // len(bars)
    inside = np.concatenate([diff[:, i * bar + 4 : (i + 1) * bar - 4] for i in range(len(bars))], 1)
    assert inside.max() <= TOLERANCE
    assert diff.mean() < 0.5


def test_a_rendered_hdr_clip_is_tone_mapped_the_same_in_every_chunk(tmp_path: Path) -> None:
    path = hdr_clip(tmp_path / "grade.mkv", [c for c, _ in PQ_BARS], 16, frames=6)
    clip = {"id": "c", "start_time": 0, "end_time": 0.2, "source": {"File": str(path)}}
    doc = project([video_track("v", [clip])], settings={"export": {"lossless": True}})
    timeline = load_project(doc, str(tmp_path))
    whole = Compositor(timeline)
    try:
        frames = [whole.frame(t) for t in range(6)]
    finally:
        whole.close()
    for frame in frames:
        assert_levels(frame, PQ_BARS)
    chunk = tmp_path / "chunk.mkv"
    render_to_file(timeline, str(chunk), start=3, end=6, audio=False)
    decoded = decode_rgb(chunk)
    assert len(decoded) == 3
    assert all(np.array_equal(decoded[i], frames[3 + i]) for i in range(3))

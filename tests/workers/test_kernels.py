"""The C compositing kernels equal their NumPy reference, and a whole frame rendered with them
stays within a stated tolerance of the NumPy renderer's frame."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.throughput_project import make_media, write_project
from chunking.timeline.loader import load
from tests.helpers import subprocess_env
from workers import kernels
from workers.compositor import Compositor

RNG = np.random.default_rng(20261203)


def image(h: int = 37, w: int = 53, lo: float = -0.2, hi: float = 1.2) -> np.ndarray:
    """Float RGB with values beyond [0, 1] too (clipping must match as well)."""
    return RNG.uniform(lo, hi, (h, w, 3)).astype(np.float32)


def test_the_c_kernels_were_built() -> None:
    # The install builds them wherever a C compiler exists (CI has one): a silent fall-back to
    # NumPy would make every render slower without anyone noticing.
    assert kernels.BACKEND.startswith("c:"), kernels.BACKEND


def test_float_conversions_equal_numpy() -> None:
    u8 = RNG.integers(0, 256, (31, 47, 3), dtype=np.uint8)
    assert np.array_equal(kernels.to_float(u8), kernels.numpy_to_float(u8))
    f = image()
    assert np.array_equal(kernels.to_uint8(f), kernels.numpy_to_uint8(f))
    view = f[3:20, 5:40]  # not contiguous
    assert np.array_equal(kernels.to_uint8(view), kernels.numpy_to_uint8(view))


def rounding_edges() -> np.ndarray:
    """Samples around every point where to_uint8's rounding or clipping changes its answer:
    (k + 0.5) / 255 and its float32 neighbours, the ends of [0, 1] and beyond them, infinities."""
    halves = (np.arange(-1, 257, dtype=np.float64) + 0.5) / 255
    centre = halves.astype(np.float32)
    near = [centre, np.nextafter(centre, np.float32(-9)), np.nextafter(centre, np.float32(9))]
    ends = np.array([0.0, -0.0, 1.0, -1e-9, 1 + 1e-7, -5, 7, np.inf, -np.inf], dtype=np.float32)
    return np.concatenate([*near, ends])


@pytest.mark.parametrize("length", [1, 31, 32, 33, 95, 3 * 1921])
def test_to_uint8_equals_numpy_at_every_rounding_edge(length: int) -> None:
    # Every length a 32-sample vector loop ends on differently: none, part of one, a tail.
    edges = rounding_edges()
    samples = np.resize(RNG.permutation(edges), length).reshape(-1, 1, 1)
    samples = np.ascontiguousarray(np.broadcast_to(samples, (samples.shape[0], 1, 3)))
    assert np.array_equal(kernels.to_uint8(samples), kernels.numpy_to_uint8(samples))
    frame = np.resize(edges, 67 * 91 * 3).reshape(67, 91, 3)
    assert np.array_equal(kernels.to_uint8(frame), kernels.numpy_to_uint8(frame))


def test_to_uint8_takes_nan_to_zero() -> None:
    # What the C loop's truncation has always given NaN on x86-64 (NumPy warns on the cast).
    samples = np.full((5, 7, 3), np.nan, dtype=np.float32)
    samples[2, 3] = 0.5
    expected = np.zeros(samples.shape, dtype=np.uint8)
    expected[2, 3] = 128
    assert np.array_equal(kernels.to_uint8(samples), expected)


@pytest.mark.parametrize("shape", [(37, 53), (37, 53, 1)])
def test_gain_equals_numpy(shape: tuple[int, ...]) -> None:
    rgb = image()
    gain = RNG.uniform(0.0, 1.5, shape).astype(np.float32)
    assert np.array_equal(kernels.gain_clip(rgb, gain), kernels.numpy_gain_clip(rgb, gain))


@pytest.mark.parametrize("offset", [0.0, 0.07, -0.3])
def test_the_colour_matrix_is_within_two_ulp_of_numpy(offset: float) -> None:
    rgb = image(120, 160, 0.0, 1.0)
    m = np.array([[1.3, -0.2, -0.1], [-0.15, 1.25, -0.1], [-0.1, -0.3, 1.4]], np.float32)
    ours, reference = kernels.affine_clip(rgb, m, offset), kernels.numpy_affine_clip(rgb, m, offset)
    assert np.abs(ours - reference).max() <= 2 * np.finfo(np.float32).eps
    # After rounding to 8 bits a few samples may flip by one level, never more.
    diff = np.abs(kernels.to_uint8(ours).astype(int) - kernels.to_uint8(reference))
    assert diff.max() <= 1 and diff.mean() < 1e-3


@pytest.mark.parametrize("opacity", [1.0, 0.8, 0.0])
@pytest.mark.parametrize("with_alpha", [True, False])
def test_blending_into_a_window_of_the_canvas_equals_numpy(
    opacity: float, with_alpha: bool
) -> None:
    canvas_a, canvas_b = image(60, 80, 0, 1), None
    canvas_b = canvas_a.copy()
    src = image(70, 90, 0, 1)[5:35, 10:60]  # a window of a larger layer: strided rows
    alpha = RNG.uniform(0, 1, (70, 90)).astype(np.float32)[5:35, 10:60] if with_alpha else None
    if alpha is not None:
        alpha[:10] = 0.0  # fully transparent rows are skipped: they must still equal
    kernels.blend(canvas_a[20:50, 15:65], src, alpha, opacity)
    kernels.numpy_blend(canvas_b[20:50, 15:65], src, alpha, opacity)
    assert np.array_equal(canvas_a, canvas_b)


def test_blending_wide_rows_with_transparent_stretches_equals_numpy() -> None:
    # Rows wider than the kernel's blocks, whose alpha is transparent over whole blocks, over
    # parts of one and nowhere: every stretch must come out as NumPy's.
    canvas_a = image(12, 300, 0, 1)
    canvas_b = canvas_a.copy()
    src = image(12, 300, 0, 1)
    alpha = RNG.uniform(0.1, 1, (12, 300)).astype(np.float32)
    alpha[:, :130] = 0.0
    alpha[:6, 200:] = 0.0
    kernels.blend(canvas_a, src, alpha, 0.7)
    kernels.numpy_blend(canvas_b, src, alpha, 0.7)
    assert np.array_equal(canvas_a, canvas_b)


@pytest.mark.parametrize(
    "shape", [(36, 64), (37, 53), (1, 1), (2, 3), (5, 2), (3, 1), (1, 7), (5, 1921)]
)
def test_the_yuv420p_conversion_equals_its_numpy_reference(shape: tuple[int, int]) -> None:
    rgb8 = RNG.integers(0, 256, (*shape, 3), dtype=np.uint8)
    h, w = shape
    planes = (
        np.zeros((h, w), np.uint8),
        np.zeros(((h + 1) // 2, (w + 1) // 2), np.uint8),
        np.zeros(((h + 1) // 2, (w + 1) // 2), np.uint8),
    )
    assert kernels.rgb_to_yuv420p(rgb8, planes)
    for ours, reference in zip(planes, kernels.numpy_rgb_to_yuv420p(rgb8), strict=True):
        assert np.array_equal(ours, reference)


def test_the_yuv420p_conversion_keeps_greys_and_the_limited_range() -> None:
    levels = np.arange(256, dtype=np.uint8)
    grey = np.repeat(np.repeat(levels[None, :, None], 3, axis=2), 2, axis=0)  # 2 x 256 greys
    y, u, v = kernels.numpy_rgb_to_yuv420p(grey)
    assert np.array_equal(y[0], np.floor(16 + levels.astype(int) * 219 / 255 + 0.5))
    assert (u == 128).all() and (v == 128).all()
    red = np.full((2, 2, 3), (255, 0, 0), np.uint8)
    y, u, v = kernels.numpy_rgb_to_yuv420p(red)
    assert (y == 63).all() and (u == 102).all() and (v == 240).all()  # BT.709 red


def test_the_yuv420p_conversion_is_within_one_level_of_swscale() -> None:
    """The stated tolerance against the conversion it replaced (swscale's BT.709 limited range,
    bilinear chroma): no sample more than one level apart, on noise and on sharp edges."""
    import av

    rgb8 = RNG.integers(0, 256, (90, 160, 3), dtype=np.uint8)
    rgb8[10:40, 20:100] = (255, 0, 0)
    rgb8[10:40, 100:101] = (0, 0, 255)
    rgb8[50:, 80:] = (20, 200, 40)
    frame = av.VideoFrame.from_ndarray(rgb8, format="rgb24").reformat(
        format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG"
    )
    for plane, ours in zip(frame.planes, kernels.numpy_rgb_to_yuv420p(rgb8), strict=True):
        theirs = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)
        theirs = theirs[: plane.height, : plane.width]
        assert np.abs(ours.astype(int) - theirs).max() <= 1


def test_numpy_only_switches_the_backend_for_the_block() -> None:
    u8 = RNG.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    with kernels.numpy_only():
        assert not kernels.compiled()
        kernels.to_float(u8)
    assert kernels.compiled() == (kernels.BACKEND != "numpy")


def test_the_benchmark_frame_stays_within_one_level_of_the_numpy_renderer(
    tmp_path: Path,
) -> None:
    """The stated tolerance of the C kernels against today's (NumPy) look: at most one 8-bit
    level on at most 0.1 % of the samples, on bench/render_throughput.py's three layers (a
    vignette and a saturation effect, a scaled colour-corrected picture-in-picture at opacity
    0.8, a logo with alpha)."""
    make_media(tmp_path, 320, 180, 3)
    write_project(tmp_path / "p.json", 320, 180, 0.1, "veryfast", 0.0)
    timeline = load(str(tmp_path / "p.json"))
    ours = Compositor(timeline).frame(1)
    with kernels.numpy_only():
        reference = Compositor(timeline).frame(1)
    diff = np.abs(ours.astype(int) - reference.astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() <= 1e-3


def test_the_numpy_steps_can_be_chosen_by_setting() -> None:
    code = "from workers import kernels; print(kernels.BACKEND)"
    env = subprocess_env({"CLOUDRENDER_KERNELS": "numpy"})
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "numpy"


def test_mismatched_shapes_never_reach_the_c_loops() -> None:
    """The C kernels trust their sizes; shapes that do not fit fail as NumPy fails, not by
    reading past an array."""
    canvas = image(20, 30, 0, 1)
    with pytest.raises(ValueError):
        kernels.blend(canvas[:10, :10], image(12, 10, 0, 1), None, 0.5)
    with pytest.raises(ValueError):
        kernels.blend(canvas[:10, :10], image(10, 10, 0, 1), np.ones((9, 10), np.float32), 1.0)
    with pytest.raises(ValueError):
        kernels.gain_clip(image(10, 10), np.ones((10, 11), np.float32))
    with pytest.raises(ValueError):
        kernels.affine_clip(image(10, 10), np.eye(4, dtype=np.float32))


def test_the_encoder_frame_is_the_kernels_bt709_conversion() -> None:
    from workers.encoder import EncoderChoice, to_video_frame

    rgb8 = RNG.integers(0, 256, (36, 64, 3), dtype=np.uint8)
    frame = to_video_frame(rgb8, EncoderChoice("libx264", "yuv420p", {}))
    assert frame.format.name == "yuv420p" and (frame.width, frame.height) == (64, 36)
    assert (frame.colorspace, frame.color_range) == (1, 1)  # tagged BT.709, limited range
    for plane, reference in zip(frame.planes, kernels.numpy_rgb_to_yuv420p(rgb8), strict=True):
        ours = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)
        assert np.array_equal(ours[: plane.height, : plane.width], reference)

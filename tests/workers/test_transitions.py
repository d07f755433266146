from __future__ import annotations

import numpy as np
import pytest

from chunking.timeline.catalogue import TRANSITIONS
from common.errors import TimelineError
from workers.layer import Image, Layer, Mask, blend
from workers.transitions import apply_transition

W, H = 320, 180
ALL_KINDS = sorted(TRANSITIONS)


def _image(seed: int) -> Image:
    return np.random.default_rng(seed).random((H, W, 3), dtype=np.float32)


def _mask(seed: int) -> Mask:
    alpha = np.random.default_rng(seed).random((H, W), dtype=np.float32)
    alpha[:, :20] = 0  # fully transparent strip: its colour must never show
    alpha[:, 20:40] = 1
    return alpha


@pytest.fixture
def a() -> Layer:
    return Layer(_image(1))


@pytest.fixture
def b() -> Layer:
    return Layer(_image(2))


def _composite(layer: Layer, background: Image) -> Image:
    canvas = background.copy()
    blend(canvas, layer)
    return canvas


def test_dissolve_midpoint_is_average(a: Layer, b: Layer) -> None:
    out = apply_transition("dissolve", 0.5, a, b)
    assert out.alpha is None and (out.x, out.y, out.opacity) == (0, 0, 1.0)
    np.testing.assert_allclose(out.rgb, (a.rgb + b.rgb) / 2, atol=1e-6)


def test_dissolve_near_start_is_outgoing(a: Layer, b: Layer) -> None:
    out = apply_transition("dissolve", 0.001, a, b)
    np.testing.assert_allclose(out.rgb, a.rgb, atol=1e-3)


def test_fade_black_is_black_at_midpoint(a: Layer, b: Layer) -> None:
    out = apply_transition("fade_black", 0.5, a, b)
    assert out.alpha is None  # opaque black: lower tracks do not show through
    assert not out.rgb.any()


def test_fade_black_halves(a: Layer, b: Layer) -> None:
    np.testing.assert_allclose(apply_transition("fade_black", 0.25, a, b).rgb, a.rgb / 2, atol=1e-6)
    np.testing.assert_allclose(apply_transition("fade_black", 0.75, a, b).rgb, b.rgb / 2, atol=1e-6)


def test_wipe_right_quarter_edge_column(a: Layer, b: Layer) -> None:
    out = apply_transition("wipe_right", 0.25, a, b)
    np.testing.assert_array_equal(out.rgb[:, :80], b.rgb[:, :80])
    np.testing.assert_array_equal(out.rgb[:, 80:], a.rgb[:, 80:])
    assert np.array_equal(out.rgb[:, 79], b.rgb[:, 79]) and np.array_equal(
        out.rgb[:, 80], a.rgb[:, 80]
    )


# (kind, progress, axis, [start, stop) of the region that shows b)
WIPES = [
    ("wipe_right", 0.25, 1, 0, 80),
    ("wipe_left", 0.25, 1, 240, 320),
    ("wipe_down", 0.25, 0, 0, 45),
    ("wipe_up", 0.25, 0, 135, 180),
    ("wipe_right", 0.7, 1, 0, 224),
    ("wipe_up", 0.3, 0, 126, 180),
    ("wipe_left", 0.0, 1, 320, 320),
    ("wipe_down", 1.0, 0, 0, 180),
]


def _axis_slice(axis: int, start: int, stop: int) -> tuple[slice, ...]:
    return (slice(start, stop),) if axis == 0 else (slice(None), slice(start, stop))


@pytest.mark.parametrize(("kind", "p", "axis", "start", "stop"), WIPES)
def test_wipe_edges(
    a: Layer, b: Layer, kind: str, p: float, axis: int, start: int, stop: int
) -> None:
    expected = a.rgb.copy()
    sl = _axis_slice(axis, start, stop)
    expected[sl] = b.rgb[sl]
    out = apply_transition(kind, p, a, b)
    np.testing.assert_array_equal(out.rgb, expected)
    assert out.alpha is None


# (kind, progress, axis, [dst0, dst1) of the output showing b, [src0, src1) of b shown there)
SLIDES = [
    ("slide_left", 0.5, 1, (160, 320), (0, 160)),
    ("slide_left", 0.25, 1, (240, 320), (0, 80)),
    ("slide_right", 0.25, 1, (0, 80), (240, 320)),
    ("slide_up", 0.25, 0, (135, 180), (0, 45)),
    ("slide_down", 0.25, 0, (0, 45), (135, 180)),
    ("slide_down", 0.9, 0, (0, 162), (18, 180)),
    ("slide_right", 1.0, 1, (0, 320), (0, 320)),
    ("slide_up", 0.0, 0, (180, 180), (0, 0)),
]


@pytest.mark.parametrize(("kind", "p", "axis", "dst", "src"), SLIDES)
def test_slide_edges(
    a: Layer,
    b: Layer,
    kind: str,
    p: float,
    axis: int,
    dst: tuple[int, int],
    src: tuple[int, int],
) -> None:
    expected = a.rgb.copy()  # a stays in place under the incoming clip
    expected[_axis_slice(axis, *dst)] = b.rgb[_axis_slice(axis, *src)]
    out = apply_transition(kind, p, a, b)
    np.testing.assert_array_equal(out.rgb, expected)


def test_slide_left_midpoint_shows_b_from_its_left_edge(a: Layer, b: Layer) -> None:
    out = apply_transition("slide_left", 0.5, a, b)
    np.testing.assert_array_equal(out.rgb[:, 160:], b.rgb[:, :160])
    np.testing.assert_array_equal(out.rgb[:, :160], a.rgb[:, :160])


def test_transparent_dissolve_matches_mixing_the_composites() -> None:
    a = Layer(_image(1), _mask(3))
    b = Layer(_image(2), _mask(4)[:, ::-1].copy(), opacity=0.8)
    background = _image(5)
    for p in (0.1, 0.5, 0.9):
        out = apply_transition("dissolve", p, a, b)
        assert out.alpha is not None
        mixed = (1 - p) * _composite(a, background) + p * _composite(b, background)
        np.testing.assert_allclose(_composite(out, background), mixed, atol=1e-5)


def test_transparent_outgoing_does_not_bleed_colour() -> None:
    a = Layer(_image(1), np.zeros((H, W), np.float32))
    b = Layer(_image(2))
    out = apply_transition("dissolve", 0.3, a, b)
    assert out.alpha is not None
    np.testing.assert_allclose(out.rgb, b.rgb, atol=1e-6)
    np.testing.assert_allclose(out.alpha, 0.3, atol=1e-6)


def test_opacity_is_folded_into_alpha(a: Layer, b: Layer) -> None:
    faded = Layer(a.rgb, opacity=0.5)
    out = apply_transition("dissolve", 0.5, faded, b)
    assert out.alpha is not None
    np.testing.assert_allclose(out.alpha, 0.75, atol=1e-6)
    wiped = apply_transition("wipe_right", 0.5, faded, b)
    assert wiped.alpha is not None
    np.testing.assert_array_equal(wiped.alpha[:, :160], 1)
    np.testing.assert_array_equal(wiped.alpha[:, 160:], 0.5)


def test_fade_black_keeps_the_visible_clips_alpha(a: Layer) -> None:
    alpha = _mask(3)
    b = Layer(_image(2), alpha)
    out = apply_transition("fade_black", 0.75, a, b)
    assert out.alpha is not None and not np.shares_memory(out.alpha, alpha)
    np.testing.assert_array_equal(out.alpha, alpha)


@pytest.mark.parametrize("a_alpha", [None, _mask(6)])
def test_slide_over_transparent_incoming_shows_outgoing_through(a_alpha: Mask | None) -> None:
    a = Layer(_image(1), a_alpha)
    b = Layer(_image(2), _mask(3))
    background = _image(5)
    out = apply_transition("slide_left", 0.5, a, b)
    assert out.alpha is not None and b.alpha is not None
    under = _composite(a, background)
    expected = _composite(Layer(b.rgb[:, :160], b.alpha[:, :160]), under[:, 160:])
    result = _composite(out, background)
    np.testing.assert_allclose(result[:, 160:], expected, atol=1e-5)
    np.testing.assert_allclose(result[:, :160], under[:, :160], atol=1e-6)
    if a_alpha is None:
        np.testing.assert_array_equal(out.alpha, 1)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_inputs_untouched_and_result_deterministic_float32(kind: str) -> None:
    a = Layer(_image(1), _mask(3), opacity=0.9)
    b = Layer(_image(2), _mask(4))
    before = [a.rgb.copy(), b.rgb.copy(), _mask(3), _mask(4)]
    first = apply_transition(kind, 0.4, a, b)
    second = apply_transition(kind, 0.4, a, b)
    for got, want in zip([a.rgb, b.rgb, a.alpha, b.alpha], before, strict=True):
        np.testing.assert_array_equal(got, want)
    assert first.rgb.dtype == np.float32 and first.rgb.shape == (H, W, 3)
    assert first.alpha is not None and first.alpha.dtype == np.float32
    np.testing.assert_array_equal(first.rgb, second.rgb)
    np.testing.assert_array_equal(first.alpha, second.alpha)
    for src in (a.rgb, b.rgb, a.alpha, b.alpha):
        assert not np.shares_memory(first.rgb, src) and not np.shares_memory(first.alpha, src)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_opaque_endpoints(kind: str, a: Layer, b: Layer) -> None:
    start = apply_transition(kind, 0.0, a, b)
    end = apply_transition(kind, 1.0, a, b)
    np.testing.assert_allclose(start.rgb, a.rgb, atol=1e-6)
    np.testing.assert_allclose(end.rgb, b.rgb, atol=1e-6)


def test_unknown_kind_and_mismatched_sizes(a: Layer, b: Layer) -> None:
    with pytest.raises(TimelineError, match="spin"):
        apply_transition("spin", 0.5, a, b)
    with pytest.raises(ValueError):
        apply_transition("dissolve", 0.5, a, Layer(b.rgb[:-1]))


def test_fade_white_dips_through_white(a: Layer, b: Layer) -> None:
    np.testing.assert_allclose(apply_transition("fade_white", 0.5, a, b).rgb, 1.0, atol=1e-6)
    quarter = apply_transition("fade_white", 0.25, a, b).rgb
    np.testing.assert_allclose(quarter, a.rgb / 2 + 0.5, atol=1e-6)
    np.testing.assert_allclose(
        apply_transition("fade_white", 0.75, a, b).rgb, b.rgb / 2 + 0.5, atol=1e-6
    )

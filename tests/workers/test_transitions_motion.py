"""The transitions drawn as the editor's preview moves the outgoing clip (workers.
transitions_motion): where a's pixels land, how the clips fade, and see-through clips. Pixels
are checked as seen over black (colour times alpha): the preview stacks b, fading in, over a,
fading out, so half way opaque clips show 0.5 of b and 0.25 of a."""

from __future__ import annotations

import numpy as np
import pytest

from workers.layer import Layer
from workers.transitions import apply_transition
from workers.transitions_motion import MOTIONS

W, H = 64, 36


def _random(seed: int, *shape: int) -> np.ndarray:
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


@pytest.fixture
def a() -> Layer:
    return Layer(_random(1, H, W, 3))


@pytest.fixture
def b() -> Layer:
    return Layer(_random(2, H, W, 3))


def _close(actual: np.ndarray, expected: np.ndarray) -> None:
    np.testing.assert_allclose(actual, expected, atol=1e-6)


def _seen(kind: str, p: float, a: Layer, b: Layer) -> np.ndarray:
    """The transition composited over black."""
    out = apply_transition(kind, p, a, b)
    alpha = np.ones(out.rgb.shape[:2], np.float32) if out.alpha is None else out.alpha
    return out.rgb * alpha[..., None]


def _at(image: np.ndarray, x: float, y: float) -> np.ndarray:
    """``image`` filtered bilinearly at (x, y) in pixel-centre units (pixel i's centre is i),
    clamped to its edge: as the browser samples a transformed video."""
    height, width = image.shape[:2]
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    fx, fy = x - x0, y - y0
    out = np.zeros(image.shape[2:], np.float64)
    for row, wy in ((y0, 1 - fy), (y0 + 1, fy)):
        for col, wx in ((x0, 1 - fx), (x0 + 1, fx)):
            out += wy * wx * image[min(max(row, 0), height - 1), min(max(col, 0), width - 1)]
    return out


def test_zoom_half_way_is_one_and_a_half_times_bigger_and_half_faded(a: Layer, b: Layer) -> None:
    out = _seen("zoom", 0.5, a, b)
    # Pixel (0, 0)'s centre, 31.5 left of and 17.5 above the middle, comes from 21 and 11.67
    # left of and above a's middle: between a's columns 10 and 11 and rows 5 and 6
    _close(out[0, 0], 0.25 * _at(a.rgb, 10.5, 5.5 + 1 / 3) + 0.5 * b.rgb[0, 0])


def test_a_moved_picture_is_filtered_not_blocky(a: Layer, b: Layer) -> None:
    # Nearest-pixel sampling showed a's pixel (10, 5) unmixed: the browser filters bilinearly.
    out = _seen("zoom", 0.5, a, b)
    # pixel (1, 1): 30.5 and 16.5 left of and above the middle, a's 20.33 and 11 (column 11.17)
    _close(out[1, 1], 0.25 * _at(a.rgb, 32 - 30.5 / 1.5 - 0.5, 6.5) + 0.5 * b.rgb[1, 1])
    assert not np.allclose(out[1, 1], 0.25 * a.rgb[6, 11] + 0.5 * b.rgb[1, 1], atol=1e-3)


def test_squeeze_narrows_a_about_the_middle(a: Layer, b: Layer) -> None:
    out = _seen("squeeze", 0.5, a, b)
    _close(out[:, :16], 0.5 * b.rgb[:, :16])  # a is half as wide: columns 16 to 47
    _close(out[:, 48:], 0.5 * b.rgb[:, 48:])
    _close(out[5, 32], 0.25 * _at(a.rgb, 32.5, 5) + 0.5 * b.rgb[5, 32])


def test_a_moved_edge_is_smooth(a: Layer, b: Layer) -> None:
    # At 0.3 a is 44.8 pixels wide, from column 9.6: 0.4 of column 9 lies inside it, which
    # nearest-pixel sampling left all b.
    out = apply_transition("squeeze", 0.3, a, b)
    assert out.alpha is not None
    _close(out.alpha[:, 9], np.full(H, 0.3 + 0.7 * 0.7 * 0.4, np.float32))
    _close(out.alpha[:, 8], np.full(H, 0.3, np.float32))
    _close(out.alpha[:, 10], np.full(H, 0.3 + 0.7 * 0.7, np.float32))


def test_diagonal_moves_a_up_and_left(a: Layer, b: Layer) -> None:
    out = _seen("diagonal", 0.5, a, b)
    _close(out[0, 0], 0.25 * a.rgb[18, 32] + 0.5 * b.rgb[0, 0])
    _close(out[H // 2 :, W // 2 :], 0.5 * b.rgb[H // 2 :, W // 2 :])


def test_flip_mirrors_a_past_half_way(a: Layer, b: Layer) -> None:
    out = _seen("flip", 0.75, a, b)
    # cos(135 degrees) = -0.71: a is 0.71 as wide, mirrored, at opacity 0.25 under b's 0.75;
    # the pixel 8.5 right of the middle shows a 12.02 left of its middle
    x = 32 + 8.5 / np.cos(np.pi * 0.75) - 0.5
    _close(out[5, 40], 0.25 * 0.25 * _at(a.rgb, x, 5) + 0.75 * b.rgb[5, 40])
    _close(_seen("flip", 0.5, a, b), 0.5 * b.rgb)  # edge on: nothing of a


def test_rotate_turns_a_clockwise(a: Layer, b: Layer) -> None:
    out = _seen("rotate", 0.5, a, b)
    # 90 degrees and 0.75 the size: the pixel 6.5 below the middle shows a 8.67 right of its
    # middle and the pixel 0.5 right of it 0.67 above a's middle
    _close(out[24, 32], 0.25 * _at(a.rgb, 32 + 6.5 / 0.75 - 0.5, 18 - 0.5 / 0.75 - 0.5)
           + 0.5 * b.rgb[24, 32])  # fmt: skip


def test_a_see_through_picture_is_filtered_in_premultiplied_colour(b: Layer) -> None:
    # Column 12 is clear with a garbage colour: filtered with its opaque neighbour it gives that
    # neighbour's colour at half the alpha, never the garbage.
    alpha = np.ones((H, W), np.float32)
    alpha[:, 12] = 0
    rgb = _random(1, H, W, 3)
    rgb[:, 12] = 1.0
    out = _seen("zoom", 0.5, Layer(rgb, alpha), b)
    premultiplied = rgb * alpha[..., None]
    _close(out[1, 1], 0.25 * _at(premultiplied, 32 - 30.5 / 1.5 - 0.5, 6.5) + 0.5 * b.rgb[1, 1])


@pytest.mark.parametrize("kind", ["spiral", "swirl", "scale", "rotate"])
def test_shrinking_kinds_leave_the_corners_to_b(kind: str, a: Layer, b: Layer) -> None:
    out = _seen(kind, 0.6, a, b)
    _close(out[0, 0], 0.6 * b.rgb[0, 0])
    _close(out[H - 1, W - 1], 0.6 * b.rgb[H - 1, W - 1])


@pytest.mark.parametrize("kind", sorted(MOTIONS))
def test_a_transparent_outgoing_clip_shows_only_the_incoming(kind: str, b: Layer) -> None:
    a = Layer(_random(1, H, W, 3), np.zeros((H, W), np.float32))  # garbage colour, invisible
    b_alpha = _random(3, H, W)
    out = apply_transition(kind, 0.3, a, Layer(b.rgb, b_alpha))
    assert out.alpha is not None
    _close(out.alpha, 0.3 * b_alpha)  # b fading in, alone
    shown = b_alpha > 0
    _close(out.rgb[shown], b.rgb[shown])


def test_over_a_transparent_incoming_clip_a_keeps_its_faded_alpha(a: Layer) -> None:
    b = Layer(_random(2, H, W, 3), np.zeros((H, W), np.float32))
    out = apply_transition("zoom", 0.5, Layer(a.rgb, opacity=0.8), b)
    assert out.alpha is not None
    _close(out.alpha, np.full((H, W), 0.4, np.float32))  # 0.8 opacity, half faded
    _close(out.rgb[0, 0], _at(a.rgb, 10.5, 5.5 + 1 / 3))  # and only a's colour


def test_half_way_opaque_clips_are_three_quarters_opaque_as_in_the_preview(
    a: Layer, b: Layer
) -> None:
    out = apply_transition("zoom", 0.5, a, b)  # zoomed a covers the whole canvas
    assert out.alpha is not None
    _close(out.alpha, np.full((H, W), 0.75, np.float32))
    assert apply_transition("zoom", 0.0, a, b).alpha is not None
    _close(apply_transition("zoom", 0.0, a, b).rgb, a.rgb)  # it starts as a


def test_the_previews_slide_moves_a_out_unfaded_as_b_fades_in(a: Layer, b: Layer) -> None:
    # transition-preview.tsx's slide: translateX(-100%) on a, no opacity change; b to opacity 1.
    out = apply_transition("slide_out_left", 0.25, a, b)
    assert out.alpha is not None
    seen = _seen("slide_out_left", 0.25, a, b)
    # a's column 16 is now at column 0, wholly opaque; b at 0.25 over it
    _close(seen[:, :48], 0.75 * a.rgb[:, 16:] + 0.25 * b.rgb[:, :48])
    _close(out.alpha[:, :48], np.ones((H, 48), np.float32))
    # a has left the last quarter: b alone, fading in
    _close(seen[:, 48:], 0.25 * b.rgb[:, 48:])
    _close(out.alpha[:, 48:], np.full((H, 16), 0.25, np.float32))
    _close(_seen("slide_out_down", 0.5, a, b)[18:], 0.5 * a.rgb[:18] + 0.5 * b.rgb[18:])

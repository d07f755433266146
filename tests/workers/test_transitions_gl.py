"""The transitions drawn as the gl-transitions shader the editor's export names."""

from __future__ import annotations

import numpy as np

from workers.layer import Layer
from workers.transitions import apply_transition

W, H = 32, 18
ORANGE = np.array([0.9, 0.4, 0.2], np.float32)


def _random(seed: int, *shape: int) -> np.ndarray:
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def test_burn_is_a_crossfade_brightening_toward_orange_half_way() -> None:
    a, b = Layer(_random(1, H, W, 3) * 0.3), Layer(_random(2, H, W, 3) * 0.3)
    for p in (0.25, 0.5, 0.8):
        # burn.glsl: mix(from + p*color, to + (1-p)*color, p)
        shader = (1 - p) * (a.rgb + p * ORANGE) + p * (b.rgb + (1 - p) * ORANGE)
        out = apply_transition("burn", p, a, b)
        assert out.alpha is None
        np.testing.assert_allclose(out.rgb, np.minimum(shader, 1), atol=1e-6)
    # Half way the glow is half the colour: red is lifted by 0.45
    mid = apply_transition("burn", 0.5, a, b).rgb
    np.testing.assert_allclose(mid[..., 0], (a.rgb[..., 0] + b.rgb[..., 0]) / 2 + 0.45, atol=1e-6)


def test_burn_clamps_like_the_shaders_framebuffer() -> None:
    white = Layer(np.ones((H, W, 3), np.float32))
    assert apply_transition("burn", 0.5, white, white).rgb.max() == 1.0


def test_burn_lights_only_what_shows() -> None:
    a = Layer(_random(1, H, W, 3), np.zeros((H, W), np.float32))
    b = Layer(_random(2, H, W, 3) * 0.3, np.zeros((H, W), np.float32))
    b.alpha[:, : W // 2] = 1  # type: ignore[index]
    out = apply_transition("burn", 0.5, a, b)
    assert out.alpha is not None
    np.testing.assert_allclose(out.alpha[:, W // 2 :], 0)  # nothing there, no glow either
    np.testing.assert_allclose(out.alpha[:, : W // 2], 0.5)


def _shader_kaleidoscope(p: float, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """kaleidoscope.glsl per pixel, in plain Python (nearest-pixel texture lookups, y up)."""
    import math

    height, width = a.shape[:2]

    def texture(img: np.ndarray, x: float, y: float) -> np.ndarray:
        col = min(int(math.floor(x * width)), width - 1)
        row = min(int(math.floor((1 - y) * height)), height - 1)
        return img[row, col]

    out = np.empty_like(a)
    for row in range(height):
        for col in range(width):
            qx, qy = (col + 0.5) / width, 1 - (row + 0.5) / height
            x, y = qx - 0.5, qy - 0.5
            t = p**1.5
            for _ in range(7):
                x, y = math.sin(t) * x + math.cos(t) * y, math.sin(t) * y - math.cos(t) * x
                t += 1.0
                x, y = abs(x % 2.0 - 1.0), abs(y % 2.0 - 1.0)
            here = texture(a, qx, qy) * (1 - p) + texture(b, qx, qy) * p
            there = texture(a, x, y) * (1 - p) + texture(b, x, y) * p
            k = 1 - 2 * abs(p - 0.5)
            out[row, col] = here * (1 - k) + there * k
    return out


def test_kaleidoscope_follows_the_shader() -> None:
    a, b = _random(1, H, W, 3), _random(2, H, W, 3)
    for p in (0.2, 0.5, 0.7):
        ours = apply_transition("kaleidoscope", p, Layer(a), Layer(b)).rgb
        reference = _shader_kaleidoscope(p, a, b)
        # float32 against float64 folding: a point landing on a pixel border may pick its
        # neighbour; all but a handful of pixels agree exactly
        off = np.abs(ours - reference).max(axis=2) > 1e-5
        assert off.mean() < 0.01, f"p={p}: {int(off.sum())} pixels differ"


def test_kaleidoscope_on_see_through_clips_mixes_premultiplied() -> None:
    a = Layer(_random(1, H, W, 3), np.zeros((H, W), np.float32))  # invisible, garbage colour
    b = Layer(np.full((H, W, 3), 0.25, np.float32))
    out = apply_transition("kaleidoscope", 0.5, a, b)
    assert out.alpha is not None
    np.testing.assert_allclose(out.alpha, 0.5, atol=1e-6)  # b's half of every term
    np.testing.assert_allclose(out.rgb, 0.25, atol=1e-6)  # and only b's colour

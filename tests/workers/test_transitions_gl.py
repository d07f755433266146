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


def _shader_cube(p: float, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """cube.glsl per pixel, in plain Python (nearest-pixel texture lookups, y up)."""
    import math

    height, width = a.shape[:2]

    def texture(img: np.ndarray, x: float, y: float) -> np.ndarray:
        col = min(max(int(math.floor(x * width)), 0), width - 1)
        row = min(max(int(math.floor((1 - y) * height)), 0), height - 1)
        return img[row, col]

    def inside(x: float, y: float) -> bool:
        return 0 < x < 1 and 0 < y < 1

    def xskew(x: float, y: float, persp: float, centre: float) -> tuple[float, float]:
        xx = x * (1 - centre) + (1 - x) * centre
        sy = (y - 0.5 * (1 - persp) * xx) / (1 + (persp - 1) * xx)
        sign = 1.0 if centre < 0.5 else -1.0
        dist = abs(centre - 0.5)
        return (xx - (0.5 - dist)) * (0.5 / dist * sign) + (0.0 if centre < 0.5 else 1.0), sy

    out = np.empty_like(a)
    for row in range(height):
        for col in range(width):
            ox, oy = (col + 0.5) / width, 1 - (row + 0.5) / height
            uz = 0.3 * 2.0 * (0.5 - abs(0.5 - p))
            px, py = -uz * 0.5 + (1 + uz) * ox, -uz * 0.5 + (1 + uz) * oy
            fx, fy = xskew((px - p) / (1 - p), py, 1 - p * 0.3, 0.0)
            tx, ty = xskew(px / p, py, p * p * 0.3 + 0.7, 1.0)
            if inside(fx, fy):
                out[row, col] = texture(a, fx, fy)
            elif inside(tx, ty):
                out[row, col] = texture(b, tx, ty)
            else:
                c = np.zeros(3, np.float32)
                for img, x, y in ((a, fx, fy), (b, tx, ty)):
                    x, y = x, -1.2 * y - 0.03
                    if inside(x, y):
                        c = c + texture(img, x, y) * 0.4 * (1 - y)
                out[row, col] = np.minimum(c, 1)
    return out


def test_cube_follows_the_shader() -> None:
    a, b = _random(1, H, W, 3), _random(2, H, W, 3)
    for p in (0.2, 0.5, 0.8):
        out = apply_transition("cube", p, Layer(a), Layer(b))
        assert out.alpha is None
        off = np.abs(out.rgb - _shader_cube(p, a, b)).max(axis=2) > 1e-5
        # float32 against float64 may move a face edge or a lookup by a pixel
        assert off.mean() < 0.02, f"p={p}: {int(off.sum())} pixels differ"


def test_cube_floor_is_opaque_and_faces_keep_their_alpha() -> None:
    a = Layer(_random(1, H, W, 3), np.full((H, W), 0.5, np.float32))
    b = Layer(_random(2, H, W, 3))
    out = apply_transition("cube", 0.5, a, b)
    assert out.alpha is not None
    assert set(np.unique(out.alpha).round(6)) <= {0.5, 1.0}  # a's face, b's face or the floor
    assert (out.alpha == 0.5).any() and (out.alpha == 1.0).any()

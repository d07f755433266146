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

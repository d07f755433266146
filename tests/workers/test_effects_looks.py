"""The editor's looks: each equals its CSS preview filter, and does what its name promises."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pytest

from chunking.timeline.catalogue import LOOKS
from chunking.timeline.model import Effect, ParamValue
from common.errors import TimelineError
from tests.helpers import flat_image, noisy_image
from workers.effects import apply_effect
from workers.layer import Image

#: The ``cssFilter`` of each look, verbatim from Timeline Studio's
#: src/features/effects/data/effects.json (commit 42b19963).
EDITOR_CSS = {
    "vintage": "sepia(0.5) contrast(1.2) brightness(0.9) saturate(0.8)",
    "duotone": "grayscale(1) brightness(1.2) contrast(1.5) sepia(0.5)",
    "noir": "grayscale(1) contrast(1.5) brightness(0.8)",
    "cyberpunk": "hue-rotate(180deg) saturate(2) contrast(1.3) brightness(1.2)",
    "dreamy": "brightness(1.1) contrast(0.9) saturate(0.8) hue-rotate(30deg)",
    "infrared": "hue-rotate(-30deg) saturate(2) contrast(1.5) brightness(1.2)",
    "matrix": "brightness(1.2) saturate(1.5) hue-rotate(100deg)",
    "arctic": "brightness(1.2) saturate(0.8) contrast(1.1) hue-rotate(180deg)",
    "sunset": "brightness(1.1) contrast(1.2) saturate(1.5) hue-rotate(30deg) sepia(0.3)",
    "lomo": "contrast(1.4) brightness(0.9) sepia(0.3) saturate(1.5)",
    "twilight": "brightness(0.9) contrast(1.1) saturate(0.8) hue-rotate(-20deg)",
    "neon": "brightness(1.2) contrast(1.4) saturate(2) hue-rotate(180deg)",
}

SKIN = (0.85, 0.6, 0.45)


def css_reference(rgb: Image, css: str) -> np.ndarray:
    """The W3C Filter Effects Level 1 filter functions, written from the spec's formulas in
    float64, each function's result clamped to [0, 1]."""
    out = rgb.astype(np.float64)
    for name, raw in re.findall(r"([a-z-]+)\(([^)]*)\)", css):
        v = float(raw.removesuffix("deg"))
        if name == "brightness":
            out = out * v
        elif name == "contrast":
            out = (out - 0.5) * v + 0.5
        else:
            if name == "grayscale":
                a = 1 - v
                m = [
                    [0.2126 + 0.7874 * a, 0.7152 - 0.7152 * a, 0.0722 - 0.0722 * a],
                    [0.2126 - 0.2126 * a, 0.7152 + 0.2848 * a, 0.0722 - 0.0722 * a],
                    [0.2126 - 0.2126 * a, 0.7152 - 0.7152 * a, 0.0722 + 0.9278 * a],
                ]
            elif name == "sepia":
                a = 1 - v
                m = [
                    [0.393 + 0.607 * a, 0.769 - 0.769 * a, 0.189 - 0.189 * a],
                    [0.349 - 0.349 * a, 0.686 + 0.314 * a, 0.168 - 0.168 * a],
                    [0.272 - 0.272 * a, 0.534 - 0.534 * a, 0.131 + 0.869 * a],
                ]
            elif name == "saturate":
                m = [
                    [0.213 + 0.787 * v, 0.715 - 0.715 * v, 0.072 - 0.072 * v],
                    [0.213 - 0.213 * v, 0.715 + 0.285 * v, 0.072 - 0.072 * v],
                    [0.213 - 0.213 * v, 0.715 - 0.715 * v, 0.072 + 0.928 * v],
                ]
            else:
                assert name == "hue-rotate"
                c, s = math.cos(math.radians(v)), math.sin(math.radians(v))
                m = [
                    [0.213 + c * 0.787 - s * 0.213, 0.715 - c * 0.715 - s * 0.715,
                     0.072 - c * 0.072 + s * 0.928],
                    [0.213 - c * 0.213 + s * 0.143, 0.715 + c * 0.285 + s * 0.140,
                     0.072 - c * 0.072 - s * 0.283],
                    [0.213 - c * 0.213 - s * 0.787, 0.715 - c * 0.715 + s * 0.715,
                     0.072 + c * 0.928 + s * 0.072],
                ]  # fmt: skip
            out = out @ np.array(m).T
        out = np.clip(out, 0.0, 1.0)
    return out


def look(kind: str, img: Image, **params: ParamValue) -> Image:
    """Apply a look to an image."""
    out = apply_effect(img, Effect(id=f"look-{kind}", kind=kind, params=params), 0)
    assert out.dtype == np.float32 and out.shape == img.shape
    return out


def test_every_look_is_covered() -> None:
    assert set(EDITOR_CSS) == LOOKS


@pytest.mark.parametrize("kind", sorted(EDITOR_CSS))
def test_look_equals_the_editors_css_preview(kind: str) -> None:
    img = noisy_image()
    np.testing.assert_allclose(look(kind, img), css_reference(img, EDITOR_CSS[kind]), atol=2e-5)


def test_noir_is_grey_and_harder() -> None:
    img = flat_image(0.3, 0.3, 0.3, h=8)
    img[4:] = (0.6, 0.45, 0.3)
    out = look("noir", img)
    np.testing.assert_allclose(out[..., 0], out[..., 1], atol=1e-6)
    np.testing.assert_allclose(out[..., 1], out[..., 2], atol=1e-6)
    # grey 0.3 -> (0.3 - 0.5) * 1.5 + 0.5 = 0.2 -> * 0.8 = 0.16
    np.testing.assert_allclose(out[0, 0], [0.16] * 3, atol=1e-5)
    before = 0.2126 * 0.6 + 0.7152 * 0.45 + 0.0722 * 0.3 - 0.3
    # Tone differences grow by contrast 1.5 x brightness 0.8 over plain greyscale's.
    assert out[4, 0, 0] - out[0, 0, 0] == pytest.approx(1.2 * before, abs=1e-5)


def test_duotone_maps_darks_and_lights_to_its_two_colours() -> None:
    img = np.linspace(0.0, 1.0, 48, dtype=np.float32)[None, :, None].repeat(3, 2).repeat(4, 0)
    out = look("duotone", img, dark_color="#1e0a3c", light_color="#ffd700")
    dark, light = np.array([30, 10, 60]) / 255, np.array([255, 215, 0]) / 255
    np.testing.assert_allclose(out[0, 0], dark, atol=1e-5)
    np.testing.assert_allclose(out[0, -1], light, atol=1e-5)
    # Every tone lies on the line from one colour to the other, darker tones nearer the dark.
    t = (out[0] - dark) @ (light - dark) / np.dot(light - dark, light - dark)
    np.testing.assert_allclose(out[0], dark + t[:, None] * (light - dark), atol=1e-5)
    assert np.all(np.diff(t) >= 0)


def test_duotone_defaults_to_the_editors_sepia_tone() -> None:
    out = look("duotone", flat_image(0.5, 0.5, 0.5))
    # grey 0.5 -> * 1.2 = 0.6 -> contrast 1.5: 0.65 -> sepia(0.5) rows' sums 1.1755, 1.1015, 0.9685
    np.testing.assert_allclose(out[0, 0], [0.764075, 0.715975, 0.629525], atol=1e-5)
    np.testing.assert_allclose(look("duotone", flat_image(0, 0, 0))[0, 0], [0, 0, 0], atol=1e-6)
    # With only the light end given, the dark end stays the editor's black.
    np.testing.assert_allclose(
        look("duotone", flat_image(0, 0, 0), light_color="white")[0, 0], [0, 0, 0], atol=1e-6
    )


def test_duotone_with_a_bad_colour_names_the_effect() -> None:
    with pytest.raises(TimelineError, match="'look-duotone'.*not a colour"):
        look("duotone", flat_image(0.5, 0.5, 0.5), dark_color="bluish")


@pytest.mark.parametrize(
    ("kind", "rgb", "check"),
    [
        # hue-rotate(180deg) takes a red to cyan
        ("cyberpunk", (0.8, 0.2, 0.2), lambda c: c[1] > c[0] and c[2] > c[0]),
        ("neon", (0.8, 0.2, 0.2), lambda c: c[1] > c[0] and c[2] > c[0]),
        # hue-rotate(100deg): skin turns green
        ("matrix", SKIN, lambda c: c[1] > c[0] and c[1] > c[2]),
        # hue-rotate(180deg): skin turns cold blue
        ("arctic", SKIN, lambda c: c[2] > c[0]),
        # sepia(0.3) warms grey
        ("sunset", (0.5, 0.5, 0.5), lambda c: c[0] > c[1] > c[2]),
        ("vintage", (0.5, 0.5, 0.5), lambda c: c[0] > c[1] > c[2]),
        ("lomo", (0.5, 0.5, 0.5), lambda c: c[0] > c[1] > c[2]),
        # darker, flatter grey
        ("twilight", (0.5, 0.5, 0.5), lambda c: abs(c[0] - 0.445) < 1e-4),
        # brighter, lower contrast: 0.2 -> (0.22 - 0.5) * 0.9 + 0.5
        ("dreamy", (0.2, 0.2, 0.2), lambda c: abs(c[0] - 0.248) < 1e-4),
        # foliage green: brighter and far more saturated (its CSS shifts hue only 30 degrees)
        ("infrared", (0.2, 0.6, 0.2), lambda c: c[1] > 0.75 and c[1] - c[2] > 0.6),
    ],
)
def test_each_look_does_what_its_name_promises(
    kind: str, rgb: tuple[float, float, float], check: Callable[[np.ndarray], bool]
) -> None:
    out = look(kind, flat_image(*rgb))[0, 0]
    assert check(out), (kind, out)

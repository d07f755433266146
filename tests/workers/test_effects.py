"""Effects: the visible behaviour of the basic kinds, and what every kind promises (shape and
dtype kept, input untouched, deterministic anywhere, intensity mixing, no work at identity)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Mapping

import numpy as np
import pytest

import workers.effects
from chunking.timeline.audio_catalogue import AUDIO_EFFECTS
from chunking.timeline.catalogue import VIDEO_EFFECTS as EFFECTS
from chunking.timeline.model import Effect, ParamValue
from common.errors import TimelineError
from tests.helpers import ROOT, flat_image, noisy_image
from workers.effects import IMPLEMENTATIONS, apply_effect, apply_effects, param
from workers.layer import Image

H, W = 32, 48

#: Parameters that make each kind visibly act on noisy_image() (the rest act at their defaults).
ACTIVE: dict[str, dict[str, ParamValue]] = {
    "exposure": {"exposure": 0.7},
    "curves": {"preset": "strong_contrast"},
    "levels": {"in_black": 0.1, "in_white": 0.8, "gamma": 1.3},
    "whitebalance": {"temperature": 40, "tint": 20},
    "shadowshighlights": {"shadows": 0.6, "highlights": -0.4},
    "colorbalance": {"rs": 0.3, "gm": -0.2, "bh": 0.2},
    "colorcorrection": {"brightness": 0.05, "contrast": 1.3, "shadows": 0.3, "temperature": 20},
    "chromakey": {"similarity": 0.35, "blend": 0.1},
    "lensflare": {"intensity": 0.8},
}

#: Parameters at which each kind changes nothing (the editor's neutral values).
IDENTITY: dict[str, dict[str, ParamValue]] = {
    "blur": {"radius": 0},
    "brightness": {"value": 1, "amount": 0},
    "contrast": {"value": 1},
    "saturation": {"saturation": 1},
    "huerotate": {"angle": 360},
    "grayscale": {"amount": 0},
    "sepia": {"intensity": 0},
    "invert": {"amount": 0},
    "vignette": {"intensity": 0},
    "sharpen": {"amount": 0},
    "filmgrain": {"amount": 0},
    "glow": {"intensity": 0},
    "lensflare": {"intensity": 0},
    "chromaticaberration": {"intensity": 0},
    "noisereduction": {"intensity": 0},
    "exposure": {"exposure": 0},
    "curves": {},
    "levels": {},
    "whitebalance": {"temperature": 0, "tint": 0},
    "shadowshighlights": {},
    "colorbalance": {},
    "colorcorrection": {},
    "pixelate": {"pixelSize": 1},
    "glitch": {"intensity": 0},
    "hologram": {"intensity": 0},
}

#: The editor's effects whose preview reads 0 as its default (JavaScript's ``x || d``), and edge
#: detection, which has no neutral setting: none of them leaves a picture as it is.
NO_IDENTITY = {"motionblur", "zoomblur", "solarize", "emboss", "edgeenhance"}


def run(kind: str, img: Image, frame: int = 0, **params: ParamValue) -> Image:
    """Apply one effect of this kind to an image."""
    return apply(kind, img, params, frame)


def apply(
    kind: str,
    img: Image,
    params: Mapping[str, ParamValue],
    frame: int = 0,
    intensity: float = 1.0,
) -> Image:
    """Apply one effect of this kind with these params to an image."""
    effect = Effect(id=f"fx-{kind}", kind=kind, params=params, intensity=intensity)
    out = apply_effect(img, effect, frame)
    assert out.dtype == np.float32
    assert out.shape == img.shape
    return out


def test_registry_matches_catalogue() -> None:
    assert set(IMPLEMENTATIONS) == set(EFFECTS)


def test_every_kind_without_identity_is_a_look_or_the_key() -> None:
    from chunking.timeline.catalogue import LOOKS

    assert set(EFFECTS) - set(IDENTITY) == LOOKS | {"chromakey"} | NO_IDENTITY


def test_unknown_kind_is_a_timeline_error() -> None:
    with pytest.raises(TimelineError, match="'x1'.*unknown kind"):
        apply_effect(flat_image(0, 0, 0), Effect(id="x1", kind="wobble"), 0)


def test_alias_kind_is_accepted() -> None:
    out = apply_effect(flat_image(0.2, 0.4, 0.6), Effect(id="n", kind="negative"), 0)
    np.testing.assert_allclose(out, flat_image(0.8, 0.6, 0.4), atol=1e-6)


@pytest.mark.parametrize(
    ("kind", "params", "rgb", "expected"),
    [
        ("brightness", {"amount": 0.2}, (0.5, 0.5, 0.5), (0.7, 0.7, 0.7)),
        ("brightness", {"brightness": -0.5}, (0.5, 0.5, 0.5), (0.0, 0.0, 0.0)),
        ("brightness", {}, (0.5, 0.5, 0.5), (0.6, 0.6, 0.6)),
        # The editor's Brightness effect: value 1.2 is CSS brightness(1.2), 20 % brighter.
        ("brightness", {"value": 1.2}, (0.5, 0.25, 0.1), (0.6, 0.3, 0.12)),
        ("brightness", {"intensity": 0.5}, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)),
        ("brightness", {"value": 2, "amount": 0.1}, (0.25, 0.25, 0.25), (0.6, 0.6, 0.6)),
        ("contrast", {"amount": 2.0}, (0.75, 0.75, 0.75), (1.0, 1.0, 1.0)),
        ("contrast", {"value": 1.5}, (0.25, 0.25, 0.25), (0.125, 0.125, 0.125)),
        ("contrast", {"amount": 2.0}, (0.25, 0.25, 0.25), (0.0, 0.0, 0.0)),
        ("saturation", {"amount": 0.0}, (1.0, 0.0, 0.0), (0.2126, 0.2126, 0.2126)),
        ("saturation", {"saturation": 0.0}, (1.0, 0.0, 0.0), (0.2126, 0.2126, 0.2126)),
        ("saturation", {"amount": 2.0}, (0.6, 0.5, 0.5), (0.6787, 0.4787, 0.4787)),
        ("huerotate", {"degrees": 120}, (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
        ("huerotate", {"angle": 240}, (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
        ("huerotate", {"hue": 120}, (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
        ("huerotate", {"amount": "120"}, (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
        ("grayscale", {}, (0.0, 1.0, 0.0), (0.7152, 0.7152, 0.7152)),
        ("grayscale", {"amount": 0.5}, (1.0, 0.0, 0.0), (0.6063, 0.1063, 0.1063)),
        ("grayscale", {"amount": 0.0}, (1.0, 0.0, 0.0), (1.0, 0.0, 0.0)),
        ("sepia", {}, (1.0, 1.0, 1.0), (1.0, 1.0, 0.937)),
        ("sepia", {}, (0.5, 0.5, 0.5), (0.6755, 0.6015, 0.4685)),
        ("sepia", {"amount": 0.0}, (0.2, 0.3, 0.4), (0.2, 0.3, 0.4)),
        ("invert", {}, (0.2, 0.5, 1.0), (0.8, 0.5, 0.0)),
        ("invert", {"amount": 0.5}, (0.2, 0.9, 1.0), (0.5, 0.5, 0.5)),
        ("invert", {"intensity": 0.8}, (0.0, 1.0, 0.5), (0.8, 0.2, 0.5)),
        ("invert", {"amount": True}, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
    ],
)
def test_colour_effects_on_flat_images(
    kind: str,
    params: Mapping[str, ParamValue],
    rgb: tuple[float, float, float],
    expected: tuple[float, float, float],
) -> None:
    out = apply(kind, flat_image(*rgb), params)
    np.testing.assert_allclose(out, flat_image(*expected), atol=2e-4)


def test_invert_maps_x_to_one_minus_x() -> None:
    img = noisy_image()
    np.testing.assert_allclose(run("invert", img), 1.0 - img, atol=1e-6)


def test_vignette_keeps_centre_and_darkens_corners() -> None:
    out = run("vignette", flat_image(0.8, 0.8, 0.8), strength=0.5, radius=0.5)
    np.testing.assert_allclose(out[H // 2 - 1 : H // 2 + 1, W // 2 - 1 : W // 2 + 1], 0.8)
    for corner in (out[0, 0], out[0, -1], out[-1, 0], out[-1, -1]):
        assert corner.max() < 0.8 * 0.6  # close to 1 - strength of the original
    # Darkening grows monotonically from the centre outwards along a diagonal.
    diagonal = [out[i, round(i * (W - 1) / (H - 1)), 0] for i in range(H // 2, H)]
    assert all(a >= b for a, b in zip(diagonal, diagonal[1:], strict=False))


def test_vignette_with_radius_one_is_a_no_op() -> None:
    img = noisy_image()
    np.testing.assert_array_equal(run("vignette", img, radius=1.0), img)


def test_blur_spreads_a_point_and_conserves_energy() -> None:
    img = np.zeros((H, W, 3), dtype=np.float32)
    img[H // 2, W // 2] = 1.0
    out = run("blur", img, radius=2.0)
    assert out[H // 2, W // 2, 0] < 0.1
    assert out[H // 2 + 2, W // 2, 0] > 0.0
    assert out[H // 2, W // 2 - 3, 0] > 0.0
    np.testing.assert_allclose(out.sum(axis=(0, 1)), [1.0, 1.0, 1.0], atol=1e-4)
    # A Gaussian is symmetric.
    np.testing.assert_allclose(out[H // 2 + 3, W // 2], out[H // 2 - 3, W // 2], atol=1e-7)
    np.testing.assert_allclose(out[H // 2, W // 2 + 3], out[H // 2, W // 2 - 3], atol=1e-7)


@pytest.mark.parametrize("radius", [0.5, 1.0, 4.0, 30.0, 100.0])
def test_blur_keeps_a_flat_image_flat(radius: float) -> None:
    out = run("blur", flat_image(0.3, 0.6, 0.9), radius=radius)
    np.testing.assert_allclose(out, flat_image(0.3, 0.6, 0.9), atol=1e-5)


def test_blur_matches_a_direct_convolution() -> None:
    img = noisy_image()
    sigma, r = 1.5, 5
    taps = np.arange(-r, r + 1)
    k = np.exp(-(taps**2) / (2 * sigma**2))
    k /= k.sum()
    ref = img.astype(np.float64)
    for axis, n in ((0, H), (1, W)):
        idx = np.clip(np.arange(n)[:, None] + taps[None, :], 0, n - 1)
        ref = np.tensordot(np.take(ref, idx, axis=axis), k, axes=([axis + 1], [0]))
    np.testing.assert_allclose(run("blur", img, radius=sigma), ref, atol=1e-5)


def test_sharpen_increases_edge_contrast() -> None:
    img = flat_image(0.4, 0.4, 0.4)
    img[:, W // 2 :] = 0.6
    out = run("sharpen", img, amount=1.0, radius=1.0)
    assert out[H // 2, W // 2 - 1, 0] < 0.4 - 0.02  # dark side of the edge gets darker
    assert out[H // 2, W // 2, 0] > 0.6 + 0.02  # bright side gets brighter
    np.testing.assert_allclose(out[:, :4], 0.4, atol=1e-5)  # flat areas stay put


def test_filmgrain_is_repeatable_per_frame() -> None:
    img = flat_image(0.5, 0.5, 0.5)
    first = run("filmgrain", img, frame=7)
    run("filmgrain", img, frame=8)
    run("filmgrain", noisy_image(), frame=3)
    np.testing.assert_array_equal(run("filmgrain", img, frame=7), first)
    assert not np.array_equal(run("filmgrain", img, frame=8), first)


def test_filmgrain_is_monochrome_and_keeps_mean() -> None:
    img = flat_image(0.5, 0.5, 0.5)
    out = run("filmgrain", img, frame=1, amount=0.08)
    np.testing.assert_array_equal(out[..., 0], out[..., 1])
    np.testing.assert_array_equal(out[..., 1], out[..., 2])
    assert abs(float(out.mean()) - 0.5) < 0.01
    assert 0.06 < float(out.std()) < 0.10


def test_filmgrain_size_makes_cells() -> None:
    out = run("filmgrain", flat_image(0.5, 0.5, 0.5), frame=1, size=4)
    np.testing.assert_array_equal(out[0:4, 0:4, 0], np.full((4, 4), out[0, 0, 0]))
    assert out[0, 0, 0] != out[0, 4, 0]


def test_filmgrain_with_the_editors_parameters_follows_its_ffmpeg_command() -> None:
    # noise=alls=20:allf=t+u,eq=contrast=1.5: uniform noise of width 20/255, then contrast.
    img = np.full((128, 128, 3), 0.4, dtype=np.float32)
    out = run("filmgrain", img, frame=2, intensity=20, amount=0.5)
    assert abs(float(out.mean()) - 0.35) < 0.005  # 0.4 -> (0.4 - 0.5) * 1.5 + 0.5
    assert abs(float(out.std()) - 20 / np.sqrt(12) / 255) < 0.003
    faint = run("filmgrain", img, frame=2, intensity=0.02, amount=0.0)  # the editor's default
    assert float(np.abs(faint - img).max()) < 1e-3


def test_filmgrain_depends_on_effect_id() -> None:
    img = flat_image(0.5, 0.5, 0.5)
    a = apply_effect(img, Effect(id="a", kind="filmgrain"), 5)
    b = apply_effect(img, Effect(id="b", kind="filmgrain"), 5)
    assert not np.array_equal(a, b)


def _digest(img: Image, frame: int) -> dict[str, str]:
    """sha256 of every kind's output on this image (as the subprocess below computes it)."""
    return {
        kind: hashlib.sha256(
            apply_effect(
                img, Effect(id=f"fx-{kind}", kind=kind, params=ACTIVE.get(kind, {})), 5
            ).tobytes()
        ).hexdigest()
        for kind in sorted(EFFECTS)
    }


def test_every_kind_matches_a_fresh_process() -> None:
    code = (
        "import json, sys\n"
        "from tests.helpers import noisy_image\n"
        "from tests.workers.test_effects import _digest\n"
        "print(json.dumps(_digest(noisy_image(), 5)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, cwd=ROOT)
    import json

    fresh = json.loads(done.stdout)
    # Warm this process's caches with other sizes and settings first: no state may leak.
    for kind in sorted(EFFECTS):
        apply_effect(noisy_image(2)[:20, :30], Effect(id="warm", kind=kind), 9)
    assert _digest(noisy_image(), 5) == fresh


@pytest.mark.parametrize("kind", sorted(EFFECTS))
def test_no_effect_modifies_its_input(kind: str) -> None:
    img = noisy_image()
    img.setflags(write=False)  # any in-place write raises
    out = apply(kind, img, ACTIVE.get(kind, {}), frame=3)
    np.testing.assert_array_equal(img, noisy_image())
    assert out.min() >= 0.0
    assert out.max() <= 1.0
    assert not np.array_equal(out, img), f"{kind} changed nothing at its active parameters"


@pytest.mark.parametrize("kind", sorted(EFFECTS))
def test_rgba_keeps_its_shape_and_only_the_key_and_blur_touch_alpha(kind: str) -> None:
    rgb = noisy_image()
    alpha = np.linspace(0.2, 1.0, H * W, dtype=np.float32).reshape(H, W)
    rgba = np.concatenate([rgb, alpha[:, :, None]], axis=2)
    out = apply(kind, rgba, ACTIVE.get(kind, {}), frame=3)
    colour = apply(kind, rgb, ACTIVE.get(kind, {}), frame=3)
    if kind == "chromakey":
        assert float(out[..., 3].min()) == 0.0  # keyed pixels turned transparent
        np.testing.assert_array_equal(out[..., :3], rgb)  # the key changes alpha, not colour
    elif kind == "blur":
        # Alpha is blurred too, and colour premultiplied by it (each plane blurred alike).
        # Tolerance 1e-5: float32 rounding of the premultiply and of the division back.
        blurred_alpha = run("blur", np.repeat(alpha[..., None], 3, axis=2))[..., 0]
        np.testing.assert_allclose(out[..., 3], blurred_alpha, atol=1e-5)
        premultiplied = run("blur", rgb * alpha[..., None])
        np.testing.assert_allclose(out[..., :3] * out[..., 3:], premultiplied, atol=1e-5)
    else:
        np.testing.assert_array_equal(out[..., 3], alpha)
        np.testing.assert_array_equal(out[..., :3], colour)


@pytest.mark.parametrize("kind", sorted(IDENTITY))
def test_neutral_parameters_return_the_input_itself(kind: str) -> None:
    img = noisy_image()
    assert apply(kind, img, IDENTITY[kind]) is img


@pytest.mark.parametrize("kind", sorted(EFFECTS))
def test_intensity_mixes_the_effect_over_its_input(kind: str) -> None:
    img = noisy_image()
    params = ACTIVE.get(kind, {})
    assert apply(kind, img, params, frame=3, intensity=0.0) is img
    full = apply(kind, img, params, frame=3)
    np.testing.assert_array_equal(apply(kind, img, params, frame=3, intensity=1.0), full)
    half = apply(kind, img, params, frame=3, intensity=0.5)
    np.testing.assert_allclose(half, (img + full) / 2, atol=1e-6)


def test_intensity_outside_0_1_is_clamped() -> None:
    img = noisy_image()
    full = run("invert", img)
    np.testing.assert_array_equal(apply("invert", img, {}, intensity=7.0), full)
    assert apply("invert", img, {}, intensity=-1.0) is img
    assert apply("invert", img, {}, intensity=float("nan")) is not img


def test_audio_kinds_are_skipped_silently(monkeypatch: pytest.MonkeyPatch) -> None:
    # The mixer's kinds, and one more in case its catalogue is still empty.
    kinds = AUDIO_EFFECTS | {"audiowarble"}
    monkeypatch.setattr(workers.effects, "AUDIO_EFFECTS", kinds)
    img = noisy_image()
    alpha = np.ones((H, W), dtype=np.float32)
    for kind in sorted(kinds):
        effect = Effect(id="a", kind=kind, params={"room_size": 0.8})
        assert apply_effect(img, effect, 0) is img
        assert apply_effects(img, alpha, [effect], 0) == (img, alpha)


def test_apply_effects_chains_in_order() -> None:
    img = flat_image(0.25, 0.25, 0.25)
    effects = [
        Effect(id="b", kind="brightness", params={"amount": 0.25}),
        Effect(id="c", kind="contrast", params={"amount": 2.0}),
    ]
    rgb, alpha = apply_effects(img, None, effects, 0)
    np.testing.assert_allclose(rgb, flat_image(0.5, 0.5, 0.5), atol=1e-6)  # (0.5-0.5)*2+0.5
    assert alpha is None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, 4.0),
        ({"radius": 2}, 2.0),
        ({"radius": "2.5"}, 2.5),
        ({"radius": "wide"}, 4.0),
        ({"radius": float("nan")}, 4.0),
        ({"radius": "bad", "amount": 3}, 3.0),
        ({"amount": 3, "sigma": 5}, 3.0),
        ({"radius": True}, 1.0),
    ],
)
def test_params_are_read_leniently(params: Mapping[str, ParamValue], expected: float) -> None:
    assert param(params, ("radius", "amount", "sigma"), 4.0) == expected

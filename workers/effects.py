"""Effects and filters applied to a clip's or track's picture, one frame at a time.

Images are float32 H x W x 3 RGB in [0, 1] (see workers.layer), or H x W x 4 with straight
alpha last: colour effects leave alpha as it is, a chroma key multiplies it, and a blur blurs it
with the colour premultiplied by it (soft edges, no halo of the transparent pixels' colour).
Every effect returns float32 clipped to [0, 1] of the input's shape and never modifies its
input; when the parameters make it a no-op the input array itself comes back, so treat results
as read-only.
Whether an effect is active at a frame is the compositor's business (Effect.active_at), not
apply_effect's. Audio kinds (catalogue.AUDIO_EFFECTS) are the mixer's: skipped here.

Effect.intensity (0..1, the editor's filter ``intensity``) mixes: out = in + intensity *
(effect(in) - in), so 0 leaves the picture and 1 is the full effect.

Parameters are read leniently (workers.effects_params): a missing, non-numeric or non-finite
value takes the default; "a / b" lists aliases, the first that reads as a number wins; values
are clamped to the catalogue's range (chunking.timeline.catalogue.EFFECT_PARAMS).

    kind        param                        unit, range                            default
    ----------  ---------------------------  -------------------------------------  -------
    blur        radius / amount / sigma /    px, Gaussian std dev, 0..250           4
                blur
    brightness  amount / brightness          added to each channel, -1..1           0.1
                value / intensity            multiplier (CSS brightness()), 0..4    1
    contrast    amount / value / contrast /  multiplier around grey 0.5, 0..4       1.2
                intensity
    saturation  amount / value / saturation  multiplier around Rec.709 luma, 0..4   1.5
                / intensity
    huerotate   degrees / angle / amount /   degrees, red -> green, -3600..3600     90
                hue
    grayscale   amount / intensity           0..1, mix with the original            1
    sepia       amount / intensity           0..1, mix with the original            1
    invert      amount / intensity           0..1, mix with the original            1
    vignette    strength / amount /          0..1, darkening at the corners         0.5
                intensity / vignette
                radius                       0..10 of the half-diagonal where       0.75
                                             the darkening starts (>= 1: off)
    sharpen     amount / intensity / sharpen unsharp-mask gain, -10..10, 0 = off    1.0
                radius                       px, blur std dev, 0..250               1
    filmgrain   amount / grain / strength    noise std dev, 0..1                    0.08
                size                         px per grain cell, rounded, 0..16384   1
                intensity                    the editor's FilmGrain, see below      -

Brightness: ``value`` / ``intensity`` is what the editor's Brightness effect writes (its
``intensity`` renamed by timeline-to-project.ts), a CSS brightness() multiplier (1.2 = 20 %
brighter, its preview); ``amount`` / ``brightness`` (a Brightness filter, ffmpeg eq) is added.
Both may be given (multiplied, then added); with neither, 0.1 is added.

Film grain: the editor's FilmGrain writes ``intensity`` (ffmpeg noise strength, 0..100, its
command "noise=alls={intensity}:allf=t+u,eq=contrast={1 + amount}") and ``amount`` (a contrast
boost). When ``intensity`` is given we follow that command: grain of ffmpeg's uniform-noise
standard deviation intensity / sqrt(12) / 255, contrast 1 + amount; otherwise ``amount`` is the
grain's standard deviation. Grain is monochrome Gaussian noise seeded from (crc32(effect.id),
frame), so a frame's grain does not depend on which process renders it or what it rendered
before.

The other kinds are documented where they are implemented: the editor's looks in
workers.effects_looks; glow, lensflare, chromaticaberration in workers.effects_lens;
noisereduction in workers.effects_denoise; chromakey in workers.effects_key; exposure, curves,
levels, whitebalance, colorbalance, shadowshighlights, colorcorrection in workers.effects_tone;
the editor's motion blur, glitch, pixelate, edge enhance, emboss, solarize, zoom blur and
hologram in workers.effects_stylised.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from chunking.timeline.audio_catalogue import AUDIO_EFFECTS
from chunking.timeline.catalogue import (
    ALPHA_EFFECTS,
    TIME_VARYING_EFFECTS,
    WHOLE_LAYER_EFFECTS,
    effect_kind,
)
from chunking.timeline.model import ColorCorrection, Effect
from common.errors import TimelineError
from workers import (
    effects_denoise,
    effects_lens,
    effects_looks,
    effects_stylised,
    effects_tone,
    kernels,
)
from workers.arrays import current, module_of
from workers.color import (
    apply_color,
    apply_gain,
    apply_matrix,
)
from workers.effect_steps import (
    PIXEL_STEPS,
    Step,
    StepFn,
    grayscale_step,
    huerotate_step,
    saturation_step,
    sepia_step,
    vignette_mask,
    vignette_step,
)
from workers.effects_blur import blur_with_alpha, fill_hidden, gaussian_blur
from workers.effects_key import chromakey, chromakey_over_black
from workers.effects_params import EffectFn, given, param, remember, setting
from workers.layer import Image, Mask

__all__ = [
    "DEVICE_EFFECTS",
    "IMPLEMENTATIONS",
    "TIME_VARYING",
    "WHOLE_LAYER",
    "apply_effect",
    "apply_effects",
    "apply_keys",
    "gaussian_blur",
    "grain",
    "param",
    "vignette_mask",
]

_device_masks: dict[tuple[int, int, float, float], Any] = {}
#: ffmpeg's noise filter with the u flag draws uniform noise of width alls (8-bit steps).
_UNIFORM_STD = 1.0 / (math.sqrt(12.0) * 255.0)


def _blur(rgb: Image, effect: Effect, frame: int) -> Image:
    sigma = setting(effect)
    return gaussian_blur(rgb, sigma) if sigma > 0 else rgb


def _brightness(rgb: Image, effect: Effect, frame: int) -> Image:
    scale = setting(effect, 1)
    offset = setting(effect, 0) if given(effect, 0) or not given(effect, 1) else 0.0
    if scale == 1.0 and offset == 0.0:
        return rgb
    return apply_gain(rgb, scale, offset)


def _contrast(rgb: Image, effect: Effect, frame: int) -> Image:
    return apply_color(rgb, ColorCorrection(contrast=setting(effect)))


def _matrix_effect(step: StepFn) -> Callable[..., Image]:
    """The effect that runs a colour-matrix step (None: the input itself)."""

    def run(rgb: Image, effect: Effect, frame: int, out: Image | None = None) -> Image:
        found = step(effect, frame, *rgb.shape[:2])
        if not isinstance(found, kernels.Affine):
            return rgb
        return apply_matrix(rgb, found.matrix, found.offset, out=out)

    return run


_saturation = _matrix_effect(saturation_step)
_huerotate = _matrix_effect(huerotate_step)
_grayscale = _matrix_effect(grayscale_step)
_sepia = _matrix_effect(sepia_step)


def _invert(rgb: Image, effect: Effect, frame: int) -> Image:
    amount = setting(effect)
    if amount == 0.0:
        return rgb
    # x + a * (1 - 2x) == (1 - 2a) * x + a: one scale and one offset.
    return apply_gain(rgb, 1.0 - 2.0 * amount, amount)


def _vignette(rgb: Image, effect: Effect, frame: int, out: Image | None = None) -> Image:
    h, w = rgb.shape[:2]
    step = vignette_step(effect, frame, h, w)
    if not isinstance(step, kernels.Gain):
        return rgb
    mask = step.gain
    xp = module_of(rgb)
    if xp is not np:  # a layer in GPU memory: its mask goes there once, not every frame
        key = (h, w, setting(effect), setting(effect, 1))
        found = _device_masks.get(key)
        mask = found if found is not None else remember(_device_masks, key, xp.asarray(mask))
    return kernels.gain_clip(rgb, mask, out)


def _sharpen(rgb: Image, effect: Effect, frame: int) -> Image:
    amount, sigma = setting(effect), setting(effect, 1)
    if amount == 0.0 or sigma <= 0.0:
        return rgb
    xp = module_of(rgb)
    src = xp.asarray(rgb, dtype=np.float32)
    # Unsharp mask: add back the detail the blur removes, scaled by amount.
    out: Image = src - gaussian_blur(src, sigma)
    out *= np.float32(amount)
    out += src
    xp.clip(out, 0.0, 1.0, out=out)
    return out


def grain(effect_id: str, frame: int, height: int, width: int, size: int = 1) -> Image:
    """Unit-variance H x W noise, identical for the same (effect id, frame, size) anywhere."""
    seed = (zlib.crc32(effect_id.encode()), frame & 0xFFFF_FFFF_FFFF_FFFF)
    rng = np.random.default_rng(seed)
    cells_y, cells_x = -(-height // size), -(-width // size)
    noise = rng.standard_normal((cells_y, cells_x), dtype=np.float32)
    if size > 1:
        # Each pixel takes its cell's value; indexing allocates only H x W, however big a cell.
        noise = noise[(np.arange(height) // size)[:, None], np.arange(width) // size]
    return noise


def _filmgrain(rgb: Image, effect: Effect, frame: int) -> Image:
    size = max(1, round(setting(effect, 1)))
    xp = module_of(rgb)
    src: Image = xp.asarray(rgb, dtype=np.float32)
    if given(effect, 2):  # the editor's FilmGrain: see the module docstring
        std = setting(effect, 2) * _UNIFORM_STD
        contrast = 1.0 + setting(effect, 0)
        if contrast != 1.0:
            src = apply_gain(src, contrast, 0.5 - 0.5 * contrast)
    else:
        std = setting(effect)
    if std == 0.0:
        return src if src is not rgb else rgb
    h, w = rgb.shape[:2]
    # Drawn on the host on every backend: a frame's grain must not depend on the node.
    noise = grain(effect.id, frame, h, w, size)
    noise *= np.float32(std)
    # Same noise on R, G and B: monochrome grain, like film's silver, not sensor chroma noise.
    out: Image = src + xp.asarray(noise)[:, :, None]
    xp.clip(out, 0.0, 1.0, out=out)
    return out


#: Canonical effect kind -> implementation; exactly the kinds in catalogue.VIDEO_EFFECTS.
IMPLEMENTATIONS: dict[str, EffectFn] = {
    "blur": _blur,
    "brightness": _brightness,
    "contrast": _contrast,
    "saturation": _saturation,
    "huerotate": _huerotate,
    "grayscale": _grayscale,
    "sepia": _sepia,
    "invert": _invert,
    "vignette": _vignette,
    "sharpen": _sharpen,
    "filmgrain": _filmgrain,
    "chromakey": chromakey_over_black,
    **effects_looks.IMPLEMENTATIONS,
    **effects_lens.IMPLEMENTATIONS,
    **effects_denoise.IMPLEMENTATIONS,
    **effects_tone.IMPLEMENTATIONS,
    **effects_stylised.IMPLEMENTATIONS,
}

#: Kinds whose code runs on any array module (workers.arrays): on a GPU node they stay in GPU
#: memory. The others are applied to a host copy of the layer there.
DEVICE_EFFECTS = frozenset(
    (
        "blur",
        "brightness",
        "contrast",
        "saturation",
        "huerotate",
        "grayscale",
        "sepia",
        "invert",
        "vignette",
        "sharpen",
        "filmgrain",
    )
)

#: Effects whose output depends on the frame index, not only on the input pixels.
TIME_VARYING = TIME_VARYING_EFFECTS

#: Effects whose value at a pixel depends on other pixels or on the layer's size: they need the
#: whole layer. Every other effect works pixel by pixel, so it gives the same pixels on any part
#: of the layer.
WHOLE_LAYER = WHOLE_LAYER_EFFECTS


def _intensity(effect: Effect) -> float:
    value = float(effect.intensity)
    return min(max(value, 0.0), 1.0) if math.isfinite(value) else 1.0


def _mix(before: Image, after: Image, intensity: float) -> Image:
    """before + intensity * (after - before), clipped; `after` itself at full intensity."""
    if after is before or intensity >= 1.0:
        return after
    xp = module_of(after)
    out: Image = xp.asarray(after, dtype=np.float32) - before
    out *= np.float32(intensity)
    out += before
    xp.clip(out, 0.0, 1.0, out=out)
    return out


def _implementation(effect: Effect) -> tuple[str, EffectFn | None]:
    """The canonical kind and its implementation (None for an audio kind)."""
    kind = effect_kind(effect.kind) or effect.kind
    if kind in AUDIO_EFFECTS:
        return kind, None
    impl = IMPLEMENTATIONS.get(kind)
    if impl is None:
        known = ", ".join(sorted(IMPLEMENTATIONS))
        raise TimelineError(f"effect {effect.id!r}: unknown kind {effect.kind!r} (known: {known})")
    return kind, impl


def apply_effect(image: Image, effect: Effect, frame: int) -> Image:
    """Apply one effect at a timeline frame, regardless of its start/end window."""
    kind, impl = _implementation(effect)
    intensity = _intensity(effect)
    if impl is None or intensity == 0.0:
        return image
    if image.shape[-1] == 4:
        colour, opacity = image[..., :3], image[..., 3]
        rgb, alpha = apply_effects(colour, opacity, (effect,), frame)
        if rgb is colour and alpha is opacity:
            return image
        out: Image = module_of(image).empty(image.shape, dtype=np.float32)
        out[..., :3] = rgb
        out[..., 3] = alpha if alpha is not None else 1.0
        return out
    return _mix(image, impl(image, effect, frame), intensity)


def apply_effects(
    rgb: Image, alpha: Mask | None, effects: Iterable[Effect], frame: int, scratch: bool = False
) -> tuple[Image, Mask | None]:
    """Apply effects in order to a layer's colour and alpha (None = opaque); only a chroma key
    and a blur (of a layer with alpha: its edges soften) change alpha, and lower layers show
    through where it falls. On the GPU path
    (workers.arrays) the kinds not in DEVICE_EFFECTS run on a host copy of the layer.
    ``scratch``: ``rgb`` is the caller's own fresh array, which full-strength per-pixel effects
    (IN_PLACE) overwrite instead of allocating another frame."""
    backend = current()
    for effect in effects:
        kind, impl = _implementation(effect)
        intensity = _intensity(effect)
        if impl is None or intensity == 0.0:
            continue
        writer = IN_PLACE.get(kind)
        if scratch and writer is not None and intensity >= 1.0 and _writable(rgb):
            # Same arithmetic into the same array: the result's bits do not change, and one
            # frame-sized float array (25 MB at 1080p) less is alive at once.
            rgb = writer(rgb, effect, frame, rgb)
            continue
        # Another effect's result may be an array it keeps (a cache): no longer ours to overwrite.
        scratch = False
        if backend.device_path and kind not in DEVICE_EFFECTS:
            host_alpha = backend.to_host(alpha) if alpha is not None else None
            host_rgb, host_alpha = _apply(
                kind, impl, backend.to_host(rgb), host_alpha, effect, frame
            )
            rgb = backend.to_device(host_rgb)
            alpha = backend.to_device(host_alpha) if host_alpha is not None else None
            continue
        rgb, alpha = _apply(kind, impl, rgb, alpha, effect, frame)
    return rgb, alpha


def apply_keys(rgb: Image, alpha: Mask | None, effects: Iterable[Effect]) -> Mask | None:
    """The alpha of a host (NumPy) picture after its key effects (ALPHA_EFFECTS), in order; the
    compositor keys a clip's source picture before it is resized."""
    for effect in effects:
        kind, _ = _implementation(effect)
        intensity = _intensity(effect)
        if kind in ALPHA_EFFECTS and intensity > 0.0:
            alpha = chromakey(rgb, alpha, effect, intensity)
    return alpha


def _apply(
    kind: str, impl: EffectFn, rgb: Image, alpha: Mask | None, effect: Effect, frame: int
) -> tuple[Image, Mask | None]:
    """One effect on a layer's colour and alpha (an active effect of non-zero intensity)."""
    intensity = _intensity(effect)
    if kind in ALPHA_EFFECTS:
        return rgb, chromakey(rgb, alpha, effect, intensity)
    if kind == "blur" and alpha is not None:
        return blur_with_alpha(rgb, alpha, setting(effect), intensity)
    if kind in _NEIGHBOURS and alpha is not None:
        # Their footprint: a blur of `radius` (sharpen), two guided means of it (denoise).
        reach = setting(effect, 1) * _NEIGHBOURS[kind]
        return _mix(rgb, impl(fill_hidden(rgb, alpha, reach), effect, frame), intensity), alpha
    return _mix(rgb, impl(rgb, effect, frame), intensity), alpha


#: Per-pixel effects that can write their result into their input (``out``): kind -> function.
IN_PLACE: dict[str, Callable[[Image, Effect, int, Image], Image]] = {
    "saturation": _saturation,
    "vignette": _vignette,
    "huerotate": _huerotate,
    "grayscale": _grayscale,
    "sepia": _sepia,
}


def pixel_step(effect: Effect, frame: int, height: int, width: int) -> Step | bool:
    """What ``apply_effects`` does with an effect on a host frame of its own, as one kernel step:
    the step, True where it leaves the frame as it is, False where it is no single step."""
    kind, impl = _implementation(effect)
    intensity = _intensity(effect)
    if impl is None or intensity == 0.0:
        return True
    found = PIXEL_STEPS.get(kind)
    if found is None or intensity < 1.0:
        return False
    step = found(effect, frame, height, width)
    return True if step is None else step


def _writable(rgb: Image) -> bool:
    """Whether an in-place effect may overwrite ``rgb`` (a host float32 frame it owns)."""
    return (
        type(rgb) is np.ndarray
        and rgb.dtype == np.float32
        and rgb.ndim == 3
        and bool(rgb.flags.c_contiguous)
        and bool(rgb.flags.writeable)
    )


#: Effects that average neighbours' colour, by how many radii (their second setting) they reach.
_NEIGHBOURS = {"sharpen": 1.0, "noisereduction": 2.0}

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

Parameters are read leniently (workers.effects_params). The basic kinds (blur, brightness,
contrast, saturation, huerotate, grayscale, sepia, invert, vignette, sharpen, filmgrain) and
their parameters are documented in workers.effects_basic; the editor's looks in
workers.effects_looks; glow, lensflare, chromaticaberration in workers.effects_lens;
noisereduction in workers.effects_denoise; chromakey in workers.effects_key; exposure, curves,
levels, whitebalance, colorbalance, shadowshighlights, colorcorrection in workers.effects_tone;
the editor's motion blur, glitch, pixelate, edge enhance, emboss, solarize, zoom blur and
hologram in workers.effects_stylised.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from chunking.timeline.audio_catalogue import AUDIO_EFFECTS
from chunking.timeline.catalogue import (
    ALPHA_EFFECTS,
    TIME_VARYING_EFFECTS,
    WHOLE_LAYER_EFFECTS,
    effect_kind,
)
from chunking.timeline.model import Effect
from common.errors import TimelineError
from workers import (
    effects_basic,
    effects_denoise,
    effects_lens,
    effects_looks,
    effects_stylised,
    effects_tone,
)
from workers.arrays import current, module_of
from workers.effect_steps import (
    PIXEL_STEPS,
    Step,
    vignette_mask,
)
from workers.effects_blur import blur_with_alpha, fill_hidden, gaussian_blur
from workers.effects_key import chromakey, chromakey_over_black
from workers.effects_params import EffectFn, param, setting
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
    "param",
    "vignette_mask",
]

#: Canonical effect kind -> implementation; exactly the kinds in catalogue.VIDEO_EFFECTS.
IMPLEMENTATIONS: dict[str, EffectFn] = {
    **effects_basic.IMPLEMENTATIONS,
    "chromakey": chromakey_over_black,
    **effects_looks.IMPLEMENTATIONS,
    **effects_lens.IMPLEMENTATIONS,
    **effects_denoise.IMPLEMENTATIONS,
    **effects_tone.IMPLEMENTATIONS,
    **effects_stylised.IMPLEMENTATIONS,
}

#: Kinds whose code runs on any array module (workers.arrays): on a GPU node they stay in GPU
#: memory. The others are applied to a host copy of the layer there.
DEVICE_EFFECTS = frozenset(effects_basic.IMPLEMENTATIONS)

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
IN_PLACE = effects_basic.IN_PLACE


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

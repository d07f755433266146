"""Chroma key: pixels near a key colour become transparent, so lower tracks show through.

The editor's ChromaKey is ffmpeg's ``chromakey={color}:{similarity}:{blend}`` (ffmpeg_builder/
effects.rs build_chroma_key; defaults 0x00ff00, 0.3, 0). As vf_chromakey.c: each pixel's
chroma (U, V) is compared with the key colour's, the distance sqrt((dU^2 + dV^2) / 2) (chroma in
0..1) is averaged over the pixel's 3x3 neighbourhood (edges repeated), and the pixel is kept
(alpha 1) when that exceeds ``similarity``; with ``blend`` > 0 alpha instead ramps from 0 at
``similarity`` to 1 at ``similarity + blend``. Chroma is full-range BT.601, the matrix ffmpeg
converts the key colour with. Like ffmpeg's filter, only alpha changes: the colour is untouched
(no spill suppression).
"""

from __future__ import annotations

import numpy as np

from chunking.timeline.model import Effect
from workers.effects_params import color, settings
from workers.layer import Image, Mask

#: Full-range BT.601 chroma rows (U, V) of RGB (ffmpeg's RGB_TO_U/V for the key colour).
CHROMA = np.array(
    [[-0.16874, -0.33126, 0.5], [0.5, -0.41869, -0.08131]],
    dtype=np.float32,
)
#: ffmpeg's default key colour, 0x00ff00.
GREEN = (0.0, 1.0, 0.0)
#: Below this blend ffmpeg keys hard (do_chromakey_pixel: blend > 0.0001).
_HARD = 0.0001


def key_alpha(rgb: Image, key: tuple[float, float, float], similarity: float, blend: float) -> Mask:
    """H x W alpha of a chroma key: 0 where the 3x3-averaged chroma distance to the key colour
    is within `similarity`, 1 beyond (ramping over `blend`)."""
    src = np.asarray(rgb, dtype=np.float32)
    chroma = src @ CHROMA.T  # H x W x 2
    chroma -= np.array(key, dtype=np.float32) @ CHROMA.T
    chroma *= chroma
    distance = np.sqrt((chroma[..., 0] + chroma[..., 1]) * np.float32(0.5))
    padded = np.pad(distance, 1, mode="edge")
    rows = padded[:-2] + padded[1:-1] + padded[2:]
    averaged = (rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]) * np.float32(1.0 / 9.0)
    if blend > _HARD:
        alpha: Mask = (averaged - np.float32(similarity)) * np.float32(1.0 / blend)
        np.clip(alpha, 0.0, 1.0, out=alpha)
        return alpha
    hard: Mask = (averaged > np.float32(similarity)).astype(np.float32)
    return hard


def chromakey(rgb: Image, alpha: Mask | None, effect: Effect, intensity: float) -> Mask:
    """The layer's new alpha: its alpha times the key's, mixed with the old by intensity."""
    similarity, blend = settings(effect)
    keyed = key_alpha(rgb, color(effect, 0) or GREEN, similarity, blend)
    if intensity < 1.0:
        # alpha + i * (alpha * key - alpha) with alpha = 1 where the layer had none.
        keyed *= np.float32(intensity)
        keyed += np.float32(1.0 - intensity)
    if alpha is not None:
        keyed *= alpha
    return keyed


def chromakey_over_black(rgb: Image, effect: Effect, frame: int) -> Image:
    """A chroma key on a picture without an alpha channel: what it shows over black."""
    alpha = chromakey(rgb, None, effect, 1.0)
    out: Image = np.asarray(rgb, dtype=np.float32) * alpha[:, :, None]
    return out

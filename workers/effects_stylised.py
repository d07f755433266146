"""The editor's stylising effects: motion blur, glitch, pixelate, edge enhance, emboss,
solarize, zoom blur and hologram (chunking.timeline.catalogue_stylised).

The editor defines each twice in src/features/effects/data/effects.json: an ``ffmpegCommand``
(its export) and a ``cssFilter`` (its preview). Where the command is a filter chain ffmpeg runs,
we draw what it draws, measured against ffmpeg in tests/workers/test_effects_stylised.py:

- pixelate: ``scale=iw/{p}:ih/{p}:flags=neighbor,scale=iw*{p}:ih*{p}:flags=neighbor``: p x p
  blocks from the layer's corner, each the source pixel swscale's point sampling takes (near
  the block's centre, by its 16.16 fixed-point step): exact against ffmpeg on 4:4:4 input. The
  frame's last (size mod p) rows and columns, which ffmpeg's output drops (the frame shrinks),
  repeat the last block here, so the layer keeps its size;
- edge enhance: ``edgedetect=mode=wires:high={i}:low={i * 0.5}``: ffmpeg's Canny on the 8-bit
  luma (5x5 Gaussian, Sobel, non-maximum suppression, double threshold), grey wires of the
  gradient's strength on black, the rest of the picture black (exact against ffmpeg on a grey
  plane; from a colour picture, via the 8-bit video-range luma swscale makes, a few edge pixels
  differ where ffmpeg's luma rounds the other way);
- glitch: ``noise=alls={i * 0.1}:allf=t,hue=h={i * 5}``: Gaussian noise of ffmpeg's standard
  deviation (alls / sqrt(3) 8-bit steps, truncated to whole steps) on the video-range luma and
  chroma planes, new every
  frame and seeded by (effect id, frame), then the chroma turned by i * 5 degrees (the noise is
  not ffmpeg's own random sequence; the turn is within 2/255 of ffmpeg);
- hologram: ``split,hue=h=180,colorbalance=rs=0.2:bs=0.3,blend=all_mode=screen:all_opacity=
  {intensity}``: the picture with its chroma turned half round and its shadows reddened and
  blued, screened over itself at opacity intensity (ffmpeg's all_opacity stops at 1, so does
  ours) on the video-range Y, Cb and Cr planes, as ffmpeg blends a YUV source.

Where the command does not run, the editor's preview is what it shows, and we draw that CSS
chain (W3C Filter Effects: each function clamped before the next; ``blur(px)`` a Gaussian of
that standard deviation in the layer's pixels; ``x || d`` is d for an unset or 0 value, as in
JavaScript):

- motion blur: ``mblur`` is no ffmpeg filter; preview ``blur({(radius || 2) * 0.5}px)``;
- zoom blur: its zoompan outputs 1280x720 at 25 fps, zooming in further every frame; preview
  ``blur({(intensity || 2) * 0.5}px) brightness({1 + (intensity || 2) * 0.1})``;
- emboss: its ``convolution='0 -1 0:-1 5 -1:...'`` gives each 9-number matrix as three
  ``:``-separated rows, which convolution reads as other options and refuses; preview
  ``grayscale(0.3) contrast({1 + (intensity || 0.8) * 0.5}) brightness({1 + (intensity ||
  0.8) * 0.2})``;
- solarize: ``curves=all='{threshold}/255|{1-threshold}/255 ...'`` leaves ``{1-threshold}``
  unfilled, which curves refuses; preview ``invert({(t || 0.5) * 0.6}) brightness({1 + (t ||
  0.5) * 0.3}) contrast({1 + (t || 0.5) * 0.4})``.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np
import numpy.typing as npt

from chunking.timeline.model import Effect
from workers.effects_blur import NO_BLUR, gaussian_blur
from workers.effects_looks import Step, css_brightness, css_contrast, css_grayscale, run_steps
from workers.effects_params import EffectFn, setting
from workers.effects_tone import color_balance
from workers.layer import Image

#: BT.709 luma weights (the renderer's pictures are BT.709).
_KR, _KB = 0.2126, 0.0722
_KG = 1.0 - _KR - _KB
#: RGB -> (Y, Cb, Cr) with Cb, Cr in -0.5..0.5, and back.
_TO_YUV = np.array(
    [
        [_KR, _KG, _KB],
        [-_KR / (2 - 2 * _KB), -_KG / (2 - 2 * _KB), 0.5],
        [0.5, -_KG / (2 - 2 * _KR), -_KB / (2 - 2 * _KR)],
    ]
)
_TO_RGB = np.linalg.inv(_TO_YUV)
_RGB_OF_YUV: npt.NDArray[np.float32] = _TO_RGB.T.astype(np.float32)


def js_or(value: float, default: float) -> float:
    """JavaScript's ``value || default`` for a number: the default for 0."""
    return value if value != 0.0 else default


def chroma_turn(degrees: float) -> npt.NDArray[np.float32]:
    """ffmpeg's hue=h=degrees as an RGB matrix: luma kept, (Cb, Cr) turned by the angle
    (vf_hue.c: u' = cos u - sin v, v' = sin u + cos v)."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    turn = np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    matrix: npt.NDArray[np.float32] = (_TO_RGB @ turn @ _TO_YUV).astype(np.float32)
    return matrix


def _matrix(rgb: Image, matrix: npt.NDArray[np.float32]) -> Image:
    out: Image = np.asarray(rgb, dtype=np.float32) @ matrix.T
    np.clip(out, 0.0, 1.0, out=out)
    return out


def css_invert(amount: float) -> Step:
    """CSS invert(): amount (clamped to 1) of 1 - x mixed with x."""
    a = min(max(amount, 0.0), 1.0)
    return None, 1.0 - 2.0 * a, a


def css_blur(rgb: Image, px: float) -> Image:
    """CSS blur(): a Gaussian of that standard deviation."""
    src = np.asarray(rgb, dtype=np.float32)
    return gaussian_blur(src, px) if px >= NO_BLUR else src


# -- from the editor's ffmpeg commands -------------------------------------------------------


def block_samples(n: int, size: int) -> npt.NDArray[np.intp]:
    """For each of n output pixels, the source pixel its size-wide block takes: swscale's
    nearest-neighbour scale to n // size and back (the pixel nearest the block's centre)."""
    small = max(n // size, 1)
    step = ((n << 16) + small // 2) // small  # swscale's 16.16 fixed-point source step
    centres = (np.arange(small, dtype=np.int64) * step + step // 2) >> 16
    blocks = np.minimum(np.arange(n) // size, small - 1)
    found: npt.NDArray[np.intp] = np.minimum(centres, n - 1).astype(np.intp)[blocks]
    return found


def _pixelate(rgb: Image, effect: Effect, frame: int) -> Image:
    size = int(setting(effect))
    if size <= 1:
        return rgb
    src = np.asarray(rgb, dtype=np.float32)
    rows = block_samples(src.shape[0], size)
    cols = block_samples(src.shape[1], size)
    out: Image = src[rows][:, cols]
    return out


#: ff_gaussian_blur_8's 5x5 kernel (sum 159).
_CANNY_BLUR = np.array(
    [[2, 4, 5, 4, 2], [4, 9, 12, 9, 4], [5, 12, 15, 12, 5], [4, 9, 12, 9, 4], [2, 4, 5, 4, 2]],
    dtype=np.int32,
)
_TAN_PI8, _TAN_3PI8 = 27146, 158218  # tan(pi/8), tan(3 pi/8) in 16.16 fixed point
_VERTICAL, _UP, _HORIZONTAL, _DOWN = 0, 1, 2, 3


def canny(plane: npt.NDArray[np.integer[Any]], low: int, high: int) -> npt.NDArray[np.int32]:
    """vf_edgedetect.c's wires on an 8-bit plane: edge strengths 0..255 on 0 (int32: every sum
    fits, 159 x 255 and the 16.16 direction tests alike)."""
    grey = plane.astype(np.int32)
    height, width = grey.shape
    if height < 5 or width < 5:
        return np.zeros_like(grey)
    blurred = grey.copy()  # the 2-pixel border is copied as it is
    inner = np.zeros((height - 4, width - 4), dtype=np.int32)
    for dy in range(5):
        for dx in range(5):
            inner += _CANNY_BLUR[dy, dx] * grey[dy : dy + height - 4, dx : dx + width - 4]
    blurred[2:-2, 2:-2] = inner // 159
    b = blurred
    # Sobel on the interior; the border's gradient stays 0 (ffmpeg's zeroed buffer).
    gx = -b[:-2, :-2] + b[:-2, 2:] - 2 * b[1:-1, :-2] + 2 * b[1:-1, 2:] - b[2:, :-2] + b[2:, 2:]
    gy = -b[:-2, :-2] + b[2:, :-2] - 2 * b[:-2, 1:-1] + 2 * b[2:, 1:-1] - b[:-2, 2:] + b[2:, 2:]
    magnitude = np.zeros_like(grey)
    magnitude[1:-1, 1:-1] = np.abs(gx) + np.abs(gy)
    sign = np.where(gx < 0, -1, 1)
    ax, ay = gx * sign, gy * sign * 65536
    t1, t3 = _TAN_PI8 * ax, _TAN_3PI8 * ax
    inner_dir = np.full(gx.shape, _VERTICAL, dtype=np.int8)
    inner_dir[(ay > t1) & (ay < t3)] = _DOWN
    inner_dir[(ay > -t1) & (ay < t1)] = _HORIZONTAL
    inner_dir[(ay > -t3) & (ay < -t1)] = _UP
    inner_dir[gx == 0] = _VERTICAL
    # Non-maximum suppression (interior only), the strength clipped to 8 bits.
    m = magnitude
    centre = m[1:-1, 1:-1]
    neighbours = {
        _UP: (m[2:, :-2], m[:-2, 2:]),
        _DOWN: (m[:-2, :-2], m[2:, 2:]),
        _HORIZONTAL: (m[1:-1, :-2], m[1:-1, 2:]),
        _VERTICAL: (m[:-2, 1:-1], m[2:, 1:-1]),
    }
    kept = np.zeros_like(centre)
    for way, (first, second) in neighbours.items():
        chosen = (inner_dir == way) & (centre > first) & (centre > second)
        kept[chosen] = np.minimum(centre[chosen], 255)
    thin = np.zeros_like(grey)
    thin[1:-1, 1:-1] = kept
    # Double threshold: strong pixels, and weak ones next to a strong one (not on the border).
    strong = thin > high
    padded = np.pad(strong, 1)
    near = np.zeros_like(strong)
    for dy in range(3):
        for dx in range(3):
            if dy != 1 or dx != 1:
                near |= padded[dy : dy + height, dx : dx + width]
    near[0, :] = near[-1, :] = near[:, 0] = near[:, -1] = False
    out: npt.NDArray[np.int32] = np.where(strong | ((thin > low) & near), thin, 0)
    return out


def _edgeenhance(rgb: Image, effect: Effect, frame: int) -> Image:
    """Canny with high = intensity and low = intensity / 2 (ffmpeg's thresholds stop at 1)."""
    intensity = setting(effect)
    high = int(min(intensity, 1.0) * 255 + 0.5)
    low = int(min(intensity * 0.5, 1.0) * 255 + 0.5)
    src = np.asarray(rgb, dtype=np.float32)
    luma = src[..., 0] * _KR + src[..., 1] * _KG + src[..., 2] * _KB
    # The source's 8-bit video-range luma, as swscale hands it to edgedetect's grey plane.
    video = np.rint(np.clip(luma, 0.0, 1.0) * 219 + 16)
    grey = np.rint((video - 16) * (255 / 219)).astype(np.int32)
    wires = canny(grey, low, high).astype(np.float32) / np.float32(255.0)
    out: Image = np.repeat(wires[..., None], 3, axis=2)
    return out


def _glitch(rgb: Image, effect: Effect, frame: int) -> Image:
    intensity = setting(effect)
    if intensity == 0.0:
        return rgb
    src = np.asarray(rgb, dtype=np.float32)
    strength = min(intensity * 0.1, 100.0)
    if strength > 0:
        seed = (zlib.crc32(effect.id.encode()), frame & 0xFFFF_FFFF_FFFF_FFFF)
        noise = np.random.default_rng(seed).standard_normal(src.shape, dtype=np.float32)
        noise *= np.float32(strength / math.sqrt(3.0))
        np.clip(noise, -128, 127, out=noise)
        np.trunc(noise, out=noise)  # vf_noise.c keeps whole 8-bit steps
        # The noise is drawn on the source's 8-bit video-range Y, Cb and Cr planes.
        planes = to_planes(src)
        planes += noise / np.float32(255.0)
        src = from_planes(planes)
    return _matrix(src, chroma_turn(intensity * 5.0))


_HOLO_TURN = chroma_turn(180.0)
_HOLO_BALANCE = np.zeros((3, 3), dtype=np.float32)
_HOLO_BALANCE[0, 0], _HOLO_BALANCE[0, 2] = 0.2, 0.3  # rs=0.2:bs=0.3 (shadows)
#: Video-range 8-bit planes as fractions of 255: Y 16..235, Cb and Cr 16..240 around 128.
_PLANE_SCALE: npt.NDArray[np.float32] = (np.array([219.0, 224.0, 224.0]) / 255).astype(np.float32)
_PLANE_OFFSET: npt.NDArray[np.float32] = (np.array([16.0, 128.0, 128.0]) / 255).astype(np.float32)


def to_planes(rgb: Image) -> npt.NDArray[np.float32]:
    """RGB as the video-range BT.709 Y, Cb, Cr planes ffmpeg's filters see, in [0, 1]."""
    yuv: npt.NDArray[np.float32] = rgb @ _TO_YUV.T.astype(np.float32)
    yuv *= _PLANE_SCALE
    yuv += _PLANE_OFFSET
    return yuv


def from_planes(yuv: npt.NDArray[np.float32]) -> Image:
    """to_planes undone, clipped to [0, 1]."""
    centred = yuv - _PLANE_OFFSET
    centred /= _PLANE_SCALE
    out: Image = np.asarray(centred @ _RGB_OF_YUV, dtype=np.float32)
    np.clip(out, 0.0, 1.0, out=out)
    return out


def _hologram(rgb: Image, effect: Effect, frame: int) -> Image:
    """The blend runs on the source's planes, chroma included (screen lifts both chroma planes
    above their neutral 128: the picture turns pink-violet, as the editor's export does)."""
    opacity = min(setting(effect), 1.0)
    if opacity == 0.0:
        return rgb
    src = np.asarray(rgb, dtype=np.float32)
    holo = color_balance(_matrix(src, _HOLO_TURN), _HOLO_BALANCE)
    a, b = to_planes(src), to_planes(holo)
    # vf_blend.c screen: 1 - (1 - a)(1 - b) = a + b (1 - a), mixed over a by the opacity.
    a += (np.float32(1.0) - a) * b * np.float32(opacity)
    return from_planes(a)


# -- from the editor's CSS previews ----------------------------------------------------------


def _motionblur(rgb: Image, effect: Effect, frame: int) -> Image:
    return css_blur(rgb, js_or(setting(effect), 2.0) * 0.5)


def _zoomblur(rgb: Image, effect: Effect, frame: int) -> Image:
    intensity = js_or(setting(effect), 2.0)
    return run_steps(css_blur(rgb, intensity * 0.5), [css_brightness(1.0 + intensity * 0.1)])


def _emboss(rgb: Image, effect: Effect, frame: int) -> Image:
    i = js_or(setting(effect), 0.8)
    steps = [css_grayscale(0.3), css_contrast(1.0 + i * 0.5), css_brightness(1.0 + i * 0.2)]
    return run_steps(rgb, steps)


def _solarize(rgb: Image, effect: Effect, frame: int) -> Image:
    t = js_or(setting(effect), 0.5)
    steps = [css_invert(t * 0.6), css_brightness(1.0 + t * 0.3), css_contrast(1.0 + t * 0.4)]
    return run_steps(rgb, steps)


#: Canonical kind -> implementation, for every kind of catalogue_stylised.STYLISED_EFFECTS.
IMPLEMENTATIONS: dict[str, EffectFn] = {
    "pixelate": _pixelate,
    "emboss": _emboss,
    "edgeenhance": _edgeenhance,
    "glitch": _glitch,
    "hologram": _hologram,
    "motionblur": _motionblur,
    "zoomblur": _zoomblur,
    "solarize": _solarize,
}

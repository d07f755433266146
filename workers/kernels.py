"""Per-pixel compositing steps, each one pass over the pixels: C kernels where they were built,
NumPy otherwise (and always for arrays in GPU memory, workers.arrays: the NumPy steps are written
so that CuPy runs them too).

The C library (``workers/kernels.c``, loaded by workers.kernels_lib) streams a layer through a
step without NumPy's full-frame temporaries. Its results are bit-identical to the NumPy
reference functions below (``numpy_*``),
except ``affine_clip``, whose three products NumPy's BLAS may fuse or order differently: there
the two agree within 2 ulp (tests/workers/test_kernels.py). ``hdr_to_sdr`` is workers.hdr's
HDR to SDR conversion, bit-identical to ``hdr.numpy_to_sdr`` (tests/workers/test_hdr_kernel.py).
Which one renders is part of the render fingerprint (``BACKEND``), so one job's chunks never mix
them.

ctypes releases the GIL around each call, so the compositor thread runs beside the encoder.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from workers import kernels_lib
from workers.arrays import module_of
from workers.kernels_lib import ABI, BACKEND, I32, U8, U16, compiled, numpy_only
from workers.kernels_lib import F32 as _F32

__all__ = ["ABI", "BACKEND", "compiled", "numpy_only"]  # kept here for their users
_I32, _U8, _U16 = I32, U8, U16

Image = npt.NDArray[np.float32]  # H x W x 3 float32 in [0, 1]
Rgb8 = npt.NDArray[np.uint8]
Planes = npt.NDArray[np.uint16]


def _f32(a: npt.NDArray[Any]) -> Any:
    return a.ctypes.data_as(_F32)


def _u16(a: npt.NDArray[Any]) -> Any:
    return a.ctypes.data_as(_U16)


def _contiguous(a: npt.NDArray[Any], dtype: type) -> npt.NDArray[Any]:
    return np.ascontiguousarray(a, dtype=dtype)


def _yuv_coefficients(kr: float, kb: float) -> npt.NDArray[np.int32]:
    """Limited-range RGB to Y, Cb, Cr coefficients times 65536 (rows: Y, Cb, Cr)."""
    kg = 1 - kr - kb
    y = np.array([kr, kg, kb]) * 219 / 255
    cb = np.array([-kr, -kg, 1 - kb]) / (2 * (1 - kb)) * 224 / 255
    cr = np.array([1 - kr, -kg, -kb]) / (2 * (1 - kr)) * 224 / 255
    k: npt.NDArray[np.int32] = np.rint(np.array([y, cb, cr]) * 65536).astype(np.int32)
    # Grey must stay grey: each chroma row sums to exactly zero.
    k[1, 1] = -(k[1, 0] + k[1, 2])
    k[2, 1] = -(k[2, 0] + k[2, 2])
    return k


#: How many float32 constants cr_hdr_to_sdr reads (kernels.c lists them).
HDR_CONSTANTS = 31

#: BT.709, what the renderer's H.264/HEVC/VP9/AV1 output is tagged as.
BT709 = _yuv_coefficients(0.2126, 0.0722)


# -- the NumPy reference, which also runs CuPy arrays (workers.arrays) ----------------------------


def numpy_to_float(rgb8: Rgb8) -> Image:
    """uint8 RGB to float32 in [0, 1] (NumPy)."""
    return rgb8.astype(np.float32) * np.float32(1 / 255)


def numpy_to_uint8(rgb: Image) -> Rgb8:
    """float32 RGB in [0, 1] to uint8, rounding to nearest (NumPy)."""
    out = rgb * np.float32(255)
    out += np.float32(0.5)
    module_of(out).clip(out, 0, 255, out=out)
    return out.astype(np.uint8)


def numpy_gain_clip(rgb: Image, gain: Image) -> Image:
    """rgb times an H x W (x 1) gain map, clipped to [0, 1] (NumPy)."""
    g = gain if gain.ndim == 3 else gain[..., None]
    xp = module_of(rgb)
    out: Image = xp.asarray(rgb, dtype=np.float32) * xp.asarray(g)
    xp.clip(out, 0.0, 1.0, out=out)
    return out


def numpy_affine_clip(rgb: Image, matrix: npt.NDArray[np.float32], offset: float) -> Image:
    """rgb @ matrix.T + offset, clipped to [0, 1] (NumPy)."""
    xp = module_of(rgb)
    out: Image = xp.asarray(rgb, dtype=np.float32) @ xp.asarray(matrix, dtype=np.float32).T
    if offset:
        out += np.float32(offset)
    xp.clip(out, 0.0, 1.0, out=out)
    return out


def numpy_blend(dst: Image, src: Image, alpha: Image | None, opacity: float) -> None:
    """dst += (src - dst) * alpha * opacity in place (NumPy); alpha None is all ones."""
    if alpha is None:
        dst += (src - dst) * np.float32(opacity)
        return
    a = alpha * np.float32(opacity) if opacity < 1 else alpha
    dst += (src - dst) * a[..., None]


def numpy_rgb_to_yuv420p(rgb8: Rgb8) -> tuple[Rgb8, Rgb8, Rgb8]:
    """uint8 RGB to BT.709 limited-range yuv420p planes (NumPy; the C kernel's arithmetic)."""
    k = BT709.astype(np.int64)
    rgb = rgb8.astype(np.int64)
    height, width = rgb.shape[:2]
    y = (rgb @ k[0] + (16 << 16) + (1 << 15)) >> 16
    # Chroma: pixel pairs across (the last column repeated when the width is odd) ...
    cols = np.minimum(np.arange(0, width, 2) + 1, width - 1)
    pairs = rgb[:, 0::2] + rgb[:, cols]
    # ... weighed 1-3-3-1 down rows 2c-1 .. 2c+2 (edge rows repeated).
    centre = np.arange(0, height, 2)
    sums = sum(
        weight * pairs[np.clip(centre + offset, 0, height - 1)]
        for offset, weight in ((-1, 1), (0, 3), (1, 3), (2, 1))
    )
    u = (sums @ k[1] + (128 << 20) + (1 << 19)) >> 20
    v = (sums @ k[2] + (128 << 20) + (1 << 19)) >> 20
    return y.astype(np.uint8), u.astype(np.uint8), v.astype(np.uint8)


# -- the steps the compositor calls ---------------------------------------------------------------


def to_float(rgb8: Rgb8) -> Image:
    """uint8 RGB to float32 in [0, 1]."""
    if kernels_lib.LIB is None or type(rgb8) is not np.ndarray:
        return numpy_to_float(rgb8)
    src = _contiguous(rgb8, np.uint8)
    out = np.empty(src.shape, dtype=np.float32)
    kernels_lib.LIB.cr_to_float(src.ctypes.data_as(_U8), _f32(out), src.size)
    return out


@dataclass(frozen=True)
class Gain:
    """A ``gain_clip`` step: times an H x W (x 1) gain map, clipped to [0, 1]."""

    gain: Image


@dataclass(frozen=True)
class Affine:
    """An ``affine_clip`` step: @ matrix.T + offset, clipped to [0, 1]."""

    matrix: npt.NDArray[np.float32]
    offset: float = 0.0


def to_float_steps(rgb8: Rgb8, steps: Sequence[Gain | Affine], out: Image | None = None) -> Image:
    """``to_float`` then each step in turn, each written into the fresh image (or into ``out``,
    a C-contiguous float32 array of the same shape: a buffer kept from frame to frame): with the
    C kernels in one pass over the pixels (the same bits as the separate steps)."""
    if out is not None and not (
        type(out) is np.ndarray
        and out.shape == rgb8.shape
        and out.dtype == np.float32
        and out.flags.c_contiguous
        and out.flags.writeable
    ):
        raise ValueError("out must be a writable C-contiguous float32 array of rgb8's shape")
    height, width = rgb8.shape[:2] if rgb8.ndim == 3 else (0, 0)
    fused = kernels_lib.LIB is not None and type(rgb8) is np.ndarray and rgb8.shape[2:] == (3,)
    args = step_arrays(steps, height, width) if fused else None
    if args is None:
        image = _into(to_float(rgb8), out)
        for step in steps:
            if isinstance(step, Gain):
                image = gain_clip(image, step.gain, image)
            else:
                image = affine_clip(image, step.matrix, step.offset, image)
        return image
    src = _contiguous(rgb8, np.uint8)
    out = np.empty(src.shape, dtype=np.float32) if out is None else out
    kernels_lib.LIB.cr_to_float_steps(
        src.ctypes.data_as(_U8), _f32(out), height * width, len(steps), *args.pointers
    )
    return out


@dataclass(frozen=True)
class StepArrays:
    """Steps as cr_to_float_steps reads them; ``held`` keeps the gain maps alive meanwhile."""

    pointers: tuple[Any, Any, Any]  # kinds, gain maps, ten float32 parameters a step
    held: tuple[Image, ...]


def step_arrays(steps: Sequence[Gain | Affine], height: int, width: int) -> StepArrays | None:
    """The steps in the C kernel's arrays: a kind, a gain map or ten float32 parameters each
    (None where a step's shapes do not fit the kernel: the separate steps handle, or refuse,
    them)."""
    gains = [_contiguous(s.gain, np.float32) for s in steps if isinstance(s, Gain)]
    fused = all(type(g) is np.ndarray and g.shape[:2] == (height, width) for g in gains)
    fused = fused and all(g.ndim == 2 or g.shape[2:] == (1,) for g in gains)
    if not fused or any(np.shape(s.matrix) != (3, 3) for s in steps if isinstance(s, Affine)):
        return None
    kinds = (ctypes.c_int32 * len(steps))()
    params = (ctypes.c_float * (10 * len(steps)))()
    maps = (ctypes.c_void_p * len(steps))()
    held = iter(gains)
    for i, step in enumerate(steps):
        if isinstance(step, Gain):
            maps[i] = next(held).ctypes.data
            continue
        kinds[i] = 1
        values = np.asarray(step.matrix, dtype=np.float32).reshape(9).tolist()
        for j, value in enumerate([*values, float(np.float32(step.offset))]):
            params[10 * i + j] = value
    return StepArrays((kinds, maps, params), tuple(gains))


def to_uint8(rgb: Image) -> Rgb8:
    """float32 RGB in [0, 1] to uint8, rounding to nearest."""
    if kernels_lib.LIB is None or type(rgb) is not np.ndarray:
        return numpy_to_uint8(rgb)
    src = _contiguous(rgb, np.float32)
    out = np.empty(src.shape, dtype=np.uint8)
    kernels_lib.LIB.cr_to_uint8(_f32(src), out.ctypes.data_as(_U8), src.size)
    return out


def gain_clip(rgb: Image, gain: Image, out: Image | None = None) -> Image:
    """rgb times an H x W (x 1) gain map, clipped to [0, 1]: a new image, or written into
    ``out`` (which may be ``rgb`` itself: each sample is read before it is written)."""
    if out is not None and not _writable_like(out, rgb):
        raise ValueError("out must be a writable C-contiguous float32 array of rgb's shape")
    if kernels_lib.LIB is None or type(rgb) is not np.ndarray or type(gain) is not np.ndarray:
        return _into(numpy_gain_clip(rgb, gain), out)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or gain.shape[:2] != rgb.shape[:2]:
        return _into(numpy_gain_clip(rgb, gain), out)  # (raises on shapes that do not broadcast)
    if gain.ndim == 3 and gain.shape[2] != 1:
        return _into(numpy_gain_clip(rgb, gain), out)
    src = _contiguous(rgb, np.float32)
    g = _contiguous(gain, np.float32)
    dst = np.empty(src.shape, dtype=np.float32) if out is None else out
    kernels_lib.LIB.cr_gain_clip(_f32(src), _f32(g), _f32(dst), src.shape[0] * src.shape[1])
    return dst


def affine_clip(
    rgb: Image, matrix: npt.NDArray[np.float32], offset: float = 0.0, out: Image | None = None
) -> Image:
    """rgb @ matrix.T + offset, clipped to [0, 1]: a new image, or written into ``out`` (which
    may be ``rgb`` itself: a pixel's three samples are read before any is written)."""
    if out is not None and not _writable_like(out, rgb):
        raise ValueError("out must be a writable C-contiguous float32 array of rgb's shape")
    if kernels_lib.LIB is None or type(rgb) is not np.ndarray:
        return _into(numpy_affine_clip(rgb, matrix, offset), out)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or np.shape(matrix) != (3, 3):
        return _into(numpy_affine_clip(rgb, matrix, offset), out)
    src = _contiguous(rgb, np.float32)
    m = _contiguous(matrix, np.float32)
    dst = np.empty(src.shape, dtype=np.float32) if out is None else out
    pixels = src.shape[0] * src.shape[1]
    kernels_lib.LIB.cr_affine_clip(_f32(src), _f32(m), float(np.float32(offset)), _f32(dst), pixels)
    return dst


def _writable_like(out: Image, rgb: Image) -> bool:
    """Whether ``out`` can take a step's result for ``rgb`` in place."""
    flags = out.flags
    return (
        type(out) is type(rgb)
        and out.shape == rgb.shape
        and out.dtype == np.float32
        and bool(flags.c_contiguous)
        and bool(getattr(flags, "writeable", True))  # CuPy's arrays have no such flag
    )


def _into(result: Image, out: Image | None) -> Image:
    """``result``, copied into ``out`` when one is given (the NumPy steps allocate anyway)."""
    if out is None:
        return result
    out[...] = result
    return out


def _rows(a: npt.NDArray[Any], pixel: int) -> int | None:
    """Elements between rows of an array whose pixels are packed (else None)."""
    item = a.itemsize
    inner = (pixel * item, item) if a.ndim == 3 else (item,)
    if a.strides[1:] != inner or a.strides[0] % item:
        return None
    return a.strides[0] // item


def blend(dst: Image, src: Image, alpha: Image | None, opacity: float) -> None:
    """dst += (src - dst) * alpha * opacity in place, over windows of equal size (alpha None:
    opaque); ``dst`` may be a window of a larger canvas."""
    if kernels_lib.LIB is None or type(dst) is not np.ndarray or type(src) is not np.ndarray:
        numpy_blend(dst, src, alpha, opacity)
        return
    if dst.dtype != np.float32 or src.dtype != np.float32:
        numpy_blend(dst, src, alpha, opacity)
        return
    if alpha is not None and alpha.dtype != np.float32:
        numpy_blend(dst, src, alpha, opacity)
        return
    # The C loop trusts its sizes: anything but equal windows goes to NumPy (which raises).
    same = dst.ndim == src.ndim == 3 and dst.shape == src.shape
    if not same or (alpha is not None and alpha.shape != dst.shape[:2]):
        numpy_blend(dst, src, alpha, opacity)
        return
    d_rows, s_rows = _rows(dst, 3), _rows(src, 3)
    a_rows = _rows(alpha, 1) if alpha is not None else 0
    if d_rows is None or s_rows is None or a_rows is None or dst.shape[2:] != (3,):
        numpy_blend(dst, src, alpha, opacity)
        return
    height, width = dst.shape[:2]
    kernels_lib.LIB.cr_blend(
        _f32(dst),
        d_rows,
        _f32(src),
        s_rows,
        _f32(alpha) if alpha is not None else None,
        a_rows,
        float(np.float32(opacity)),
        int(opacity < 1),
        height,
        width,
    )


def rgb_to_yuv420p(rgb8: Rgb8, planes: tuple[Rgb8, Rgb8, Rgb8]) -> bool:
    """Write uint8 RGB into yuv420p planes (Y, U, V views, rows may be padded) as BT.709
    limited range, with the C kernel; False (nothing written) where it was not built."""
    if (
        kernels_lib.LIB is None
        or type(rgb8) is not np.ndarray
        or rgb8.ndim != 3
        or rgb8.shape[2] != 3
    ):
        return False
    src = _contiguous(rgb8, np.uint8)
    height, width = src.shape[:2]
    args = yuv420p_args(planes, height, width)
    kernels_lib.LIB.cr_rgb_to_yuv420p(src.ctypes.data_as(_U8), src.strides[0], height, width, *args)
    return True


def yuv420p_args(planes: tuple[Rgb8, Rgb8, Rgb8], height: int, width: int) -> list[Any]:
    """The C kernels' yuv420p arguments for a height x width picture: each plane and its row
    stride, the BT.709 coefficients, and scratch (ValueError where a plane does not fit)."""
    y, u, v = planes
    chroma = ((height + 1) // 2, (width + 1) // 2)
    if y.shape != (height, width) or u.shape != chroma or v.shape != chroma:
        raise ValueError(f"yuv420p planes {y.shape}, {u.shape}, {v.shape} for {width}x{height}")
    if any(p.dtype != np.uint8 or p.strides[1] != 1 for p in planes):
        raise ValueError("yuv420p planes must be uint8 rows of packed samples")
    # Four rows' pair sums and the column sums (3 x cw each), then one row's planar samples.
    scratch = np.empty(15 * chroma[1] + (3 * width + 3) // 4, dtype=np.int32)
    args: list[Any] = [arg for p in planes for arg in (p.ctypes.data_as(_U8), p.strides[0])]
    # The scratch array rides along in the pointer (its _arr), alive until the call returns.
    return [*args, BT709.ctypes.data_as(_I32), scratch.ctypes.data_as(_I32)]


def hdr_to_sdr(
    planes: tuple[Planes, Planes, Planes],
    constants: Image,
    tables: tuple[Image, Image, Rgb8],
    transfer: int,
    wide: bool,
) -> Rgb8 | None:
    """workers.hdr's YUV to BT.709 SDR RGB24 in one pass with the C kernel (bit-identical to
    hdr.numpy_to_sdr, which gives it `constants` and `tables`: light, HLG gain, gamma), or None
    where it was not built or the planes are not plain uint16 rows of one size."""
    if kernels_lib.LIB is None or any(type(p) is not np.ndarray for p in planes):
        return None
    shape = planes[0].shape
    if len(shape) != 2 or any(p.shape != shape or p.dtype != np.uint16 for p in planes):
        return None
    strides = [_rows(p, 1) for p in planes]
    if any(s is None for s in strides):
        return None
    light, gain, gamma = (np.ascontiguousarray(t) for t in tables)
    k = _contiguous(constants, np.float32)
    if k.shape != (HDR_CONSTANTS,) or light.shape != (65536,) or gain.shape != (65536,):
        raise ValueError("hdr_to_sdr: constants or tables of the wrong size")
    if gamma.dtype != np.uint8 or int(k[30]) != gamma.size - 1 or light.dtype != np.float32:
        raise ValueError("hdr_to_sdr: the gamma table does not match its constant")
    height, width = shape
    out = np.empty((height, width, 3), dtype=np.uint8)
    args = [arg for p, s in zip(planes, strides, strict=True) for arg in (_u16(p), s)]
    kernels_lib.LIB.cr_hdr_to_sdr(
        *args,
        height,
        width,
        _f32(k),
        _f32(light),
        _f32(gain),
        gamma.ctypes.data_as(_U8),
        transfer,
        int(wide),
        out.ctypes.data_as(_U8),
        out.strides[0],
    )
    return out

"""HDR and wide-gamut video shown in the render's SDR BT.709: a pure function of one frame's
YUV samples and its colour tags, so a frame converts the same in every chunk.

The steps, in the order ffmpeg's reference chain takes them (``zscale=t=linear:npl=100,
format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709``):

1. YUV -> R'G'B' with the frame's matrix (BT.2020 non-constant luminance for HDR) in float32,
   from samples at 16 bits (``swscale`` upsamples the chroma and resizes in YUV, exactly).
2. R'G'B' -> display light, 1.0 = 100 cd/m2 (SDR reference white, zscale's ``npl=100``):
   the PQ EOTF (SMPTE ST 2084), or the HLG inverse OETF and the BT.2100 OOTF for a 1000 cd/m2
   display (gamma 1.2 on the scene luminance, which keeps hues, as zscale does with
   ``agamma=0``; its default approximates the OOTF per channel and shifts saturated colours).
3. BT.2020 -> BT.709 primaries: a 3x3 matrix in linear light.
4. Tone mapping: Hable's filmic curve on the largest component, the others scaled with it
   (ffmpeg's ``tonemap=hable:desat=0``: hues kept), with the signal peak at 1000 cd/m2. Chosen
   over BT.2390's EETF because ffmpeg's chain is the one users compare against and can be
   checked here pixel by pixel (tests/workers/test_hdr.py); the peak is fixed rather than read
   from mastering metadata, which not every frame carries (a chunk's first frame might not),
   and is what ffmpeg assumes for untagged HDR and HLG's nominal display.
5. Out-of-gamut colours clipped to [0, 1] (after the matrix: no hue-preserving gamut
   compression), then the inverse BT.1886 EOTF (gamma 2.4): the light is display light, as
   zscale's ``t=bt709`` (display-referred) encodes it, not the camera's BT.709 OETF.

SDR video with BT.2020 primaries (no PQ or HLG) only has its primaries converted, in BT.1886
linear light (steps 1, 3 and 5). Transfer curves run through look-up tables over 16-bit
codes; everything else is a few float32 operations a pixel.

``numpy_to_sdr`` is the reference: about 45 passes over float frames. Where the C kernels were
built, ``to_sdr`` runs all the steps in one pass over the pixels instead (``kernels.hdr_to_sdr``,
some 6 times faster: bench/hdr_steps.py): the same float32 operations in the same order on the
same tables, so its frames are bit-identical to the reference's (tests/workers/test_hdr_kernel.py)
and the render fingerprint, which names the C library by its hash, needs nothing more.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from workers import kernels

#: FFmpeg's colour tags (AVColorTransferCharacteristic, AVColorPrimaries, AVColorSpace).
TRC_PQ, TRC_HLG = 16, 18
PRIMARIES_UNSPECIFIED, PRIMARIES_BT2020 = 2, 9
SPACE_UNSPECIFIED = 2
#: AVColorRange: full ("JPEG") range; anything else is read as limited (TV) range.
RANGE_FULL = 2

#: Luma coefficients (Kr, Kb) of the YUV matrices a frame may name, by AVColorSpace.
MATRICES: dict[int, tuple[float, float]] = {
    1: (0.2126, 0.0722),  # BT.709
    5: (0.299, 0.114),  # BT.470BG (PAL BT.601)
    6: (0.299, 0.114),  # SMPTE 170M (NTSC BT.601)
    9: (0.2627, 0.0593),  # BT.2020 non-constant luminance
    10: (0.2627, 0.0593),  # BT.2020 constant luminance, read as NCL: no camera writes CL
}
BT2020 = MATRICES[9]

#: Linear BT.2020 RGB -> linear BT.709 RGB (ITU-R BT.2087, D65 both), rows R, G, B.
BT2020_TO_BT709 = np.array(
    [
        [1.660491, -0.587641, -0.072850],
        [-0.124550, 1.132900, -0.008349],
        [-0.018151, -0.100579, 1.118730],
    ],
    dtype=np.float32,
)

#: SDR reference white in cd/m2: display light 1.0 (zscale's npl=100, ffmpeg's REFERENCE_WHITE).
REFERENCE_WHITE = 100.0
#: The display peak HLG is shown on and PQ is tone-mapped from, in cd/m2 (BT.2100's nominal
#: HLG display; ffmpeg's tonemap peak for a stream without light-level metadata).
PEAK = 1000.0
#: Hable's curve constants (ffmpeg's vf_tonemap, from Uncharted 2).
_A, _B, _C, _D, _E, _F = 0.15, 0.50, 0.10, 0.20, 0.02, 0.30
#: Entries of the table the inverse BT.1886 EOTF is read from: the curve is steep near black,
#: so finer than 16 bits (rounding to an entry then moves no light above 2e-6 of white, 0.0002
#: cd/m2, by an 8-bit step).
_GAMMA_TABLE = 1 << 18

#: cr_hdr_to_sdr's transfer argument.
_TRANSFERS = {"sdr": 0, "pq": 1, "hlg": 2}

Array = npt.NDArray[np.float32]
Planes = npt.NDArray[np.uint16]
Codes = npt.NDArray[np.int32]


@dataclass(frozen=True)
class ColourConversion:
    """How one stream's frames reach BT.709 SDR: its transfer, YUV matrix and primaries."""

    transfer: str  # "pq", "hlg" or "sdr" (BT.1886: only the primaries change)
    matrix: tuple[float, float]  # (Kr, Kb) of the YUV matrix
    wide: bool  # BT.2020 primaries, converted to BT.709
    full_range: bool  # full ("JPEG") range samples rather than limited (TV) range


def conversion_for(
    trc: int, primaries: int, space: int, colour_range: int
) -> ColourConversion | None:
    """The conversion a frame with these FFmpeg colour tags needs, or None for BT.709 SDR
    (and anything we do not convert: those are shown as before)."""
    hdr = {TRC_PQ: "pq", TRC_HLG: "hlg"}.get(trc)
    # HDR is BT.2020 whenever it does not say otherwise; SDR only when it says so.
    wide = primaries == PRIMARIES_BT2020 or (hdr is not None and primaries == PRIMARIES_UNSPECIFIED)
    if hdr is None and not wide:
        return None
    if space in MATRICES:
        matrix = MATRICES[space]
    elif space == SPACE_UNSPECIFIED and (hdr is not None or wide):
        matrix = BT2020
    else:
        return None  # an RGB, YCgCo or ICtCp frame: not ours to read as YUV
    return ColourConversion(hdr or "sdr", matrix, wide, colour_range == RANGE_FULL)


def to_sdr(
    y: Planes, cb: Planes, cr: Planes, conversion: ColourConversion, bits: int
) -> npt.NDArray[np.uint8]:
    """BT.709 SDR 8-bit RGB (h x w x 3) of three equal-sized planes of `bits`-deep samples
    held in the top bits of uint16 (as swscale's ``yuv444p16le`` holds them)."""
    tables = (_to_light(conversion.transfer), _hlg_gain(), _gamma_table())
    transfer = _TRANSFERS[conversion.transfer]
    rgb = kernels.hdr_to_sdr(
        (y, cb, cr), _kernel_constants(conversion, bits), tables, transfer, conversion.wide
    )
    return rgb if rgb is not None else numpy_to_sdr(y, cb, cr, conversion, bits)


def numpy_to_sdr(
    y: Planes, cb: Planes, cr: Planes, conversion: ColourConversion, bits: int
) -> npt.NDArray[np.uint8]:
    """to_sdr in NumPy: the reference the C kernel (kernels.hdr_to_sdr) equals bit for bit."""
    to_light = _to_light(conversion.transfer)
    r, g, b = (np.take(to_light, code) for code in _codes(y, cb, cr, conversion, bits))
    if conversion.transfer == "hlg":
        _hlg_ootf(r, g, b)
    if conversion.wide:
        r, g, b = _mix(BT2020_TO_BT709, r, g, b)
    if conversion.transfer != "sdr":
        _tone_map(r, g, b)
    out = np.empty((*y.shape, 3), np.uint8)
    table = _gamma_table()
    for i, channel in enumerate((r, g, b)):
        channel *= np.float32(_GAMMA_TABLE - 1)
        channel += np.float32(0.5)
        np.clip(channel, 0.0, np.float32(_GAMMA_TABLE - 1), out=channel)
        out[..., i] = np.take(table, channel.astype(np.int32))
    return out


def _code_constants(
    conversion: ColourConversion, bits: int
) -> tuple[np.float32, list[tuple[np.float32, np.float32, np.float32]]]:
    """The luma scale and, per R', G', B', the offset and Cb and Cr weights that turn samples
    into 16-bit codes: offsets, scales to 16-bit codes and rounding (+0.5) folded in."""
    if conversion.full_range:
        top = float(((1 << bits) - 1) << (16 - bits))
        y_off, y_scale, c_scale = 0.0, top, top
    else:  # limited range at any depth is 16..235 and 16..240 of 256 steps at 16 bits
        y_off, y_scale, c_scale = 16 * 256.0, 219 * 256.0, 224 * 256.0
    kr, kb = conversion.matrix
    kg = 1.0 - kr - kb
    ky = 65535.0 / y_scale
    kc = 65535.0 / c_scale
    rows = (
        (0.0, 2 * (1 - kr)),
        (-2 * kb * (1 - kb) / kg, -2 * kr * (1 - kr) / kg),
        (2 * (1 - kb), 0.0),
    )
    channels = [
        (
            np.float32(0.5 - y_off * ky - 32768.0 * kc * (ku + kv)),
            np.float32(ku * kc),
            np.float32(kv * kc),
        )
        for ku, kv in rows
    ]
    return np.float32(ky), channels


def _codes(
    y: Planes, cb: Planes, cr: Planes, conversion: ColourConversion, bits: int
) -> tuple[Codes, Codes, Codes]:
    """The 16-bit codes (0..65535) of the non-linear R'G'B' the YUV samples stand for."""
    # Each channel is one sum of scaled samples: few passes over the frame.
    ky, channels = _code_constants(conversion, bits)
    luma = y.astype(np.float32)
    luma *= ky
    u = cb.astype(np.float32)
    v = cr.astype(np.float32)
    codes = []
    for offset, ku, kv in channels:
        c = luma + offset
        for k, plane in ((ku, u), (kv, v)):
            if k:
                c += plane * k
        np.clip(c, 0.0, 65535.0, out=c)
        codes.append(c.astype(np.int32))
    return codes[0], codes[1], codes[2]


@functools.cache
def _kernel_constants(conversion: ColourConversion, bits: int) -> Array:
    """The float32 constants of cr_hdr_to_sdr (kernels.c lists them), rounded from the same
    values as the NumPy steps' own: the two paths then differ in nothing but the loop."""
    ky, channels = _code_constants(conversion, bits)
    kr, kb = BT2020
    values = [ky, *(c[0] for c in channels), *(c[1] for c in channels)]
    values += [c[2] for c in channels]
    values += [np.float32(kr), np.float32(1 - kr - kb), np.float32(kb)]
    values += list(BT2020_TO_BT709.ravel())
    values += [np.float32(v) for v in (_A, _C * _B, _D * _E, _B, _D * _F, _E / _F)]
    values += [np.float32(hable(PEAK / REFERENCE_WHITE)), np.float32(1e-6)]
    values += [np.float32(_GAMMA_TABLE - 1)]
    return np.array(values, dtype=np.float32)


@functools.cache
def _to_light(transfer: str) -> Array:
    """Display light (1.0 = 100 cd/m2) of each 16-bit code; HLG's is scene light, 0..1."""
    e = np.arange(65536, dtype=np.float64) / 65535
    if transfer == "pq":
        light = pq_eotf(e) / REFERENCE_WHITE
    elif transfer == "hlg":
        light = hlg_inverse_oetf(e)
    else:
        light = e**2.4
    return light.astype(np.float32)


@functools.cache
def _gamma_table() -> npt.NDArray[np.uint8]:
    """8-bit BT.1886 code (inverse EOTF, gamma 2.4) of each display light step in [0, 1]."""
    light = np.arange(_GAMMA_TABLE, dtype=np.float64) / (_GAMMA_TABLE - 1)
    return np.round(light ** (1 / 2.4) * 255).astype(np.uint8)


def pq_eotf(e: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """SMPTE ST 2084: luminance in cd/m2 (0..10000) of PQ signal values 0..1."""
    m1, m2 = 2610 / 16384, 2523 / 4096 * 128
    c1, c2, c3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    p = np.clip(e, 0.0, 1.0) ** (1 / m2)
    return 10000.0 * (np.maximum(p - c1, 0.0) / (c2 - c3 * p)) ** (1 / m1)


def hlg_inverse_oetf(e: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """ARIB STD-B67 / BT.2100 HLG: scene light 0..1 of signal values 0..1."""
    a, b, c = 0.17883277, 0.28466892, 0.55991073
    e = np.clip(e, 0.0, 1.0)
    high = (np.exp((np.maximum(e, 0.5) - c) / a) + b) / 12
    return np.where(e <= 0.5, e * e / 3, high)


def _hlg_ootf(r: Array, g: Array, b: Array) -> None:
    """BT.2100's HLG OOTF for a PEAK display, in place: scene light to display light, each
    component times the peak and the scene luminance to the power gamma - 1."""
    kr, kb = BT2020
    ys = r * np.float32(kr)
    ys += g * np.float32(1 - kr - kb)
    ys += b * np.float32(kb)
    # The power is read from a table indexed by the square root, which spreads the dark
    # end (where the power is steep) over many entries.
    np.sqrt(ys, out=ys)
    ys *= np.float32(65535)
    ys += np.float32(0.5)
    np.clip(ys, 0.0, 65535.0, out=ys)
    gain = np.take(_hlg_gain(), ys.astype(np.int32))
    r *= gain
    g *= gain
    b *= gain


@functools.cache
def _hlg_gain() -> Array:
    """The OOTF's gain, PEAK / REFERENCE_WHITE * Ys ** (gamma - 1), by 16-bit sqrt(Ys)."""
    root = np.arange(65536, dtype=np.float64) / 65535
    gain = PEAK / REFERENCE_WHITE * np.maximum(root * root, 1e-12) ** (hlg_gamma(PEAK) - 1)
    return gain.astype(np.float32)


def hlg_gamma(peak: float) -> float:
    """BT.2100's HLG system gamma for a display of this peak luminance (1.2 at 1000 cd/m2)."""
    return 1.2 + 0.42 * float(np.log10(peak / 1000.0))


def _mix(m: npt.NDArray[np.float32], r: Array, g: Array, b: Array) -> tuple[Array, Array, Array]:
    """The 3x3 matrix `m` applied to linear RGB."""
    rows = []
    term = np.empty_like(r)
    for row in m:
        out = r * row[0]
        out += np.multiply(g, row[1], out=term)
        out += np.multiply(b, row[2], out=term)
        rows.append(out)
    return rows[0], rows[1], rows[2]


def hable(x: float) -> float:
    """Hable's filmic curve, as ffmpeg's vf_tonemap computes it (not yet scaled to the peak)."""
    return (x * (x * _A + _C * _B) + _D * _E) / (x * (x * _A + _B) + _D * _F) - _E / _F


def _tone_map(r: Array, g: Array, b: Array) -> None:
    """ffmpeg's ``tonemap=hable:desat=0`` in place: the largest component through Hable's
    curve, scaled so the PEAK maps to 1, the other two by the same factor (hues kept)."""
    sig = np.maximum(r, g)
    np.maximum(sig, b, out=sig)
    np.maximum(sig, np.float32(1e-6), out=sig)
    # hable(sig) / hable(peak) / sig, with the two quadratics evaluated in place.
    num = sig * np.float32(_A)
    num += np.float32(_C * _B)
    num *= sig
    num += np.float32(_D * _E)
    den = sig * np.float32(_A)
    den += np.float32(_B)
    den *= sig
    den += np.float32(_D * _F)
    num /= den
    num -= np.float32(_E / _F)
    sig *= np.float32(hable(PEAK / REFERENCE_WHITE))
    num /= sig
    r *= num
    g *= num
    b *= num

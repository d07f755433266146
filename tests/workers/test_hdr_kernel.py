"""The C kernel that converts HDR (PQ, HLG) and BT.2020 frames to BT.709 SDR in one pass
(kernels.hdr_to_sdr) equals workers.hdr's NumPy reference bit for bit: a tolerance of 0 levels
of the 8-bit output, on every 16-bit sample value, extremes and out-of-gamut colours included."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from workers import hdr, kernels

RNG = np.random.default_rng(20261206)

CONVERSIONS = [
    hdr.ColourConversion("pq", hdr.BT2020, True, False),
    hdr.ColourConversion("pq", hdr.BT2020, True, True),
    hdr.ColourConversion("hlg", hdr.BT2020, True, False),
    hdr.ColourConversion("hlg", hdr.BT2020, True, True),
    hdr.ColourConversion("pq", hdr.MATRICES[1], False, False),  # PQ with BT.709 primaries
    hdr.ColourConversion("hlg", hdr.MATRICES[1], False, True),
    hdr.ColourConversion("sdr", hdr.BT2020, True, False),  # SDR, BT.2020 primaries only
]


def planes(height: int, width: int, bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Y, Cb, Cr of `bits`-deep samples in the top bits of uint16, as swscale gives them: random
    samples over the whole code range, then rows of every extreme combination (black, peak,
    below and above the limited range, the chroma corners: colours far outside both gamuts)."""
    shift = 16 - bits
    top = (1 << bits) - 1
    y, u, v = (RNG.integers(0, top + 1, (height, width), dtype=np.uint16) << shift for _ in "yuv")
    extremes = [0, 1, 16 << (bits - 8), 1 << (bits - 1), 235 << (bits - 8), 240 << (bits - 8)]
    extremes.append(top)
    combos = np.array(list(itertools.product(extremes, repeat=3)), dtype=np.uint16) << shift
    n = min(combos.shape[0], y.size)
    for plane, column in zip((y, u, v), combos.T, strict=True):
        plane.reshape(-1)[:n] = column[:n]
    return y, u, v


def assert_kernel_equals_numpy(
    y: np.ndarray, u: np.ndarray, v: np.ndarray, conversion: hdr.ColourConversion, bits: int
) -> None:
    """The kernel ran (not the fall-back) and its frame is the NumPy reference's, exactly."""
    tables = (hdr._to_light(conversion.transfer), hdr._hlg_gain(), hdr._gamma_table())
    constants = hdr._kernel_constants(conversion, bits)
    transfer = hdr._TRANSFERS[conversion.transfer]
    ours = kernels.hdr_to_sdr((y, u, v), constants, tables, transfer, conversion.wide)
    assert ours is not None
    reference = hdr.numpy_to_sdr(y, u, v, conversion, bits)
    diff = np.abs(ours.astype(int) - reference)
    assert diff.max() == 0, (conversion, bits, int(diff.max()), int((diff > 0).sum()))
    assert np.array_equal(hdr.to_sdr(y, u, v, conversion, bits), reference)


def test_the_kernel_is_built() -> None:
    # A silent fall-back to NumPy would make every HDR frame ten times slower.
    assert kernels.compiled(), kernels.BACKEND


@pytest.mark.parametrize("bits", [10, 12, 16])
@pytest.mark.parametrize("conversion", CONVERSIONS, ids=lambda c: f"{c.transfer}-{c.wide}")
def test_the_kernel_equals_the_numpy_reference(conversion: hdr.ColourConversion, bits: int) -> None:
    # 300 columns: a full block of the kernel's row loop and a partial one.
    y, u, v = planes(70, 300, bits)
    assert_kernel_equals_numpy(y, u, v, conversion, bits)


def test_every_16_bit_code_of_grey_and_of_each_chroma_extreme_matches() -> None:
    """All 65536 luma codes, with neutral and with extreme chroma: each step of the transfer
    tables, the tone curve's whole input range and the clipping at both ends."""
    luma = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    for chroma in (0, 32768, 65535):
        u = np.full_like(luma, chroma)
        v = np.full_like(luma, 65535 - chroma)
        for conversion in CONVERSIONS:
            assert_kernel_equals_numpy(luma, u, v, conversion, 16)


def test_padded_rows_are_read_as_swscale_lays_them_out() -> None:
    """video_source hands over views of planes whose rows are padded (line size > width)."""
    y, u, v = (p[:, :250] for p in planes(40, 288, 10))
    assert not y.flags.c_contiguous
    assert_kernel_equals_numpy(y, u, v, CONVERSIONS[2], 10)


def test_planes_the_kernel_cannot_read_go_to_numpy() -> None:
    """Mixed sizes, other sample types or columns apart are the NumPy path's (which converts or
    raises as before), never read past an array by the C loop."""
    conversion = CONVERSIONS[0]
    y, u, v = planes(8, 12, 10)
    tables = (hdr._to_light("pq"), hdr._hlg_gain(), hdr._gamma_table())
    constants = hdr._kernel_constants(conversion, 10)
    for args in ((y, u[:, :10], v), (y.astype(np.int32), u, v), (y[:, ::2], u[:, ::2], v[:, ::2])):
        assert kernels.hdr_to_sdr(args, constants, tables, 1, True) is None  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        hdr.to_sdr(y, u[:, :10], v, conversion, 10)
    strided = (y[:, ::2], u[:, ::2], v[:, ::2])
    want = hdr.numpy_to_sdr(*strided, conversion, 10)
    assert np.array_equal(hdr.to_sdr(*strided, conversion, 10), want)


def test_numpy_only_renders_with_the_reference() -> None:
    y, u, v = planes(6, 9, 10)
    with kernels.numpy_only():
        assert kernels.hdr_to_sdr((y, u, v), np.zeros(31, np.float32), (), 1, True) is None  # type: ignore[arg-type]

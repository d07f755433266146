"""Stills tagged with an ICC profile (a phone's Display P3 photo) show the colours every browser
and editor shows, converted to sRGB; untagged and sRGB-tagged stills keep their bytes."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageCms

from workers.sources import StillSource

#: Display P3's primaries (CIE xy) and white (D65).
_P3 = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
_D65 = (0.3127, 0.3290)
#: Linear Display P3 to linear sRGB (published, e.g. by the CSS Color 4 specification): the
#: reference the render is held to, computed without LittleCMS.
_P3_TO_SRGB = np.array([[1.2249, -0.2247, 0.0], [-0.0420, 1.0419, 0.0], [-0.0197, -0.0786, 1.0979]])


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(column: npt.NDArray[np.float64]) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(float(v)) for v in column)


def _p3_profile() -> bytes:
    """A matrix/TRC ICC v2 profile of Display P3 (sRGB's curve), built here byte by byte."""
    xy = np.array(_P3)
    primaries = np.stack([xy[:, 0] / xy[:, 1], np.ones(3), (1 - xy.sum(1)) / xy[:, 1]])
    white = np.array([_D65[0] / _D65[1], 1.0, (1 - sum(_D65)) / _D65[1]])
    to_xyz = primaries * np.linalg.solve(primaries, white)
    bradford = np.array(
        [[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]]
    )
    d50 = np.array([0.96422, 1.0, 0.82521])
    scale = np.diag((bradford @ d50) / (bradford @ white))
    to_d50 = np.linalg.inv(bradford) @ scale @ bradford @ to_xyz
    code = np.linspace(0, 1, 1024)
    light = np.where(code <= 0.04045, code / 12.92, ((code + 0.055) / 1.055) ** 2.4)
    curve = b"curv\0\0\0\0" + struct.pack(">I", 1024)
    curve += b"".join(struct.pack(">H", round(v * 65535)) for v in light)
    name = b"Display P3 (test)"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(name) + 1) + name + b"\0" + b"\0" * 79
    tags = [(b"desc", desc), (b"wtpt", _xyz(d50)), (b"cprt", b"text\0\0\0\0none\0")]
    tags += [(s, _xyz(to_d50[:, i])) for i, s in enumerate((b"rXYZ", b"gXYZ", b"bXYZ"))]
    tags += [(s, curve) for s in (b"rTRC", b"gTRC", b"bTRC")]
    offset = 128 + 4 + 12 * len(tags)
    table = data = b""
    for signature, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    header = struct.pack(">I", offset + len(data)) + b"lcms" + struct.pack(">I", 0x02100000)
    header += b"mntrRGB XYZ " + b"\0" * 12 + b"acsp" + b"\0" * 28
    header += _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 48
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


def _p3_in_srgb(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """P3 code values as sRGB code values, out-of-gamut colours clipped."""
    c = codes / 255.0
    light = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    out = np.clip(light @ _P3_TO_SRGB.T, 0.0, 1.0)
    return 255 * np.where(out <= 0.0031308, out * 12.92, 1.055 * out ** (1 / 2.4) - 0.055)


def _pixels() -> npt.NDArray[np.uint8]:
    """Saturated and mid colours, where P3 and sRGB differ most and least."""
    colours = [
        (255, 0, 0),
        (0, 255, 0),
        (0, 0, 255),
        (200, 120, 60),
        (60, 160, 90),
        (128, 128, 128),
    ]
    return np.array(colours, np.uint8)[None].repeat(4, axis=0)


@pytest.mark.parametrize("name", ["photo.png", "photo.webp", "photo.tif"])
def test_a_display_p3_still_is_shown_in_srgb(tmp_path: Path, name: str) -> None:
    pixels = _pixels()
    path = tmp_path / name
    save = {"lossless": True} if name.endswith(".webp") else {}
    Image.fromarray(pixels).save(path, icc_profile=_p3_profile(), **save)
    shown = StillSource(str(path), "photo").picture.rgb.astype(np.float64)
    # Read as if it were sRGB, P3 (200, 120, 60) stayed (200, 120, 60): it is sRGB (213, 115, 42).
    assert np.abs(shown - _p3_in_srgb(pixels)).max() <= 2


def test_a_p3_still_keeps_its_alpha_and_orientation(tmp_path: Path) -> None:
    pixels = _pixels()
    alpha = np.full(pixels.shape[:2], 90, np.uint8)
    alpha[0] = 255
    exif = Image.Exif()
    exif[0x0112] = 3  # turned 180 degrees
    path = tmp_path / "lower-third.png"
    rgba = np.dstack([pixels, alpha])
    Image.fromarray(rgba).save(path, icc_profile=_p3_profile(), exif=exif)
    picture = StillSource(str(path), "lt").picture
    assert picture.alpha is not None
    assert (picture.alpha == alpha[::-1, ::-1]).all()
    assert np.abs(picture.rgb - _p3_in_srgb(pixels)[::-1, ::-1]).max() <= 2


def test_untagged_and_srgb_tagged_stills_keep_their_bytes(tmp_path: Path) -> None:
    pixels = np.random.default_rng(1).integers(0, 256, (16, 16, 3), np.uint8)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for name, extra in (("plain.png", {}), ("srgb.png", {"icc_profile": srgb})):
        Image.fromarray(pixels).save(tmp_path / name, **extra)
        assert (StillSource(str(tmp_path / name), "c").picture.rgb == pixels).all()


def test_a_broken_profile_is_ignored_as_browsers_ignore_it(tmp_path: Path) -> None:
    pixels = _pixels()
    path = tmp_path / "odd.png"
    Image.fromarray(pixels).save(path, icc_profile=b"not a profile at all" * 8)
    assert (StillSource(str(path), "c").picture.rgb == pixels).all()

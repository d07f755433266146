"""Colour management of stills: an image's embedded ICC profile converted to sRGB.

A photo from a phone is tagged Display P3, a camera's JPEG may be Adobe RGB, a print-shop logo
is CMYK with its press profile. Browsers (and so Timeline Studio's preview), Premiere, Final
Cut and every image viewer show such a file through its profile; read as if it were sRGB, a P3
photo's reds and greens came out up to 118 levels off (dull skin, grey-green foliage). The
render is sRGB/BT.709, so a still's colours are converted from its profile to sRGB with
LittleCMS (perceptual intent, as Firefox shows images) before anything else sees them.

A still with no profile, an sRGB one (most files: kept exactly as stored) or one that LittleCMS
cannot read or that does not fit the image's colour model (an RGB profile on a greyscale image)
is shown as stored, as browsers show a file whose profile they cannot use.
"""

from __future__ import annotations

import io

from PIL import Image, ImageCms

#: Pillow modes a profile applies to, by the ICC colour space the profile must declare.
_SPACES = {"RGB": "RGB", "RGBA": "RGB", "CMYK": "CMYK", "L": "GRAY", "LA": "GRAY"}


def to_srgb(image: Image.Image) -> Image.Image:
    """The image's colours converted from its embedded ICC profile to sRGB (RGB, or RGBA when
    it has alpha); the image itself when it has no profile, an sRGB one or one it cannot use."""
    data = image.info.get("icc_profile")
    if not data:
        return image
    if image.mode == "P":  # the profile describes the palette's colours
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    space = _SPACES.get(image.mode)
    if space is None:  # 16-bit or float greyscale: LittleCMS in Pillow takes 8-bit modes only
        return image
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(data))
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # an unreadable profile: shown as stored, as browsers do
    if profile.profile.xcolor_space.strip() != space or _is_srgb(profile):
        return image
    alpha = image.getchannel("A") if image.mode in ("RGBA", "LA") else None
    colour = image.convert("L" if space == "GRAY" else "RGB") if alpha is not None else image
    try:
        converted = ImageCms.profileToProfile(
            colour,
            profile,
            _SRGB,
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
            outputMode="RGB",
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # LittleCMS refused the pair (a malformed table): as stored
    assert converted is not None  # profileToProfile returns None only when inPlace is set
    if alpha is not None:
        converted.putalpha(alpha)
    return converted


def _is_srgb(profile: ImageCms.ImageCmsProfile) -> bool:
    """Whether a profile names itself sRGB (IEC 61966-2.1, a camera's or an OS's copy): the
    render's own space, where a conversion would only cost time."""
    return "srgb" in (profile.profile.profile_description or "").lower()


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))

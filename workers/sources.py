"""Frame-exact access to source media: video files, image sequences, stills and generated ones.

A frame's pixels depend only on the requested source time, never on what was decoded before:
video sources index every packet's presentation time once, seek to the keyframe at or before the
wanted frame and decode forward to exactly that frame (DESIGN 4.2). Times before a source's
first frame show that frame (an OTIO clip may start a few frames before its media); times past
the last frame show the last one.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from chunking.timeline.model import IMAGE_EXTENSIONS, GeneratedSource, ImageSequence
from common.errors import AssetNotFound, DecodeError
from workers.media_open import open_image
from workers.still_colour import to_srgb

if TYPE_CHECKING:
    from workers.video_source import VideoSource

Rgb8 = npt.NDArray[np.uint8]
#: Given a source's display size, the size the caller wants the picture delivered at.
Sizer = Callable[[int, int], tuple[int, int]]
MAX_SOURCE_PIXELS = 8192 * 8192  # refuse larger sources instead of exhausting memory
#: The longest side a still may have (JPEG's own limit). Pillow keeps a pointer and a padded
#: line per row: a 130 KB PNG of 1 x 67,108,864 pixels (under the pixel limit) took 2.3 GB and
#: 8 s to open, in validate too.
MAX_SOURCE_SIDE = 65535

Image.MAX_IMAGE_PIXELS = MAX_SOURCE_PIXELS


class Picture:
    """A decoded source image: uint8 RGB plus optional uint8 alpha."""

    __slots__ = ("alpha", "rgb")

    def __init__(self, rgb: Rgb8, alpha: Rgb8 | None = None) -> None:
        self.rgb = rgb
        self.alpha = alpha


class Cropping:
    """A sizer for the part of a source a clip's crop keeps (given that part's size): a video
    takes the crop off its frame before scaling it (workers.frame_crop); other sources are
    handed the plain sizer and cut by the caller."""

    __slots__ = ("clip_id", "crop", "sizer")

    def __init__(self, sizer: Sizer, crop: Any, clip_id: str) -> None:
        self.sizer = sizer
        self.crop = crop
        self.clip_id = clip_id

    def __call__(self, width: int, height: int) -> tuple[int, int]:
        """The size wanted for a kept part of this size."""
        return self.sizer(width, height)


class Asked:
    """What a source's sizer was asked (the display size) and answered, so that a source keeping
    its last picture can tell whether a later request for the same source frame wants that
    picture: a keyframed clip's size changes from frame to frame while a source frame repeats
    (a 24 fps file on a 30 fps timeline), and a picture handed out at the last frame's size
    would make a frame depend on the frame drawn before it."""

    __slots__ = ("answer", "given", "sizer")

    def __init__(self, sizer: Sizer | None) -> None:
        self.sizer = sizer
        self.given: tuple[int, int] | None = None
        self.answer: tuple[int, int] | None = None

    def __call__(self, width: int, height: int) -> tuple[int, int]:
        """The size the sizer wants for a source of this display size, noted."""
        assert self.sizer is not None
        self.given = (width, height)
        self.answer = self.sizer(width, height)
        return self.answer

    @property
    def cropping(self) -> Cropping | None:
        """The crop the sizer asks to be taken off first (Cropping), or None."""
        return self.sizer if isinstance(self.sizer, Cropping) else None

    @property
    def passed(self) -> Sizer | None:
        """What to hand a decoder as its sizer: this one, or None where there is no sizer."""
        return self if self.sizer is not None else None

    def fits(self, sizer: Sizer | None) -> bool:
        """Whether the picture made for this request is the one ``sizer`` wants (asked again
        of the same display size: the caller's sizer sees every request)."""
        if self.sizer is None or sizer is None:
            return self.sizer is None and sizer is None
        if getattr(self.sizer, "crop", None) != getattr(sizer, "crop", None):
            return False  # the sizes given are of other pictures
        return self.given is not None and sizer(*self.given) == self.answer


class StillSource:
    """A still image shown for the whole clip."""

    def __init__(self, path: str, clip_id: str) -> None:
        try:
            with open_image(path) as opened:
                if opened.width * opened.height > MAX_SOURCE_PIXELS:
                    raise Image.DecompressionBombError(path)  # Pillow only warns up to twice that
                refused = unsupported_still(opened, path)
                if refused is not None:
                    raise DecodeError(f"clip {clip_id!r}: {refused}")
                opened.load()
                img = to_srgb(ImageOps.exif_transpose(opened))
                if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
                    # 16-bit greyscale (PNG, TIFF): Pillow's RGB and RGBA conversions clip it
                    # to white, a PNG's transparent level (tRNS) included.
                    levels = np.asarray(img, dtype=np.uint32)
                    self.picture = _grey(np.minimum((levels + 128) // 257, 255))
                    key = img.info.get("transparency")
                    if isinstance(key, int) and (levels == key).any():
                        self.picture.alpha = np.where(levels == key, 0, 255).astype(np.uint8)
                elif img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
                    rgba = np.asarray(img.convert("RGBA"))
                    alpha = np.ascontiguousarray(rgba[:, :, 3])
                    self.picture = Picture(
                        np.ascontiguousarray(rgba[:, :, :3]), None if alpha.min() == 255 else alpha
                    )
                elif img.mode == "F":
                    # Float greyscale means 0 (black) to 1 (white); Pillow's RGB conversion
                    # truncates every value below 1 to black.
                    level = np.nan_to_num(np.asarray(img, dtype=np.float32), nan=0.0)
                    self.picture = _grey(np.rint(np.clip(level, 0.0, 1.0) * 255))
                else:
                    self.picture = Picture(np.asarray(img.convert("RGB")))
        except FileNotFoundError:
            raise AssetNotFound(f"clip {clip_id!r}: media file not found: {path}") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise DecodeError(
                f"clip {clip_id!r}: image is too large (over {MAX_SOURCE_PIXELS} pixels): {path}"
            ) from None
        except (OSError, ValueError, SyntaxError) as exc:
            raise DecodeError(f"clip {clip_id!r}: cannot decode image {path}: {exc}") from None

        self._sized: tuple[tuple[int, int], Picture] | None = None

    def picture_at(
        self, seconds: Fraction, sizer: Sizer | None = None, step: Fraction = Fraction(0)
    ) -> Picture:
        """The image (the same at every time), resized once per requested size."""
        return _sized(self, sizer)

    def close(self) -> None:
        """Nothing to release."""


def unsupported_still(image: Image.Image, path: str) -> str | None:
    """Why a still opened but not yet decoded cannot be shown (None when it can): a side over
    MAX_SOURCE_SIDE; 32-bit integer greyscale, which has no agreed white (Pillow reads it as
    0-255, scanners fill 0-2^32)."""
    if max(image.size) > MAX_SOURCE_SIDE:
        return (
            f"image is too large ({image.width}x{image.height}: over {MAX_SOURCE_SIDE} pixels "
            f"on a side): {path}"
        )
    if image.mode != "I" or "16" in _raw_mode(image):
        return None
    return (
        f"32-bit integer greyscale images are not supported: {path} "
        "(save it with 8 or 16 bits per sample, or as 32-bit float from 0 to 1)"
    )


def _raw_mode(image: Image.Image) -> str:
    """How the file stores its samples ("I;16B", "I;32S"), from its first tile; "" unknown."""
    tiles = getattr(image, "tile", None)  # an ImageFile's, before it is loaded
    if not tiles:
        return ""
    args = tiles[0][3]
    return str(args[0] if isinstance(args, tuple) and args else args)


def _grey(levels: npt.NDArray[Any]) -> Picture:
    """A picture of 0-255 grey levels, as RGB."""
    return Picture(np.repeat(levels.astype(np.uint8)[:, :, None], 3, axis=2))


class GeneratedPicture:
    """A solid colour or test pattern at the canvas size."""

    def __init__(self, source: GeneratedSource, width: int, height: int) -> None:
        r, g, b, a = source.color
        if source.kind == "color":
            rgb = np.empty((height, width, 3), dtype=np.uint8)
            rgb[...] = (r, g, b)
        else:
            rgb = _pattern(source.pattern, width, height)
        alpha = None
        if a < 255:
            alpha = np.full((height, width), a, dtype=np.uint8)
        self.picture = Picture(rgb, alpha)
        self._sized: tuple[tuple[int, int], Picture] | None = None

    def picture_at(
        self, seconds: Fraction, sizer: Sizer | None = None, step: Fraction = Fraction(0)
    ) -> Picture:
        """The generated image (the same at every time), resized once per requested size."""
        return _sized(self, sizer)

    def close(self) -> None:
        """Nothing to release."""


def open_file(
    path: str,
    clip_id: str,
    sequence: ImageSequence | None = None,
    threads: int | None = None,
    deinterlace: bool = True,
) -> StillSource | VideoSource:
    """Open a file source as an image sequence (``path`` its first image), a still image or a
    video, by its extension; `threads` caps a video's decoder threads (None: FFmpeg's choice),
    `deinterlace` says whether an interlaced video is deinterlaced."""
    if sequence is not None:
        # Imported here: an image sequence is built from this module's stills and pictures.
        from workers.sequences import SequenceSource

        return SequenceSource(path, sequence, clip_id)
    from workers.video_source import VideoSource  # it builds on this module's pictures

    if not os.path.isfile(path):
        raise AssetNotFound(f"clip {clip_id!r}: media file not found: {path}")
    if not os.access(path, os.R_OK):
        raise AssetNotFound(f"clip {clip_id!r}: media file is not readable: {path}")
    if is_still(path):
        return StillSource(path, clip_id)
    video = VideoSource(path, clip_id, threads, deinterlace)
    collapsed = collapsed_times(video.pts, path)
    if collapsed is not None:
        video.close()
        raise DecodeError(f"clip {clip_id!r}: {collapsed}")
    return video


def collapsed_times(pts: list[int], path: str) -> str | None:
    """Why a video's frame times (its packets', sorted) cannot place its frames, or None:
    many frames sharing one time (a broken time table) would play as a frozen picture."""
    shared = sum(n for n in Counter(pts).values() if n > 1)
    if shared <= max(2, len(pts) // 10):
        return None  # a stray duplicate (a capture's glitch) costs a frame, not the clip
    return (
        f"the frame times of {path} collapse: {shared} of its {len(pts)} frames share "
        "times, so it would play as a frozen picture (its timing table is broken: re-export it)"
    )


def is_still(path: str) -> bool:
    """Whether a file is shown as a still picture read by Pillow: an image by its name, unless
    it is an animated GIF, which plays as a video, or a TIFF only FFmpeg reads (a one-frame
    video then)."""
    extension = os.path.splitext(path)[1].lower()
    if extension == ".gif":
        return not _animated(path)
    if extension in (".tif", ".tiff"):
        return not _tiff_for_ffmpeg(path)
    return extension in IMAGE_EXTENSIONS


#: The first bytes of a TIFF file (little- and big-endian).
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*")


def _tiff_for_ffmpeg(path: str) -> bool:
    """Whether a file is a TIFF whose layout Pillow does not read (16-bit grey with alpha),
    which FFmpeg's TIFF reader may."""
    try:
        with open_image(path):
            return False
    except UnidentifiedImageError:
        try:
            with open(path, "rb") as file:
                return file.read(4) in _TIFF_MAGIC
        except OSError:
            return False
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning):
        return False  # StillSource reports what is wrong with it


def _animated(path: str) -> bool:
    """Whether an image file holds more than one frame (an animated GIF plays as a video)."""
    try:
        with open_image(path) as opened:
            return bool(getattr(opened, "is_animated", False))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning):
        return False  # StillSource reports what is wrong with it


def _sized(source: StillSource | GeneratedPicture, sizer: Sizer | None) -> Picture:
    """A still source's picture at the size the sizer asks for, resized once and kept."""
    if sizer is None:
        return source.picture
    height, width = source.picture.rgb.shape[:2]
    size = sizer(width, height)
    if source._sized is None or source._sized[0] != size:
        source._sized = (size, resize(source.picture, *size))
    return source._sized[1]


def resize(picture: Picture, out_w: int, out_h: int) -> Picture:
    """Resize a picture (bilinear, antialiased when shrinking); a no-op at its own size."""
    src_h, src_w = picture.rgb.shape[:2]
    if (src_w, src_h) == (out_w, out_h):
        return picture
    if picture.alpha is None:
        rgb = Image.fromarray(picture.rgb).resize((out_w, out_h), Image.Resampling.BILINEAR)
        return Picture(np.asarray(rgb))
    rgba = rgba_image(picture).resize((out_w, out_h), Image.Resampling.BILINEAR)
    return split_rgba(np.asarray(rgba))


def rgba_image(picture: Picture) -> Image.Image:
    """The picture as one Pillow RGBA image (opaque where it has no alpha)."""
    # Pillow's own band copy: four times quicker than interleaving the bands with numpy
    # (1080p: 4 ms against 15, every frame of a keyed or rotated clip).
    image = Image.fromarray(picture.rgb)
    image.putalpha(255 if picture.alpha is None else Image.fromarray(picture.alpha))
    return image


def split_rgba(rgba: Rgb8) -> Picture:
    """Split an RGBA array into a picture, dropping alpha that is opaque everywhere."""
    alpha = np.ascontiguousarray(rgba[:, :, 3])
    return Picture(np.ascontiguousarray(rgba[:, :, :3]), None if alpha.min() == 255 else alpha)


def _pattern(name: str, width: int, height: int) -> Rgb8:
    x = np.arange(width)
    y = np.arange(height)
    if name == "checker":
        cell = max(8, min(width, height) // 8)
        on = ((x[None, :] // cell + y[:, None] // cell) % 2).astype(np.uint8) * 255
        return np.repeat(on[:, :, None], 3, axis=2)
    if name == "gradient":
        ramp = (x * 255 // max(width - 1, 1)).astype(np.uint8)
        return np.ascontiguousarray(np.broadcast_to(ramp[None, :, None], (height, width, 3)))
    if name == "grid":
        img = np.zeros((height, width, 3), dtype=np.uint8)
        step = max(8, min(width, height) // 10)
        img[:, x % step == 0] = 255
        img[y % step == 0, :] = 255
        return img
    bars = np.array(
        [
            [192, 192, 192],
            [192, 192, 0],
            [0, 192, 192],
            [0, 192, 0],
            [192, 0, 192],
            [192, 0, 0],
            [0, 0, 192],
        ],
        dtype=np.uint8,
    )
    columns = bars[np.minimum(x * 7 // width, 6)]
    return np.ascontiguousarray(np.broadcast_to(columns[None, :, :], (height, width, 3)))

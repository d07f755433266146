"""Frame-exact access to source media: video files, image sequences, stills and generated ones.

A frame's pixels depend only on the requested source time, never on what was decoded before:
video sources index every packet's presentation time once, seek to the keyframe at or before the
wanted frame and decode forward to exactly that frame (DESIGN 4.2). Times before a source's
first frame show that frame (an OTIO clip may start a few frames before its media); times past
the last frame show the last one.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

from chunking.timeline.model import IMAGE_EXTENSIONS, GeneratedSource, ImageSequence
from common.errors import AssetNotFound, DecodeError, MediaError
from workers.media_open import open_image, open_media, reason
from workers.pipeline import Ahead
from workers.video_index import video_index

Rgb8 = npt.NDArray[np.uint8]
#: Given a source's display size, the size the caller wants the picture delivered at.
Sizer = Callable[[int, int], tuple[int, int]]
MAX_SOURCE_PIXELS = 8192 * 8192  # refuse larger sources instead of exhausting memory
#: Decode forward instead of seeking when the wanted frame is at most this many frames ahead.
FORWARD_DECODE_LIMIT = 48
#: Frames a source decodes ahead, in its own thread, while it is read forward.
DECODE_AHEAD = 2

Image.MAX_IMAGE_PIXELS = MAX_SOURCE_PIXELS
#: Keyframes further back a seek may go when the container lands past the one asked for.
MAX_SEEK_BACK = 8


class Picture:
    """A decoded source image: uint8 RGB plus optional uint8 alpha."""

    __slots__ = ("alpha", "rgb")

    def __init__(self, rgb: Rgb8, alpha: Rgb8 | None = None) -> None:
        self.rgb = rgb
        self.alpha = alpha


class StillSource:
    """A still image shown for the whole clip."""

    def __init__(self, path: str, clip_id: str) -> None:
        try:
            with open_image(path) as opened:
                opened.load()
                img = ImageOps.exif_transpose(opened)
                if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
                    rgba = np.asarray(img.convert("RGBA"))
                    alpha = np.ascontiguousarray(rgba[:, :, 3])
                    self.picture = Picture(
                        np.ascontiguousarray(rgba[:, :, :3]), None if alpha.min() == 255 else alpha
                    )
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

    def picture_at(self, seconds: Fraction, sizer: Sizer | None = None) -> Picture:
        """The image (the same at every time), resized once per requested size."""
        return _sized(self, sizer)

    def close(self) -> None:
        """Nothing to release."""


class VideoSource:
    """A video file decoded frame-exactly at any source time."""

    def __init__(self, path: str, clip_id: str, threads: int | None = None) -> None:
        self.path = path
        self.clip_id = clip_id
        self.container: Any = None
        try:
            self.container = open_media(path)
        except MediaError as exc:
            raise type(exc)(f"clip {clip_id!r}: {exc}") from None
        try:
            streams = self.container.streams.video
            if not streams:
                raise DecodeError(f"clip {clip_id!r}: no video stream in {path}")
            self.stream = streams[0]
            set_decoder_threads(self.stream, threads)
            ctx = self.stream.codec_context
            if (ctx.width or 0) * (ctx.height or 0) > MAX_SOURCE_PIXELS:
                raise DecodeError(
                    f"clip {clip_id!r}: video frames are too large "
                    f"({ctx.width}x{ctx.height}): {path}"
                )
            self.index = video_index(self.container, self.stream, path)
            stat = os.stat(path)
            self._file_key = (path, stat.st_size, stat.st_mtime_ns, self.stream.index)
            self.pts, self.keyframes = self.index.pts, self.index.keyframes
        except (av.error.FFmpegError, OSError) as exc:
            self.close()
            raise DecodeError(f"clip {clip_id!r}: cannot open {path}: {reason(exc)}") from None
        except DecodeError:
            self.close()
            raise
        if not self.pts:
            self.close()
            raise DecodeError(f"clip {clip_id!r}: no video frames in {path}")
        self.time_base = Fraction(self.stream.time_base)
        self.first = self.pts[0]
        self._frames: Ahead[Any] | None = None
        self._last_pts: int | None = None
        #: keyframes a seek goes further back than the one it wants (see _decode_frame)
        self._seek_back = 0
        # A source serves one clip, whose layout never changes, so pts and "sized or not" key it.
        self._cache: tuple[int, bool, Picture] | None = None
        #: Decoded frames this source shares with others reading the same file (see share).
        self._shared: dict[tuple[str, int, int, int], tuple[int, Any]] | None = None

    def share(self, decoded: dict[tuple[str, int, int, int], tuple[int, Any]]) -> None:
        """Share the last decoded frame of each file with the other sources given this dict.

        Two clips showing the same footage at the same moment (a blurred fill behind the
        picture, a picture-in-picture of the shot it sits on, a glow layer) then decode it once:
        a frame is the same whichever decoder produced it (every decode starts at a keyframe).
        """
        self._shared = decoded

    @property
    def duration(self) -> Fraction:
        """Time from the first frame to the end of the last one, in seconds."""
        step = self.pts[-1] - self.pts[-2] if len(self.pts) > 1 else 1
        return (self.pts[-1] + step - self.first) * self.time_base

    def picture_at(self, seconds: Fraction, sizer: Sizer | None = None) -> Picture:
        """The frame shown at this many seconds from the source's first frame."""
        # Before the first frame (a negative time) the first frame is held.
        wanted = self.index.shown_at(seconds)
        if self._cache is not None and self._cache[:2] == (wanted, sizer is None):
            return self._cache[2]
        picture = self._decode(wanted, sizer)
        self._cache = (wanted, sizer is None, picture)
        return picture

    def _decode(self, wanted: int, sizer: Sizer | None) -> Picture:
        if self._shared is not None:
            hit = self._shared.get(self._file_key)
            if hit is not None and hit[0] == wanted:
                return _picture(hit[1], sizer)
        while True:
            frame = self._decode_frame(wanted)
            if frame is not None:
                if self._shared is not None:
                    self._shared[self._file_key] = (wanted, frame)
                return _picture(frame, sizer)

    def _decode_frame(self, wanted: int) -> Any:
        """The decoded frame at `wanted`, or None when the seek landed past it (MPEG-TS and
        MPEG-PS land a keyframe late): the next call seeks a keyframe further back."""
        # Past MAX_SEEK_BACK keyframes back, from the file's start (None).
        back = self._seek_back
        key = self.index.keyframe(wanted, back) if back <= MAX_SEEK_BACK else None
        ahead = bisect.bisect_left(self.pts, wanted) - bisect.bisect_left(
            self.pts, self._last_pts if self._last_pts is not None else -(2**62)
        )
        seeking = (
            self._frames is None
            or self._last_pts is None
            or self._last_pts >= wanted
            or (key is not None and key > self._last_pts and ahead > FORWARD_DECODE_LIMIT)
        )
        if seeking:
            self._seek(key)
        else:
            # Read forward a second time: the next frames are likely wanted too, so they are
            # decoded while this one is composited (a reversed clip seeks every frame instead).
            assert self._frames is not None
            self._frames.run_ahead()
        assert self._frames is not None
        try:
            for frame in self._frames:
                if frame.pts is None:
                    continue
                landed_late = seeking and self._last_pts is None and frame.pts > wanted
                self._last_pts = frame.pts
                if frame.pts == wanted:
                    return frame
                if landed_late and key is not None:
                    self._seek_back += 1
                    self._drop_frames()
                    return None
                if frame.pts > wanted:
                    break
        except av.error.FFmpegError as exc:
            self._drop_frames()
            raise DecodeError(
                f"clip {self.clip_id!r}: corrupt video in {self.path}: {reason(exc)}"
            ) from None
        self._drop_frames()
        if seeking and self._last_pts is None and key is not None:
            # The seek landed past the stream's last keyframe: nothing came out at all.
            self._seek_back += 1
            return None
        raise DecodeError(
            f"clip {self.clip_id!r}: frame at {float(wanted * self.time_base):.3f}s "
            f"cannot be decoded from {self.path}"
        )

    def _drop_frames(self) -> None:
        """Stop decoding (its thread too): the container is free for a seek or to close."""
        if self._frames is not None:
            self._frames.close()
            self._frames = None

    def _seek(self, key: int | None) -> None:
        """Seek to the keyframe at `key`, or to the file's start for None."""
        self._drop_frames()
        try:
            if key is None:
                self.container.seek(0)
            else:
                self.container.seek(key, stream=self.stream, backward=True, any_frame=False)
        except av.error.FFmpegError as exc:
            raise DecodeError(
                f"clip {self.clip_id!r}: cannot seek in {self.path}: {reason(exc)}"
            ) from None
        self._frames = Ahead(self.container.decode(self.stream), DECODE_AHEAD, name="decoder")
        self._last_pts = None

    def close(self) -> None:
        """Release the file (and the frame it shares, which other readers decode again)."""
        shared = getattr(self, "_shared", None)
        if shared is not None:
            shared.pop(self._file_key, None)
        if getattr(self, "_frames", None) is not None:
            self._drop_frames()
        if self.container is not None:
            self.container.close()
            self.container = None


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

    def picture_at(self, seconds: Fraction, sizer: Sizer | None = None) -> Picture:
        """The generated image (the same at every time), resized once per requested size."""
        return _sized(self, sizer)

    def close(self) -> None:
        """Nothing to release."""


def set_decoder_threads(stream: Any, threads: int | None) -> None:
    """Decode a video stream on FFmpeg's threads, at most `threads` of them (None: its choice).

    A render slot passes its share of the cores: the chunks beside it use the rest, and each
    idle frame thread would hold its own reference pictures (H.264 decodes the same pictures
    whatever the thread count)."""
    stream.thread_type = "AUTO"
    if threads:
        stream.codec_context.thread_count = threads


def open_file(
    path: str, clip_id: str, sequence: ImageSequence | None = None, threads: int | None = None
) -> StillSource | VideoSource:
    """Open a file source as an image sequence (``path`` its first image), a still image or a
    video, by its extension; `threads` caps a video's decoder threads (None: FFmpeg's choice)."""
    if sequence is not None:
        # Imported here: an image sequence is built from this module's stills and pictures.
        from workers.sequences import SequenceSource

        return SequenceSource(path, sequence, clip_id)
    if not os.path.isfile(path):
        raise AssetNotFound(f"clip {clip_id!r}: media file not found: {path}")
    if not os.access(path, os.R_OK):
        raise AssetNotFound(f"clip {clip_id!r}: media file is not readable: {path}")
    if os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS:
        return StillSource(path, clip_id)
    return VideoSource(path, clip_id, threads)


def _picture(frame: Any, sizer: Sizer | None) -> Picture:
    turns = round((frame.rotation or 0) / 90) % 4
    if sizer is None:
        rgb = frame.to_ndarray(format="rgb24")
    else:
        width, height = frame.width, frame.height
        out_w, out_h = sizer(*((height, width) if turns % 2 else (width, height)))
        if turns % 2:
            out_w, out_h = out_h, out_w
        # One swscale pass converts and scales: cheaper than full-size RGB plus a resize.
        rgb = frame.reformat(
            width=out_w, height=out_h, format="rgb24", interpolation="BILINEAR"
        ).to_ndarray()
    if turns:
        # The display matrix rotates counter-clockwise; np.rot90 with k > 0 does too.
        rgb = np.ascontiguousarray(np.rot90(rgb, k=turns))
    return Picture(rgb)


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
    rgba = Image.fromarray(rgba_of(picture)).resize((out_w, out_h), Image.Resampling.BILINEAR)
    return split_rgba(np.asarray(rgba))


def rgba_of(picture: Picture) -> Rgb8:
    """The picture as one H x W x 4 array (opaque where it has no alpha)."""
    h, w = picture.rgb.shape[:2]
    out = np.empty((h, w, 4), dtype=np.uint8)
    out[:, :, :3] = picture.rgb
    out[:, :, 3] = 255 if picture.alpha is None else picture.alpha
    return out


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

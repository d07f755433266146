"""Video files as frame-exact sources: seek to the keyframe at or before the wanted frame and
decode forward to exactly that frame (DESIGN 4.2), from the frame index ``workers.video_index``
reads once per file; the picture each frame shows is workers.frame_picture's.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import av

from common.errors import DecodeError, MediaError
from workers.deinterlace import deinterlaced, interlacing
from workers.frame_crop import cropped_picture
from workers.frame_picture import frame_picture
from workers.media_open import picture_stream, reason, seek_keyframe, seek_reason
from workers.open_watchdog import open_watched
from workers.packet_decode import frames_of
from workers.preroll import can_skip, decoded_until
from workers.sources import MAX_SOURCE_PIXELS, Asked, Picture, Sizer
from workers.video_index import counted_order, video_index
from workers.video_orientation import Orientation, stream_orientation

#: Decode forward instead of seeking when the wanted frame is at most this many frames ahead.
FORWARD_DECODE_LIMIT = 48
#: Keyframes further back a seek may go when the container lands past the one asked for.
MAX_SEEK_BACK = 8


class VideoSource:
    """A video file decoded frame-exactly at any source time."""

    def __init__(
        self, path: str, clip_id: str, threads: int | None = None, deinterlace: bool = True
    ) -> None:
        self.path = path
        self.clip_id = clip_id
        #: the slot's thread budget, which the deinterlacing filter keeps to as well
        self._threads = threads
        self.container: Any = None
        try:
            # Watched: a source on a stuck mount hung the render for ever (workers.open_watchdog).
            self.container = open_watched(path)
        except MediaError as exc:
            raise type(exc)(f"clip {clip_id!r}: {exc}") from None
        try:
            self.stream = picture_stream(self.container)
            if self.stream is None:
                raise DecodeError(f"clip {clip_id!r}: no video stream in {path}")
            if self.stream.codec_context is None:  # a damaged or unknown sample entry's codec
                raise DecodeError(f"clip {clip_id!r}: no decoder for the video codec of {path}")
            set_decoder_threads(self.stream, threads)
            ctx = self.stream.codec_context
            if (ctx.width or 0) * (ctx.height or 0) > MAX_SOURCE_PIXELS:
                raise DecodeError(
                    f"clip {clip_id!r}: video frames are too large "
                    f"({ctx.width}x{ctx.height}): {path}"
                )
            self.index = video_index(self.container, self.stream, path)
            self._file_key = self.index.file
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
        self.first = self.index.first
        self.aspect = pixel_aspect(self.stream)
        # AVI has no presentation times: reordered (B-frame) codecs are numbered as shown.
        self._counted = counted_order(self.container, self.stream) is not None
        self._alpha_decoder = _alpha_decoder(self.stream)
        #: whether a seek's pre-roll may skip non-reference pictures (workers.preroll)
        self._skips = can_skip(self.stream)
        # Decoded in the compositor's thread: a decoding thread of its own measured no faster
        # and 8 % more CPU in a render slot (docs/benchmarks.md).
        self._frames: Iterator[Any] | None = None
        #: how a deinterlaced stream is interlaced (workers.deinterlace.interlacing), else None
        self.fields: str | None = None
        declared = interlacing(self.stream, self._first_frame)
        self.fields = declared if deinterlace else None
        #: an interlaced stream shown as decoded: its frames are not those other readers share
        self._as_decoded = declared is not None and not deinterlace
        self._orient: Orientation | None = None
        self._last_pts: int | None = None
        #: keyframes a seek goes further back than the one it wants (see _decode_frame)
        self._seek_back = 0
        # The last picture handed out: its frame's pts, the frame, the size asked, the picture.
        self._cache: tuple[int, Any, Asked, Picture] | None = None
        #: Decoded frames this source shares with others reading the same file (see share).
        self._shared: dict[tuple[str, int, int, int], tuple[int, Any]] | None = None

    def _first_frame(self) -> Any:
        """The file's first decoded frame (None where it has none or it cannot be decoded)."""
        try:
            self._seek(None)
            assert self._frames is not None
            return next(self._frames, None)
        except (av.error.FFmpegError, DecodeError):
            return None  # decoding reports the damage, naming the clip
        finally:
            self._drop_frames()

    def share(self, decoded: dict[tuple[str, int, int, int], tuple[int, Any]]) -> None:
        """Share the last decoded frame of each file with the other sources given this dict.

        Two clips showing the same footage at the same moment (a blurred fill behind the
        picture, a picture-in-picture of the shot it sits on, a glow layer) then decode it once:
        a frame is the same whichever decoder produced it (every decode starts at a keyframe).
        """
        if not self._as_decoded:
            self._shared = decoded

    @property
    def duration(self) -> Fraction:
        """Time from the first frame to the end of the last one, in seconds."""
        times = self.index.times
        step = times[-1] - times[-2] if len(times) > 1 else 1
        return (times[-1] + step - self.first) * self.time_base

    def picture_at(
        self, seconds: Fraction, sizer: Sizer | None = None, step: Fraction = Fraction(0)
    ) -> Picture:
        """The frame shown over an output frame at this many seconds from the source's first
        frame that lasts `step` seconds of the source (VideoIndex.shown_at)."""
        # Before the first frame (a negative time) the first frame is held.
        wanted = self.index.shown_at(seconds, step)
        cached = self._cache
        if cached is not None and cached[0] == wanted:
            if cached[2].fits(sizer):
                return cached[3]
            frame = cached[1]  # the same frame at another size (a keyframed clip): no decode
        else:
            frame = self._decode(wanted)
        asked = Asked(sizer)
        picture = self.picture_of(frame, asked)
        self._cache = (wanted, frame, asked, picture)
        return picture

    def _decode(self, wanted: int) -> Any:
        """The decoded frame at `wanted` (another reader's of the same file, where shared)."""
        if self._shared is not None:
            hit = self._shared.get(self._file_key)
            if hit is not None and hit[0] == wanted:
                return hit[1]
        while True:
            frame = self._decode_frame(wanted)
            if frame is not None:
                if self._shared is not None:
                    self._shared[self._file_key] = (wanted, frame)
                return frame

    # -- reverse playback's hooks (workers.reverse_source decodes GOP by GOP backwards) -------

    def frame_of(self, pts: int) -> Any:
        """The decoded frame at presentation time `pts` (one of ``self.pts``): decoded on from
        where the decoder stands when that is before it, else from the keyframe before it."""
        while True:
            frame = self._decode_frame(pts)
            if frame is not None:
                return frame

    def picture_of(self, frame: Any, asked: Asked) -> Picture:
        """The picture a frame of this stream (``frame_of``) shows, at the size ``asked`` for
        (less the crop it asks to take off: workers.frame_crop)."""
        orient = self._orientation(frame)
        cut = asked.cropping
        if cut is not None and not cut.crop.is_identity():
            return cropped_picture(frame, cut.crop, cut.clip_id, asked, self.aspect, orient)
        return frame_picture(frame, asked.passed, self.aspect, orient)

    # ------------------------------------------------------------------------------------------

    def _orientation(self, frame: Any) -> Orientation:
        """The stream's orientation, found once from the first frame's reported rotation."""
        if self._orient is None:
            rotation = frame.rotation or 0
            self._orient = stream_orientation(self.path, self.stream.index, rotation)
        return self._orient

    def _decode_frame(self, wanted: int) -> Any:
        """The decoded frame at `wanted`, or None when the seek landed past it (MPEG-TS and
        MPEG-PS land a keyframe late): the next call seeks a keyframe further back."""
        # Past MAX_SEEK_BACK keyframes back, from the file's start (None).
        back = self._seek_back
        first = self._first_needed(wanted)
        key = self.index.keyframe(first, back) if back <= MAX_SEEK_BACK else None
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
            self._seek(key, first)
        assert self._frames is not None
        try:
            for frame in self._frames:
                if frame.pts is None:
                    continue
                landed_late = seeking and self._last_pts is None and frame.pts > first
                self._last_pts = frame.pts
                if (
                    frame.is_corrupt
                    and frame.pts <= wanted
                    and (not seeking or key is None or frame.pts >= key)
                ):
                    # Concealed from the picture before it, which a decode that starts here
                    # does not have: the frame, and all that build on it, would depend on
                    # where a chunk starts. (Frames shown before the keyframe are no base.)
                    self._drop_frames()
                    raise DecodeError(
                        f"clip {self.clip_id!r}: corrupt video at "
                        f"{float((frame.pts - self.first) * self.time_base):.3f}s in {self.path}: "
                        "the decoder had to conceal damage there (repair or re-export the file)"
                    )
                if landed_late and key is not None:
                    self._seek_back += 1
                    self._drop_frames()
                    return None
                if frame.pts == wanted:
                    return frame
                if frame.pts > wanted:
                    break
        except av.error.FFmpegError as exc:
            self._drop_frames()
            if seeking and self._last_pts is None and key is not None:
                # Nothing decodes from this keyframe: libvpx's alpha plane is a stream of its
                # own, whose keyframes need not be the picture's (a realtime VP9 encode), so
                # a chunk starting there failed where the whole render did not. As for a
                # late landing, start a keyframe further back (the file's start at worst).
                self._seek_back += 1
                return None
            raise DecodeError(
                f"clip {self.clip_id!r}: corrupt video at about {self._damage_at(key):.3f}s in "
                f"{self.path}: {reason(exc)} (repair or re-export the file)"
            ) from None
        self._drop_frames()
        if seeking and self._last_pts is None and key is not None:
            # The seek landed past the stream's last keyframe: nothing came out at all.
            self._seek_back += 1
            return None
        raise DecodeError(f"clip {self.clip_id!r}: {self.index.missing_frame(wanted, self.path)}")

    def _damage_at(self, key: int | None) -> float:
        """Seconds into the clip's media of the frame after the last one decoded (of `key`,
        where the decode started, if none was): where the damage that stopped it is."""
        if self._last_pts is None:
            at = key if key is not None else self.pts[0]
        else:
            after = bisect.bisect_right(self.pts, self._last_pts)
            at = self.pts[min(after, len(self.pts) - 1)]
        return float(max(0, at - self.first) * self.time_base)

    def _first_needed(self, wanted: int) -> int:
        """The first frame a decode for `wanted` must give: the one before it when the stream
        is deinterlaced, which the filter reads to make `wanted` (workers.deinterlace)."""
        if self.fields is None:
            return wanted
        return self.pts[max(0, bisect.bisect_left(self.pts, wanted) - 1)]

    def _drop_frames(self) -> None:
        """Forget the decoding position: the next frame seeks."""
        self._frames = None

    def _seek(self, key: int | None, until: int | None = None) -> None:
        """Seek to the keyframe at `key`, or to the file's start for None; the frames shown
        before `until` are wanted by no one (workers.preroll skips what it can of them)."""
        self._drop_frames()
        try:
            if key is None and self.pts[0] < 0:
                # A stream that starts before time 0 (an MPEG-TS across the 33-bit wrap, which
                # FFmpeg unwraps to a negative start): seek(0) lands seconds into it.
                self.container.seek(-(2**62), stream=self.stream, backward=True, any_frame=False)
            elif key is None:
                seek_keyframe(self.container)
            else:
                seek_keyframe(self.container, self.index.seek_point(key), self.stream)
        except av.error.FFmpegError as exc:
            raise DecodeError(
                f"clip {self.clip_id!r}: cannot seek in {self.path}: {seek_reason(exc)}"
            ) from None
        self._frames = self._decoded(until)
        if self._counted:
            self._frames = self._numbered(self._frames, key)
        if self.fields is not None:
            self._frames = deinterlaced(self._frames, self.time_base, self._threads)
        self._last_pts = None

    def _numbered(self, frames: Iterator[Any], key: int | None) -> Iterator[Any]:
        """Frames in the order they are shown, given the times of the index from `key` on:
        AVI holds no presentation times, and FFmpeg gives H.264's reordered frames the
        decode-order counters AVI has instead."""
        index = bisect.bisect_left(self.pts, key) if key is not None else 0
        for count, frame in enumerate(frames):
            if count == 0 and key is not None and frame.pts is not None and frame.pts > key:
                # The seek landed past the keyframe asked for (an AVI without its index, cut
                # short): numbered from `key`, every frame would be a GOP off. A time past the
                # last makes _decode_frame seek a keyframe further back.
                frame.pts = self.pts[-1] + 1
            elif index < len(self.pts):
                frame.pts = self.pts[index]
            index += 1
            yield frame

    def _decoded(self, until: int | None = None) -> Iterator[Any]:
        """The stream's frames from where the container stands (but the non-reference ones
        shown before `until`, where that is safe): FFmpeg's own VP8/VP9 decoder drops the
        alpha a WebM keeps beside each frame, which libvpx's decodes."""
        where = f"clip {self.clip_id!r}: {self.path}"
        if self._alpha_decoder is None:
            # Not where frames are counted (AVI's numbering counts every frame decoded) nor
            # deinterlaced (the filter is fed every frame).
            if until is not None and self._skips and not self._counted and self.fields is None:
                return decoded_until(self.container, self.stream, until, where)
            # What container.decode does, packet by packet: bounded in silent packets.
            return frames_of(self.container.demux(self.stream), lambda p: p.decode(), where)
        decoder = self._alpha_decoder
        decoder.flush_buffers()
        return frames_of(self.container.demux(self.stream), decoder.decode, where)

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


def set_decoder_threads(stream: Any, threads: int | None) -> None:
    """Decode a video stream on FFmpeg's threads, at most `threads` of them (None: its choice).

    A render slot passes its share of the cores: the chunks beside it use the rest, and each
    idle frame thread would hold its own reference pictures (H.264 decodes the same pictures
    whatever the thread count)."""
    stream.thread_type = "AUTO"
    if threads:
        stream.codec_context.thread_count = threads


def _alpha_decoder(stream: Any) -> Any:
    """libvpx's decoder for a VP8/VP9 stream with alpha (WebM's ``alpha_mode``), else None."""
    mode = {k.lower(): v for k, v in stream.metadata.items()}.get("alpha_mode")
    name = {"vp8": "libvpx", "vp9": "libvpx-vp9"}.get(stream.codec_context.name)
    if mode != "1" or name is None or name not in av.codecs_available:
        return None
    return av.CodecContext.create(name, "r")


def pixel_aspect(stream: Any) -> Fraction:
    """A video stream's pixel aspect ratio (1 where unset or implausible)."""
    for owner in (stream, stream.codec_context):
        ratio = getattr(owner, "sample_aspect_ratio", None)
        if ratio and Fraction(1, 4) <= Fraction(ratio) <= 4:
            return Fraction(ratio)
    return Fraction(1)

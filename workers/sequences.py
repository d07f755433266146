"""Image sequences: numbered still images decoded as one video source.

Image ``n`` of an :class:`~chunking.timeline.model.ImageSequence` is the file
``sequence.name(n)`` beside the first image and shows from ``n / rate`` seconds; before 0 the
first image is held, past the end the last. Images in Pillow's formats are read as stills are;
others (EXR, DPX) go through FFmpeg's single-image readers. A missing image stops the render
with an error naming that file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from fractions import Fraction

import av
import av.error

from chunking.timeline.model import Clip, FileSource, ImageSequence, Timeline
from common.errors import AssetNotFound, DecodeError, MediaError
from workers.frame_picture import frame_picture
from workers.media_open import open_media, reason
from workers.probe_ranges import source_sample
from workers.sources import Asked, Picture, Sizer, StillSource, is_still
from workers.video_source import VideoSource

#: Added before flooring a time to an image index: a time computed as exactly image n's start
#: may come out a hair early after a float round trip.
_SLACK = Fraction(1, 10**6)


class SequenceSource(VideoSource):
    """Numbered still images played as a video.

    A kind of VideoSource because it changes over time like one (the compositor builds the
    layer of any other kind of source once and reuses it); it shares nothing else with one.
    """

    def __init__(self, path: str, sequence: ImageSequence, clip_id: str) -> None:
        self.path = path
        self.clip_id = clip_id
        self.sequence = sequence
        self.folder = os.path.dirname(path)
        self.container = None
        self._shown: tuple[int, Asked, Picture] | None = None
        if sequence.count < 1 or sequence.rate <= 0:
            raise DecodeError(f"clip {clip_id!r}: image sequence of {path} has no images")

    @property
    def duration(self) -> Fraction:
        """The images' total display time in seconds."""
        return Fraction(self.sequence.count) / self.sequence.rate

    def picture_at(
        self, seconds: Fraction, sizer: Sizer | None = None, step: Fraction = Fraction(0)
    ) -> Picture:
        """The image shown over an output frame at this many seconds from the sequence's first
        image that lasts `step` seconds of it (image_index)."""
        index = image_index(self.sequence, seconds, step)
        if self._shown is not None and self._shown[0] == index and self._shown[1].fits(sizer):
            return self._shown[2]
        path = os.path.join(self.folder, self.sequence.name(index))
        asked = Asked(sizer)
        picture = read_image(path, self.clip_id, asked.passed)
        self._shown = (index, asked, picture)
        return picture

    def close(self) -> None:
        """Nothing stays open between images."""
        self._shown = None


def image_index(sequence: ImageSequence, seconds: Fraction, step: Fraction = Fraction(0)) -> int:
    """The image shown over an output frame starting at a source time and lasting `step`
    seconds of it: the last that starts before its middle (VideoIndex.shown_at's rule; at or
    before `seconds` when `step` is 0), the first before 0, the last past the end."""
    at = (seconds + step / 2) * sequence.rate
    index = math.ceil(at - _SLACK) - 1 if step else math.floor(at + _SLACK)
    return min(max(index, 0), sequence.count - 1)


def read_image(path: str, clip_id: str, sizer: Sizer | None = None) -> Picture:
    """One image of a sequence at the size ``sizer`` asks for; errors name the clip and file."""
    missing = (
        f"clip {clip_id!r}: image {os.path.basename(path)} of its image sequence is missing: {path}"
    )
    if is_still(path):
        try:
            return StillSource(path, clip_id).picture_at(Fraction(0), sizer)
        except AssetNotFound:
            raise AssetNotFound(missing) from None
    try:
        with open_media(path) as container:
            for frame in container.decode(video=0):
                return frame_picture(frame, sizer)
    except AssetNotFound:
        raise AssetNotFound(missing) from None
    except MediaError as exc:
        raise type(exc)(f"clip {clip_id!r}: {exc}") from None
    except (av.error.FFmpegError, OSError) as exc:
        raise DecodeError(f"clip {clip_id!r}: cannot decode image {path}: {reason(exc)}") from None
    raise DecodeError(f"clip {clip_id!r}: no picture in {path}")


def sequence_files(source: FileSource) -> list[str]:
    """Every file a file source reads: its path, or each image of its sequence."""
    if source.sequence is None:
        return [source.path]
    folder = os.path.dirname(source.path)
    return [os.path.join(folder, source.sequence.name(n)) for n in range(source.sequence.count)]


def files_for_frames(timeline: Timeline, start: int, end: int) -> Iterable[str]:
    """The files the timeline frames [start, end) read: whole files, and of each image sequence
    only the images those frames show (a long sequence has far more than a chunk needs)."""
    drawn = {c.id: (c.start, c.end) for t in timeline.tracks for c in t.clips}
    for tr in timeline.transitions:
        for cid in (tr.from_clip, tr.to_clip):
            if cid in drawn:  # a clip in a transition is drawn over the whole window
                lo, hi = drawn[cid]
                drawn[cid] = (min(lo, tr.start), max(hi, tr.end))
    for track in timeline.tracks:
        for clip in track.clips:
            if not isinstance(clip.source, FileSource):
                continue
            if clip.source.sequence is None:
                yield clip.source.path
                continue
            lo, hi = drawn[clip.id]
            lo, hi = max(lo, start), min(hi, end)
            if lo < hi:
                yield from _images(
                    clip, clip.source.path, clip.source.sequence, timeline.fps, lo, hi
                )


def shown_images(timeline: Timeline, clip: Clip) -> list[str]:
    """The images of a sequence clip that the timeline shows (in a transition too)."""
    ranges = [(c.start, c.end) for t in timeline.tracks for c in t.clips if c.id == clip.id]
    ranges += [
        (tr.start, tr.end) for tr in timeline.transitions if clip.id in (tr.from_clip, tr.to_clip)
    ]
    assert isinstance(clip.source, FileSource) and clip.source.sequence is not None
    lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
    if lo >= hi:
        return []
    return _images(clip, clip.source.path, clip.source.sequence, timeline.fps, lo, hi)


def _images(
    clip: Clip, path: str, sequence: ImageSequence, fps: Fraction, lo: int, hi: int
) -> list[str]:
    """The images a clip shows over frames [lo, hi): those between its first and last time."""

    def at(frame: int) -> int:
        return image_index(sequence, *source_sample(clip, frame, fps))

    first, last = sorted((at(lo), at(hi - 1)))
    folder = os.path.dirname(path)
    return [os.path.join(folder, sequence.name(n)) for n in range(first, last + 1)]

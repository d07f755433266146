"""What a drawn clip reads, for its chunk's content key (chunking.content_key): its file by
content id (of an image sequence, only the images the chunk can show) and its source times, as
exact fractions, the way the compositor (workers.compositor) computes them."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from chunking.timeline.model import Clip, FileSource, GeneratedSource, ImageSequence


def image_media_key(path: str) -> str:
    """Where ``media`` holds the content id of one image of a sequence (``path``: the image's
    file); apart from the sequence's own entry (under its first image's path, the id of every
    image) by a character no path holds."""
    return path + "\0"


def file_form(
    clip: Clip, media: Mapping[str, str], frames: tuple[int, int], fps: Fraction
) -> dict[str, Any]:
    """What a clip of a file reads, by content: ``frames`` are the timeline frames [lo, hi) it
    is drawn on in the range (an image sequence's images are keyed only as far as those show)."""
    source = clip.source
    if not isinstance(source, FileSource):
        raise TypeError(f"clip {clip.id!r} does not read a file")
    form: dict[str, Any] = {
        # The extension picks the decoder (still image or video: workers.sources.open_file).
        "ext": os.path.splitext(source.path)[1].lower(),
    }
    if source.sequence is None:
        form["media"] = media[source.path]
        return form
    seq = source.sequence
    shown = _shown_images(clip, seq, frames, fps)
    form["sequence"] = {"rate": str(seq.rate), "count": seq.count}
    if shown is None:
        # Times the renderer cannot use (it fails on them): the whole sequence, as it is.
        form["media"] = media[source.path]
        return form
    folder = os.path.dirname(source.path)
    first, last = shown
    # The rate and count place the images in time; the ids are what those images show.
    form["sequence"]["first"] = first
    form["sequence"]["images"] = [
        media[image_media_key(os.path.join(folder, seq.name(n)))] for n in range(first, last + 1)
    ]
    return form


def _shown_images(
    clip: Clip, seq: ImageSequence, frames: tuple[int, int], fps: Fraction
) -> tuple[int, int] | None:
    """The first and last image of a sequence the clip can show on timeline frames [lo, hi),
    as workers.sequences.image_index picks them, one more on each side (a time rounded a hair
    the other way); None when its times are not numbers the renderer can use."""
    lo, hi = frames
    try:
        speed = exact(clip.speed)
        begin = exact(clip.source_start)
        until = None if clip.source_end is None else exact(clip.source_end)
    except (ValueError, OverflowError, ZeroDivisionError):
        return None

    def image(frame: int) -> int:
        # Where the compositor samples (workers.probe_ranges.source_sample), then the image
        # it shows there: the last that starts before the output frame's middle.
        seconds = begin + (clip.mirrored(frame) - clip.start) * speed / fps
        middle = seconds + speed / fps / 2
        if until is not None:
            middle = min(middle, until)
        return max(math.ceil(middle * seq.rate) - 1, 0)

    ends = sorted((image(lo), image(hi - 1)))
    last = seq.count - 1
    return min(max(ends[0] - 1, 0), last), min(max(ends[1] + 1, 0), last)


def clip_time(clip: Clip, start: int, fps: Fraction) -> dict[str, str | None] | None:
    """The clip's source time at the range's first frame and per frame, exactly as the
    compositor computes it (workers.probe_ranges.source_sample: Fraction(str(x)) of each number)."""
    if isinstance(clip.source, GeneratedSource):
        return None  # the same picture at every time
    try:
        step = exact(clip.speed) / fps
        first = exact(clip.source_start) + (clip.mirrored(start) - clip.start) * step
        until = None if clip.source_end is None else str(exact(clip.source_end))
    except (ValueError, OverflowError, ZeroDivisionError):
        # Not numbers the renderer can use (it fails on them): keep them as they are.
        raw = (clip.source_start, clip.speed, clip.source_end, clip.start - start)
        return {"raw": repr((*raw, clip.end - start) if clip.reverse else raw)}
    # A reversed clip's time runs back from the range's first frame (Clip.mirrored).
    return {"first": str(first), "step": str(-step if clip.reverse else step), "until": until}


def exact(value: float) -> Fraction:
    """A model number as the renderer reads it: the fraction its decimal string spells."""
    return Fraction(str(value))

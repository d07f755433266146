"""Validate's decode of what the render will decode: each stream's first frame, the source
ranges the clips use, and the images of a sequence the clips show, so that it refuses what the
render would (a corrupt packet mid-file, frame times out of order, a broken or oversized image
of a sequence).

Decoding is bounded in pixels, not packets (``DECODE_PIXELS`` a file, ``VALIDATE_PIXELS`` in
all), so that a 4K file costs what a 1080p one does, and shared among a file's ranges and a
project's files, so that a long first clip does not leave the others unchecked; an image of a
sequence is read to its header and checked for being cut short (a PNG's last chunk, a TIFF's
strips, a JPEG decoded at an eighth of its size), not decoded at full size.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from typing import Any

import av
import av.error
from PIL import Image

from chunking.timeline.model import Clip, Timeline, TrackKind
from common.errors import DecodeError, MediaError
from workers.media_open import (
    open_image,
    open_media,
    picture_stream,
    reason,
    seek_keyframe,
    seek_reason,
)
from workers.probe_ranges import Span, collapse_problem, cut_spans, main_stream
from workers.sequences import shown_images
from workers.sources import MAX_SOURCE_PIXELS, collapsed_times, is_still, unsupported_still
from workers.video_index import VideoIndex, build_index, out_of_order

#: Decoding one file's check may do, in decoded pixels: 9000 frames of 1080p (five minutes at
#: 30 fps, 27 s of CPU), 2250 of 4K (the same CPU: 9000 4K packets took minutes): validate stays
#: a pre-flight check however long or large the media; past that the render finds what is
#: wrong, naming the clip.
DECODE_PIXELS = 9000 * 1920 * 1080
#: Decoding one validate may do over all its files (four files' worth, shared among them):
#: fifty five-minute clips decoded 27 s each.
VALIDATE_PIXELS = 4 * DECODE_PIXELS
#: What one packet costs at least, in pixels (a 640x360 frame): a packet's decode has a fixed
#: cost, so thumbnail-sized video and sound are not read by the million.
PACKET_PIXELS = 640 * 360
#: Sound decoded before a range's start: codecs need pre-roll and seeks land late.
_AUDIO_PREROLL = Fraction(1, 2)
#: How every PNG ends (an IEND chunk): a copy cut short does not.
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
#: How a JPEG ends (its EOI marker), unless a camera or phone appended data after it.
_JPEG_END = b"\xff\xd9"


def sequence_problem(timeline: Timeline, clip: Clip) -> str | None:
    """Why an image the sequence clip shows cannot be shown (the first such), or None."""
    for image in shown_images(timeline, clip):
        problem = image_problem(image)
        if problem is not None:
            return problem
    return None


def file_problems(
    container: Any, path: str, spans: list[Span], budget: list[int] | None = None
) -> dict[str, str]:
    """The first problem (by clip id) of each of ``spans`` of one open file: cut short before
    its end, or undecodable there (decoding at most ``budget[0]`` pixels, DECODE_PIXELS when
    None, and taking what it spent off ``budget``)."""
    found: dict[str, str] = {}
    main = main_stream(container)
    if main is None:
        return found
    found.update(cut_spans(container, path, spans))
    if budget is None:
        budget = [DECODE_PIXELS]
    targets = [
        ("video", picture_stream(container), [s for s in spans if s.kind is TrackKind.VIDEO])
    ]
    found.update(_audio_targets(container, path, spans, targets))
    work: list[tuple[str, Any, list[Span], tuple[Fraction, Fraction], set[int]]] = []
    for kind, stream, chosen in targets:
        if stream is None or stream.codec_context is None or not stream.time_base:
            continue
        wanted = [s for s in chosen if s.clip.id not in found]
        shown: set[int] = set()
        if kind == "video" and wanted:
            unseekable = _start_unseekable(container, stream, path, wanted)
            if unseekable is not None:
                found.update({s.clip.id: unseekable for s in wanted})
                continue
            try:
                index = _indexed(container, stream)
            except DecodeError as exc:  # more frames than the render indexes: it refuses
                found.update({s.clip.id: str(exc) for s in wanted})
                continue
            if index is not None and collapsed_times(index.pts, path) is not None:
                collapsed = collapse_problem(path)  # worded from a fresh index, as the render's
                found.update({s.clip.id: collapsed for s in wanted if collapsed is not None})
                continue
            if index is not None:
                shown = shown_frames(index, wanted)
        work += [(kind, stream, wanted, merged, shown) for merged in _merged(wanted)]
    for done, (kind, stream, wanted, (lo, hi), shown) in enumerate(work):
        # Each range gets an equal share of what is left (what one leaves goes to the next), so
        # a long first clip does not use it all and leave the others unchecked.
        share = [budget[0] // (len(work) - done)]
        if share[0] <= 0:
            break
        spent = share[0]
        problem = (
            _video_problem(container, stream, path, (lo, hi), shown, share)
            if kind == "video"
            else _audio_problem(container, stream, path, lo, hi, share)
        )
        budget[0] -= spent - max(0, share[0])
        if problem is not None:
            for span in wanted:
                if span.start <= hi and span.end >= lo:
                    found.setdefault(span.clip.id, problem)
    return found


def shown_frames(index: VideoIndex, spans: list[Span]) -> set[int]:
    """The frames of ``index`` that the spans show. Each span is walked in source order and
    left at the file's last frame: every later sample shows it too (a day-long clip of a
    one-second file looked up 20 million frames, minutes and a gigabyte, to find that)."""
    shown: set[int] = set()
    last = index.pts[-1] if index.pts else None
    for span in spans:
        for at in span.samples():
            frame = index.shown_at(*at)
            shown.add(frame)
            if frame == last:
                break
    return shown


def packet_cost(stream: Any) -> int:
    """What decoding one packet of ``stream`` costs, in pixels (PACKET_PIXELS at least)."""
    context = stream.codec_context
    if stream.type != "video" or context is None:
        return PACKET_PIXELS
    return max(PACKET_PIXELS, (context.width or 0) * (context.height or 0))


def _audio_targets(
    container: Any, path: str, spans: list[Span], targets: list[tuple[str, Any, list[Span]]]
) -> dict[str, str]:
    """Add to ``targets`` each audio stream the audible spans play (a clip's ``audio_stream``,
    0-based: validate read the first whatever the clip played, passing a broken second stream
    the render stopped on and refusing a broken first one the clip did not play); the problem
    (by clip id) of each span whose stream the render would refuse, in the render's words."""
    streams = container.streams.audio
    problems: dict[str, str] = {}
    for number in sorted({s.clip.audio_stream or 0 for s in spans if s.audible}):
        chosen = [s for s in spans if s.audible and (s.clip.audio_stream or 0) == number]
        if number >= len(streams):
            if number > 0:  # the first of none: a silent file
                have = f"{len(streams)} audio stream{'' if len(streams) == 1 else 's'}"
                missing = (
                    f"audio_stream {number} does not exist: {path} has {have} (numbered from 0)"
                )
                problems.update({s.clip.id: missing for s in chosen})
            continue
        if streams[number].codec_context is None:
            problems.update(
                {s.clip.id: f"no decoder for the audio codec of {path}" for s in chosen}
            )
            continue
        targets.append(("audio", streams[number], chosen))
    return problems


def _merged(spans: list[Span]) -> list[tuple[Fraction, Fraction]]:
    """The spans' source ranges, overlapping ones merged, in order."""
    ranges: list[tuple[Fraction, Fraction]] = []
    for lo, hi in sorted((s.start, s.end) for s in spans):
        if ranges and lo <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], hi))
        else:
            ranges.append((lo, hi))
    return ranges


def _start_unseekable(container: Any, stream: Any, path: str, spans: list[Span]) -> str | None:
    """The render's refusal of a file it cannot seek in where the spans start, or None: an MKV
    whose packets carry no keyframe flag (so no cues) refuses every seek, and validate, which
    decodes on from where it is, said ok where the render then stopped at the clip's first
    frame. Only where a seek to the start fails (most files: never) is the render's own seek
    to the keyframe before each span's start tried, on the file opened afresh as it opens it."""
    try:
        seek_keyframe(container)
        return None
    except av.error.FFmpegError:
        pass
    try:
        with open_media(path) as fresh:
            video = picture_stream(fresh)
            if video is None:
                return None
            index = build_index(fresh, video)
            base, origin = Fraction(video.time_base), video.start_time or 0
            for span in spans:
                # The render's first frame is the index's first (frames before the first
                # keyframe show it, held): no seek goes before it.
                wanted = origin + math.floor(span.start / base)
                key = index.keyframe(max(wanted, index.pts[0]) if index.pts else wanted)
                try:
                    if key is None:
                        seek_keyframe(fresh)
                    else:
                        point = index.seek_point(key)
                        seek_keyframe(fresh, point, video)
                except av.error.FFmpegError as exc:
                    return f"cannot seek in {path}: {seek_reason(exc)}"
    except (av.error.FFmpegError, OSError, MediaError):
        return None  # the other checks say what is wrong with it
    return None


def _indexed(container: Any, stream: Any) -> VideoIndex | None:
    """The stream's index, built as the render builds it (None: it cannot be)."""
    try:
        seek_keyframe(container)
        index = build_index(container, stream)
    except (av.error.FFmpegError, OSError):
        return None
    return index if index.pts else None


def _video_problem(
    container: Any,
    stream: Any,
    path: str,
    source: tuple[Fraction, Fraction],
    shown: set[int],
    budget: list[int],
) -> str | None:
    """Why the frames of the ``source`` seconds cannot be decoded as the render decodes them
    (from the keyframe before), or None: corrupt, or one of those ``shown`` coming out of the
    decoder after a later one (the render decodes forward until it passes the frame it wants);
    ``budget`` counts the pixels left to decode."""
    lo, hi = source
    cost = packet_cost(stream)
    base = Fraction(stream.time_base)
    origin = stream.start_time or 0
    first, last = origin + math.floor(lo / base), origin + math.ceil(hi / base)
    try:
        seek_keyframe(container, first, stream)
    except (av.error.FFmpegError, OSError):
        return None  # not seekable: the render reads it from the start
    key: int | None = None
    latest: int | None = None
    pending: set[int] = set()
    reached = first  # the time of the last packet read: where damage that stops the decoder is
    try:
        for packet in container.demux(stream):
            budget[0] -= cost
            reached = packet.pts if packet.pts is not None else reached
            if key is None and packet.is_keyframe and packet.pts is not None:
                key = packet.pts
                pending = {t for t in shown if key <= t <= last}
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                if key is not None:
                    raise
                continue  # before the first keyframe: the render decodes none of these
            for frame in frames:
                if frame.pts is None or key is None or frame.pts < key or frame.pts > last:
                    if (
                        key is not None
                        and frame.pts is not None
                        and min(pending, default=frame.pts) < frame.pts
                    ):
                        # A frame stamped past one still to come: the render decodes forward
                        # to the frame it wants and stops at the first past it.
                        return out_of_order(path, (frame.pts - origin) * base)
                    if shown or frame.pts is None or frame.pts <= last:
                        continue  # before the keyframe: no base; past the range: not shown
                    return None  # no index: the range ends at the first frame past it
                at = float((frame.pts - origin) * base)
                if frame.is_corrupt:
                    return (
                        f"corrupt video at {at:.3f}s in {path}: the decoder had to conceal "
                        "damage there (repair or re-export the file)"
                    )
                if frame.pts in shown and latest is not None and frame.pts <= latest:
                    return out_of_order(path, (frame.pts - origin) * base)
                latest = frame.pts if latest is None else max(latest, frame.pts)
                pending.discard(frame.pts)
                if shown and not pending:
                    return None  # every frame the render shows of the range came out
            if budget[0] <= 0:
                return None
    except (av.error.FFmpegError, OSError) as exc:
        at = float(max(0, reached - origin) * base)
        return (
            f"corrupt video at about {at:.3f}s in {path}: {reason(exc)} "
            "(repair or re-export the file)"
        )
    return None


def _audio_problem(
    container: Any, stream: Any, path: str, lo: Fraction, hi: Fraction, budget: list[int]
) -> str | None:
    """Why the sound of source seconds [lo, hi] cannot be decoded, or None (``budget``: the
    pixels left to decode, as video counts them)."""
    cost = packet_cost(stream)
    base = Fraction(stream.time_base)
    origin = stream.start_time or 0
    last = origin + math.ceil(hi / base)
    try:
        if lo - _AUDIO_PREROLL > 0:
            container.seek(origin + math.floor((lo - _AUDIO_PREROLL) / base), stream=stream)
        else:
            container.seek(0)
    except (av.error.FFmpegError, OSError):
        return None
    reached = origin + max(0, math.floor((lo - _AUDIO_PREROLL) / base))  # as the render says
    try:
        for packet in container.demux(stream):
            budget[0] -= cost
            reached = packet.pts if packet.pts is not None else reached
            packet.decode()
            if (packet.pts is not None and packet.pts > last) or budget[0] <= 0:
                return None
    except (av.error.FFmpegError, OSError) as exc:
        at = float(max(0, reached - origin) * base)
        return f"corrupt audio at about {at:.3f}s in {path}: {reason(exc)}"
    return None


def image_problem(path: str) -> str | None:
    """Why one image of a sequence cannot be shown, read to its header (None: it can; a
    missing one is reported as such elsewhere)."""
    if not os.path.isfile(path):
        return None
    if not is_still(path):
        try:
            open_media(path).close()  # FFmpeg's single-image readers (EXR, DPX, some TIFFs)
        except MediaError as exc:
            return str(exc)
        return None
    try:
        with open_image(path) as image:  # the header only: no pixels are decoded
            if image.width * image.height > MAX_SOURCE_PIXELS:
                raise Image.DecompressionBombError(path)
            refused = unsupported_still(image, path)
            if refused is not None:
                return refused
            if _cut_short(image, path):
                return f"cannot decode image {path}: the file is cut short"
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return f"image is too large (over {MAX_SOURCE_PIXELS} pixels): {path}"
    except (OSError, ValueError, SyntaxError) as exc:
        return f"cannot decode image {path}: {exc}"
    return None


def _cut_short(image: Image.Image, path: str) -> bool:
    """Whether an opened image's file ends before its pixels do, found without decoding them
    at full size: a PNG by its last chunk, a TIFF by where its strips end, a JPEG (a camera's
    time-lapse) by its end marker, else decoded at an eighth of its size (which still reads all
    its compressed data); OSError when that decode fails. Other formats: a broken header is
    found on opening."""
    if image.format == "PNG":
        return not _ends_whole(path)
    if image.format == "TIFF":
        tags = image.tag_v2  # type: ignore[attr-defined]
        offsets, counts = tags.get(273) or tags.get(324), tags.get(279) or tags.get(325)
        if offsets and counts:
            ends = [int(o) + int(c) for o, c in zip(_tuple(offsets), _tuple(counts), strict=False)]
            return max(ends) > os.path.getsize(path)
        return False
    if image.format == "JPEG" and _ends_with(path, _JPEG_END):
        return False  # whole (a cut that ends exactly on an end marker is no cut)
    if image.format in ("JPEG", "BMP", "GIF", "TGA"):
        # A JPEG with data after its end (a phone's motion photo) or none: decoded with DCT
        # scaling, which still reads every compressed byte. BMP, GIF and TGA are cheap to decode.
        image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()  # Pillow raises "image file is truncated" where the data runs out
    return False


def _tuple(value: Any) -> tuple[Any, ...]:
    """A TIFF tag's value as a tuple (Pillow gives a lone strip's as a number)."""
    return value if isinstance(value, tuple) else (value,)


def _ends_whole(path: str) -> bool:
    """Whether a PNG file ends with its IEND chunk."""
    return _ends_with(path, _PNG_END)


def _ends_with(path: str, ending: bytes) -> bool:
    """Whether a file's last bytes are ``ending``."""
    with open(path, "rb") as file:
        file.seek(max(0, os.path.getsize(path) - len(ending)))
        return file.read() == ending

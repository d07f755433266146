"""Cheap facts about source media, and the checks that refuse before a render what it would refuse.

Every check opens a file the way the render does (``workers.media_open``: an allowed format,
the ``file`` protocol only; Pillow for stills) and decodes the first frame of each stream it
needs, so validation, asset sync and the workers agree on what is media.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import av
import av.error
from PIL import Image

from chunking.timeline.model import Clip, FileSource, Timeline, TrackKind
from common.errors import MediaError, ValidationError
from workers.audio_downmix import stream_layout_note
from workers.media_open import open_image, open_media, picture_stream, single_image
from workers.probe_decode import (
    DECODE_PIXELS,
    VALIDATE_PIXELS,
    file_problems,
    first_frame_problems,
    sequence_problem,
)
from workers.probe_ranges import (
    Span,
    clip_spans,
    container_end,
    cut_problem,
    span_cut_problems,
    stream_end,
)
from workers.sequences import sequence_files
from workers.sources import MAX_SOURCE_PIXELS, is_still, unsupported_still
from workers.video_source import set_decoder_threads


@dataclass(frozen=True)
class MediaFacts:
    """What opening a file and decoding its first frames showed (each field: a problem or None)."""

    #: why the file cannot be opened at all
    opened: str | None = None
    #: why no picture can be had from it (a still is a picture)
    video: str | None = None
    #: why its sound cannot be decoded (a file without sound is silent, not a problem)
    audio: str | None = None
    image: bool = False
    has_video: bool = False
    has_audio: bool = False
    #: how long the file lasts, in seconds, where it says (None: unknown, or a still)
    seconds: float | None = None
    #: how long its sound lasts where it says so (None: unknown, or no sound)
    sound_seconds: float | None = None
    #: the HDR transfer its video declares ("HLG", "PQ"): tone-mapped to SDR (workers.hdr)
    hdr: str | None = None
    #: an animated still (APNG, animated WebP): only its first frame is shown
    animated: bool = False
    #: how many audio streams it has: one plays (the clip's ``audio_stream``, else the first)
    audio_streams: int = 0
    #: what its sound's unnamed channels are taken as (workers.audio_downmix.layout_note)
    layout: str | None = None
    #: what is wrong with the part of the file a clip reads (by clip id; see ``examine``)
    used: dict[str, str] = field(default_factory=dict)


def examine(
    path: str, spans: list[Span] | None = None, budget: list[int] | None = None
) -> MediaFacts:
    """Open ``path`` as the render would and decode the first frame of its video and audio;
    then check it holds all it declares (not cut short), or, given the ``spans`` clips read of
    it, decode those (``MediaFacts.used``; at most ``budget[0]`` pixels, taken off it: see
    ``probe_decode.file_problems``). An animated GIF is examined as the video it plays as
    (its length, its later frames)."""
    if is_still(path):
        return _examine_image(path)
    try:
        container = open_media(path)
    except MediaError as exc:
        return MediaFacts(opened=str(exc))
    with container:
        streams = container.streams
        video = picture_stream(container)
        audio = streams.audio[0] if streams.audio else None
        problems: dict[str, str | None] = {"video": None, "audio": None}
        if video is None:
            problems["video"] = f"no video stream in {path}"
        else:
            ctx = video.codec_context
            problems["video"] = _no_decoder(video, path)
            if ctx is not None:
                # On the render's kind of decoder threads: H.264 on slice threads (FFmpeg's
                # default) flags no concealed picture; validate said ok for a file the render
                # refused.
                set_decoder_threads(video, DECODE_THREADS)
            if ctx is not None and (ctx.width or 0) * (ctx.height or 0) > MAX_SOURCE_PIXELS:
                problems["video"] = f"video frames are too large ({ctx.width}x{ctx.height}): {path}"
        if audio is not None and audio.codec_context is None:
            problems["audio"] = f"no decoder for the audio codec of {path}"
        wanted = {
            kind: stream
            for kind, stream in (("video", video), ("audio", audio))
            if stream is not None and problems[kind] is None
        }
        problems.update(first_frame_problems(container, wanted, path))
        main = video if video is not None else audio
        tail = None if main is None or spans is not None else cut_problem(container, main, path)
        # A picture that never decoded is refused already: decoding the clips' ranges again
        # (up to DECODE_PIXELS: 27 s of CPU) would find nothing more.
        usable = [s for s in spans or [] if not (s.kind is TrackKind.VIDEO and problems["video"])]
        used = file_problems(container, path, usable, budget) if usable else {}
        # A still FFmpeg reads (EXR, DPX, a TIFF Pillow cannot, AVIF/HEIF) has no length: a
        # clip holds it as long as it lasts, where the "1 frame, 0.04s" FFmpeg gives it made
        # every such clip warn that its media ended (an error with --strict).
        length = None if single_image(container) else _length(container, main)
        sound = _declared(container, audio)
        hdr = _hdr(video)
        sounds = len(streams.audio)
        guess = stream_layout_note(audio)
    if tail is not None:
        return MediaFacts(opened=tail)
    return MediaFacts(
        video=problems["video"],
        audio=problems["audio"],
        has_video=video is not None,
        has_audio=audio is not None,
        audio_streams=sounds,
        layout=guess,
        seconds=length,
        sound_seconds=sound,
        hdr=hdr,
        used=used,
    )


#: Decoder threads of one file's check (the service checks CHECKS_AT_ONCE uploads at once).
DECODE_THREADS = 2
#: FFmpeg's transfer characteristics of HDR video: SMPTE ST 2084 (PQ) and ARIB STD-B67 (HLG).
_HDR_TRANSFERS = {16: "PQ", 18: "HLG"}


def _hdr(video: Any) -> str | None:
    """The HDR transfer a video stream declares, or None (no stream, no decoder for it: a
    codec tag a damaged or unusual file names, refused elsewhere naming the clip)."""
    ctx = None if video is None else video.codec_context
    return None if ctx is None else _HDR_TRANSFERS.get(ctx.color_trc)


def _no_decoder(video: Any, path: str) -> str | None:
    """Why a video stream cannot be decoded at all (no decoder for its codec), or None."""
    if video is None or video.codec_context is not None:
        return None
    return f"no decoder for the video codec of {path}"


def _declared(container: Any, stream: Any) -> float | None:
    """A stream's declared length (or Matroska tag) in seconds, or None."""
    end = stream_end(container, stream) if stream is not None and stream.time_base else None
    if end is None:
        return None
    return float((end - (stream.start_time or 0)) * stream.time_base)


def _length(container: Any, stream: Any) -> float | None:
    """How long the file lasts: its main stream's declared duration (or Matroska tag), else the
    container's, else (a stream written without one: a capture, a raw Matroska) where its
    packets end."""
    own = stream_end(container, stream) if stream is not None and stream.time_base else None
    if own is not None:
        return float((own - (stream.start_time or 0)) * stream.time_base)
    end = container_end(container)
    if end is not None:
        return float(end - (container.start_time or 0)) / av.time_base
    if stream is None or not stream.time_base:
        return None
    end = None
    try:
        for count, packet in enumerate(container.demux(stream)):
            if count >= SCAN_PACKETS:
                return None  # long enough not to matter, and too long to read here
            if packet.pts is not None:
                last = packet.pts + (packet.duration or 0)
                end = last if end is None else max(end, last)
    except (av.error.FFmpegError, OSError):
        return None
    start = stream.start_time or 0
    return float((end - start) * stream.time_base) if end is not None else None


#: Packets a file without a declared length is read for where it ends (an hour at 30 fps).
SCAN_PACKETS = 108_000


def _examine_image(path: str) -> MediaFacts:
    """Load a still the way the render does (Pillow, allowed formats, bounded size)."""
    try:
        with open_image(path) as image:  # raises Pillow's over-the-limit warning
            refused = unsupported_still(image, path)
            if refused is not None:
                return MediaFacts(opened=refused, image=True)
            image.load()
            animated = _animated_still(path, image)
    except FileNotFoundError:
        return MediaFacts(opened=f"media file not found: {path}", image=True)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        problem = f"image is too large (over {MAX_SOURCE_PIXELS} pixels): {path}"
        return MediaFacts(opened=problem, image=True)
    except (OSError, ValueError, SyntaxError) as exc:
        return MediaFacts(opened=f"cannot decode image {path}: {exc}", image=True)
    return MediaFacts(image=True, has_video=True, animated=animated)


def _animated_still(path: str, image: Any) -> bool:
    """Whether an image other than a GIF (which plays) holds several frames."""
    gif = os.path.splitext(path)[1].lower() == ".gif"
    return not gif and bool(getattr(image, "is_animated", False))


def media_problem(path: str) -> str | None:
    """Why ``path`` is not a media file a render can use (None when it is), for asset sync."""
    facts = examine(path)
    if facts.image:
        return None if facts.opened is None else f"is not a readable image ({facts.opened})"
    if facts.opened is not None:
        return f"is not a media file a render can use ({facts.opened})"
    if not facts.has_video and not facts.has_audio:
        return f"has no video or audio stream ({path})"
    # A stream that is there must decode: the worker would stop on it.
    for problem in (facts.video if facts.has_video else None, facts.audio):
        if problem is not None:
            return f"is not a media file a render can use ({problem})"
    return None


def media_problems(timeline: Timeline, base_dir: str) -> list[str]:
    """One line per clip whose media the render would refuse (see ``media_report``)."""
    return media_report(timeline, base_dir)[0]


def media_report(timeline: Timeline, base_dir: str) -> tuple[list[str], list[str]]:
    """One line per clip whose media the render would refuse, and warnings for clips that play
    past their media's end (the last frame holds, the sound stops) or show HDR video
    (tone-mapped to SDR); each distinct file opened once, and the part of it the clips read decoded
    (``workers.probe_decode``: within a bound), of an image sequence the first image decoded
    and the others the clips show read to their headers.

    Files outside ``base_dir`` (the project directory) get the same line whatever is wrong, so
    that validation cannot be used to learn whether a path exists or what it holds.
    """
    facts: dict[str, MediaFacts] = {}
    problems: list[str] = []
    warnings: list[str] = []
    project = os.path.realpath(base_dir)
    # What the clips read of their files: cut short before that, or undecodable there.
    spans: dict[str, list[Span]] = {}
    for path, used in clip_spans(timeline).items():
        spans.setdefault(os.path.realpath(path), []).extend(used)
    # The decoding all files may do, shared among those still to check (each at most its own
    # DECODE_PIXELS), so a project of fifty long clips is not decoded 27 s each.
    left, unchecked = VALIDATE_PIXELS, len(spans)
    for track in timeline.tracks:
        if not track.enabled or track.kind is TrackKind.SUBTITLE:
            continue
        audible = not track.muted and track.volume != 0
        for clip in track.clips:
            if not isinstance(clip.source, FileSource):
                continue
            path = clip.source.path
            real = os.path.realpath(path)
            if real not in facts:
                budget = [min(DECODE_PIXELS, left // max(1, unchecked))]
                given = budget[0]
                facts[real] = examine(path, spans.get(real, []), budget)
                left -= given - max(0, budget[0])
                unchecked -= real in spans
            # The first frame checked is the first stream's: another one (``audio_stream``) is
            # checked where the clip plays it (``probe_decode.file_problems``).
            needs_audio = audible and not clip.muted and clip.volume != 0 and not clip.audio_stream
            problem = _clip_problem(facts[real], track.kind, needs_audio)
            if problem is None and clip.source.sequence is not None:
                problem = _sequence_problem(clip.source) or sequence_problem(timeline, clip)
            if problem is None:
                problem = facts[real].used.get(clip.id)
            if problem is None:
                if _inside(real, project):
                    warnings += [
                        f"clip {clip.id!r}: {w}"
                        for w in _clip_warnings(clip, facts[real], timeline.fps, track.kind)
                    ]
                continue
            if _inside(real, project):
                problems.append(f"clip {clip.id!r}: {problem}")
            else:
                problems.append(f"cannot open media {path!r} of clip {clip.id!r}")
    return problems, warnings


#: How far past its media's declared end a clip may reach unnoticed (container durations are
#: approximate: audio priming, a last frame's length).
_PAST_END_SLACK = 0.25


def _clip_warnings(clip: Clip, facts: MediaFacts, fps: Fraction, kind: TrackKind) -> list[str]:
    """What renders, but not as the clip's media look or last."""
    found = []
    past = _past_end(clip, facts, fps)
    if past is not None:
        found.append(past)
    silent = facts.opened is None and not facts.image and not facts.has_audio
    if kind is TrackKind.AUDIO and silent and not clip.muted:
        # Put there for its sound, it would render as silence with nothing said.
        found.append("its media has no sound (no audio stream): on an audio track it is silent")
    if facts.audio_streams > 1 and clip.audio_stream is None and not clip.muted:
        # An iPhone screen recording keeps the microphone as a second stream, a camera its
        # second input: playing only the first with nothing said lost the narration.
        found.append(
            f"its media has {facts.audio_streams} audio streams and only the first plays: "
            "choose another with audio_stream (0-based), or mute the clip to silence this"
        )
    if facts.layout is not None and clip.audio_channel is None and not clip.muted:
        found.append(facts.layout)
    if facts.animated:
        found.append(
            "its media is an animated image (APNG or WebP), of which only the first frame is "
            "shown: make it a video or an animated GIF to play it"
        )
    if facts.hdr is not None and kind is TrackKind.VIDEO:
        found.append(
            f"its media is HDR video ({facts.hdr}, BT.2020), which is tone-mapped to SDR BT.709: "
            "its highlights are compressed and it looks dimmer than on an HDR screen"
        )
    return found


def header_warnings(timeline: Timeline) -> list[str]:
    """What ``media_report`` warns of that a file's header tells (HDR video, a clip playing
    past its file's end), read from the headers only: cheap enough for every render, where
    ``media_report`` decodes. A clip playing a part of its file the file does not hold (cut
    short) is refused here, as ``media_report`` refuses it: ValidationError; so is a video
    clip whose file's video codec has no decoder (a damaged or unknown codec tag), which the
    render's decoder setup met as a traceback."""
    cut = span_cut_problems(timeline)
    if cut:
        raise ValidationError(cut)
    found: dict[str, MediaFacts] = {}
    warnings = []
    refused = []
    for track in timeline.tracks:
        if track.kind is TrackKind.SUBTITLE or not track.enabled:
            continue
        for clip in track.clips:
            if not isinstance(clip.source, FileSource) or clip.source.sequence is not None:
                continue
            path = clip.source.path
            if path not in found:
                found[path] = _header_facts(path)
            if track.kind is TrackKind.VIDEO and found[path].video is not None:
                refused.append(f"clip {clip.id!r}: {found[path].video}")
            warnings += [
                f"clip {clip.id!r}: {w}"
                for w in _clip_warnings(clip, found[path], timeline.fps, track.kind)
            ]
    if refused:
        raise ValidationError(refused)
    return warnings


def _header_facts(path: str) -> MediaFacts:
    """What a media file's header says of its HDR transfer and length (nothing for a still or
    an unreadable file: the render reports those, naming the clip)."""
    if is_still(path):
        try:
            with open_image(path) as image:  # the header only: no pixels are decoded
                return MediaFacts(image=True, animated=_animated_still(path, image))
        except (
            OSError,
            ValueError,
            SyntaxError,
            Image.DecompressionBombWarning,
            Image.DecompressionBombError,
        ):
            return MediaFacts(image=True)
    try:
        with open_media(path) as container:
            video = picture_stream(container)
            main = video if video is not None else (container.streams.audio or [None])[0]
            hdr = _hdr(video)
            audio = (container.streams.audio or [None])[0]
            sound = _declared(container, audio)
            still = single_image(container)
            return MediaFacts(
                video=_no_decoder(video, path),
                hdr=hdr,
                seconds=None if still else _length(container, main),
                sound_seconds=sound,
                has_audio=bool(container.streams.audio),
                audio_streams=len(container.streams.audio),
                layout=stream_layout_note(audio),
                has_video=video is not None,
            )
    except (MediaError, av.error.FFmpegError, OSError) as exc:
        return MediaFacts(opened=str(exc))


def _past_end(clip: Clip, facts: MediaFacts, fps: Fraction) -> str | None:
    """Why a clip plays past the end of its media, or None."""
    if facts.seconds is None or facts.image:
        return None
    if not isinstance(clip.source, FileSource) or clip.source.sequence is not None:
        return None
    needed = clip.source_start + float(clip.frames / fps) * clip.speed
    if clip.source_end is not None:
        needed = min(needed, clip.source_end)
    if needed <= facts.seconds + _PAST_END_SLACK:
        return None
    sound = facts.sound_seconds
    if not facts.has_video:  # a song, a voice-over: no frame to hold
        after = "it is silent after that"
    elif not facts.has_audio:  # an animated GIF, a silent video
        after = "its last frame holds"
    elif sound is not None and sound >= needed - _PAST_END_SLACK:
        after = "its last frame holds while its sound plays on"
    else:
        after = "its last frame holds and its sound stops after that"

    return (
        f"plays its media to {needed:.2f}s (from {clip.source_start:.2f}s), but the file lasts "
        f"{facts.seconds:.2f}s: {after}"
    )


def _sequence_problem(source: FileSource) -> str | None:
    """Which images of a sequence are missing (its first was examined like any still)."""
    files = sequence_files(source)
    missing = [f for f in files if not os.path.isfile(f)]
    if not missing:
        return None
    return (
        f"image sequence is missing {len(missing)} of its {len(files)} images "
        f"(first missing: {os.path.basename(missing[0])})"
    )


def _clip_problem(facts: MediaFacts, kind: TrackKind, needs_audio: bool) -> str | None:
    """What the render would refuse about a file used by a clip on a track of ``kind``."""
    if facts.opened is not None:
        return facts.opened
    if kind is TrackKind.VIDEO and facts.video is not None:
        return facts.video
    if needs_audio and not facts.image:
        return facts.audio
    return None


def _inside(path: str, base: str) -> bool:
    """Whether real ``path`` is ``base`` or lies below it."""
    return os.path.commonpath([path, base]) == base

"""Cheap facts about source media, and the checks that refuse before a render what it would refuse.

Every check opens a file the way the render does (``workers.media_open``: an allowed format,
the ``file`` protocol only; Pillow for stills) and decodes the first frame of each stream it
needs, so validation, asset sync and the workers agree on what is media.
"""

from __future__ import annotations

import os

from PIL import Image

from chunking.timeline.model import FileSource, Timeline, TrackKind
from common.errors import MediaError
from workers.audio_downmix import stream_layout_note
from workers.media_open import open_image, open_media, picture_stream, single_image
from workers.probe_decode import (
    DECODE_PIXELS,
    VALIDATE_PIXELS,
    file_problems,
    sequence_problem,
)
from workers.probe_first_frame import first_frame_problems
from workers.probe_headers import (
    MediaFacts,
    animated_still,
    clip_warnings,
    declared_seconds,
    hdr_transfer,
    media_length,
    no_decoder,
)
from workers.probe_headers import header_warnings as header_warnings
from workers.probe_ranges import Span, clip_spans, cut_problem
from workers.sequences import sequence_files
from workers.sources import MAX_SOURCE_PIXELS, is_still, unsupported_still
from workers.video_source import set_decoder_threads


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
            problems["video"] = no_decoder(video, path)
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
        length = None if single_image(container) else media_length(container, main)
        sound = declared_seconds(container, audio)
        hdr = hdr_transfer(video)
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


def _examine_image(path: str) -> MediaFacts:
    """Load a still the way the render does (Pillow, allowed formats, bounded size)."""
    try:
        with open_image(path) as image:  # raises Pillow's over-the-limit warning
            refused = unsupported_still(image, path)
            if refused is not None:
                return MediaFacts(opened=refused, image=True)
            image.load()
            animated = animated_still(path, image)
    except FileNotFoundError:
        return MediaFacts(opened=f"media file not found: {path}", image=True)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        problem = f"image is too large (over {MAX_SOURCE_PIXELS} pixels): {path}"
        return MediaFacts(opened=problem, image=True)
    except (OSError, ValueError, SyntaxError) as exc:
        return MediaFacts(opened=f"cannot decode image {path}: {exc}", image=True)
    return MediaFacts(image=True, has_video=True, animated=animated)


def media_problem(path: str) -> str | None:
    """Why ``path`` is not a media file a render can use (None when it is), for asset sync and
    uploads: it opens and its first frames decode. A file cut short is not refused here: the
    clips' ranges decide (``media_report``, ``header_warnings``), and an upload knows no clips."""
    # Checking the whole declared length refused at upload a file cut after the part the clips
    # use, which validate and render accept (the sha256 of an upload already proves the bytes
    # arrived whole; a copy cut on the user's disk is judged where its clips are known).
    facts = examine(path, spans=[])
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
            problem = clip_problem(facts[real], track.kind, needs_audio)
            if problem is None and clip.source.sequence is not None:
                problem = _sequence_problem(clip.source) or sequence_problem(timeline, clip)
            if problem is None:
                problem = facts[real].used.get(clip.id)
            if problem is None:
                if _inside(real, project):
                    warnings += [
                        f"clip {clip.id!r}: {w}"
                        for w in clip_warnings(clip, facts[real], timeline.fps, track.kind)
                    ]
                continue
            if _inside(real, project):
                problems.append(f"clip {clip.id!r}: {problem}")
            else:
                problems.append(f"cannot open media {path!r} of clip {clip.id!r}")
    return problems, warnings


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


def clip_problem(facts: MediaFacts, kind: TrackKind, needs_audio: bool) -> str | None:
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

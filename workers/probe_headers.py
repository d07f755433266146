"""What a media file's header tells, without decoding it (its length, HDR transfer, whether
it has a decoder for its picture), and the warnings and refusals that follow from it for the
clips that use it: ``header_warnings`` runs before every render; ``workers.probe`` adds the
decoding checks of ``validate`` on the same facts.
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
from workers.probe_ranges import container_end, span_cut_problems, stream_end
from workers.sources import is_still


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


#: FFmpeg's transfer characteristics of HDR video: SMPTE ST 2084 (PQ) and ARIB STD-B67 (HLG).
HDR_TRANSFERS = {16: "PQ", 18: "HLG"}


def hdr_transfer(video: Any) -> str | None:
    """The HDR transfer a video stream declares, or None (no stream, no decoder for it: a
    codec tag a damaged or unusual file names, refused elsewhere naming the clip)."""
    ctx = None if video is None else video.codec_context
    return None if ctx is None else HDR_TRANSFERS.get(ctx.color_trc)


def no_decoder(video: Any, path: str) -> str | None:
    """Why a video stream cannot be decoded at all (no decoder for its codec), or None."""
    if video is None or video.codec_context is not None:
        return None
    return f"no decoder for the video codec of {path}"


def declared_seconds(container: Any, stream: Any) -> float | None:
    """A stream's declared length (or Matroska tag) in seconds, or None."""
    end = stream_end(container, stream) if stream is not None and stream.time_base else None
    if end is None:
        return None
    return float((end - (stream.start_time or 0)) * stream.time_base)


def media_length(container: Any, stream: Any) -> float | None:
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


def animated_still(path: str, image: Any) -> bool:
    """Whether an image other than a GIF (which plays) holds several frames."""
    gif = os.path.splitext(path)[1].lower() == ".gif"
    return not gif and bool(getattr(image, "is_animated", False))


#: How far past its media's declared end a clip may reach unnoticed (container durations are
#: approximate: audio priming, a last frame's length).
_PAST_END_SLACK = 0.25


def clip_warnings(clip: Clip, facts: MediaFacts, fps: Fraction, kind: TrackKind) -> list[str]:
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
                for w in clip_warnings(clip, found[path], timeline.fps, track.kind)
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
                return MediaFacts(image=True, animated=animated_still(path, image))
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
            hdr = hdr_transfer(video)
            audio = (container.streams.audio or [None])[0]
            sound = declared_seconds(container, audio)
            still = single_image(container)
            return MediaFacts(
                video=no_decoder(video, path),
                hdr=hdr,
                seconds=None if still else media_length(container, main),
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

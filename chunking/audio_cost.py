"""What a job's audio task costs, in the complexity units a frame is priced in (pure).

A job mixes and encodes the whole timeline's sound once, in a task of its own beside the
chunks (``workers.tasks.render_audio``); an audio-only export (``render -o mix.wav``) is nothing
else. Its work grows with the seconds of sound it reads (decoding, resampling and placing each
sounding clip) and with the seconds it writes (the mix buffer, the encoder). The weights are in
``chunking.weights`` (``AUDIO_CLIP_SECOND``, ``AUDIO_ENCODE_SECOND`` by codec, ``AUDIO_TASK``),
in units, so the
rate a node class learned on its video chunks prices them too.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from chunking import weights as w
from chunking.timeline.audio_export import audio_codec_of, canonical_audio
from chunking.timeline.model import IMAGE_EXTENSIONS, Clip, FileSource, Timeline, TrackKind


def _sounding_clips(timeline: Timeline) -> Iterator[tuple[Clip, str]]:
    """The enabled, unmuted clips of enabled, unmuted audio and video tracks that may carry
    sound, with their media file (stills and generated pictures have none)."""
    for track in timeline.tracks:
        if not track.enabled or track.muted or track.kind is TrackKind.SUBTITLE:
            continue
        for clip in track.clips:
            if clip.muted or not isinstance(clip.source, FileSource):
                continue
            if clip.source.sequence is not None:
                continue  # an image sequence: pictures only
            if os.path.splitext(clip.source.path)[1].lower() in IMAGE_EXTENSIONS:
                continue
            yield clip, clip.source.path


def sounding_paths(timeline: Timeline) -> set[str]:
    """The media files the mix may read sound from (see ``_sounding_clips``)."""
    return {path for _clip, path in _sounding_clips(timeline)}


def audio_units(timeline: Timeline, has_sound: Callable[[str], bool]) -> float:
    """The audio task's work in units: each sounding clip's seconds, the output's seconds and the
    task's own start; 0 when nothing sounds (the task then writes nothing). `has_sound(path)`
    says whether a file carries an audio stream (a probe: not known from the timeline)."""
    paths = {p for p in sounding_paths(timeline) if has_sound(p)}
    if not paths:
        return 0.0
    fps = float(timeline.fps)
    clip_seconds = sum(
        max(clip.end - clip.start, 0) / fps
        for clip, path in _sounding_clips(timeline)
        if path in paths
    )
    output_seconds = timeline.frames / fps
    encode = encode_weight(audio_codec_of(timeline.export))
    return w.AUDIO_TASK + w.AUDIO_CLIP_SECOND * clip_seconds + encode * output_seconds


def encode_weight(codec: str) -> float:
    """Units per second of output of the audio encoder for `codec` (any spelling)."""
    return w.AUDIO_ENCODE_SECOND.get(canonical_audio(codec), w.AUDIO_SECOND)

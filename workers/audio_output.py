"""An audio-only render on this machine (``render --direct -o mix.wav``): the timeline's mix,
as the job service's audio task mixes and encodes it, written as the output container."""

from __future__ import annotations

import os
import tempfile

from chunking.timeline.model import Timeline
from common.errors import EncodeError
from workers.atomic import atomic_output, check_not_media, write_error
from workers.audio_encode import audio_encoder_for, write_audio_file
from workers.audio_mix import mix_timeline, sample_offset
from workers.stitch_audio import remux_audio_only


def render_audio_only(
    timeline: Timeline, output: str, start: int = 0, end: int | None = None
) -> tuple[float, str, list[str]]:
    """Mix frames [start, end) of the timeline and write them as its audio-only export to
    ``output``, atomically; (seconds of sound, the encoder, what the mix warned of)."""
    import av.error

    check_not_media(output, timeline)
    export = timeline.export
    codec = audio_encoder_for(export)
    notes: list[str] = []
    samples = mix_timeline(timeline, notes)
    end = timeline.frames if end is None else end
    if start or end != timeline.frames:
        samples = samples[:, sample_offset(start, timeline) : sample_offset(end, timeline)]
    if samples.shape[1] == 0:
        raise EncodeError(f"no sound to write to {output}: the range holds no sample")
    with tempfile.TemporaryDirectory(prefix="cloudrender-audio-") as tmp:
        mix = os.path.join(tmp, "audio.mka")
        write_audio_file(mix, samples, timeline.sample_rate, "mkv", export.audio_bitrate, codec)
        with atomic_output(output) as partial:
            try:
                played = remux_audio_only(partial, export.container, mix)
            except av.error.FFmpegError as exc:
                raise write_error(f"cannot write {output}", exc, output) from None
    return float(played), codec, notes

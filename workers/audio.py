"""A render's sound: mix the timeline (audio_mix) and encode the mix (audio_encode)."""

from __future__ import annotations

from workers.audio_encode import (
    add_audio_stream,
    audio_codec_for,
    audio_encoder_for,
    audio_file_notes,
    encode_audio,
    encoder_sample_rate,
    write_audio_file,
)
from workers.audio_mix import (
    MAX_MIX_BYTES,
    Samples,
    clipping_note,
    mix_length,
    mix_timeline,
    sample_offset,
)

__all__ = [
    "MAX_MIX_BYTES",
    "Samples",
    "add_audio_stream",
    "clipping_note",
    "audio_codec_for",
    "audio_encoder_for",
    "audio_file_notes",
    "encode_audio",
    "encoder_sample_rate",
    "mix_length",
    "mix_timeline",
    "sample_offset",
    "write_audio_file",
]

"""A chosen audio codec (``--audio-codec``, ``settings.audio_codec``): the sound is encoded with
it in a --direct render and in a stitched one; before, every mov got AAC and every mkv Opus."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import av
import numpy as np
import pytest

from chunking.timeline.export_overrides import with_overrides
from chunking.timeline.model import Timeline
from tests.workers.test_audio_lossless import FPS, FRAMES, RATE, _noise, _sound, _timeline
from tests.workers.test_stitch import make_segments
from workers.audio import audio_encoder_for, mix_timeline, write_audio_file
from workers.render import render_to_file
from workers.stitch import stitch

#: (container, chosen codec) -> the decoder that reads it back, and whether it keeps every sample
CASES = {
    ("mov", "pcm_s16le"): ("pcm_s16le", False),
    ("mov", "pcm_s24le"): ("pcm_s24le", True),
    ("mkv", "pcm_s24le"): ("pcm_s24le", True),
    ("mkv", "flac"): ("flac", True),
    ("mkv", "aac"): ("aac", False),
    ("mp4", "opus"): ("opus", False),
    ("mov", "alac"): ("alac", True),
}


def _chosen(tmp: Path, container: str, codec: str) -> Timeline:
    timeline = _timeline(_noise(tmp / "noise.wav"), "mkv")
    export = with_overrides(
        timeline.export, container=container, codec="h264", lossless=False, audio_codec=codec
    )
    return dataclasses.replace(timeline, export=export)


@pytest.mark.parametrize(("container", "codec"), list(CASES))
def test_the_chosen_audio_codec_is_the_one_in_the_file(
    tmp_path: Path, container: str, codec: str
) -> None:
    timeline = _chosen(tmp_path, container, codec)
    decoder, exact = CASES[container, codec]
    mix = mix_timeline(timeline)
    direct = tmp_path / f"direct.{container}"
    render_to_file(timeline, str(direct))
    audio = tmp_path / "audio.mka"
    encoder = audio_encoder_for(timeline.export)
    write_audio_file(audio, mix, RATE, "mkv", 192_000, encoder)
    segments = make_segments(tmp_path / "segs", [0, 10, FRAMES], FPS)
    stitched = tmp_path / f"stitched.{container}"
    report = stitch(segments, FPS, str(stitched), container, str(audio))
    assert report.frames == FRAMES
    for path in (direct, stitched):
        name, heard = _sound(path)
        assert name == decoder
        with av.open(str(path)) as result:
            assert result.streams.audio[0].codec_context.sample_rate in (RATE, 48_000)
        if exact:
            assert heard.shape == mix.shape
            assert np.abs(heard - mix).max() < 1e-6
        elif codec == "pcm_s16le":
            assert np.abs(heard - mix).max() < 2.0**-14


def test_the_loader_and_the_worker_agree_on_each_containers_default() -> None:
    from chunking.timeline.audio_export import (
        AUDIO_ENCODERS,
        DEFAULT_AUDIO,
        LOSSLESS_AUDIO,
        audio_only,
    )
    from workers.audio_encode import CODEC_BY_CONTAINER, LOSSLESS_CODEC_BY_CONTAINER

    # The audio-only outputs (wav, flac...) take their codecs from audio_codec_of alone.
    video = {k: v for k, v in DEFAULT_AUDIO.items() if not audio_only(k)}
    lossless = {k: v for k, v in LOSSLESS_AUDIO.items() if not audio_only(k)}
    assert {k: AUDIO_ENCODERS[v] for k, v in video.items()} == CODEC_BY_CONTAINER
    assert {k: AUDIO_ENCODERS[v] for k, v in lossless.items()} == LOSSLESS_CODEC_BY_CONTAINER

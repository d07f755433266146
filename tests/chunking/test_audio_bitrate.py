"""An export's audio_bitrate is checked against what the container's audio encoder takes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from chunking.timeline.project import read_project
from common.errors import EncodeError, ValidationError
from tests.helpers import colour_project


def project_exporting(sample_rate: int = 48_000, **export: Any) -> dict[str, Any]:
    doc = colour_project(0.5)
    doc["settings"]["export"] = export
    doc["timeline"]["sample_rate"] = sample_rate
    return doc


@pytest.mark.parametrize(
    ("container", "kbits", "rate"),
    [
        ("mkv", 512, 48_000),  # libopus: 256 kbit/s a channel
        ("webm", 8, 48_000),
        ("mp4", 576, 48_000),  # FFmpeg's AAC: 6144 bits a channel a frame, 12 x the rate
        ("mov", 529.2, 44_100),
        ("mp4", 1024, 48_000),  # more: FFmpeg's AAC encodes at its most, as it always did
        ("mp4", 4000, 22_050),
    ],
)
def test_the_most_each_audio_encoder_takes_is_taken(
    container: str, kbits: float, rate: int
) -> None:
    doc = project_exporting(rate, format=container, audio_bitrate=kbits)
    assert read_project(doc).timeline.export.audio_bitrate == round(kbits * 1000)


@pytest.mark.parametrize(
    ("container", "kbits", "rate", "said"),
    [
        # Was "ok" from validate, then FFmpeg's "Invalid argument: avcodec_open2(libopus)".
        ("mkv", 1024, 48_000, "audio_bitrate 1024 kbit/s is not one Opus (the audio of mkv) "
                              "takes: use 8 to 512 kbit/s"),
        ("webm", 513, 48_000, "use 8 to 512 kbit/s"),
    ],
)  # fmt: skip
def test_an_audio_bitrate_its_encoder_does_not_take_is_one_line_naming_the_limit(
    container: str, kbits: float, rate: int, said: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        read_project(project_exporting(rate, format=container, audio_bitrate=kbits))
    message = str(refused.value)
    assert message.startswith("settings.export: audio_bitrate ") and said in message
    assert "\n" not in message


def test_an_output_that_changes_the_audio_codec_is_checked_too() -> None:
    doc = project_exporting(format="mp4", audio_bitrate=560)  # AAC takes it; Opus does not
    assert read_project(doc, output="film.mp4").timeline.export.audio_bitrate == 560_000
    with pytest.raises(EncodeError, match="not one Opus .* use 8 to 512 kbit/s"):
        read_project(doc, output="film.webm")
    with pytest.raises(EncodeError, match="not one Opus"):
        read_project(project_exporting(format="mkv"), export={"audio_bitrate": 600_000})


def test_the_codec_checked_is_the_one_the_worker_encodes_with() -> None:
    from chunking.timeline.export import AUDIO_CODECS, LOSSLESS_AUDIO_CODECS
    from workers.audio_encode import CODEC_BY_CONTAINER, LOSSLESS_CODEC_BY_CONTAINER

    names = {"aac": "AAC", "libopus": "Opus", "alac": "ALAC", "flac": "FLAC"}
    assert AUDIO_CODECS == {k: names[v] for k, v in CODEC_BY_CONTAINER.items()}
    lossless = {k: names[v] for k, v in LOSSLESS_CODEC_BY_CONTAINER.items()}
    assert LOSSLESS_AUDIO_CODECS == lossless


@pytest.mark.parametrize("container", ["mkv", "mp4", "mov"])
def test_a_lossless_export_is_not_refused_for_a_bitrate_its_codec_does_not_use(
    container: str, tmp_path: Path
) -> None:
    """FLAC and ALAC carry every sample whatever the bitrate: a lossless mkv at 1024 kbit/s was
    refused as "not one Opus takes", naming a codec the export does not use."""
    doc = project_exporting(format=container, audio_bitrate=1024, lossless=True)
    export = read_project(doc).timeline.export
    assert export.audio_bitrate == 1_024_000
    plain = project_exporting(format=container)
    assert read_project(plain, export={"lossless": True, "audio_bitrate": 1_536_000})
    # And the encoders do take it.
    from workers.audio_encode import audio_codec_for, write_audio_file

    mix = np.tile(np.linspace(-0.5, 0.5, 4800, dtype=np.float32), (2, 1))
    out = tmp_path / "mix.mka"
    write_audio_file(out, mix, 48_000, "mkv", 1_536_000, audio_codec_for(container, True))
    with av.open(str(out)) as done:
        assert sum(f.samples for f in done.decode(audio=0)) == 4800


def test_a_lossless_webm_is_still_opus_and_checked() -> None:
    with pytest.raises(ValidationError, match="not one Opus"):
        read_project(project_exporting(format="webm", audio_bitrate=1024, lossless=True))

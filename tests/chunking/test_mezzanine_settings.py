"""ProRes/DNxHR profiles and the audio codec choice as the command line and the HTTP API give
them (``Project.with_export``, which both call at submit time) and as a project file says them:
every impossible combination is one line naming the flag and the values it takes."""

from __future__ import annotations

from typing import Any

import pytest

from chunking.plan import keyframe_chunk_frames, plan_chunks
from chunking.timeline.project import read_project
from common.errors import EncodeError, ValidationError
from tests.helpers import colour_project

ACCEPTED = [
    # (settings, output) -> (codec, profile, audio codec) of the export the render gets
    ({"codec": "prores"}, "m.mov", ("prores", None, None)),
    ({"codec": "prores", "profile": "4444"}, "m.mov", ("prores", "4444", None)),
    ({"codec": "prores", "profile": "422 HQ"}, "m.mkv", ("prores", "hq", None)),
    ({"codec": "dnxhr", "profile": "dnxhr_hqx"}, "m.mov", ("dnxhr", "hqx", None)),
    ({"codec": "dnxhr", "profile": "LB", "audio_codec": "pcm_s24le"}, "m.mov",
     ("dnxhr", "lb", "pcm_s24le")),
    ({"audio_codec": "opus"}, "m.mp4", ("h264", None, "opus")),
    ({"audio_codec": "flac"}, "m.mkv", ("hevc", None, "flac")),
    ({"audio_codec": "pcm_s16le"}, "m.mkv", ("hevc", None, "pcm_s16le")),
]  # fmt: skip

REFUSED = [
    # (settings, output) -> words the one-line error must hold
    ({"codec": "dnxhr"}, "m.mkv", ["codec dnxhr cannot be stored in mkv", "prores"]),
    ({"codec": "prores"}, "m.mp4", ["codec prores cannot be stored in mp4"]),
    ({"codec": "prores"}, "m.webm", ["codec prores cannot be stored in webm"]),
    ({"codec": "prores", "profile": "ultra"}, "m.mov",
     ["--profile", "settings.profile", "'ultra'", "proxy, lt, standard, hq, 4444"]),
    ({"codec": "dnxhr", "profile": "4444"}, "m.mov",
     ["--profile", "'4444'", "lb, sq, hq, hqx, 444"]),
    ({"codec": "h264", "profile": "hq"}, "m.mov", ["--profile", "only to dnxhr or prores"]),
    ({"audio_codec": "opus"}, "m.mov",
     ["--audio-codec", "settings.audio_codec", "opus cannot be stored in mov",
      "aac, alac, pcm_s16le, pcm_s24le"]),
    ({"audio_codec": "flac"}, "m.mp4", ["--audio-codec", "flac cannot be stored in mp4"]),
    ({"audio_codec": "pcm_s24le"}, "m.webm", ["--audio-codec", "use one of opus"]),
    ({"audio_codec": "mp3"}, "m.mkv",
     ["--audio-codec", "mp3 cannot be stored in mkv", "aac, opus, flac, pcm_s16le, pcm_s24le"]),
    ({"audio_codec": "vorbis"}, "m.mkv",
     ["--audio-codec", "'vorbis'", "aac, opus, flac, alac, pcm_s16le, pcm_s24le, mp3"]),
    ({"audio_codec": "opus", "audio_bitrate": 600_000}, "m.mkv", ["not one Opus takes"]),
    # typed rate settings ProRes and DNxHR would ignore
    ({"codec": "prores", "crf": 18}, "m.mov",
     ["--crf (settings.crf) does not apply to prores", "proxy, lt, standard, hq, 4444"]),
    ({"codec": "dnxhr", "preset": "slow"}, "m.mov",
     ["--preset (settings.preset) does not apply to dnxhr", "lb, sq, hq, hqx, 444"]),
    ({"codec": "prores", "bitrate": 50_000_000}, "m.mov", ["settings.bitrate does not apply"]),
]  # fmt: skip


@pytest.mark.parametrize(("settings", "output", "expected"), ACCEPTED)
def test_a_possible_choice_is_the_export_the_render_gets(
    settings: dict[str, Any], output: str, expected: tuple[str, str | None, str | None]
) -> None:
    export = read_project(colour_project(0.2)).with_export(settings, output=output).timeline.export
    assert (export.codec, export.profile, export.audio_codec) == expected


@pytest.mark.parametrize(("settings", "output", "words"), REFUSED)
def test_an_impossible_choice_is_refused_naming_the_flag_and_the_values(
    settings: dict[str, Any], output: str, words: list[str]
) -> None:
    project = read_project(colour_project(0.2))
    with pytest.raises((EncodeError, ValidationError)) as refused:
        project.with_export(settings, output=output)
    message = str(refused.value)
    assert "\n" not in message and "Traceback" not in message
    for word in words:
        assert word in message, message


def test_a_project_file_names_profile_and_audio_codec() -> None:
    doc = colour_project(0.2)
    doc["settings"]["export"].update(
        {"format": "mov", "codec": "prores_ks", "profile": "apco", "audio_codec": "PCM_S24LE"}
    )
    export = read_project(doc).timeline.export
    assert (export.container, export.codec, export.profile) == ("mov", "prores", "proxy")
    assert export.audio_codec == "pcm_s24le"
    doc["settings"]["export"]["audio_codec"] = "opus"
    with pytest.raises(ValidationError, match=r"settings.export: --audio-codec .* opus cannot"):
        read_project(doc)


def test_dnxhr_refuses_a_frame_smaller_than_its_encoder_takes_at_submit() -> None:
    """FFmpeg's dnxhd encoder does not open under 256x120: a 200x200 DNxHR job was accepted and
    every chunk failed with an FFmpeg message (avcodec_open2 ... returned 22)."""
    small = read_project(colour_project(0.2, size=(200, 200)))
    with pytest.raises(EncodeError, match=r"200x200 is too small for dnxhr: .* 256x120"):
        small.with_export({"codec": "dnxhr"}, output="m.mov")
    assert read_project(colour_project(0.2, size=(256, 120))).with_export(
        {"codec": "dnxhr"}, output="m.mov"
    )


@pytest.mark.parametrize(
    ("codec", "profile", "refused"),
    [("prores", "hq", True), ("prores", "proxy", True), ("prores", "4444", False),
     ("dnxhr", "sq", False), ("dnxhr", "hqx", False)],
)  # fmt: skip
def test_an_odd_width_is_refused_only_where_it_corrupts_the_picture(
    codec: str, profile: str, refused: bool
) -> None:
    """prores_ks's 4:2:2 profiles code an odd width's last column as garbage; 4444 and DNxHR
    do not (tests/workers/test_mezzanine_export.py renders them)."""
    doc = colour_project(0.2, size=(321, 181))
    doc["settings"]["export"].update({"format": "mov", "codec": codec, "profile": profile})
    if refused:
        with pytest.raises(ValidationError, match=r"321x181 has an odd width; .* --profile 4444"):
            read_project(doc)
    else:
        assert read_project(doc).timeline.export.profile == profile


@pytest.mark.parametrize(
    ("codec", "container", "chunk"), [("h264", "mp4", 48), ("prores", "mov", 10)]
)
def test_intra_only_chunks_ignore_the_projects_keyframe_interval(
    codec: str, container: str, chunk: int
) -> None:
    """Every ProRes frame is a keyframe: a project's keyframe_interval 48 rounded --chunk-frames
    10 up to 48 (a fifth of the parallelism for the slowest codec) and moved every planned
    boundary onto a multiple of 48."""
    doc = colour_project(2.0)
    doc["settings"]["export"].update({"format": container, "codec": codec, "keyframe_interval": 48})
    timeline = read_project(doc).timeline
    assert keyframe_chunk_frames(timeline, 10) == chunk
    bounds = [c.start for c in plan_chunks(timeline, workers=8)][1:]
    assert all(b % 48 == 0 for b in bounds) == (codec == "h264")

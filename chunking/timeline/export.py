"""Export settings: parsing the editor's ``settings.export`` and checking they can be encoded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chunking.timeline.audio_export import (
    AUDIO_CONTAINERS,
    LOSSLESS_AUDIO,
    audio_bitrate_problem,
    audio_codec_problem,
    audio_only,
    canonical_audio,
)
from chunking.timeline.fields import (
    Problems,
    bounded,
    canonical,
    flag,
    number,
    pick,
    shown,
    to_float,
    variant,
)
from chunking.timeline.model import ExportSettings
from chunking.timeline.profiles import (
    PROFILES,
    canonical_profile,
    intra_problems,
    profile_problem,
)

CODECS = {
    "h264": "h264",
    "avc": "h264",
    "libx264": "h264",
    "x264": "h264",
    "hevc": "hevc",
    "h265": "hevc",
    "libx265": "hevc",
    "x265": "hevc",
    "av1": "av1",
    "libsvtav1": "av1",
    "svtav1": "av1",
    "vp9": "vp9",
    "libvpxvp9": "vp9",
    "ffv1": "ffv1",
    "prores": "prores",
    "proresks": "prores",
    "dnxhr": "dnxhr",
    "dnxhd": "dnxhr",
}
CONTAINERS = {
    "mp4": "mp4",
    "mov": "mov",
    "quicktime": "mov",
    "mkv": "mkv",
    "matroska": "mkv",
    "webm": "webm",
    # Audio-only outputs (chunking.timeline.audio_export): the timeline's mix, no video.
    "wav": "wav",
    "wave": "wav",
    "flac": "flac",
    "m4a": "m4a",
    "ogg": "ogg",
    "oga": "ogg",
    "opus": "opus",
    "mp3": "mp3",
}
#: Every container an export may be written in: the video ones, then the audio-only ones.
OUTPUT_CONTAINERS = ("mp4", "mov", "mkv", "webm", *AUDIO_CONTAINERS)
#: The audio-only outputs that hold a lossless codec (opus holds Opus only).
LOSSLESS_AUDIO_OUTPUTS = tuple(name for name in AUDIO_CONTAINERS if name in LOSSLESS_AUDIO)
#: Which video codecs each container can carry.
CONTAINER_CODECS = {
    "mp4": {"h264", "hevc", "av1", "vp9"},
    "mov": {"h264", "hevc", "prores", "dnxhr"},
    # FFmpeg's Matroska muxer refuses DNxHD/DNxHR ("does not support 'dnxhd' codec").
    "mkv": {"h264", "hevc", "av1", "vp9", "ffv1", "prores"},
    "webm": {"vp9", "av1"},
}
#: The CRF and preset a lossy software export is encoded with where the project names none
#: (workers.encoder; the content key keys them as named: chunking.content_key).
DEFAULT_CRF = {"h264": 23, "hevc": 28, "av1": 35, "vp9": 33}
DEFAULT_PRESET = "medium"
#: The highest CRF an encoder opens with where it is below the 63 the settings allow: libx265
#: refuses more ("Valid quality based range: -qpBDOffsetY to 51"), failing every chunk.
MAX_CRF = {"hevc": 51}
#: The export dialog's quality words as the editor sends them to its renderer (qualityToNumber
#: in src/features/export/utils/project-schema-builder.ts), which then makes them a CRF as any
#: numeric quality (quality_crf): "good" is h264's CRF 23, not a stricter CRF of our own.
EDITOR_QUALITY = {"normal": 75, "good": 85, "best": 95}
#: Other quality names as x264-style CRF values.
QUALITY_CRF = {
    "low": 28,
    "medium": 23,
    "high": 18,
    "veryhigh": 16,
    "ultra": 14,
}
#: Codecs whose normal pixel format (yuv420p) needs even frame sizes.
SUBSAMPLED = {"h264", "hevc", "av1", "vp9"}
#: The smallest frame (width, height) each encoder takes: libx265 (in the bundled FFmpeg)
#: corrupts its heap on narrower or lower frames (the worker aborts; measured: 48x48, 40x20
#: and 320x12 abort, 64x16 and wider do not), SVT-AV1 refuses frames under 4 pixels and
#: FFmpeg's DNxHR encoder frames under 256x120 (avcodec_open2 fails: every chunk failed).
MIN_SIZE = {"hevc": (64, 16), "av1": (4, 4), "dnxhr": (256, 120)}


#: The encoder the editor's renderer picks for each container when no codec is named
#: (ffmpeg_builder/outputs.rs add_cpu_encoding: mkv gets libx265, webm libvpx-vp9).
CONTAINER_DEFAULT_CODEC = {"mp4": "h264", "mov": "h264", "mkv": "hevc", "webm": "vp9"}
#: What a lossless export encodes in each container (workers.encoder): RGB H.264 where FFmpeg's
#: mov muxer refuses FFV1, FFV1 in Matroska; webm has no lossless output.
LOSSLESS_CODEC = {"mp4": "h264", "mov": "h264", "mkv": "ffv1"}
#: Each codec's CRF for the same visual quality as x264's, relative to it (the workers' default
#: CRFs: h264 23, hevc 28, av1 35, vp9 33), and its CRF scale's top.
_CRF_OFFSET = {"h264": (0, 51), "hevc": (5, 51), "av1": (12, 63), "vp9": (10, 63), "ffv1": (0, 51)}
#: Codecs that code every frame alone at a profile's fixed quality: a CRF, bitrate, preset,
#: keyframe interval or B-frames mean nothing to them (workers.encoder ignores them).
INTRA_ONLY = frozenset(PROFILES)
#: The video_bitrate (kbit/s) the editor writes beside every quality when nobody chose one.
EDITOR_DEFAULT_BITRATE = 8000
#: Export keys of the editor's serde ExportSettings with no counterpart here, and the values
#: that ask for nothing (its defaults): any other value is reported as not honoured.
_UNSUPPORTED: dict[str, tuple[object, ...]] = {
    "encoding_profile": (None, "main", "high"),
    "multi_pass": (None, 1),
    "max_bitrate": (None,),
    "min_bitrate": (None,),
    "optimize_for_speed": (None, False),
    "optimize_for_network": (None, False),
    "normalize_audio": (None, False),
    "preferred_gpu_encoder": (None, ""),
    "ffmpeg_args": (None, ()),
}


def quality_crf(quality: float, codec: str) -> int:
    """The editor's numeric quality (0-100, 100 best) as a CRF for `codec`: its own mapping for
    x264, ``51 - min(quality * 33 / 100, 33)`` (ffmpeg_builder/builder.rs quality_to_crf: 100 is
    CRF 18, the default 85 is CRF 23), moved onto the codec's scale."""
    offset, top = _CRF_OFFSET.get(codec, (0, 51))
    return min(top, 51 - min(int(quality * 33) // 100, 33) + offset)


def parse_export(
    raw: Mapping[str, Any], problems: Problems, legacy: Mapping[str, Any] | None = None
) -> ExportSettings:
    """Read the editor's export block leniently; record problems that would encode wrongly.

    `legacy` is serde's older ``settings.output`` (format, quality, video_bitrate, audio_bitrate),
    read where ``settings.export`` does not say.
    """
    where = "settings.export"
    old = legacy or {}
    container = _container(
        pick(raw, "container", "format", default=old.get("format")),
        problems,
        _origin(raw, "container", "format"),
    )
    codec_raw = pick(raw, "codec", "video_codec")
    codec = (
        CONTAINER_DEFAULT_CODEC.get(container, "h264")  # an audio-only output encodes no video
        if codec_raw is None
        else CODECS.get(canonical(str(codec_raw)))
    )
    if codec is None:
        problems.error(
            where,
            f"codec {canonical(str(codec_raw))!r} is not h264, hevc, av1, vp9, ffv1, prores or "
            "dnxhr",
        )
        codec = "h264"
    lossless = flag(raw, "lossless", False, problems, where)
    crf: int | None = None
    quality = pick(raw, "quality", default=old.get("quality"))
    named = isinstance(quality, str) and to_float(quality) is None
    if named:
        if canonical(quality) == "lossless":
            lossless = True
        elif canonical(quality) in EDITOR_QUALITY:
            crf = quality_crf(EDITOR_QUALITY[canonical(quality)], codec)
        elif canonical(quality) in QUALITY_CRF:
            crf = QUALITY_CRF[canonical(quality)]
        else:
            names = sorted({*EDITOR_QUALITY, *QUALITY_CRF})
            problems.error(_origin(raw, "quality"), f"quality {quality!r} is not one of {names}")
    elif quality is not None:
        holder = {"quality": quality}
        level = number(holder, ("quality",), 85, problems, _origin(raw, "quality"), low=0, high=100)
        crf = quality_crf(level, codec)
    if pick(raw, "crf") is not None:
        crf = int(number(raw, ("crf",), 23, problems, where, low=0, high=63))
    bitrate = _bitrate(raw, old, crf, problems, where)
    keyint = pick(raw, "keyframe_interval", "gop_size")
    b_frames = pick(raw, "b_frames", "bframes")
    audio = number(
        raw if pick(raw, "audio_bitrate") is not None else old,
        ("audio_bitrate",),
        192,
        problems,
        _origin(raw, "audio_bitrate"),
        low=8,
        high=1e7,
    )
    profile = pick(raw, "profile", "codec_profile")
    audio_codec = pick(raw, "audio_codec")
    for key, fine in _UNSUPPORTED.items():
        value = raw.get(key)
        if value not in fine and not (isinstance(value, list) and not value):
            problems.warn(where, f"{key} {shown(value)} is not supported; ignored")
    conflict = lossless_conflict(container, codec) if lossless and codec_raw is not None else None
    if conflict is not None:
        problems.warn(where, f"{conflict}: the codec is ignored")
    return ExportSettings(
        container=container,
        codec=codec,
        crf=crf,
        bitrate=bitrate,
        preset=str(raw["preset"]) if raw.get("preset") else None,
        keyframe_interval=int(
            number(raw, ("keyframe_interval", "gop_size"), 0, problems, where, low=1, high=10000)
        )
        if keyint is not None
        else None,
        b_frames=int(number(raw, ("b_frames", "bframes"), 0, problems, where, low=0, high=16))
        if b_frames is not None
        else None,
        hardware_acceleration=flag(raw, "hardware_acceleration", False, problems, where),
        lossless=lossless,
        audio_bitrate=int(audio if audio >= 8000 else audio * 1000),
        profile=None if profile is None else canonical_profile(codec, str(profile)),
        audio_codec=None if audio_codec is None else canonical_audio(str(audio_codec)),
    )


def _origin(raw: Mapping[str, Any], *names: str) -> str:
    """Where a value read with serde's ``settings.output`` fallback came from, for messages:
    a user told about ``settings.export`` would look for the wrong key."""
    return "settings.export" if pick(raw, *names) is not None else "settings.output"


def _container(value: Any, problems: Problems, where: str) -> str:
    found = variant(value if value is not None else "mp4")
    name = "?" if found is None else found[0]
    if found is not None and found[0] == "custom":  # serde's OutputFormat::Custom("mkv")
        name = canonical(str(found[1]))
    container = CONTAINERS.get(name)
    if container is None:
        problems.error(where, f"format {name!r} is not one of {', '.join(OUTPUT_CONTAINERS)}")
        return "mp4"
    return container


def _bitrate(
    raw: Mapping[str, Any], old: Mapping[str, Any], crf: int | None, problems: Problems, where: str
) -> int | None:
    """The video bitrate in bit/s, or None for constant quality.

    ``video_bitrate`` beside a ``quality`` is the editor's default unless it differs from 8000
    kbit/s or ``rate_control_mode`` is ``cbr``: the editor's renderer encodes by quality then.
    A chosen bitrate beside ``crf`` or ``quality`` wins (the encoder takes it over a CRF), with a
    warning naming both.
    """
    source: Mapping[str, Any] = raw
    names: tuple[str, ...] = ("bitrate", "video_bitrate")
    if pick(raw, *names) is None and pick(old, "video_bitrate") is not None:
        source, names = old, ("video_bitrate",)  # serde's settings.output, which the editor uses
    if pick(source, *names) is None:
        return None
    origin = where if source is raw else "settings.output"
    value = number(source, names, 0, problems, origin, low=1, high=1e10)
    mode = canonical(str(raw.get("rate_control_mode") or ""))
    if (
        pick(raw, "crf") is None
        and pick(raw, "quality", default=old.get("quality")) is not None
        and value == EDITOR_DEFAULT_BITRATE
        and mode != "cbr"
        and source is raw
    ):
        return None
    if crf is not None:
        what = f"crf {pick(raw, 'crf')}" if pick(raw, "crf") is not None else "quality"
        problems.warn(
            where,
            f"{what} and video_bitrate {value:g} are both set; the bitrate wins ({what} is "
            "ignored)",
        )
    # The editor stores kbit/s; accept bits/s too when the number is clearly that.
    return int(value if value >= 100_000 else value * 1000)


#: The presets x264 and x265 know (the named ones SVT-AV1 and libvpx map to their speeds).
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
           "veryslow", "placebo")  # fmt: skip


def lossless_conflict(container: str, codec: str) -> str | None:
    """Why an export named ``codec`` cannot be lossless in ``container`` (None when it can):
    the lossless encoders are the container's own, whatever codec was asked for."""
    wanted = LOSSLESS_CODEC.get(container)
    if wanted is None or codec == wanted:
        return None
    name = "RGB H.264" if wanted == "h264" else "FFV1"
    return f"lossless output in {container} is {name}, not {codec}"


#: How each container's default sound is named in messages (chunking.timeline.audio_export
#: chooses the codec; ``workers.audio_encode`` encodes it).
AUDIO_CODECS = {"mp4": "AAC", "mov": "AAC", "mkv": "Opus", "webm": "Opus"}
#: The same for a lossless export (webm has none), whose codecs take no bitrate.
LOSSLESS_AUDIO_CODECS = {"mp4": "ALAC", "mov": "ALAC", "mkv": "FLAC"}


def svt_preset(preset: str) -> int | None:
    """An SVT-AV1 preset number (0 to 13, ASCII digits: str.isdigit also takes '²') or None."""
    if preset.isascii() and preset.isdigit() and int(preset) <= 13:
        return int(preset)
    return None


def export_problems(
    width: int, height: int, export: ExportSettings, sample_rate: int | None = None
) -> list[str]:
    """Reasons these settings cannot encode a frame of this size, or sound at ``sample_rate``
    (empty when they can)."""
    problems = []
    for audio in (audio_codec_problem(export), audio_bitrate_problem(export)):
        if audio is not None:
            problems.append(audio)
    if audio_only(export.container):
        # No picture is encoded: the video settings (codec, size, CRF) do not apply.
        if export.lossless and export.container not in LOSSLESS_AUDIO_OUTPUTS:
            problems.append(
                f"lossless output needs {', '.join(LOSSLESS_AUDIO_OUTPUTS)}, not {export.container}"
            )
        return [bounded(p) for p in problems]
    profile = profile_problem(export.codec, export.profile)
    if profile is not None:
        problems.append(profile)
    if export.codec not in CONTAINER_CODECS[export.container]:
        problems.append(
            f"codec {export.codec} cannot be stored in {export.container} "
            f"(use one of {', '.join(sorted(CONTAINER_CODECS[export.container]))})"
        )
    if export.codec in SUBSAMPLED and not export.lossless and (width % 2 or height % 2):
        problems.append(
            f"resolution {width}x{height} has an odd side; {export.codec} with "
            "yuv420p needs even width and height (or render --lossless)"
        )
    problems += intra_problems(width, height, export)
    # Lossless output is FFV1 or RGB H.264 whatever codec the project names (mkv's default
    # hevc refused a 48x48 lossless Matroska render that FFV1 encodes).
    encoded = export.codec
    if export.lossless:
        encoded = LOSSLESS_CODEC.get(export.container, export.codec)
    least = MIN_SIZE.get(encoded)
    if least is not None and (width < least[0] or height < least[1]):
        problems.append(
            f"resolution {width}x{height} is too small for {encoded}: it needs at least "
            f"{least[0]}x{least[1]} (use h264 or vp9 for smaller frames)"
        )
    top = MAX_CRF.get(encoded)
    if top is not None and export.crf is not None and export.crf > top and not export.bitrate:
        problems.append(f"crf {export.crf} is above {encoded}'s highest, {top}")
    if export.lossless and export.container == "webm":
        problems.append("lossless output needs mp4, mov or mkv, not webm")
    preset = export.preset
    numbered = export.codec == "av1"  # SVT-AV1's own presets, 0 (slowest) to 13
    if (
        preset is not None
        and preset not in PRESETS
        and not (numbered and svt_preset(preset) is not None)
        and not export.lossless
    ):
        also = ", or a number from 0 to 13 (SVT-AV1's own)" if numbered else ""
        problems.append(f"preset {preset!r} is not one of {', '.join(PRESETS)}{also}")
    return [bounded(p) for p in problems]  # the preset is quoted as given

"""Export settings: parsing the editor's ``settings.export`` and checking they can be encoded."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from chunking.timeline.fields import Problems, canonical, number, pick
from chunking.timeline.model import ExportSettings

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
}
CONTAINERS = {
    "mp4": "mp4",
    "mov": "mov",
    "quicktime": "mov",
    "mkv": "mkv",
    "matroska": "mkv",
    "webm": "webm",
}
#: Which video codecs each container can carry.
CONTAINER_CODECS = {
    "mp4": {"h264", "hevc", "av1", "vp9"},
    "mov": {"h264", "hevc"},
    "mkv": {"h264", "hevc", "av1", "vp9", "ffv1"},
    "webm": {"vp9", "av1"},
}
#: The editor's named quality levels as x264-style CRF values.
QUALITY_CRF = {
    "low": 28,
    "medium": 23,
    "normal": 23,
    "good": 20,
    "high": 18,
    "best": 16,
    "veryhigh": 16,
    "ultra": 14,
}
#: Codecs whose normal pixel format (yuv420p) needs even frame sizes.
SUBSAMPLED = {"h264", "hevc", "av1", "vp9"}


def parse_export(raw: Mapping[str, Any], problems: Problems) -> ExportSettings:
    """Read the editor's export block leniently; record problems that would encode wrongly."""
    where = "settings.export"
    container_raw = canonical(str(pick(raw, "container", "format", default="mp4")))
    container = CONTAINERS.get(container_raw)
    if container is None:
        problems.error(where, f"format {container_raw!r} is not mp4, mov, mkv or webm")
        container = "mp4"
    codec_raw = canonical(str(pick(raw, "codec", "video_codec", default="h264")))
    codec = CODECS.get(codec_raw)
    if codec is None:
        problems.error(where, f"codec {codec_raw!r} is not h264, hevc, av1, vp9 or ffv1")
        codec = "h264"
    lossless = bool(raw.get("lossless", False))
    crf: int | None = None
    quality = pick(raw, "quality")
    if isinstance(quality, str):
        if canonical(quality) == "lossless":
            lossless = True
        elif canonical(quality) in QUALITY_CRF:
            crf = QUALITY_CRF[canonical(quality)]
        else:
            problems.error(where, f"quality {quality!r} is not one of {sorted(QUALITY_CRF)}")
    if pick(raw, "crf") is not None:
        crf = int(number(raw, ("crf",), 23, problems, where, low=0, high=63))
    bitrate = None
    if pick(raw, "bitrate", "video_bitrate") is not None:
        value = number(raw, ("bitrate", "video_bitrate"), 0, problems, where, low=1, high=1e10)
        # The editor stores kbit/s; accept bits/s too when the number is clearly that.
        bitrate = int(value if value >= 100_000 else value * 1000)
    keyint = pick(raw, "keyframe_interval", "gop_size")
    b_frames = pick(raw, "b_frames", "bframes")
    audio = number(raw, ("audio_bitrate",), 192, problems, where, low=8, high=1e7)
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
        hardware_acceleration=bool(raw.get("hardware_acceleration", False)),
        lossless=lossless,
        audio_bitrate=int(audio if audio >= 8000 else audio * 1000),
    )


def with_overrides(export: ExportSettings, **changes: Any) -> ExportSettings:
    """A copy with the given fields replaced (None values are ignored)."""
    return dataclasses.replace(export, **{k: v for k, v in changes.items() if v is not None})


def export_problems(width: int, height: int, export: ExportSettings) -> list[str]:
    """Reasons these settings cannot encode a frame of this size (empty when they can)."""
    problems = []
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
    if export.lossless and export.container == "webm":
        problems.append("lossless output needs mp4, mov or mkv, not webm")
    return problems

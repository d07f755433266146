"""Project settings of the editor's documents as the ProjectSchema ``timeline`` and ``settings``:
frame rate, frame size, aspect ratio, dates, and the export block the editor sends."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from chunking.timeline.fields import Problems, canonical, shown, to_float
from chunking.timeline.frames import parse_fps
from chunking.timeline.schema import MAX_FPS, MAX_SIDE
from chunking.timeline.studio_editor_library import as_map, text

#: The export block the editor puts in every ProjectSchema it builds (timelineToProjectSchema;
#: use-render-queue.ts for ``.tls`` files): its documents carry no export settings of their own.
EDITOR_EXPORT: dict[str, Any] = {
    "format": "Mp4",
    "quality": 85,
    "video_bitrate": 8000,
    "audio_bitrate": 192,
    "hardware_acceleration": True,
    "ffmpeg_args": [],
}
PREVIEW = {"resolution": [1280, 720], "fps": 30, "quality": 75}


def frame_rate(p: Problems, *candidates: tuple[str, Any]) -> int | str:
    """The first frame rate given, exact ("30000/1001" for 29.97); 30 when none is."""
    for label, raw in candidates:
        if raw is None:
            continue
        try:
            fps = parse_fps(raw)
        except (ValueError, ZeroDivisionError, TypeError, OverflowError):
            p.error(label, f"not a frame rate: {shown(raw)}")
            return 30
        if not 0 < fps <= MAX_FPS:
            p.error(label, f"{shown(raw)} must be above 0 and at most {MAX_FPS}")
            return 30
        return _rate(fps)
    return 30


def frame_size(p: Problems, *candidates: tuple[str, Any]) -> list[int]:
    """The first frame size given ({width, height}, "1920x1080" or [w, h]); 1920x1080. A
    ``"custom"`` one (the settings dialog's custom aspect ratio, whose size it keeps in
    ``aspectRatio.value``) gives way to the next, as does a sequence's size made from one (the
    editor's createProject splits "custom" into NaN, written as null, and no height)."""
    custom = ""
    for label, raw in candidates:
        if raw is None:
            continue
        if (isinstance(raw, str) and raw.strip().lower() == "custom") or (
            isinstance(raw, Mapping) and raw.get("width") is None and raw.get("height") is None
        ):
            custom = custom or label
            continue
        value = raw
        if isinstance(value, Mapping):
            value = [value.get("width"), value.get("height")]
        elif isinstance(value, str):
            value = value.lower().split("x", 1)
        sides = [to_float(v) for v in value] if isinstance(value, list | tuple) else []
        if len(sides) != 2 or not all(side is not None and side.is_integer() for side in sides):
            p.error(label, f"not a frame size: {shown(raw)}")
            return [1920, 1080]
        width, height = (int(side or 0) for side in sides)
        if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
            p.error(label, f"{width}x{height} is out of range (1..{MAX_SIDE} pixels)")
            return [1920, 1080]
        return [width, height]
    if custom:
        p.warn(custom, "a custom size with none in aspectRatio.value; rendered 1920x1080")
    return [1920, 1080]


def _rate(fps: Fraction) -> int | str:
    return fps.numerator if fps.denominator == 1 else f"{fps.numerator}/{fps.denominator}"


def aspect_ratio(width: int, height: int) -> str:
    """getAspectRatio: the editor's named ratio within 0.01, else Custom."""
    ratio = width / height
    for name, value in (("16x9", 16 / 9), ("4x3", 4 / 3), ("1x1", 1.0), ("9x16", 9 / 16)):
        if abs(ratio - value) < 0.01:
            return f"Ratio{name}"
    return "Custom"


def stamp(value: Any) -> str | None:
    """A creation or change time as the editor writes it (ISO text, or epoch milliseconds)."""
    if isinstance(value, str) and value:
        return value
    millis = to_float(value)
    if millis is None or not 0 <= millis < 1e14:
        return None
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat().replace("+00:00", "Z")


def colour_space(seq_settings: Mapping[str, Any], where: str, p: Problems) -> bool:
    """Warn of an HDR or wide-gamut sequence or project (the project settings dialog's
    ``hdr-hlg``, ``hdr-pq``, ``dci-p3``, ``p3-d65``): the render is SDR BT.709, 8 bits. Whether
    it warned."""
    hdr = as_map(seq_settings.get("hdr"))
    space = text(seq_settings.get("colorSpace"))
    if hdr.get("enabled") is True or canonical(space) in ("hdrhlg", "hdrpq"):
        kind = text(hdr.get("type")) or space or "HDR"
        p.warn(where, f"HDR ({kind}) is not rendered: the output is SDR BT.709, 8 bits")
        return True
    if space and canonical(space) not in ("rec709", "bt709", "srgb", "sdr"):
        p.warn(where, f"colorSpace {space!r} is not rendered: the output is BT.709")
        return True
    return False

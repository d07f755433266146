"""What a clip shows, in ProjectSchema JSON: a media file, an image sequence or a generator.

serde's ``ClipSource`` is ``{"File": path}``, ``"Generated"``, ``{"Stream": url}`` or
``{"Device": name}``; the editor's frontend writes ``source_path`` instead. Streams and capture
devices cannot be rendered frame-exactly and are refused with one line each.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from chunking.timeline.fields import Problems, canonical, color, pick, shown
from chunking.timeline.frames import parse_fps
from chunking.timeline.model import FileSource, GeneratedSource, ImageSequence, Source, TrackKind
from chunking.timeline.schema import MAX_FPS

IMAGE_EXT = {".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".bmp", ".webp", ".tif", ".tiff", ".tga"}
#: An image sequence longer than this is not a sequence anyone renders (a day at 120 fps).
MAX_IMAGES = 10_368_000
#: Linux's PATH_MAX: no longer path can be opened, and every message would quote it whole.
MAX_PATH = 4096

_LIVE = {
    "Stream": "source Stream (live URL) cannot be rendered; record it to a file first",
    "Device": "source Device (a capture device) cannot be rendered; record it to a file first",
}


def parse_source(
    raw: Mapping[str, Any],
    custom: Mapping[str, Any],
    base_dir: str,
    kind: TrackKind,
    p: Problems,
    where: str,
) -> Source:
    """A clip's ``source`` (or ``source_path``), checked against the disk."""
    src = pick(raw, "source", default=None)
    if src is None and pick(raw, "source_path", "path", "file") is not None:
        src = {"File": pick(raw, "source_path", "path", "file")}
    if src is None:
        p.error(where, 'source is missing (expected {"File": path} or "Generated")')
        return GeneratedSource()
    if src == "Generated" or (isinstance(src, Mapping) and "Generated" in src):
        gen = custom.get("generator")
        if isinstance(src, Mapping) and isinstance(src["Generated"], Mapping):
            gen = src["Generated"]
        return _generated(gen if isinstance(gen, Mapping) else {}, p, where)
    if isinstance(src, Mapping) and "File" in src:
        path = src["File"]
        if not isinstance(path, str):
            p.error(where, f"source File must be a path (text), not {shown(path)}")
            return GeneratedSource()
        if not path.strip():
            p.error(where, "has no media: its source file path is empty")
            return GeneratedSource()
        source = check_file(path, base_dir, kind, p, where)
        if raw.get("image_sequence") is not None:
            return _sequence(raw["image_sequence"], source, p, where)
        return source
    for name, message in _LIVE.items():
        if isinstance(src, Mapping) and name in src:
            p.error(where, message)
            return GeneratedSource()
    if src == "File" or (isinstance(src, str) and src.strip().lower() == "file"):
        # Written as the type alone: the path belongs inside it.
        p.error(where, f'source {shown(src)} names no file; write {{"File": "path/to/media"}}')
        return GeneratedSource()
    p.error(where, f'unknown source type {shown(src)} (expected {{"File": path}} or "Generated")')
    return GeneratedSource()


def check_file(path: str, base_dir: str, kind: TrackKind, p: Problems, where: str) -> FileSource:
    """A media path resolved against the project directory; a problem if it cannot be read."""
    if "\x00" in path:
        p.error(where, f"media path contains a NUL character: {path!r}")
        return FileSource(path)
    if len(path) > MAX_PATH:
        # Quoted whole, a 10 MB path made a 10 MB "one-line" error (20 MB with --json).
        p.error(
            where,
            f"media path is {len(path)} characters long, more than a file system opens "
            f"({MAX_PATH}): {shown(path, 60)}",
        )
        return FileSource(path)
    full = path if os.path.isabs(path) else os.path.normpath(os.path.join(base_dir, path))
    base = os.path.realpath(base_dir)
    outside = os.path.commonpath([base, os.path.realpath(full)]) != base
    if outside and not (os.path.isfile(full) and os.access(full, os.R_OK)):
        # One line whatever is wrong: a project must not learn what exists on this disk.
        p.error(where, f"cannot open media outside the project directory: {path}")
    elif os.path.exists(full) and not os.path.isfile(full):
        what = "a folder" if os.path.isdir(full) else "not a regular file"
        p.error(where, f"media {path} is {what}, not a media file")
    elif not os.path.isfile(full):
        p.error(where, f"media file not found: {path}")
    elif not os.access(full, os.R_OK):
        p.error(where, f"media file is not readable: {path}")
    elif kind is TrackKind.AUDIO and os.path.splitext(full)[1].lower() in IMAGE_EXT:
        p.error(where, f"an image cannot be used on an audio track: {path}")
    return FileSource(full)


def _sequence(raw: Any, first: FileSource, p: Problems, where: str) -> FileSource:
    """``image_sequence`` beside ``source: {"File": <first image>}`` (the OTIO importer's
    ImageSequenceReference)."""
    at = "image_sequence"
    if not isinstance(raw, Mapping):
        p.error(where, f"{at} must be an object, not {shown(raw)}")
        return first

    def integer(name: str, default: int | None, low: int, high: int) -> int:
        value = raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            p.error(
                where,
                f"{at}.{name} must be a whole number from {low} to {high}, not {shown(value)}",
            )
            return low
        return value

    prefix, suffix = raw.get("prefix", ""), raw.get("suffix", "")
    if not isinstance(prefix, str) or not isinstance(suffix, str):
        p.error(where, f"{at}.prefix and {at}.suffix must be strings")
        return first
    try:
        rate = parse_fps(raw.get("rate"))
    except (ValueError, ZeroDivisionError, TypeError, OverflowError):
        rate = Fraction(0)
    if not 0 < rate <= MAX_FPS:
        p.error(
            where,
            f"{at}.rate {shown(raw.get('rate'))} must be a frame rate above 0 "
            f"and at most {MAX_FPS}",
        )
        rate = Fraction(24)
    before = len(p.errors)
    sequence = ImageSequence(
        prefix=prefix,
        suffix=suffix,
        start_frame=integer("start_frame", 0, -(10**9), 10**9),
        count=integer("count", None, 1, MAX_IMAGES),
        rate=rate,
        frame_step=integer("frame_step", 1, 1, 10**6),
        padding=integer("padding", 0, 0, 32),
    )
    name = os.path.basename(first.path)
    # A refused number was replaced by its bound: the name made of it would only mislead.
    if len(p.errors) == before and sequence.name(0) != name:
        p.error(where, f"{at} starts with {sequence.name(0)!r}, but source File is {name!r}")
    return FileSource(first.path, sequence=sequence)


def _generated(gen: Mapping[str, Any], p: Problems, where: str) -> GeneratedSource:
    gtype = canonical(str(pick(gen, "type", "kind", default="color")))
    rgba = color(pick(gen, "color", "colour", default="#000000"), p, where + ".generator")
    if gtype in ("color", "colour", "solid", "solidcolor"):
        return GeneratedSource(kind="color", color=rgba)
    if gtype in ("pattern", "testpattern", "bars", "colorbars", "checker", "gradient", "grid"):
        pattern = canonical(str(pick(gen, "pattern", default=gtype)))
        pattern = {"testpattern": "bars", "colorbars": "bars", "pattern": "bars"}.get(
            pattern, pattern
        )
        if pattern not in ("bars", "checker", "gradient", "grid"):
            p.error(where, f"generator pattern {pattern!r} is not bars, checker, gradient or grid")
        return GeneratedSource(kind="pattern", color=rgba, pattern=pattern)
    p.error(where, f"generator type {gtype!r} is not color or pattern")
    return GeneratedSource()

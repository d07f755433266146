"""Timeline Studio ``ProjectSchema`` JSON onto the internal model.

Lenient where the editor's variants differ (missing optional sections, ``source_path`` instead of
``source``, "Video"/"video"), strict where the render would be wrong (overlaps, bad times, missing
media). Every problem is collected and raised together as one ValidationError.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from chunking.timeline.export import export_problems, parse_export
from chunking.timeline.fields import Problems, canonical, color, nesting_depth, number, pick, shown
from chunking.timeline.frames import parse_fps, to_frame
from chunking.timeline.model import (
    Clip,
    FileSource,
    GeneratedSource,
    Source,
    Subtitle,
    Timeline,
    Track,
    TrackKind,
)
from chunking.timeline.schema import (
    MAX_DEPTH,
    MAX_FPS,
    MAX_SECONDS,
    MAX_SIDE,
    entries,
    settings_export,
)
from chunking.timeline.studio_subtitles import parse_subtitles
from chunking.timeline.studio_transitions import check_overlaps, parse_transitions
from chunking.timeline.studio_visual import (
    effect_registry,
    parse_color,
    parse_crop,
    parse_effects,
    parse_transform,
)
from common.errors import ValidationError

__all__ = ["MAX_FPS", "MAX_SECONDS", "MAX_SIDE", "load_project"]

_IMAGE_EXT = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}


def load_project(data: Mapping[str, Any], base_dir: str, *, strict: bool = False) -> Timeline:
    """Build a Timeline from a parsed ProjectSchema document; raise ValidationError on problems."""
    return _Loader(data, base_dir, strict).load()


class _Loader:
    def __init__(self, data: Mapping[str, Any], base_dir: str, strict: bool) -> None:
        self.data = data
        self.base_dir = base_dir
        self.strict = strict
        self.p = Problems()
        self.fps = Fraction(30)
        self.effects: dict[str, Mapping[str, Any]] = {}

    def load(self) -> Timeline:
        if not isinstance(self.data, Mapping):
            raise ValidationError(["project: the top level must be a JSON object"])
        if nesting_depth(self.data, MAX_DEPTH) > MAX_DEPTH:
            # Checked first, so nothing below recurses into a hostile structure.
            raise ValidationError([f"project: lists and objects nest over {MAX_DEPTH} levels deep"])
        tl = self.data.get("timeline") or {}
        if not isinstance(tl, Mapping):
            raise ValidationError(["timeline: must be an object"])
        self.fps = self._fps(tl)
        width, height = self._resolution(tl)
        sample_rate = int(
            number(tl, ("sample_rate",), 48000, self.p, "timeline", low=8000, high=384000)
        )
        self.effects = effect_registry(self.data)
        tracks = tuple(
            self._track(i, raw) for i, raw in enumerate(entries(self.data.get("tracks")))
        )
        transitions = parse_transitions(
            entries(self.data.get("transitions")), tracks, self.fps, self.p
        )
        subtitles = parse_subtitles(entries(self.data.get("subtitles")), tracks, self.fps, self.p)
        frames = self._duration(tl, tracks, subtitles)
        export = parse_export(settings_export(self.data), self.p)
        for problem in export_problems(width, height, export):
            self.p.error("settings.export", problem)
        check_overlaps(tracks, transitions, self.p)
        if self.p.errors:
            raise ValidationError(self.p.errors)
        if self.strict and self.p.warnings:
            raise ValidationError(self.p.warnings)
        meta = self.data.get("metadata")
        name = str(meta.get("name", "")) if isinstance(meta, Mapping) else ""
        return Timeline(
            fps=self.fps,
            width=width,
            height=height,
            frames=frames,
            sample_rate=sample_rate,
            tracks=tracks,
            transitions=transitions,
            subtitles=subtitles,
            export=export,
            warnings=tuple(self.p.warnings),
            name=name,
        )

    # -- timeline -----------------------------------------------------------------------------

    def _fps(self, tl: Mapping[str, Any]) -> Fraction:
        raw = pick(tl, "fps", "frame_rate", "framerate", default=30)
        try:
            fps = parse_fps(raw)
        except (ValueError, ZeroDivisionError, TypeError, OverflowError):
            self.p.error("timeline.fps", f"not a frame rate: {shown(raw)}")
            return Fraction(30)
        if not 0 < fps <= MAX_FPS:
            # A Fraction too large for a float cannot be formatted with :g.
            text = f"{float(fps):g}" if abs(fps) < 1e300 else "a huge number"
            self.p.error("timeline.fps", f"{text} must be above 0 and at most {MAX_FPS}")
            return Fraction(30)
        return fps

    def _resolution(self, tl: Mapping[str, Any]) -> tuple[int, int]:
        raw = pick(tl, "resolution", default=[1920, 1080])
        if isinstance(raw, Mapping):
            raw = [raw.get("width"), raw.get("height")]
        elif isinstance(raw, str) and "x" in raw:
            raw = raw.lower().split("x", 1)
        try:
            width, height = (int(str(v)) for v in raw)
        except (TypeError, ValueError):
            self.p.error("timeline.resolution", f"must be [width, height], got {shown(raw)}")
            return 1920, 1080
        if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
            self.p.error(
                "timeline.resolution",
                f"{width}x{height} is out of range (each side 1..{MAX_SIDE} pixels)",
            )
            return 1920, 1080
        return width, height

    def _duration(
        self, tl: Mapping[str, Any], tracks: tuple[Track, ...], subs: tuple[Subtitle, ...]
    ) -> int:
        ends = [c.end for t in tracks for c in t.clips] + [s.end for s in subs]
        last = max(ends, default=0)
        seconds = number(tl, ("duration",), 0.0, self.p, "timeline", low=0, high=MAX_SECONDS)
        frames = to_frame(seconds, self.fps) if seconds > 0 else last
        if frames <= 0 and not self.p.errors:  # otherwise an earlier problem emptied it
            self.p.error("timeline.duration", "the timeline is empty (no duration and no clips)")
        return frames

    # -- tracks and clips ---------------------------------------------------------------------

    def _track(self, index: int, raw: Any) -> Track:
        where = f"track #{index}"
        if not isinstance(raw, Mapping):
            self.p.error(where, "must be an object")
            return Track(id=f"#{index}", kind=TrackKind.VIDEO)
        track_id = str(raw.get("id", f"#{index}"))
        where = f"track {track_id!r}"
        kind_raw = str(pick(raw, "track_type", "type", "kind", default="Video"))
        try:
            kind = TrackKind(kind_raw.lower())
        except ValueError:
            self.p.error(where, f"track_type {kind_raw!r} is not Video, Audio or Subtitle")
            kind = TrackKind.VIDEO
        effects = parse_effects(raw, self.effects, self.fps, self.p, where)
        clips = tuple(
            self._clip(track_id, kind, i, c) for i, c in enumerate(entries(raw.get("clips")))
        )
        return Track(
            id=track_id,
            kind=kind,
            name=str(raw.get("name", "")),
            enabled=bool(raw.get("enabled", True)),
            muted=bool(raw.get("muted", False)),
            volume=number(raw, ("volume",), 1.0, self.p, where, low=0, high=10),
            clips=tuple(sorted(clips, key=lambda c: (c.start, c.id))),
            effects=effects,
        )

    def _clip(self, track_id: str, kind: TrackKind, index: int, raw: Any) -> Clip:
        where = f"track {track_id!r} clip #{index}"
        if not isinstance(raw, Mapping):
            self.p.error(where, "must be an object")
            return Clip(id=where, track_id=track_id, source=GeneratedSource(), start=0, end=0)
        clip_id = str(raw.get("id", f"{track_id}#{index}"))
        where = f"clip {clip_id!r}"
        known = len(self.p.errors)
        start_s = number(raw, ("start_time", "start"), 0.0, self.p, where, low=0, high=MAX_SECONDS)
        end_s = number(raw, ("end_time", "end"), -1.0, self.p, where, low=0, high=MAX_SECONDS)
        if pick(raw, "end_time", "end") is None:
            duration = number(raw, ("duration",), -1.0, self.p, where, low=0, high=MAX_SECONDS)
            end_s = start_s + duration if duration >= 0 else -1.0
            if duration < 0 and len(self.p.errors) == known:
                self.p.error(where, "end_time is missing")
        start, end = to_frame(start_s, self.fps), to_frame(end_s, self.fps)
        timed = len(self.p.errors) == known  # an unreadable time is reported once, above
        if timed and pick(raw, "end_time", "end", "duration") is not None and end <= start:
            self.p.error(
                where,
                f"end_time {end_s:g}s must be after start_time {start_s:g}s "
                "(the clip would be empty)",
            )
        props = raw.get("properties") if isinstance(raw.get("properties"), Mapping) else {}
        custom = props.get("custom_metadata") if isinstance(props, Mapping) else None
        custom = custom if isinstance(custom, Mapping) else {}
        text = pick(raw, "text", default=pick(custom, "text"))
        source: Source = GeneratedSource()
        if kind is not TrackKind.SUBTITLE or text is None:
            source = self._source(raw, custom, where, kind)
        source_start = number(raw, ("source_start",), 0.0, self.p, where, low=0, high=MAX_SECONDS)
        source_end_raw = pick(raw, "source_end")
        source_end = None
        if source_end_raw is not None:
            source_end = number(raw, ("source_end",), 0.0, self.p, where, low=0, high=MAX_SECONDS)
            if source_end <= source_start:
                self.p.error(
                    where,
                    f"source_end {source_end:g}s must be after source_start {source_start:g}s",
                )
                source_end = None
        return Clip(
            id=clip_id,
            track_id=track_id,
            source=source,
            start=start,
            end=max(end, start),
            source_start=source_start,
            source_end=source_end,
            speed=number(raw, ("speed",), 1.0, self.p, where, low=0.25, high=4.0),
            opacity=number(raw, ("opacity",), 1.0, self.p, where, low=0, high=1),
            volume=number(raw, ("volume",), 1.0, self.p, where, low=0, high=10),
            muted=bool(raw.get("muted", False)),
            fade_in=number(
                raw, ("fade_in", "audio_fade_in"), 0.0, self.p, where, low=0, high=MAX_SECONDS
            ),
            fade_out=number(
                raw, ("fade_out", "audio_fade_out"), 0.0, self.p, where, low=0, high=MAX_SECONDS
            ),
            transform=parse_transform(raw.get("transform"), self.p, where),
            crop=parse_crop(raw.get("crop"), self.p, where),
            color=parse_color(raw.get("color_correction"), self.p, where),
            effects=parse_effects(raw, self.effects, self.fps, self.p, where),
            text=str(text) if text is not None else None,
        )

    def _source(
        self, raw: Mapping[str, Any], custom: Mapping[str, Any], where: str, kind: TrackKind
    ) -> Source:
        src = pick(raw, "source", default=None)
        if src is None and pick(raw, "source_path", "path", "file") is not None:
            src = {"File": pick(raw, "source_path", "path", "file")}
        if src is None:
            self.p.error(where, 'source is missing (expected {"File": path} or "Generated")')
            return GeneratedSource()
        if (
            isinstance(src, str)
            and src == "Generated"
            or (isinstance(src, Mapping) and "Generated" in src)
        ):
            gen = custom.get("generator")
            if isinstance(src, Mapping) and isinstance(src["Generated"], Mapping):
                gen = src["Generated"]
            return self._generated(gen if isinstance(gen, Mapping) else {}, where)
        if isinstance(src, Mapping) and "File" in src:
            return self._file(str(src["File"]), where, kind)
        if isinstance(src, Mapping) and "Stream" in src:
            self.p.error(
                where, "source Stream (live URL) cannot be rendered; record it to a file first"
            )
            return GeneratedSource()
        self.p.error(where, f"unknown source type {shown(src)} (expected File or Generated)")
        return GeneratedSource()

    def _file(self, path: str, where: str, kind: TrackKind) -> FileSource:
        full = path if os.path.isabs(path) else os.path.normpath(os.path.join(self.base_dir, path))
        base = os.path.realpath(self.base_dir)
        outside = os.path.commonpath([base, os.path.realpath(full)]) != base
        if outside and not (os.path.isfile(full) and os.access(full, os.R_OK)):
            # One line whatever is wrong: a project must not learn what exists on this disk.
            self.p.error(where, f"cannot open media outside the project directory: {path}")
        elif not os.path.isfile(full):
            self.p.error(where, f"media file not found: {path}")
        elif not os.access(full, os.R_OK):
            self.p.error(where, f"media file is not readable: {path}")
        elif kind is TrackKind.AUDIO and os.path.splitext(full)[1].lower() in _IMAGE_EXT:
            self.p.error(where, f"an image cannot be used on an audio track: {path}")
        return FileSource(full)

    def _generated(self, gen: Mapping[str, Any], where: str) -> GeneratedSource:
        gtype = canonical(str(pick(gen, "type", "kind", default="color")))
        rgba = color(pick(gen, "color", "colour", default="#000000"), self.p, where + ".generator")
        if gtype in ("color", "colour", "solid", "solidcolor"):
            return GeneratedSource(kind="color", color=rgba)
        if gtype in ("pattern", "testpattern", "bars", "colorbars", "checker", "gradient", "grid"):
            pattern = canonical(str(pick(gen, "pattern", default=gtype)))
            pattern = {"testpattern": "bars", "colorbars": "bars", "pattern": "bars"}.get(
                pattern, pattern
            )
            if pattern not in ("bars", "checker", "gradient", "grid"):
                self.p.error(
                    where, f"generator pattern {pattern!r} is not bars, checker, gradient or grid"
                )
            return GeneratedSource(kind="pattern", color=rgba, pattern=pattern)
        self.p.error(where, f"generator type {gtype!r} is not color or pattern")
        return GeneratedSource()

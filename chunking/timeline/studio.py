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

from chunking.timeline.catalogue import TRANSITION_ALIASES, effect_kind
from chunking.timeline.export import export_problems, parse_export
from chunking.timeline.fields import Problems, canonical, color, number, pick
from chunking.timeline.frames import parse_fps, to_frame
from chunking.timeline.model import (
    Clip,
    ColorCorrection,
    Crop,
    Effect,
    FileSource,
    GeneratedSource,
    Source,
    Subtitle,
    Timeline,
    Track,
    TrackKind,
    Transform,
    Transition,
)
from common.errors import ValidationError

MAX_SIDE = 16384  # pixels; larger frames cannot be allocated sensibly
MAX_SECONDS = 24 * 3600  # one day of output
MAX_FPS = 240
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
        tl = self.data.get("timeline") or {}
        if not isinstance(tl, Mapping):
            raise ValidationError(["timeline: must be an object"])
        self.fps = self._fps(tl)
        width, height = self._resolution(tl)
        sample_rate = int(
            number(tl, ("sample_rate",), 48000, self.p, "timeline", low=8000, high=384000)
        )
        for group in ("effects", "filters"):
            for raw in _list(self.data.get(group)):
                if isinstance(raw, Mapping) and "id" in raw:
                    self.effects[str(raw["id"])] = raw
        tracks = tuple(self._track(i, raw) for i, raw in enumerate(_list(self.data.get("tracks"))))
        transitions = self._transitions(tracks)
        subtitles = self._subtitles(tracks)
        frames = self._duration(tl, tracks, subtitles)
        export = parse_export(_settings_export(self.data), self.p)
        for problem in export_problems(width, height, export):
            self.p.error("settings.export", problem)
        self._check_overlaps(tracks, transitions)
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
        except (ValueError, ZeroDivisionError, TypeError):
            self.p.error("timeline.fps", f"not a frame rate: {raw!r}")
            return Fraction(30)
        if not 0 < fps <= MAX_FPS:
            self.p.error("timeline.fps", f"{float(fps):g} must be above 0 and at most {MAX_FPS}")
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
            self.p.error("timeline.resolution", f"must be [width, height], got {raw!r}")
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
        if frames <= 0:
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
        effects = self._effect_list(raw, where)
        clips = tuple(
            self._clip(track_id, kind, i, c) for i, c in enumerate(_list(raw.get("clips")))
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
        start_s = number(raw, ("start_time", "start"), 0.0, self.p, where, low=0, high=MAX_SECONDS)
        end_s = number(raw, ("end_time", "end"), -1.0, self.p, where, high=MAX_SECONDS)
        if pick(raw, "end_time", "end") is None:
            duration = number(raw, ("duration",), -1.0, self.p, where, high=MAX_SECONDS)
            end_s = start_s + duration if duration >= 0 else -1.0
            if duration < 0:
                self.p.error(where, "end_time is missing")
        start, end = to_frame(start_s, self.fps), to_frame(end_s, self.fps)
        if pick(raw, "end_time", "end", "duration") is not None and end <= start:
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
            transform=self._transform(raw.get("transform"), where),
            crop=self._crop(raw.get("crop"), where),
            color=self._color(raw.get("color_correction"), where),
            effects=self._effect_list(raw, where),
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
        self.p.error(where, f"unknown source type {src!r} (expected File or Generated)")
        return GeneratedSource()

    def _file(self, path: str, where: str, kind: TrackKind) -> FileSource:
        full = path if os.path.isabs(path) else os.path.normpath(os.path.join(self.base_dir, path))
        if not os.path.isfile(full):
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

    def _transform(self, raw: Any, where: str) -> Transform:
        if not isinstance(raw, Mapping):
            return Transform()
        w = where + ".transform"
        scale = pick(raw, "scale")
        base_scale = float(scale) if isinstance(scale, int | float) else 1.0
        return Transform(
            scale_x=number(raw, ("scale_x",), base_scale, self.p, w, low=0, high=100),
            scale_y=number(raw, ("scale_y",), base_scale, self.p, w, low=0, high=100),
            position_x=number(raw, ("position_x", "x"), 0.0, self.p, w, low=-1e5, high=1e5),
            position_y=number(raw, ("position_y", "y"), 0.0, self.p, w, low=-1e5, high=1e5),
            rotation=number(raw, ("rotation",), 0.0, self.p, w, low=-3600, high=3600),
            anchor_x=number(raw, ("anchor_x",), 0.5, self.p, w, low=-10, high=10),
            anchor_y=number(raw, ("anchor_y",), 0.5, self.p, w, low=-10, high=10),
        )

    def _crop(self, raw: Any, where: str) -> Crop:
        if not isinstance(raw, Mapping):
            return Crop()
        w = where + ".crop"
        edges = [
            int(number(raw, (k,), 0, self.p, w, low=0, high=MAX_SIDE))
            for k in ("left", "top", "right", "bottom")
        ]
        return Crop(*edges)

    def _color(self, raw: Any, where: str) -> ColorCorrection:
        if not isinstance(raw, Mapping):
            return ColorCorrection()
        w = where + ".color_correction"
        return ColorCorrection(
            brightness=number(raw, ("brightness",), 0.0, self.p, w, low=-1, high=1),
            contrast=number(raw, ("contrast",), 1.0, self.p, w, low=0, high=4),
            saturation=number(raw, ("saturation",), 1.0, self.p, w, low=0, high=4),
            hue=number(raw, ("hue",), 0.0, self.p, w, low=-360, high=360),
            gamma=number(raw, ("gamma",), 1.0, self.p, w, low=0.1, high=10),
        )

    # -- effects ------------------------------------------------------------------------------

    def _effect_list(self, raw: Mapping[str, Any], where: str) -> tuple[Effect, ...]:
        found: list[Effect] = []
        for group in ("effects", "filters"):
            for ref in _list(raw.get(group)):
                spec = ref if isinstance(ref, Mapping) else self.effects.get(str(ref))
                if spec is None:
                    self.p.error(where, f"{group} refers to unknown id {ref!r}")
                    continue
                effect = self._effect(spec, where)
                if effect is not None:
                    found.append(effect)
        return tuple(found)

    def _effect(self, spec: Mapping[str, Any], where: str) -> Effect | None:
        if not spec.get("enabled", True):
            return None
        raw_type = str(pick(spec, "effect_type", "filter_type", "type", "kind", "name", default=""))
        effect_id = str(spec.get("id", raw_type))
        kind = effect_kind(canonical(raw_type))
        if kind is None:
            self.p.warn(
                f"{where} effect {effect_id!r}", f"unknown effect type {raw_type!r} ignored"
            )
            return None
        params_raw = pick(spec, "params", "parameters", default={})
        params: dict[str, float | str | bool] = {}
        if isinstance(params_raw, Mapping):
            for key, value in params_raw.items():
                if isinstance(value, Mapping) and "value" in value:
                    value = value["value"]
                if isinstance(value, bool | int | float | str):
                    params[str(key)] = value
        w = f"{where} effect {effect_id!r}"
        start = pick(spec, "start_time")
        end = pick(spec, "end_time")
        start_f = (
            to_frame(number(spec, ("start_time",), 0, self.p, w, low=0, high=MAX_SECONDS), self.fps)
            if start is not None
            else None
        )
        end_f = (
            to_frame(number(spec, ("end_time",), 0, self.p, w, low=0, high=MAX_SECONDS), self.fps)
            if end is not None
            else None
        )
        if start_f is not None and end_f is not None and end_f <= start_f:
            self.p.error(w, "end_time must be after start_time")
        return Effect(id=effect_id, kind=kind, params=params, start=start_f, end=end_f)

    # -- transitions and subtitles ------------------------------------------------------------

    def _transitions(self, tracks: tuple[Track, ...]) -> tuple[Transition, ...]:
        clips = {c.id: c for t in tracks for c in t.clips}
        result = []
        for i, raw in enumerate(_list(self.data.get("transitions"))):
            if not isinstance(raw, Mapping):
                self.p.error(f"transition #{i}", "must be an object")
                continue
            tid = str(raw.get("id", f"#{i}"))
            where = f"transition {tid!r}"
            kind = self._transition_kind(raw, where)
            ids = [
                str(pick(raw, f"{end}_clip_id", f"{end}_clip", default=""))
                for end in ("from", "to")
            ]
            if any(cid not in clips for cid in ids):
                missing = [cid for cid in ids if cid not in clips]
                self.p.error(where, f"refers to unknown clip(s) {', '.join(map(repr, missing))}")
                continue
            a, b = clips[ids[0]], clips[ids[1]]
            if b.start < a.start:
                self.p.error(where, f"to_clip {b.id!r} starts before from_clip {a.id!r}")
                continue
            seconds = number(raw, ("duration",), 1.0, self.p, where, low=0, high=MAX_SECONDS)
            length = max(1, to_frame(seconds, self.fps))
            if b.start < a.end:  # the clips overlap: the overlap is the transition
                start, end = b.start, min(a.end, b.end)
            elif b.start == a.end:  # a cut: centre the transition on it
                start = max(0, b.start - length // 2)
                end = start + length
            else:
                self.p.error(
                    where,
                    f"clips {a.id!r} and {b.id!r} do not touch (gap of "
                    f"{b.start - a.end} frames); move them together",
                )
                continue
            result.append(Transition(tid, kind, a.id, b.id, start, end))
        return tuple(result)

    def _transition_kind(self, raw: Mapping[str, Any], where: str) -> str:
        name = canonical(str(pick(raw, "transition_type", "type", "kind", default="dissolve")))
        direction = pick(raw, "direction", default=None)
        params = raw.get("params")
        if direction is None and isinstance(params, Mapping):
            direction = params.get("direction")
        if direction is not None and name in ("wipe", "slide"):
            name += canonical(str(direction))
        kind = TRANSITION_ALIASES.get(name)
        if kind is None:
            self.p.warn(where, f"unknown transition type {name!r} rendered as a dissolve")
            return "dissolve"
        return kind

    def _subtitles(self, tracks: tuple[Track, ...]) -> tuple[Subtitle, ...]:
        subs: list[Subtitle] = []
        for i, raw in enumerate(_list(self.data.get("subtitles"))):
            if not isinstance(raw, Mapping):
                self.p.error(f"subtitle #{i}", "must be an object")
                continue
            subs.append(self._subtitle(raw, str(raw.get("id", f"#{i}"))))
        for track in tracks:
            if track.kind is TrackKind.SUBTITLE and track.enabled:
                for clip in track.clips:
                    if clip.text is None:
                        self.p.error(f"clip {clip.id!r}", "a subtitle clip needs text")
                        continue
                    subs.append(Subtitle(clip.id, clip.text, clip.start, clip.end))
        return tuple(subs)

    def _subtitle(self, raw: Mapping[str, Any], sid: str) -> Subtitle:
        where = f"subtitle {sid!r}"
        start_s = number(raw, ("start_time", "start"), 0.0, self.p, where, low=0, high=MAX_SECONDS)
        end_s = number(raw, ("end_time", "end"), 0.0, self.p, where, low=0, high=MAX_SECONDS)
        start, end = to_frame(start_s, self.fps), to_frame(end_s, self.fps)
        if end <= start:
            self.p.error(where, f"end_time {end_s:g}s must be after start_time {start_s:g}s")
        style = raw.get("style") if isinstance(raw.get("style"), Mapping) else raw
        assert isinstance(style, Mapping)
        text = pick(raw, "text", default="")
        if not isinstance(text, str) or not text.strip():
            self.p.error(where, "text is empty")
        pos_raw = pick(style, "position", default="bottom")
        position: str | tuple[float, float] = "bottom"
        if isinstance(pos_raw, str) and pos_raw.lower() in ("bottom", "top", "center", "centre"):
            position = "center" if pos_raw.lower() == "centre" else pos_raw.lower()
        elif isinstance(pos_raw, Mapping) and {"x", "y"} <= set(pos_raw):
            position = (float(pos_raw["x"]), float(pos_raw["y"]))
        else:
            self.p.error(where, f"position {pos_raw!r} must be bottom, top, center or {{x, y}}")
        bg = pick(style, "background_color", "background")
        return Subtitle(
            id=sid,
            text=str(text),
            start=start,
            end=max(start, end),
            font_size=int(
                number(style, ("font_size", "size"), 48, self.p, where, low=4, high=1000)
            ),
            color=color(pick(style, "color", "colour", default="#ffffff"), self.p, where),
            position=position,
            background=color(bg, self.p, where) if bg is not None else None,
            outline=int(
                number(style, ("outline", "outline_width"), 2, self.p, where, low=0, high=50)
            ),
        )

    def _check_overlaps(
        self, tracks: tuple[Track, ...], transitions: tuple[Transition, ...]
    ) -> None:
        joined = {frozenset((t.from_clip, t.to_clip)) for t in transitions}
        for track in tracks:
            if track.kind is TrackKind.SUBTITLE:
                continue
            for a, b in zip(track.clips, track.clips[1:], strict=False):
                if b.start < a.end and frozenset((a.id, b.id)) not in joined:
                    self.p.error(
                        f"track {track.id!r}",
                        f"clips {a.id!r} and {b.id!r} overlap by {a.end - b.start} frames "
                        "(add a transition between them or move one)",
                    )


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _settings_export(data: Mapping[str, Any]) -> Mapping[str, Any]:
    settings = data.get("settings")
    if isinstance(settings, Mapping):
        export = settings.get("export")
        if isinstance(export, Mapping):
            return export
    return {}

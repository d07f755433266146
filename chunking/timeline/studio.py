"""Timeline Studio ``ProjectSchema`` JSON onto the internal model.

Lenient where the editor's variants differ (missing optional sections, ``source_path`` instead of
``source``, "Video"/"video", serde's and the frontend's spellings of the same field), strict where
the render would be wrong (overlaps, bad times, missing media). Every problem is collected and
raised together as one ValidationError.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from chunking.timeline.export import parse_export
from chunking.timeline.fields import Problems, flag, nesting_depth, number, pick, shown, variant
from chunking.timeline.frames import parse_fps, to_frame
from chunking.timeline.model import Subtitle, Timeline, Track, TrackKind
from chunking.timeline.schema import (
    MAX_DEPTH,
    MAX_FPS,
    MAX_SECONDS,
    MAX_SIDE,
    entries,
    settings,
    settings_export,
    settings_output,
    shape_problems,
)
from chunking.timeline.studio_clips import ClipReader
from chunking.timeline.studio_effects import effect_registry, parse_effects
from chunking.timeline.studio_keys import (
    PROJECT_KEYS,
    TIMELINE_KEYS,
    TRACK_KEYS,
    warn_unknown,
    warn_unknown_settings,
)
from chunking.timeline.studio_style_templates import StyleTemplates
from chunking.timeline.studio_subtitles import parse_subtitles, subtitle_ids
from chunking.timeline.studio_templates import Templates
from chunking.timeline.studio_transitions import check_overlaps, parse_transitions
from common.errors import ValidationError
from common.numbers import number_text

#: The slowest frame rate a timeline may have: a frame a second (a slide show); below it a
#: frame lasts so long that every clip's times round to nothing, and the clips were blamed.
MIN_FPS = 1

__all__ = ["MAX_FPS", "MAX_SECONDS", "MAX_SIDE", "load_project"]

#: The export dialog's resolution presets (project-schema-builder.ts withExportSettings).
_EXPORT_RESOLUTIONS = {
    "720": (1280, 720),
    "1080": (1920, 1080),
    "1440": (2560, 1440),
    "4k": (3840, 2160),
}
#: serde's AspectRatio variants as width / height.
_ASPECTS = {
    "ratio16x9": 16 / 9,
    "ratio4x3": 4 / 3,
    "ratio21x9": 21 / 9,
    "ratio1x1": 1.0,
    "ratio9x16": 9 / 16,
}

#: An aspect ratio written "W:H" (or "WxH", "W/H"), as the editor's settings name them.
_RATIO_TEXT = re.compile(r"^(\d+(?:\.\d+)?)\s*[:x/]\s*(\d+(?:\.\d+)?)$")


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

    def load(self) -> Timeline:
        if not isinstance(self.data, Mapping):
            raise ValidationError(["project: the top level must be a JSON object"])
        if nesting_depth(self.data, MAX_DEPTH) > MAX_DEPTH:
            # Checked first, so nothing below recurses into a hostile structure.
            raise ValidationError([f"project: lists and objects nest over {MAX_DEPTH} levels deep"])
        tl = self.data.get("timeline") or {}
        if not isinstance(tl, Mapping):
            raise ValidationError(["timeline: must be an object"])
        wrong = shape_problems(self.data)
        if wrong:
            raise ValidationError(wrong)
        warn_unknown(self.data, PROJECT_KEYS, "a project's", self.p, "project")
        warn_unknown(tl, TIMELINE_KEYS, "the timeline's", self.p, "timeline")
        warn_unknown_settings(self.data, self.p)
        conf = settings(self.data)
        self.fps = self._fps(tl, conf)
        width, height = self._resolution(tl, conf)
        self._aspect(tl, width, height)
        sample_rate = int(
            number(tl, ("sample_rate",), 48000, self.p, "timeline", low=8000, high=384000)
        )
        raw_subs = entries(self.data.get("subtitles"))
        styles = StyleTemplates(self.data, self.p)
        reader = ClipReader(
            self.base_dir,
            self.fps,
            effect_registry(self.data),
            Templates(self.data, width, height, self.p),
            styles,
            subtitle_ids(raw_subs),
            self.p,
        )
        tracks = tuple(
            self._track(i, raw, reader) for i, raw in enumerate(entries(self.data.get("tracks")))
        )
        transitions = parse_transitions(
            entries(self.data.get("transitions")), tracks, reader.attached, self.fps, self.p
        )
        subtitles = parse_subtitles(
            raw_subs, tracks, reader.hidden, (width, height), self.fps, self.p
        )
        for clip, tid in reader.styled:
            subtitles += tuple(styles.subtitles(clip, tid, (width, height), self.fps))
        frames = self._duration(tl, tracks, subtitles)
        # Whether these settings can encode this size is checked with the overrides a render
        # is asked for (chunking.timeline.project.read_project): --lossless fixes an odd side.
        export = parse_export(settings_export(self.data), self.p, settings_output(self.data))
        check_overlaps(tracks, transitions, self.p)
        self._unique_ids(tracks, transitions, subtitles)
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
    # The frame rate and size: the export dialog's choice (which the editor's frontend copies
    # into timeline.fps/resolution before rendering, project-schema-builder.ts), else timeline.*,
    # else serde's backward-compatible settings.frame_rate/resolution, which only a document
    # that disagrees with timeline.* is warned about.

    def _fps(self, tl: Mapping[str, Any], conf: Mapping[str, Any]) -> Fraction:
        ui = pick(settings_export(self.data), "frameRate", "frame_rate")
        if isinstance(ui, str) and ui.strip().lower() == "timeline":
            ui = None  # the dialog's "Timeline Frame Rate" (FRAME_RATE_OPTIONS): no choice
        raw = pick(tl, "fps", "frame_rate", "framerate")
        where = "timeline.fps"
        if ui is not None:
            raw, where = ui, "settings.export.frameRate"
        elif raw is None:
            raw, where = pick(conf, "frame_rate", default=30), "settings.frame_rate"
        fps = self._rate(raw, where)
        legacy = pick(conf, "frame_rate")
        if legacy is not None and where == "timeline.fps":
            other = self._rate(legacy, "settings.frame_rate")
            if other != fps:
                self.p.warn(
                    "settings.frame_rate",
                    f"{float(other):g} differs from timeline.fps {float(fps):g}; "
                    "timeline.fps is used",
                )
        return fps

    def _rate(self, raw: Any, where: str) -> Fraction:
        try:
            # A whole number as is: parse_fps's float() of a 401-digit one overflowed ("not a
            # frame rate"), and quoting one past 4300 digits raised ValueError.
            exact = isinstance(raw, int) and not isinstance(raw, bool)
            fps = Fraction(raw) if exact else parse_fps(raw)
        except (ValueError, ZeroDivisionError, TypeError, OverflowError):
            self.p.error(
                where,
                f'not a frame rate: {shown(raw)} (use a number, "30000/1001" or '
                "[30000, 1001] with whole numbers)",
            )
            return Fraction(30)
        if not MIN_FPS <= fps <= MAX_FPS:
            # As server.export_media words it: 1e+46 (not 47 digits), "a 401-digit number".
            self.p.error(
                where,
                f"must be a frame rate from {MIN_FPS} to {MAX_FPS}, not {_rate_text(raw, fps)}",
            )
            return Fraction(30)
        return fps

    def _resolution(self, tl: Mapping[str, Any], conf: Mapping[str, Any]) -> tuple[int, int]:
        ui = pick(settings_export(self.data), "resolution")
        if isinstance(ui, str) and ui.lower() in _EXPORT_RESOLUTIONS:
            return _EXPORT_RESOLUTIONS[ui.lower()]
        if ui is not None and not (isinstance(ui, str) and ui.lower() == "timeline"):
            return self._size(ui, "settings.export.resolution")
        if pick(tl, "resolution") is None and pick(conf, "resolution") is not None:
            return self._size(conf["resolution"], "settings.resolution")
        size = self._size(pick(tl, "resolution", default=[1920, 1080]), "timeline.resolution")
        if pick(conf, "resolution") is not None:
            other = self._size(conf["resolution"], "settings.resolution")
            if other != size:
                self.p.warn(
                    "settings.resolution",
                    f"{other[0]}x{other[1]} differs from timeline.resolution "
                    f"{size[0]}x{size[1]}; timeline.resolution is used",
                )
        return size

    def _size(self, raw: Any, where: str) -> tuple[int, int]:
        given = raw
        if isinstance(raw, Mapping):
            raw = [raw.get("width"), raw.get("height")]
        elif isinstance(raw, str):
            raw = raw.lower().split("x", 1)  # "1920X1080" too
        try:
            width, height = (_pixels(v) for v in raw)
        except (TypeError, ValueError):
            self.p.error(
                where,
                f"must be whole pixels as [1920, 1080], {{width, height}} or '1920x1080', "
                f"not {_shown_size(given)}",
            )
            return 1920, 1080
        if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
            self.p.error(
                where, f"{width:g}x{height:g} is out of range (each side 1..{MAX_SIDE} pixels)"
            )
            return 1920, 1080
        return width, height

    def _aspect(self, tl: Mapping[str, Any], width: int, height: int) -> None:
        """Warn when ``aspect_ratio`` is not the frame's shape: pixels are always square here,
        where the editor would stretch the picture to that display aspect (ffmpeg -aspect)."""
        found = variant(pick(tl, "aspect_ratio"))
        if found is None or found == ("custom", None):
            return
        name, payload = found
        ratio = _ASPECTS.get(name)
        if name == "custom" and isinstance(payload, int | float) and payload > 0:
            ratio = float(payload)
        written = _RATIO_TEXT.match(str(tl["aspect_ratio"]).strip())
        if ratio is None and written and float(written[2]) > 0:
            ratio = float(written[1]) / float(written[2])  # "16:9", as the editor names them
        if ratio is None:
            self.p.warn(
                "timeline.aspect_ratio", f"{shown(tl['aspect_ratio'])} is not known; ignored"
            )
        elif abs(ratio / (width / height) - 1) > 0.01:
            self.p.warn(
                "timeline.aspect_ratio",
                f"{ratio:.3g}:1 is not the frame's {width}x{height}; rendered with square "
                "pixels at the frame's shape",
            )

    def _duration(
        self, tl: Mapping[str, Any], tracks: tuple[Track, ...], subs: tuple[Subtitle, ...]
    ) -> int:
        ends = [c.end for t in tracks for c in t.clips] + [s.end for s in subs]
        last = max(ends, default=0)
        seconds = number(tl, ("duration",), 0.0, self.p, "timeline", low=0, high=MAX_SECONDS)
        frames = to_frame(seconds, self.fps) if seconds > 0 else last
        if 0 < frames < last:
            # A stale duration (clips added after it was written) dropped their end silently.
            self.p.warn(
                "timeline",
                f"duration {seconds:g}s ends before the last clip or subtitle (at "
                f"{float(last / self.fps):g}s); the output is cut there",
            )
        # serde's settings.output.duration cuts the output short, as ffmpeg -t does there.
        cut = number(
            settings_output(self.data),
            ("duration",),
            0.0,
            self.p,
            "settings.output",
            low=0,
            high=MAX_SECONDS,
        )
        if cut > 0:
            frames = min(frames, to_frame(cut, self.fps))
        if frames <= 0 and not self.p.errors:  # otherwise an earlier problem emptied it
            self.p.error("timeline.duration", "the timeline is empty (no duration and no clips)")
        return frames

    # -- tracks -------------------------------------------------------------------------------

    def _unique_ids(self, tracks: Any, transitions: Any, subtitles: Any) -> None:
        """Two clips (tracks, transitions, subtitles) of one id make every reference to it,
        a transition's, an effect's, ambiguous: an error naming the id."""
        groups = {
            "track": [t.id for t in tracks],
            "clip": [c.id for t in tracks for c in t.clips],
            "transition": [t.id for t in transitions],
            "subtitle": [s.id for s in subtitles],
        }
        for kind, ids in groups.items():
            for dup, count in sorted(Counter(ids).items()):
                if count > 1 and dup:
                    self.p.error(f"{kind} {dup!r}", f"{count} {kind}s have this id")

    def _track(self, index: int, raw: Any, reader: ClipReader) -> Track:
        where = f"track #{index}"
        if not isinstance(raw, Mapping):
            self.p.error(where, "must be an object")
            return Track(id=f"#{index}", kind=TrackKind.VIDEO)
        track_id = str(pick(raw, "id", default=f"#{index}"))
        where = f"track {track_id!r}"
        warn_unknown(raw, TRACK_KEYS, "a track's", self.p, where)
        kind_raw = str(pick(raw, "track_type", "type", "kind", default="Video"))
        try:
            kind = TrackKind(_TRACK_TYPES.get(kind_raw.lower(), kind_raw.lower()))
        except ValueError:
            self.p.error(
                where,
                f"track_type {kind_raw!r} is not Video, Audio, Subtitle (Title) or an audio "
                "kind (Music, Voiceover, Sfx, Ambient)",
            )
            kind = TrackKind.VIDEO
        enabled = flag(raw, "enabled", True, self.p, where)
        effects = parse_effects(raw, reader.effects, self.fps, self.p, where)
        clips = [
            reader.clip(track_id, kind, enabled, i, c)
            for i, c in enumerate(entries(raw.get("clips")))
        ]
        return Track(
            id=track_id,
            kind=kind,
            name=str(raw.get("name", "")),
            enabled=enabled,
            muted=flag(raw, "muted", False, self.p, where),
            volume=number(raw, ("volume",), 1.0, self.p, where, low=0, high=10),
            clips=tuple(sorted((c for c in clips if c), key=lambda c: (c.start, c.id))),
            effects=effects,
        )


#: The current editor's track types (chatman-media/timeline-studio TrackType in
#: src/types/generated/tauri-bindings.ts: Video, Audio, Title, Music, Voiceover, Sfx, Ambient;
#: its converter writes a subtitle or text track as Title) as the three kinds rendered.
_TRACK_TYPES = {
    "title": "subtitle",
    "text": "subtitle",
    "music": "audio",
    "voiceover": "audio",
    "sfx": "audio",
    "ambient": "audio",
}


def _pixels(value: Any) -> int:
    """One side of a frame size: a whole number, also written 1920.0 (Python's json writes
    floats so) or "1920"; anything else raises ValueError."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool):
        raise ValueError(value)
    return int(str(value).strip())


def _shown_size(value: Any) -> str:
    """A refused frame size for a message: a short list as written ([320.5, 180]), else shown()."""
    if isinstance(value, list) and all(type(v) in (int, float, bool) for v in value):
        text = repr(value)
        if len(text) <= 40:
            return text
    return shown(value)


def _rate_text(raw: Any, fps: Fraction) -> str:
    """A refused frame rate for a message: a number by number_text, text as written, a ratio
    by its parts (float() of [1, 10**400] is 0, which was quoted as the rate)."""
    if isinstance(raw, int | float):
        return number_text(raw)
    if isinstance(raw, str):
        return shown(raw)
    if fps.denominator == 1:
        return number_text(fps.numerator)
    return f"{number_text(fps.numerator)}/{number_text(fps.denominator)}"

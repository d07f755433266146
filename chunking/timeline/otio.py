"""OpenTimelineIO files onto the internal model, by way of the ProjectSchema loader.

The OTIO timeline is translated into a ProjectSchema-style document and handed to
:func:`chunking.timeline.studio.load_project`, so one validator checks both formats.

OTIO has no frame size, sample rate or export settings; they are read from the timeline's
``metadata["cloudrender"]`` when present and otherwise default to 1920x1080, 48 kHz and the
default export settings::

    {"cloudrender": {"resolution": [3840, 2160], "sample_rate": 48000,
                     "export": {"codec": "hevc", "quality": "high"}}}
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any
from urllib.parse import unquote, urlsplit

import opentimelineio as otio

from chunking.timeline.catalogue import TRANSITION_ALIASES
from chunking.timeline.fields import Problems, canonical
from chunking.timeline.model import Timeline
from chunking.timeline.otio_read import frames, plain, rate, read_timeline, reason, seconds
from chunking.timeline.schema import MAX_FPS
from chunking.timeline.studio import load_project
from common.errors import TimelineError, ValidationError

_SOLID = {"solidcolor", "solid", "color", "colour"}
_BARS = {"smptebars", "bars", "colorbars", "testpattern"}


def load_otio(path: str, *, strict: bool = False) -> Timeline:
    """Load an OpenTimelineIO file; raise TimelineError (ValidationError) on problems."""
    return read_otio(path, strict=strict)[1]


def read_otio(path: str, *, strict: bool = False) -> tuple[dict[str, Any], Timeline]:
    """An OpenTimelineIO file read once: its ProjectSchema document and the Timeline."""
    base_dir = os.path.dirname(os.path.abspath(path))
    conv = _Converter(read_timeline(path))
    try:
        data = dict(conv.convert())
    except MemoryError:
        raise
    except Exception as exc:  # OTIO's objects fail in many ways on odd documents
        raise TimelineError(
            f"{path}: not a usable OpenTimelineIO timeline ({type(exc).__name__}: {reason(exc)})"
        ) from None
    own = conv.p.errors + (conv.p.warnings if strict else [])
    try:
        timeline = load_project(data, base_dir, strict=strict)
    except ValidationError as exc:
        raise ValidationError(own + exc.problems) from None
    if own:
        raise ValidationError(own)
    return data, replace(timeline, warnings=tuple(conv.p.warnings) + timeline.warnings)


@dataclass
class _Placed:
    """A clip being built; times stay exact until the document is emitted."""

    data: dict[str, Any]
    start: Fraction
    end: Fraction
    source_start: Fraction
    speed: float
    problem: str = ""  # set when a transition asks for media before the source's start

    def emit(self) -> dict[str, Any]:
        return dict(
            self.data,
            start_time=float(self.start),
            end_time=float(self.end),
            source_start=float(max(self.source_start, Fraction(0))),
            speed=self.speed,
        )


@dataclass
class _Converter:
    tl: Any
    p: Problems = field(default_factory=Problems)
    fps: Fraction = Fraction(24)
    placed: list[_Placed] = field(default_factory=list)
    transitions: list[dict[str, Any]] = field(default_factory=list)
    clip_names: Counter[str] = field(default_factory=Counter)

    def convert(self) -> dict[str, Any]:
        self.fps = self._timeline_rate()
        meta = self.tl.metadata.get("cloudrender", {})
        extra = plain(meta) if isinstance(meta, Mapping) else {}
        if not isinstance(meta, Mapping):
            self.p.error("metadata.cloudrender", "must be an object")
        stack = self.tl.tracks
        if stack.source_range is not None:
            self.p.error("timeline", "a trimmed top-level stack (source_range) is not supported")
        self.clip_names = Counter(str(c.name) for c in self.tl.find_clips())
        names = Counter(str(t.name) for t in stack)
        tracks: list[dict[str, Any]] = []
        length = Fraction(0)
        for index, track in enumerate(stack):
            if not isinstance(track, otio.schema.Track):
                self.p.error(
                    f"track #{index}",
                    f"nested compositions ({track.schema_name()}) "
                    "are not supported; flatten the timeline before rendering",
                )
                continue
            name = str(track.name)
            track_id = name if name and names[name] == 1 else f"#{index}"
            clips, end = self._track_items(track, track_id)
            length = max(length, end)
            tracks.append(
                {
                    "id": track_id,
                    "name": name,
                    "track_type": str(track.kind),
                    "enabled": bool(track.enabled),
                    "clips": clips,
                    "effects": self._effects(track, f"track {track_id!r}")[1],
                }
            )
        timeline: dict[str, Any] = {
            "fps": f"{self.fps.numerator}/{self.fps.denominator}",
            "resolution": extra.get("resolution", [1920, 1080]),
            "sample_rate": extra.get("sample_rate", 48000),
        }
        if length > 0:
            timeline["duration"] = float(length)
        return {
            "metadata": {"name": str(self.tl.name)},
            "timeline": timeline,
            "tracks": tracks,
            "transitions": self.transitions,
            "settings": {"export": extra.get("export", {})},
        }

    def _timeline_rate(self) -> Fraction:
        # A video clip's source_range is in the sequence rate; audio clips may use sample rates.
        clips = list(self.tl.find_clips())
        video = [c for c in clips if getattr(c.parent(), "kind", "") == "Video"]
        candidates = [c.source_range for c in video]
        if self.tl.global_start_time is not None:
            candidates.append(otio.opentime.TimeRange(self.tl.global_start_time))
        candidates += [
            c.source_range or getattr(c.media_reference, "available_range", None) for c in clips
        ]
        for rng in candidates:
            if rng is not None:
                try:
                    fps = rate(float(rng.duration.rate))
                except ValueError:
                    continue
                if fps <= MAX_FPS:
                    return fps
        return Fraction(24)

    def _track_items(self, track: Any, track_id: str) -> tuple[list[dict[str, Any]], Fraction]:
        where = f"track {track_id!r}"
        if track.source_range is not None:
            self.p.error(where, "a trimmed track (source_range) is not supported")
        self.placed = []
        pos = Fraction(0)
        prev: _Placed | None = None
        pending: Any = None  # a transition waiting for the item after it
        for index, item in enumerate(track):
            label = f"{where} item #{index} {str(item.name)!r}"
            if isinstance(item, otio.schema.Transition):
                if pending is not None:
                    self.p.error(label, "two transitions in a row")
                pending = item
                continue
            try:
                duration = seconds(item.trimmed_range().duration)
            except (
                ValueError,
                ZeroDivisionError,
                NotImplementedError,  # a Gap without a source_range
                otio.exceptions.OTIOError,
            ) as exc:
                self.p.error(label, f"has no usable duration ({reason(exc)})")
                duration = Fraction(0)
            current: _Placed | None = None
            if isinstance(item, otio.schema.Clip):
                if item.enabled:
                    current = self._clip(item, f"{track_id}#{index}", pos, pos + duration)
            elif isinstance(item, otio.core.Composition):
                self.p.error(
                    label,
                    f"nested compositions ({item.schema_name()}) are not "
                    "supported; flatten the nested sequence in the editor first",
                )
            elif not isinstance(item, otio.schema.Gap):
                self.p.error(label, f"unsupported item type {item.schema_name()}")
            if pending is not None:
                self._transition(pending, prev, current, where)
                pending = None
            prev = current
            pos += duration
        if pending is not None:
            self._transition(pending, prev, None, where)
        for clip in self.placed:
            if clip.problem:
                self.p.error(f"clip {clip.data['id']!r}", clip.problem)
        return [c.emit() for c in self.placed], pos

    def _clip(self, item: Any, slot: str, start: Fraction, end: Fraction) -> _Placed | None:
        # Clip names become ids where unique, so validation messages name the editor's clip.
        name = str(item.name)
        clip_id = name if name and self.clip_names[name] == 1 else f"{slot} {name}".strip()
        where = f"clip {clip_id!r}"
        ref = item.media_reference
        data: dict[str, Any] = {"id": clip_id, "name": name}
        if ref is None:
            self.p.error(where, "has no media reference (check active_media_reference_key)")
            return None
        if isinstance(ref, otio.schema.MissingReference):
            self.p.error(
                where,
                "media is offline (OTIO MissingReference); relink the clip in "
                "the editor and export again",
            )
            return None
        if isinstance(ref, otio.schema.ExternalReference):
            path = self._media_path(str(ref.target_url or ""), where)
            if path is None:
                return None
            data["source"] = {"File": path}
        elif isinstance(ref, otio.schema.GeneratorReference):
            generator = self._generator(ref, where)
            if generator is None:
                return None
            data["source"] = "Generated"
            data["properties"] = {"custom_metadata": {"generator": generator}}
        else:
            self.p.error(
                where,
                f"media reference {ref.schema_name()} is not supported "
                "(use a file or a SolidColor/SMPTEBars generator)",
            )
            return None
        try:
            source_start = seconds(item.trimmed_range().start_time)
            if ref.available_range is not None:
                # Media timecode (e.g. 01:00:00:00) is not seconds into the file.
                source_start -= seconds(ref.available_range.start_time)
        except (ValueError, ZeroDivisionError, otio.exceptions.OTIOError) as exc:
            self.p.error(where, f"bad source range ({reason(exc)})")
            return None
        if source_start < 0:
            self.p.error(
                where,
                f"source range starts {float(-source_start):g}s before the media's available range",
            )
        speed, effects = self._effects(item, where)
        data["effects"] = effects
        placed = _Placed(data, start, end, source_start, speed)
        self.placed.append(placed)
        return placed

    def _media_path(self, url: str, where: str) -> str | None:
        parts = urlsplit(url)
        if parts.scheme == "file":
            if parts.netloc not in ("", "localhost"):
                return f"//{parts.netloc}{unquote(parts.path)}"  # a UNC-style network share
            return unquote(parts.path)
        if parts.scheme and len(parts.scheme) > 1:  # one letter is a Windows drive, not a scheme
            self.p.error(where, f"media URL {url!r} is not a local file; download it and relink")
            return None
        if not url:
            self.p.error(where, "external reference has no target_url")
            return None
        return url  # a plain path; load_project resolves relative ones against the .otio's folder

    def _generator(self, ref: Any, where: str) -> dict[str, Any] | None:
        kind = canonical(str(ref.generator_kind))
        params = plain(ref.parameters)
        if kind in _BARS:
            return {"type": "pattern", "pattern": "bars"}
        if kind not in _SOLID:
            self.p.error(
                where, f"generator kind {ref.generator_kind!r} is not SolidColor or SMPTEBars"
            )
            return None
        value = params.get("color", params.get("colour", "#000000"))
        if isinstance(value, list) and all(isinstance(v, int | float) for v in value):
            # OTIO convention: 0..1 floats; the loader wants 0..255.
            floats = all(0 <= v <= 1 for v in value) and any(isinstance(v, float) for v in value)
            value = [round(v * 255) if floats else v for v in value]
        return {"type": "color", "color": value}

    def _effects(self, item: Any, where: str) -> tuple[float, list[dict[str, Any]]]:
        speed = 1.0
        found: list[dict[str, Any]] = []
        for fx in item.effects:
            if not getattr(fx, "enabled", True):
                continue
            label = str(fx.name or fx.effect_name)
            is_warp = isinstance(fx, otio.schema.LinearTimeWarp)
            if isinstance(fx, otio.schema.FreezeFrame) or is_warp and fx.time_scalar == 0:
                self.p.error(
                    where,
                    "freeze frames are not supported; render the held frame "
                    "to a still image and use that",
                )
            elif is_warp and fx.time_scalar < 0:
                self.p.error(where, "reverse playback (negative LinearTimeWarp) is not supported")
            elif is_warp and not isinstance(item, otio.schema.Clip):
                self.p.error(where, "a speed change (LinearTimeWarp) on a track is not supported")
            elif is_warp:
                speed *= float(fx.time_scalar)
            elif isinstance(fx, otio.schema.TimeEffect):
                self.p.error(where, f"time effect {label!r} is not supported")
            else:
                meta = plain(fx.metadata)
                params = meta.get("parameters", meta)
                params = params if isinstance(params, dict) else {}
                scalar = (bool, int, float, str)
                values = {k: v for k, v in params.items() if isinstance(v, scalar)}
                kind = str(fx.effect_name or fx.name)
                found.append({"id": label, "effect_type": kind, "params": values})
        return speed, found

    def _transition(self, tr: Any, a: _Placed | None, b: _Placed | None, where: str) -> None:
        label = f"{where} transition {str(tr.name or tr.transition_type)!r}"
        if a is None or b is None:
            self.p.warn(
                label,
                "is not between two enabled clips (a fade from or to a gap is "
                "not supported); ignored",
            )
            return
        try:
            in_s, out_s = seconds(tr.in_offset), seconds(tr.out_offset)
        except (ValueError, ZeroDivisionError) as exc:
            self.p.error(label, f"bad offsets ({reason(exc)})")
            return
        if in_s < 0 or out_s < 0:
            self.p.error(label, "in_offset and out_offset must not be negative")
            return
        in_f, out_f = frames(in_s, self.fps), frames(out_s, self.fps)
        if in_f == out_f == 0:
            return  # a zero-length transition is just a cut
        entry = {
            "id": f"{a.data['id']}->{b.data['id']}",
            "from_clip_id": a.data["id"],
            "to_clip_id": b.data["id"],
            "transition_type": self._kind(tr),
        }
        if in_f == out_f:
            # load_project centres a transition between touching clips on the cut.
            entry["duration"] = float((in_f + out_f) / self.fps)
        else:
            # Overlapping clips make the overlap the window: [cut - in_offset, cut + out_offset).
            a.end += out_s
            b.start -= in_s
            b.source_start -= in_s * Fraction(b.speed)
            if b.source_start < 0 and not b.problem:
                b.problem = (
                    f"the transition from {a.data['id']!r} needs {float(in_s):g}s of "
                    "media before the clip's in point, which the source does not have"
                )
        self.transitions.append(entry)

    def _kind(self, tr: Any) -> str:
        if tr.transition_type == otio.schema.TransitionTypes.SMPTE_Dissolve:
            return "dissolve"
        # Editors write "SMPTE_Wipe_Left", "Cross Dissolve", "Dip To Black": take the longest
        # alias inside the type (or, for a generic "Custom" type, the name) so direction survives.
        for text in (tr.transition_type, tr.name):
            name = canonical(str(text))
            matches = [alias for alias in TRANSITION_ALIASES if alias in name]
            if matches:
                return max(matches, key=len)
        return canonical(str(tr.transition_type))  # load_project warns and uses a dissolve

"""The Timeline Studio editor's own documents, converted into the ProjectSchema document the loader
reads (and workers receive).

The editor writes or sends three shapes besides ProjectSchema (its renderer's snake_case input);
each is recognised by keys it has, never by keys it lacks:

- **TimelineStudioProject**, a ``.tlsp`` file (format 2.x): ``sequences`` (a JavaScript Map the
  editor writes with ``Object.fromEntries``: an object keyed by sequence id), ``mediaPool``,
  ``activeSequenceId`` (timeline-studio-project-service.ts). The active sequence (else the main
  one) is rendered, over its ``renderSettings`` in/out range and ``selectedTracks``.
- **ProjectFile**, the legacy ``.tls`` file and the camelCase project document of the editor's
  e2e fixture: ``timeline.tracks`` with ``settings.frameRate`` and ``settings.aspectRatio``
  (project.ts, project-file-service.ts). A ``.tls`` holding only its media library (``meta`` and
  ``mediaPool``, no ``timeline``) has nothing to render and is refused.
- **TimelineProject**, the editor's in-memory timeline: ``sections[].tracks`` and
  ``globalTracks`` (timeline.ts), the input of its own conversion timeline-to-project.ts, which
  studio_editor_tracks mirrors. The AI workflow's project.json (sections holding ``clips``) too.

Anything else that is not ProjectSchema is refused with one line saying what it looked like.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from chunking.timeline.fields import Problems, nesting_depth, shown, to_float
from chunking.timeline.media_paths import moved_note
from chunking.timeline.schema import MAX_DEPTH, entries
from chunking.timeline.studio_editor_document import (
    has_clips,
    master_volume,
    schema_document,
    span_of,
)
from chunking.timeline.studio_editor_keys import warn_unknown_tls, warn_unknown_tlsp
from chunking.timeline.studio_editor_library import Library, as_map, items_of, text
from chunking.timeline.studio_editor_ramps import split_ramps
from chunking.timeline.studio_editor_range import clip_to_range
from chunking.timeline.studio_editor_settings import (
    colour_space,
    frame_rate,
    frame_size,
)
from chunking.timeline.studio_editor_state import is_state_project, state_parts
from chunking.timeline.studio_editor_tracks import Parts, TrackConverter
from common.errors import TimelineError, ValidationError

#: What each shape is called in messages.
TLSP = "a Timeline Studio project (.tlsp, TimelineStudioProject)"
PROJECT_FILE = "a Timeline Studio camelCase project (.tls ProjectFile)"
TIMELINE_PROJECT = "a Timeline Studio timeline (TimelineProject)"
STATE = "a Timeline Studio project state (its saved Project)"

#: Top-level keys only a ProjectSchema document has.
_SCHEMA_KEYS = ("tracks", "timeline", "subtitles", "transitions", "effects", "filters")
_SCHEMA_KEYS_MORE = ("templates", "style_templates")


@dataclass(frozen=True)
class EditorDocument:
    """An editor document as a ProjectSchema document, what it was, and conversion warnings."""

    shape: str
    document: dict[str, Any]
    warnings: tuple[str, ...]


def convert(
    data: Mapping[str, Any],
    base_dir: str,
    *,
    source: str = "project",
    name: str = "",
    disk: bool = True,
) -> EditorDocument | None:
    """The ProjectSchema document for an editor document, or None when `data` already is one.

    `source` names the file in messages, `name` is the job name when the document has none.
    `disk=False` never looks a media path up on this machine (a service reading a client's
    document): each medium is its asset reference, else its first path.
    Raises TimelineError (one line naming the shape) for a document this cannot render and
    ValidationError listing every problem of its clips.
    """
    if nesting_depth(data, MAX_DEPTH) > MAX_DEPTH:
        raise TimelineError(f"{source}: lists and objects nest over {MAX_DEPTH} levels deep")
    if "OTIO_SCHEMA" in data:
        raise TimelineError(
            f"{source}: an OpenTimelineIO document ({shown(data['OTIO_SCHEMA'])}); "
            "name the file .otio to render it"
        )
    if "sequences" in data:
        return _Converter(data, base_dir, source, name, disk).studio_project()
    if is_state_project(data):
        return _Converter(data, base_dir, source, name, disk).state_project()
    if "sections" in data or "globalTracks" in data:
        return _Converter(data, base_dir, source, name, disk).timeline_project()
    if "tracks" in data:
        return None
    if isinstance(data.get("timeline"), Mapping) and "tracks" in data["timeline"]:
        return _Converter(data, base_dir, source, name, disk).project_file()
    if "meta" in data or "mediaPool" in data or "mediaLibrary" in data:
        pool = as_map(data.get("mediaPool") or data.get("mediaLibrary"))
        count = len(entries(pool.get("mediaFiles")) + entries(pool.get("musicFiles")))
        raise TimelineError(
            f"{source}: a legacy Timeline Studio project (.tls) holding only a media library "
            f"({count} file{'' if count == 1 else 's'}) and no timeline: nothing to render"
        )
    if any(key in data for key in _SCHEMA_KEYS + _SCHEMA_KEYS_MORE) or "export" in as_map(
        data.get("settings")
    ):
        return None
    raise TimelineError(f"{source}: not a timeline this renders: {_looks(data)}")


def _looks(data: Mapping[str, Any]) -> str:
    """What an unrecognised document looked like, in a few words."""
    if not data:
        return "an empty JSON object"
    keys = sorted(str(k) for k in data)
    shown_keys = ", ".join(repr(k[:30]) for k in keys[:8]) + (", ..." if len(keys) > 8 else "")
    return (
        f"a JSON object with keys {shown_keys} (expected a ProjectSchema with 'timeline' and "
        "'tracks', a .tlsp with 'sequences', a .tls with 'timeline.tracks', or a timeline with "
        "'sections'/'globalTracks')"
    )


class _Converter:
    def __init__(
        self, data: Mapping[str, Any], base_dir: str, source: str, name: str, disk: bool = True
    ) -> None:
        self.data = data
        self.source = source
        self.name = name
        self.lib = Library(base_dir, disk=disk)
        self.p = Problems()

    # -- the three shapes ---------------------------------------------------------------------

    def studio_project(self) -> EditorDocument:
        meta = as_map(self.data.get("metadata"))
        version = meta.get("version")
        if version is not None and not str(version).startswith("2."):
            # The editor's openProject reads only 2.x (timeline-studio-project-service.ts).
            self._refuse(f"{TLSP} of format version {shown(version)}; version 2.x is read")
        sequence = self._sequence()
        warn_unknown_tlsp(self.data, sequence, self.p)
        seq_name = text(sequence.get("name")) or text(sequence.get("id"))
        where = f"sequence {seq_name!r}"
        self.lib.add_media_pool(self.data.get("mediaPool"))
        self.lib.add_resources(sequence.get("resources"))
        for seq in items_of(self.data.get("sequences")):  # a clip may not play a sequence
            self.lib.media_kind.setdefault(text(as_map(seq).get("id")), "sequence")
        composition = as_map(sequence.get("composition"))
        for master in entries(composition.get("masterClips")):
            self.lib.media_kind.setdefault(text(as_map(master).get("id")), "sequence")
        seq_settings, settings = as_map(sequence.get("settings")), as_map(self.data.get("settings"))
        render = as_map(sequence.get("renderSettings"))
        tracks = self._selected(entries(composition.get("tracks")), render, where)
        parts = TrackConverter(self.lib, self.p).run(tracks)
        master_volume(parts, seq_settings, settings, self.p)
        if not colour_space(seq_settings, f"{where} settings", self.p):
            colour_space(settings, "settings", self.p)  # the project settings dialog's
        for i, region in enumerate(entries(composition.get("automation"))):
            what = text(as_map(region).get("parameter")) or "a parameter"
            self.p.warn(
                f"{where} automation #{i}",
                f"automation of {what} is not rendered; the fixed values are",
            )
        span = span_of(parts)
        timeline = {
            "duration": span,
            "fps": frame_rate(
                self.p,
                (f"{where} settings.timebase", seq_settings.get("timebase")),
                (f"{where} settings.frameRate", seq_settings.get("frameRate")),
                ("settings.frameRate", settings.get("frameRate")),
            ),
            "resolution": frame_size(
                self.p,
                (f"{where} settings.resolution", seq_settings.get("resolution")),
                ("settings.resolution", settings.get("resolution")),
                ("settings.aspectRatio", as_map(settings.get("aspectRatio")).get("value")),
            ),
            "sample_rate": as_map(seq_settings.get("audio")).get("sampleRate")
            or as_map(settings.get("audio")).get("sampleRate")
            or 48000,
        }
        self._split_ramps(parts, timeline)
        custom: dict[str, Any] = {"sequence": text(sequence.get("id")) or seq_name}
        in_point, out_point = to_float(render.get("inPoint")), to_float(render.get("outPoint"))
        if in_point is not None or out_point is not None:
            start, end = in_point or 0.0, out_point if out_point is not None else span
            if not 0 <= start < end:
                self.p.error(
                    f"{where} renderSettings",
                    f"outPoint {end:g}s must be after inPoint {start:g}s (and both 0 or more)",
                )
            else:
                had_clips = has_clips(parts)
                parts = clip_to_range(parts, start, end, self.p)
                if had_clips and not has_clips(parts):
                    self.p.error(
                        f"{where} renderSettings",
                        f"no clip lies between inPoint {start:g}s and outPoint {end:g}s",
                    )
                timeline["duration"] = end - start
                custom["timeRange"] = {"start": start, "end": end, "originalDuration": span}
        name = text(meta.get("name")) or self.name
        return self._finish(TLSP, f"{where} of {TLSP}", parts, timeline, name, meta, custom)

    def project_file(self) -> EditorDocument:
        warn_unknown_tls(self.data, self.p)
        timeline_raw = as_map(self.data.get("timeline"))
        for resources in (self.data.get("resources"), timeline_raw.get("resources")):
            self.lib.add_resources(resources)
        for pool in (self.data.get("mediaPool"), self.data.get("mediaLibrary")):
            self.lib.add_media_pool(pool)
        settings = as_map(self.data.get("settings"))
        parts = TrackConverter(self.lib, self.p).run(entries(timeline_raw.get("tracks")))
        colour_space(settings, "settings", self.p)
        timeline = {
            "duration": span_of(parts),
            "fps": frame_rate(
                self.p,
                ("settings.frameRate", settings.get("frameRate")),
                ("settings.fps", settings.get("fps")),
            ),
            "resolution": frame_size(
                self.p,
                ("settings.resolution", settings.get("resolution")),
                ("settings.aspectRatio", as_map(settings.get("aspectRatio")).get("value")),
            ),
            "sample_rate": settings.get("sampleRate") or 48000,
        }
        self._split_ramps(parts, timeline)
        name = text(self.data.get("name")) or self.name
        meta = {**as_map(self.data.get("meta")), **self.data}  # the .tls keeps its dates in meta
        return self._finish(PROJECT_FILE, PROJECT_FILE, parts, timeline, name, meta, {})

    def state_project(self) -> EditorDocument:
        parts, timeline = state_parts(self.data, self.lib, self.p)
        timeline["duration"] = span_of(parts)
        name = text(as_map(self.data.get("metadata")).get("name")) or self.name
        meta = as_map(self.data.get("metadata"))
        meta = {"created": meta.get("created_at"), "modified": meta.get("modified_at"), **meta}
        return self._finish(STATE, STATE, parts, timeline, name, meta, {})

    def timeline_project(self) -> EditorDocument:
        self.lib.add_resources(self.data.get("resources"))
        tracks: list[Any] = []
        for section in entries(self.data.get("sections")):
            sec = as_map(section)
            if "tracks" in sec or "clips" not in sec:
                tracks += entries(sec.get("tracks"))
            else:  # the AI workflow's sections hold their clips directly
                ident = text(sec.get("id")) or f"section #{len(tracks)}"
                tracks.append({"id": ident, "type": "video", "clips": sec.get("clips")})
        tracks += entries(self.data.get("globalTracks"))
        settings = as_map(self.data.get("settings"))
        ramps = as_map(self.data.get("speedRampingConfigs"))
        parts = TrackConverter(self.lib, self.p).run(tracks, ramps)
        timeline = {
            "duration": span_of(parts),
            "fps": frame_rate(
                self.p,
                ("settings.fps", settings.get("fps")),
                ("fps", self.data.get("fps")),
                ("settings.framerate", settings.get("framerate")),
            ),
            "resolution": frame_size(self.p, ("settings.resolution", settings.get("resolution"))),
            "sample_rate": settings.get("sampleRate") or self.data.get("sampleRate") or 48000,
        }
        self._split_ramps(parts, timeline)
        name = text(self.data.get("name")) or self.name or "Untitled Project"
        return self._finish(
            TIMELINE_PROJECT, TIMELINE_PROJECT, parts, timeline, name, self.data, {}
        )

    # -- pieces -------------------------------------------------------------------------------

    def _split_ramps(self, parts: Parts, timeline: Mapping[str, Any]) -> None:
        """Clips of changing speed as clips of steady speed, once the frame rate is known (and
        before a render range cuts them: a piece's media time is the ramp's)."""
        if not self.p.errors:  # an unreadable frame rate is named; nothing is rendered
            split_ramps(parts, timeline["fps"], self.p)

    def _refuse(self, line: str) -> NoReturn:
        raise TimelineError(f"{self.source}: {line}")

    def _sequence(self) -> Mapping[str, Any]:
        raw = self.data.get("sequences")
        found: dict[str, Mapping[str, Any]] = {}
        pairs = raw.items() if isinstance(raw, Mapping) else enumerate(entries(raw))
        for key, seq in pairs:
            if isinstance(seq, Mapping):
                found.setdefault(text(seq.get("id")) or str(key), seq)
        if not found:
            self._refuse(f"{TLSP} with no sequences: nothing to render")
        active = self.data.get("activeSequenceId")
        if isinstance(active, str) and active:
            if active not in found:
                known = ", ".join(repr(k) for k in list(found)[:5])
                self._refuse(f"activeSequenceId {active!r} names none of its sequences ({known})")
            return found[active]
        mains = [s for s in found.values() if s.get("type") == "main"]
        if len(mains) > 1:
            names = ", ".join(repr(text(m.get("name")) or text(m.get("id"))) for m in mains[:5])
            self.p.warn(
                "sequences",
                f"{len(mains)} sequences are main ({names}) and none is active "
                "(activeSequenceId); the first is rendered",
            )
        if mains or len(found) == 1:
            return (mains or list(found.values()))[0]
        self._refuse(f"{TLSP} with {len(found)} sequences, none active or main: choose one")

    def _selected(self, tracks: list[Any], render: Mapping[str, Any], where: str) -> list[Any]:
        """Only the tracks renderSettings.selectedTracks names (all of them when it is empty)."""
        wanted = [t for t in entries(render.get("selectedTracks")) if isinstance(t, str)]
        if not wanted:
            return tracks
        ids = {text(as_map(t).get("id")) for t in tracks}
        for missing in (t for t in wanted if t not in ids):
            self.p.warn(f"{where} renderSettings", f"selectedTracks names no track {missing!r}")
        return [t for t in tracks if text(as_map(t).get("id")) in wanted]

    def _finish(
        self,
        shape: str,
        where: str,
        parts: Parts,
        timeline: dict[str, Any],
        name: str,
        meta: Mapping[str, Any],
        custom: dict[str, Any],
    ) -> EditorDocument:
        if not self.p.errors and not has_clips(parts):
            self.p.error(where, "no clips, nothing to render")
        for saved, moved in self.lib.relocations.items():
            self.p.warn(*moved_note(saved, moved))
        if self.p.errors:
            raise ValidationError(self.p.errors)
        document = schema_document(shape, parts, timeline, name, meta, custom, self.lib, self.p)
        return EditorDocument(shape, document, tuple(self.p.warnings))


def job_name(path: str) -> str:
    """The editor's name for a project file without one: the file name without its extension
    (use-render-queue.ts)."""
    return os.path.splitext(os.path.basename(path))[0]

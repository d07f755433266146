"""Where the Timeline Studio editor's own documents keep media and resource definitions.

A clip of the editor's camelCase timeline names its media by a ``mediaFile`` object or only by a
``mediaId``, and its effects, filters and transitions by ids; the definitions live in one of
several places depending on the document: ``resources`` (TimelineProject's ProjectResources, or
the legacy ``.tls`` file's ``timeline.resources``), the legacy media library
(``mediaPool``/``mediaLibrary`` with ``mediaFiles``/``musicFiles`` of SavedMediaFile), or a
``.tlsp`` file's ``mediaPool.items`` (a JavaScript Map the editor writes with
``Object.fromEntries``, so a JSON object keyed by id) and a sequence's ``resources`` (Maps too).
The Library indexes all of them by id.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

from chunking.timeline.media_paths import ASSET_PREFIX, Relocator, local_path
from chunking.timeline.schema import entries

#: MediaPoolItem types that are not files (a nested sequence or compound clip).
NESTED_MEDIA = ("sequence", "compound")


def as_map(value: Any) -> Mapping[str, Any]:
    """A JSON object, or an empty one for anything else."""
    return value if isinstance(value, Mapping) else {}


def items_of(value: Any) -> list[Any]:
    """The entries of a list, or the values of an object keyed by id (a serialised JS Map)."""
    if isinstance(value, Mapping):
        return list(value.values())
    return entries(value)


def text(value: Any) -> str:
    """A string field, or "" for anything that is not a string."""
    return value if isinstance(value, str) else ""


def js_or(value: Any, default: Any) -> Any:
    """JavaScript's ``value || default``: any falsy value (null, 0, "", false, NaN) -> default."""
    if value is None or value is False or value == "" or value == 0:
        return default
    if isinstance(value, float) and math.isnan(value):
        return default
    return value


def js_nullish(value: Any, default: Any) -> Any:
    """JavaScript's ``value ?? default``."""
    return default if value is None else value


def compact(values: Mapping[str, Any]) -> dict[str, Any]:
    """An object without its null values, as JSON.stringify leaves out ``undefined`` ones."""
    return {key: value for key, value in values.items() if value is not None}


class Library:
    """Media paths and resource definitions of one editor document, by id."""

    def __init__(self, base_dir: str, *, disk: bool = True) -> None:
        self.base_dir = base_dir
        #: whether media paths may be looked up on this machine's disk
        self.disk = disk
        #: media id -> candidate paths, best first (the first one that exists is used)
        self.media: dict[str, tuple[str, ...]] = {}
        #: media id -> MediaPoolItem type ("video", "audio", "image", "sequence", "compound")
        self.media_kind: dict[str, str] = {}
        #: media ids some media list holds, with a path or without one
        self.listed: set[str] = set()
        self.effects: dict[str, Mapping[str, Any]] = {}
        self.filters: dict[str, Mapping[str, Any]] = {}
        self.transitions: dict[str, Mapping[str, Any]] = {}
        #: TimelineTransitions (transitions as objects of their own on the timeline, naming
        #: their clips), by id; tracks list the ids of theirs
        self.timeline_transitions: dict[str, Mapping[str, Any]] = {}
        self.templates: dict[str, Mapping[str, Any]] = {}
        self.style_templates: dict[str, Mapping[str, Any]] = {}
        self.subtitle_styles: dict[str, Mapping[str, Any]] = {}
        #: saved path -> the file inside the project's folder used instead (media moved with
        #: the project), for one warning each
        self.relocations: dict[str, str] = {}
        self.relocator = Relocator(base_dir)
        #: definitions from a resources *list* (the legacy type says ``resources: any[]``),
        #: whatever their kind: looked up when the typed tables have no entry
        self.loose: dict[str, Mapping[str, Any]] = {}

    # -- filling ------------------------------------------------------------------------------

    def add_resources(self, raw: Any) -> None:
        """A ProjectResources object ({effects, filters, transitions, templates, styleTemplates,
        subtitleStyles, media, music}) or a sequence's resources (the same as JS Maps), or a list
        of definitions of any kind."""
        if isinstance(raw, list):
            for item in raw:
                if isinstance(item, Mapping) and text(item.get("id")):
                    self.loose.setdefault(item["id"], item)
            return
        res = as_map(raw)
        tables = (
            (self.effects, "effects"),
            (self.filters, "filters"),
            (self.transitions, "transitions"),
            (self.timeline_transitions, "timelineTransitions"),
            (self.templates, "templates"),
            (self.style_templates, "styleTemplates"),
            (self.subtitle_styles, "subtitleStyles"),
        )
        for table, key in tables:
            for item in items_of(res.get(key)):
                if isinstance(item, Mapping) and text(item.get("id")):
                    table.setdefault(item["id"], item)
        for key in ("media", "music"):
            for item in items_of(res.get(key)):
                self.add_media_file(item)

    def add_media_file(self, raw: Any) -> None:
        """A MediaFile ({id, path}), a MusicFile ({id, filePath}: resources.music, as the
        editor's createMusicFile writes it) or a SavedMediaFile ({id, originalPath,
        relativePath})."""
        item = as_map(raw)
        media_id = text(item.get("id"))
        path = (
            text(item.get("path")) or text(item.get("filePath")) or text(item.get("originalPath"))
        )
        paths = self._candidates(path, text(item.get("relativePath")))
        if media_id:
            self.listed.add(media_id)
        if media_id and paths:
            self.media.setdefault(media_id, paths)

    def add_media_pool(self, raw: Any) -> None:
        """A ``.tlsp`` MediaPool ({items: {id: MediaPoolItem}}) or the legacy media library
        ({mediaFiles: [...], musicFiles: [...]})."""
        pool = as_map(raw)
        for item in items_of(pool.get("items")):
            entry = as_map(item)
            media_id = text(entry.get("id"))
            source = as_map(entry.get("source"))
            paths = self._candidates(text(source.get("path")), text(source.get("relativePath")))
            if media_id:
                self.listed.add(media_id)
                self.media_kind.setdefault(media_id, text(entry.get("type")).lower())
                if paths:
                    self.media.setdefault(media_id, paths)
        for key in ("mediaFiles", "musicFiles"):
            for item in entries(pool.get(key)):
                self.add_media_file(item)

    def _candidates(self, path: str, relative: str) -> tuple[str, ...]:
        # The editor's saved-media-utils computes relativePath with the writer's separators.
        path, relative = local_path(path), local_path(relative)
        if relative and os.sep == "/":
            relative = relative.replace("\\", "/")
        return tuple(dict.fromkeys(p for p in (path, relative) if p))

    # -- looking up ---------------------------------------------------------------------------

    def path(self, media_id: str) -> str | None:
        """The file a media id stands for: its original path if that file exists, else its path
        relative to the project file's directory if that exists (the order of the editor's
        media-restoration-service.ts), else the first one named (reported missing later)."""
        candidates = self.media.get(media_id)
        if not candidates:
            return None
        return self.existing(candidates)

    def existing(self, candidates: tuple[str, ...]) -> str:
        """An uploaded asset's reference among the candidates (no disk is asked then: a
        service reading a client's document must not tell which of its own files exist), else
        the first candidate path that is a file (relative ones against the project file's
        directory), else the file of the same name the editor's media restoration finds inside
        the project's folder (recorded in ``relocations``), else the first candidate."""
        for candidate in candidates:
            if candidate.startswith(ASSET_PREFIX):
                return candidate
        if not self.disk:
            # Which candidate exists would tell a client which of this machine's files do.
            return candidates[0]
        for candidate in candidates:
            full = candidate if os.path.isabs(candidate) else os.path.join(self.base_dir, candidate)
            if os.path.isfile(full):
                return candidate
        moved = self.relocator.find(candidates[0])
        if moved is not None:
            self.relocations[candidates[0]] = moved
            return moved
        return candidates[0]

    def lookup(self, table: dict[str, Mapping[str, Any]], ident: str) -> Mapping[str, Any] | None:
        """A definition by id from one table, else from the untyped resources list."""
        return table.get(ident) or self.loose.get(ident)

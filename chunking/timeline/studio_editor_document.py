"""The ProjectSchema document an editor document becomes, assembled from its converted parts
(studio_editor recognises the shape and converts its tracks; this module places them, adds the
resources every shape shares and the editor's export settings), and the whole-project settings
applied to the parts on the way (master volume, duration)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chunking.timeline.fields import Problems, shown, to_float
from chunking.timeline.studio_editor_entries import without_subframe
from chunking.timeline.studio_editor_library import Library, as_map, compact
from chunking.timeline.studio_editor_position import place
from chunking.timeline.studio_editor_settings import EDITOR_EXPORT, PREVIEW, aspect_ratio, stamp
from chunking.timeline.studio_editor_styles import style_template_entry
from chunking.timeline.studio_editor_templates import template_entry
from chunking.timeline.studio_editor_tracks import Parts


def schema_document(
    shape: str,
    parts: Parts,
    timeline: dict[str, Any],
    name: str,
    meta: Mapping[str, Any],
    custom: dict[str, Any],
    lib: Library,
    p: Problems,
) -> dict[str, Any]:
    """The ProjectSchema document of converted ``parts`` (checked: no errors) over ``timeline``."""
    width, height = timeline["resolution"]
    timeline["aspect_ratio"] = aspect_ratio(width, height)
    place(parts.tracks, width, height)
    parts.transitions = without_subframe(parts.transitions, timeline["fps"], p)
    templates = [template_entry(t) for t in lib.templates.values()]
    styles = [style_template_entry(s) for s in lib.style_templates.values()]
    document: dict[str, Any] = {
        "version": "1.0.0",
        "metadata": compact(
            {
                "name": name or "Untitled Project",
                "description": meta.get("description"),
                # The file's own times, never the time of conversion: converting the same
                # file twice gives the same document.
                "created_at": stamp(meta.get("created") or meta.get("createdAt")),
                "modified_at": stamp(
                    meta.get("modified") or meta.get("updatedAt") or meta.get("lastModified")
                ),
            }
        ),
        "timeline": timeline,
        "tracks": parts.tracks,
        "effects": list(parts.effects.values()),
        "transitions": parts.transitions,
        "filters": list(parts.filters.values()),
        "templates": [t for t in templates if t is not None],
        "style_templates": [s for s in styles if s is not None],
        "subtitles": parts.subtitles,
        "settings": {
            "export": dict(EDITOR_EXPORT),
            "preview": dict(PREVIEW),
            "custom": {"timeline_studio": {"shape": shape, **custom}},
        },
    }
    return document


def master_volume(
    parts: Parts, seq_settings: Mapping[str, Any], settings: Mapping[str, Any], p: Problems
) -> None:
    """``settings.audio.masterVolume`` (the sequence's, else the project's) scales every track."""
    for where, audio in (("sequence settings", seq_settings), ("settings", settings)):
        raw = as_map(audio.get("audio")).get("masterVolume")
        if raw is None:
            continue
        level = to_float(raw)
        if level is None or not 0 <= level <= 4:
            p.error(f"{where}.audio", f"masterVolume {shown(raw)} must be a number from 0 to 4")
            return
        for track in parts.tracks:
            volume = to_float(track.get("volume"))
            if volume is not None:  # anything else is the loader's to name
                track["volume"] = min(volume * level, 10.0)
        return


def has_clips(parts: Parts) -> bool:
    """Whether the converted parts hold any clip or subtitle to render."""
    return any(t["clips"] for t in parts.tracks) or bool(parts.subtitles)


def span_of(parts: Parts) -> float:
    """calculateProjectDuration: the end of the last clip (subtitle clips included)."""
    ends = [c["end_time"] for t in parts.tracks for c in t["clips"]]
    ends += [s["end_time"] for s in parts.subtitles]
    return max(ends, default=0.0)

"""The current editor's project file: its Rust project state (``Project`` in
chatman-media/timeline-studio ``src-tauri/src/app_state/state.rs``, mirrored by
``src/types/generated/tauri-bindings.ts``), which ``SaveProject`` writes as serde JSON:

``{id, metadata{name, version, file_path, ...}, timeline{duration, fps, sample_rate,
tracks[{id, name, track_type, enabled, locked, height, clips[{id, media_id, name, timeline_in,
timeline_out, source_in, source_out, playback_rate, enabled, effects, transitions}], effects,
volume, pan}], markers}, media_pool{items{id: {id, path, name, media_type, ...}}},
settings{resolution{width, height}, frame_rate, audio_sample_rate, audio_channels}}``

Recognised by its ``media_pool`` (or by tracks that carry ``track_type``); converted into the
parts of a ProjectSchema document. Track types are Video, Audio, Title (text: each clip's
``name`` is drawn, as the editor's converter draws a text clip without text), and Music,
Voiceover, Sfx, Ambient (sound). Applied effects and clip transitions are kept outside the
file (the playback state's applied effects; transitions with no side), so they are named in
warnings, not guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chunking.timeline.fields import Problems, shown, to_float
from chunking.timeline.schema import entries
from chunking.timeline.studio_editor_entries import pan_effect
from chunking.timeline.studio_editor_library import (
    Library,
    as_map,
    items_of,
    js_nullish,
    js_or,
    text,
)
from chunking.timeline.studio_editor_settings import frame_rate, frame_size
from chunking.timeline.studio_editor_tracks import Parts

#: The state's track types as ProjectSchema's (None: text, drawn as subtitles).
_KINDS: dict[str, str | None] = {
    "video": "Video",
    "audio": "Audio",
    "music": "Audio",
    "voiceover": "Audio",
    "sfx": "Audio",
    "ambient": "Audio",
    "title": None,
}


def is_state_project(data: Mapping[str, Any]) -> bool:
    """Whether a document is the editor's saved project state (never a .tls ProjectFile, whose
    tracks say ``type`` and whose pool is ``mediaPool``)."""
    if "media_pool" in data:
        return True
    tracks = entries(as_map(data.get("timeline")).get("tracks"))
    return any(isinstance(t, Mapping) and "track_type" in t for t in tracks)


def state_parts(data: Mapping[str, Any], lib: Library, p: Problems) -> tuple[Parts, dict[str, Any]]:
    """The ProjectSchema tracks and subtitles of a saved project state, and its ``timeline``
    (frame rate, frame size, sample rate; the duration is the last clip's end)."""
    for item in items_of(as_map(data.get("media_pool")).get("items")):
        lib.add_media_file(item)
    timeline_raw, settings = as_map(data.get("timeline")), as_map(data.get("settings"))
    parts = Parts()
    for index, raw in enumerate(entries(timeline_raw.get("tracks"))):
        _track(index, raw, lib, p, parts)
    timeline = {
        "fps": frame_rate(
            p,
            ("timeline.fps", timeline_raw.get("fps")),
            ("settings.frame_rate", settings.get("frame_rate")),
        ),
        "resolution": frame_size(p, ("settings.resolution", settings.get("resolution"))),
        "sample_rate": timeline_raw.get("sample_rate")
        or settings.get("audio_sample_rate")
        or 48000,
    }
    return parts, timeline


def _track(index: int, raw: Any, lib: Library, p: Problems, parts: Parts) -> None:
    track = as_map(raw)
    track_id = text(track.get("id")) or f"#{index}"
    where = f"track {track_id!r}"
    kind_raw = text(track.get("track_type"))
    if kind_raw.lower() not in _KINDS:
        p.error(where, f"track_type {shown(track.get('track_type'))} is not one the editor "
                "writes (Video, Audio, Title, Music, Voiceover, Sfx, Ambient)")  # fmt: skip
        return
    kind = _KINDS[kind_raw.lower()]
    pan = pan_effect(track_id, track.get("pan"), where, p, parts.effects)
    if entries(track.get("effects")):
        p.warn(where, "its applied effects are not in the project file; not rendered")
    enabled = track.get("enabled") is not False
    clips = []
    for i, raw_clip in enumerate(entries(track.get("clips"))):
        clip = _clip(track_id, i, raw_clip, lib, p, media=kind is not None)
        if clip is None:
            continue
        if kind is None:
            if enabled:
                name = text(as_map(raw_clip).get("name")) or "Text"
                parts.subtitles.append(
                    {
                        "id": clip["id"],
                        "text": name,
                        "start_time": clip["start_time"],
                        "end_time": clip["end_time"],
                    }  # fmt: skip
                )
            continue
        clips.append(clip)
    if kind is not None:
        parts.tracks.append(
            {"id": track_id, "track_type": kind, "name": text(track.get("name")),
             "enabled": enabled, "volume": js_nullish(track.get("volume"), 1.0),
             "effects": [pan] if pan else [],
             "clips": sorted(clips, key=lambda c: (c["start_time"], c["id"]))}
        )  # fmt: skip


def _clip(
    track_id: str, index: int, raw: Any, lib: Library, p: Problems, *, media: bool
) -> dict[str, Any] | None:
    clip = as_map(raw)
    clip_id = text(clip.get("id")) or f"{track_id}#{index}"
    where = f"clip {clip_id!r}"
    if not isinstance(raw, Mapping):
        p.error(f"track {track_id!r} clip #{index}", "must be an object")
        return None
    if clip.get("enabled") is False:
        return None  # switched off in the editor
    start, end = to_float(clip.get("timeline_in")), to_float(clip.get("timeline_out"))
    if start is None or end is None or not end > start:
        p.error(where, f"timeline_out {shown(clip.get('timeline_out'))} must be a number after "
                f"timeline_in {shown(clip.get('timeline_in'))}")  # fmt: skip
        return None
    for transition in entries(clip.get("transitions")):
        kind = text(as_map(transition).get("transition_type")) or "a transition"
        p.warn(where, f"{kind} is not rendered: the project file does not say which side of "
               "the clip it joins")  # fmt: skip
    if entries(clip.get("effects")):
        p.warn(where, "its applied effects are not in the project file; not rendered")
    result: dict[str, Any] = {
        "id": clip_id,
        "start_time": start,
        "end_time": end,
        "source_start": js_or(clip.get("source_in"), 0.0),
        "speed": js_or(clip.get("playback_rate"), 1.0),
    }
    if not media:
        return result
    media_id = text(clip.get("media_id"))
    candidates = lib.media.get(media_id)
    if candidates:
        result["source_path"] = lib.existing(candidates)
    elif media_id in lib.listed:
        p.error(where, f"no media path: media {media_id!r} has no path in media_pool")
    else:
        p.error(where, f"no media path: media_id {media_id!r} is not in media_pool")
    return result

"""The editor's camelCase tracks and clips (TimelineTrack, TimelineClip) as ProjectSchema ones.

Mirrors the editor's own conversion, ``timelineToProjectSchema`` in
src/features/timeline/utils/timeline-to-project.ts of Timeline Studio (convertTrack, convertClip,
convertEffects, convertFilters, collectAllSubtitles): same field meanings and defaults. Where this
module differs from it, a comment says why; the differences are listed in
docs/timeline-format.md ("Timeline Studio editor documents").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chunking.timeline.fields import Problems, shown, to_float
from chunking.timeline.media_paths import local_path
from chunking.timeline.schema import entries
from chunking.timeline.studio_editor_animations import unrendered_animation
from chunking.timeline.studio_editor_applied import Applications
from chunking.timeline.studio_editor_css import inline_unread
from chunking.timeline.studio_editor_entries import effect_entry, pan_effect
from chunking.timeline.studio_editor_joins import TrackTransitions
from chunking.timeline.studio_editor_library import (
    NESTED_MEDIA,
    Library,
    as_map,
    js_nullish,
    js_or,
    text,
)
from chunking.timeline.studio_editor_motion import PROPERTIES, transform_keys
from chunking.timeline.studio_editor_opacity import fade_seconds, picture_over_time
from chunking.timeline.studio_editor_position import clip_position
from chunking.timeline.studio_editor_speed import RAMP_KEY, clip_speed
from chunking.timeline.studio_editor_styles import (
    TEXT_TRACKS,
    applied_style_template,
    blank_text,
    is_text_clip,
    subtitle_entry,
    subtitle_style,
    text_effects_unrendered,
)
from chunking.timeline.studio_editor_volume import keyed_volume

#: TimelineTrack ``type`` -> ProjectSchema track_type. The editor's getTrackType sends every type
#: but video/audio/subtitle/text to Video; music, voiceover, sfx and ambient tracks hold sound,
#: so they are Audio tracks here.
#: The animated properties of a picture clip's ``keyframes`` that are drawn.
DRAWN_PROPERTIES = frozenset({"opacity", *PROPERTIES})
_TRACK_KINDS = {
    "video": "Video",
    "image": "Video",
    "audio": "Audio",
    "music": "Audio",
    "voiceover": "Audio",
    "sfx": "Audio",
    "ambient": "Audio",
}


@dataclass
class Parts:
    """The ProjectSchema sections built from the editor's tracks."""

    tracks: list[dict[str, Any]] = field(default_factory=list)
    subtitles: list[dict[str, Any]] = field(default_factory=list)
    effects: dict[str, dict[str, Any]] = field(default_factory=dict)
    filters: dict[str, dict[str, Any]] = field(default_factory=dict)
    transitions: list[dict[str, Any]] = field(default_factory=list)


def _set(value: Any) -> bool:
    """Whether an editor audio setting is switched on (a non-zero number, or an object with
    one, not switched off)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, Mapping):
        if value.get("enabled") is False or value.get("isEnabled") is False:
            return False
        return any(_set(v) for k, v in value.items() if k not in ("enabled", "isEnabled"))
    return False


def _named(key: Mapping[str, Any], properties: frozenset[str]) -> bool:
    """Whether a keyframe animates one of these properties (its ``property``, a name)."""
    name = key.get("property")
    return isinstance(name, str) and name in properties


class TrackConverter:
    """Converts TimelineTrack lists, resolving media and resources through a Library."""

    def __init__(self, library: Library, problems: Problems) -> None:
        self.lib = library
        self.p = problems
        self.parts = Parts()
        self.applied = Applications(library, problems, self.parts.effects, self.parts.filters)
        self.ramps: Mapping[str, Any] = {}

    def run(self, tracks: list[Any], ramps: Mapping[str, Any] | None = None) -> Parts:
        """Every track in order (the editor's order: sections' tracks, then global tracks);
        ``ramps``: a TimelineProject's ``speedRampingConfigs``, by clip id."""
        self.ramps = ramps or {}
        for index, raw in enumerate(tracks):
            self._track(index, raw)
        return self.parts

    # -- tracks -------------------------------------------------------------------------------

    def _track(self, index: int, raw: Any) -> None:
        track = as_map(raw)
        track_id = text(track.get("id")) or f"#{index}"
        where = f"track {track_id!r}"
        if not isinstance(raw, Mapping):
            self.p.error(f"track #{index}", "must be an object")
            return
        kind_raw = track.get("type")
        if not isinstance(kind_raw, str) or not kind_raw:
            self.p.error(where, f"type must be video, audio, subtitle, ..., not {shown(kind_raw)}")
            return
        kind = kind_raw.lower()
        hidden = bool(track.get("isHidden", False))
        if kind in TEXT_TRACKS:
            text_effects_unrendered(track, where, self.p)
            for i, clip in enumerate(entries(track.get("clips"))):
                self._subtitle(track_id, i, clip, hidden)
            return
        track_type = _TRACK_KINDS.get(kind)
        if track_type is None:
            self.p.warn(
                where, f"track type {kind_raw!r} is not one the editor defines; drawn as video"
            )
            track_type = "Video"
        if track.get("isSolo"):
            self.p.warn(where, "solo only changes what the editor plays; every track is rendered")
        pairs = []
        for i, raw_clip in enumerate(entries(track.get("clips"))):
            if is_text_clip(raw_clip):
                # createSubtitleClip's clip dropped on a video track: text, not media.
                self._subtitle(track_id, i, raw_clip, hidden)
            elif (clip := self._clip(track_id, i, raw_clip, track_type)) is not None:
                pairs.append((clip, raw_clip))
        joins = TrackTransitions(self.lib, self.p, self.parts.transitions)
        joins.applied(pairs)
        joins.montage(pairs)
        joins.timeline(track.get("transitions"), pairs, where)
        effects = self.applied.ids(track.get("trackEffects"), "effect", track_id, where)
        # The mixer's panner follows the channel's inserts (Web Audio's chain in the editor).
        if pan := pan_effect(track_id, track.get("pan"), where, self.p, self.parts.effects):
            effects.append(pan)
        self.parts.tracks.append(
            {
                "id": track_id,
                "track_type": track_type,
                "name": js_or(track.get("name"), f"{kind_raw} Track"),
                # The editor writes ``enabled: !isMuted``, which would hide the picture of a
                # muted video track: hidden tracks are disabled, muted ones silenced.
                "enabled": not hidden,
                "muted": bool(track.get("isMuted", False)),
                "locked": bool(js_nullish(track.get("isLocked"), False)),
                "volume": js_nullish(track.get("volume"), 1.0),
                "clips": [clip for clip, _ in pairs],
                "effects": effects,
                # The editor leaves track filters out (a TODO there); they are applied here.
                "filters": self.applied.ids(track.get("trackFilters"), "filter", track_id, where),
            }
        )

    # -- clips --------------------------------------------------------------------------------

    def _times(self, raw: Mapping[str, Any], where: str) -> tuple[float, float] | None:
        start, duration = to_float(raw.get("startTime")), to_float(raw.get("duration"))
        if start is None:
            self.p.error(where, f"startTime must be a number, not {shown(raw.get('startTime'))}")
        if duration is None:
            self.p.error(where, f"duration must be a number, not {shown(raw.get('duration'))}")
        if start is None or duration is None:
            return None
        if not duration > 0:  # NaN too
            self.p.error(where, f"duration must be above 0 seconds, not {shown(duration)}")
            return None
        return start, duration

    def _clip(
        self, track_id: str, index: int, raw: Any, track_type: str = "Video"
    ) -> dict[str, Any] | None:
        if not isinstance(raw, Mapping):
            self.p.error(f"track {track_id!r} clip #{index}", "must be an object")
            return None
        clip_id = text(raw.get("id")) or f"{track_id}#{index}"
        where = f"clip {clip_id!r}"
        times = self._times(raw, where)
        path = self._media_path(raw, where)
        sound_only = track_type == "Audio"
        self._unrendered(raw, where, sound_only=sound_only)
        if times is None or path is None:
            return None
        start, duration = times
        window = (start, start + duration)
        # The source in-point: the editor's split, trim and slip edits (timeline-machine.ts)
        # move ``offset`` and never ``mediaStartTime`` (only its initial value), so ``offset``
        # is where the clip's picture starts; the editor's own export reads mediaStartTime and
        # would play the second half of a split clip from the start of the media again. Its
        # ``source_end: mediaEndTime || duration`` is left out for the same reason (stale after
        # edits, and at other speeds than 1 it froze the clip early): the clip plays on.
        offset = to_float(raw.get("offset"))
        source_start = offset if offset is not None else js_or(raw.get("mediaStartTime"), 0)
        speed, ramp = clip_speed(raw, self.ramps.get(clip_id), where, self.p)
        clip: dict[str, Any] = {
            "id": clip_id,
            "source_path": path,
            "start_time": start,
            "end_time": start + duration,
            "source_start": source_start,
            "speed": speed,
            "volume": js_nullish(raw.get("volume"), 1.0),
            # Not in the editor's conversion, but the clip's own settings the user sees.
            "muted": raw.get("isMuted") is True,
            "opacity": js_nullish(raw.get("opacity"), 1.0),
            # The montage planner (timeline-integration-service.ts) writes ``appliedEffects``.
            "effects": self.applied.ids(
                entries(raw.get("effects")) + entries(raw.get("appliedEffects")),
                "effect",
                clip_id,
                where,
                window,
            ),
            "filters": self.applied.ids(raw.get("filters"), "filter", clip_id, where, window),
        }
        keyed_volume(raw, clip, where, self.p)
        # fadeIn/fadeOut: a music clip's (MusicClip's audio settings) fade its sound, any other
        # clip's (the editor's VideoFadeService) its picture.
        if sound_only:
            for name, key in (("fadeIn", "fade_in"), ("fadeOut", "fade_out")):
                if (seconds := fade_seconds(raw, name, where, self.p)) is not None:
                    clip[key] = seconds
                    # MusicClip's fade ``curve``: the mixer's sound fades are linear.
                    curve = as_map(raw.get(name)).get("curve")
                    if curve is not None and curve != "linear":
                        self.p.warn(where, f"the sound's {name} curve {shown(curve)} is not "
                                    "rendered; it fades linearly")  # fmt: skip
        else:
            picture_over_time(raw, clip, where, self.p)
        if not sound_only and (transform := clip_position(raw.get("position"), where, self.p)):
            clip["transform"] = transform  # its position in pixels once the frame size is known
        if not sound_only and (moving := transform_keys(raw, where, self.p)):
            clip["transform_keyframes"] = moving  # in pixels with the transform's position
        if raw.get("isReversed") is True:
            clip["reverse"] = True  # its span played backwards (chunking.timeline.reverse)
        if ramp is not None:
            clip[RAMP_KEY] = ramp  # split into clips of steady speed (studio_editor_ramps)
        else:
            self._keep_pitch(raw, clip, where)
        if raw.get("templateId") is not None:
            clip["template_id"] = raw["templateId"]
            clip["template_cell"] = raw.get("templateCell")
        templates, style = self.lib.style_templates, raw.get("styleTemplate")
        if (
            style_id := applied_style_template(templates, style, clip_id, where, self.p)
        ) is not None:
            clip["style_template_id"] = style_id
        return clip

    def _keep_pitch(self, raw: Mapping[str, Any], clip: dict[str, Any], where: str) -> None:
        """``maintainPitch``: a faster or slower clip keeps its sound's pitch (as the editor's
        preview, a media element's playbackRate, plays it): a pitch shift undoes the speed's."""
        speed = to_float(clip.get("speed"))
        if raw.get("maintainPitch") is not True or speed is None or speed <= 0 or speed == 1:
            return
        ratio = 1 / speed
        if not 0.25 <= ratio <= 4:
            self.p.warn(where, f"maintainPitch at speed {speed:g} is not rendered (0.25 to 4 is)")
            return
        own = f"{clip['id']}#keep-pitch"
        self.parts.effects[own] = effect_entry(own, "audio-pitch", "keep pitch", {"ratio": ratio})
        clip["effects"] = [*clip["effects"], own]

    def _media_path(self, raw: Mapping[str, Any], where: str) -> str | None:
        media = as_map(raw.get("mediaFile"))
        media_id = text(raw.get("mediaId")) or text(media.get("id"))
        if self.lib.media_kind.get(media_id) in NESTED_MEDIA:
            kind = self.lib.media_kind[media_id]
            self.p.error(where, f"uses a nested {kind} ({media_id!r}); flatten it in the editor")
            return None
        # The editor reads clip.mediaFile?.path; the media lists' paths for the same id are
        # the fallback when that file is not here.
        candidates = (local_path(text(media.get("path"))), *self.lib.media.get(media_id, ()))
        candidates = tuple(dict.fromkeys(c for c in candidates if c))
        if any("\0" in c for c in candidates):  # no file system accepts one
            self.p.error(where, "the media path contains a NUL character")
            return None
        if candidates:
            return self.lib.existing(candidates)
        if media_id in self.lib.listed:
            self.p.error(where, f"no media path: media {media_id!r} has no path in its media list")
        elif media_id:
            self.p.error(where, f"no media path: mediaId {media_id!r} is in no media list")
        else:
            self.p.error(where, "no media path: it has neither mediaFile.path nor mediaId")
        return None

    def _unrendered(self, raw: Mapping[str, Any], where: str, *, sound_only: bool = False) -> None:
        """Warn about clip settings the editor keeps but neither its export nor ours renders
        (``sound_only``: a clip of an audio track, whose fades are its sound's)."""
        grading = raw.get("colorGrading")
        if isinstance(grading, Mapping) and grading.get("isEnabled") is True:
            self.p.warn(where, "colour grading (colorGrading) is not rendered")
        for name in ("equalizer", "reverb", "compression"):
            value = raw.get(name)
            if _set(value):
                self.p.warn(where, f"the music clip's {name} is not rendered (dry)")
        self._animation_unrendered(raw, where, drawn=not sound_only)
        if isinstance(raw.get("cropSettings"), Mapping) and raw["cropSettings"]:
            self.p.warn(where, "cropSettings (the montage planner's crop) is not rendered; the "
                        "whole picture is")  # fmt: skip
        offset = to_float(raw.get("audioOffset"))
        if offset:
            self.p.warn(where, f"audioOffset {offset:g} s is not rendered")

    def _animation_unrendered(
        self, raw: Mapping[str, Any], where: str, *, drawn: bool = False
    ) -> None:
        """Warn about a clip's keyframed animation that is not rendered (``drawn``: a picture
        clip, whose opacityKeyframes are)."""
        for name in ("keyframes",) if drawn else ("opacityKeyframes", "keyframes"):
            keys = raw.get(name)
            # Its volume keys are played (keyed_volume); a picture's opacity and position keys
            # are drawn (picture_over_time, transform_keys).
            done = (DRAWN_PROPERTIES if drawn else frozenset()) | {"volume"}
            if name == "keyframes" and isinstance(keys, list):
                keys = [k for k in keys if not (isinstance(k, Mapping) and _named(k, done))]
            if isinstance(keys, list | Mapping) and keys:
                self.p.warn(where, unrendered_animation(name, keys))

    # -- subtitles ----------------------------------------------------------------------------

    def _subtitle(self, track_id: str, index: int, raw: Any, hidden: bool) -> None:
        if not isinstance(raw, Mapping):
            self.p.error(f"track {track_id!r} clip #{index}", "must be an object")
            return
        clip_id = text(raw.get("id")) or f"{track_id}#{index}"
        where = f"clip {clip_id!r}"
        times = self._times(raw, where)
        if times is None:
            return
        if (blank := blank_text(raw)) is not None:
            # The editor's preview draws nothing for it; one blank caption spoils no render.
            self.p.warn(where, f"its text is {blank}: nothing is drawn")
            return
        style = subtitle_style(self.lib.subtitle_styles, raw.get("subtitleStyleId"), where, self.p)
        entry = subtitle_entry(raw, clip_id, times[0], times[0] + times[1], style)
        # Neither the editor's preview nor its export reads the switch: say so, not wrap silently.
        wrap = raw.get("wordWrap", as_map(style).get("wordWrap"))
        if wrap is False:
            self.p.warn(where, "wordWrap false is not rendered: long lines wrap at its maxWidth")
        entry["enabled"] = entry["enabled"] and not hidden
        self._animation_unrendered(raw, where)
        text_effects_unrendered(raw, where, self.p)
        for problem in inline_unread(raw):
            self.p.warn(where, problem)
        self.parts.subtitles.append(entry)

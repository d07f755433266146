"""The keys a ProjectSchema clip, track and document may hold (and an effect, filter,
transition or subtitle entry), and the warning for any other.

Every key that some reader of the clip, the track or the document looks at, under every
spelling it accepts, plus the keys the editor writes that change nothing (a track's ``name``,
``locked``). Anything else is a typo (``opactiy``) or a field of some other program: its value
was dropped without a word, so the user never learnt that their setting did nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from chunking.timeline.fields import Problems, shown

#: A clip's keys (studio_clips, studio_sources, studio_effects, studio_templates,
#: studio_style_templates, studio_visual; serde's Clip and the frontend's convertClip; the OTIO
#: reader's ``name``, which changes nothing).
CLIP_KEYS = frozenset(
    {
        "id",
        "name",
        "source",
        "source_path",
        "path",
        "file",
        "image_sequence",
        "start_time",
        "start",
        "end_time",
        "end",
        "duration",
        "source_start",
        "source_end",
        "speed",
        "reverse",
        "opacity",
        "volume",
        "muted",
        "fade_in",
        "audio_fade_in",
        "fade_out",
        "audio_fade_out",
        "picture_fade_in",
        "picture_fade_out",
        "picture_fade_head",
        "picture_fade_tail",
        "picture_fade_in_curve",
        "picture_fade_out_curve",
        "opacity_keyframes",
        "volume_keyframes",
        "transform",
        "transform_keyframes",
        "crop",
        "color_correction",
        "effects",
        "filters",
        "transitions",
        "text",
        "properties",
        "template_id",
        "template_position",
        "template_cell",
        "style_template_id",
        "audio_track_index",
        "audio_stream",
        "audio_channel",
        "deinterlace",
    }
)

#: A track's keys (studio._track; serde's Track, whose ``name`` and ``locked`` change nothing).
TRACK_KEYS = frozenset(
    {
        "id",
        "track_type",
        "type",
        "kind",
        "name",
        "enabled",
        "muted",
        "locked",
        "volume",
        "clips",
        "effects",
        "filters",
    }
)

#: A document's top-level keys (serde's ProjectSchema; the frontend's converter writes the same).
PROJECT_KEYS = frozenset(
    {
        "version",
        "metadata",
        "timeline",
        "tracks",
        "effects",
        "transitions",
        "filters",
        "templates",
        "style_templates",
        "subtitles",
        "settings",
    }
)

#: The ``timeline`` object's keys (studio.py; serde's Timeline and the rate's other spellings).
TIMELINE_KEYS = frozenset(
    {"duration", "fps", "frame_rate", "framerate", "resolution", "sample_rate", "aspect_ratio"}
)

#: The ``metadata`` object's keys (serde's ProjectMetadata; only ``name`` is read, it names the
#: job).
METADATA_KEYS = frozenset({"name", "description", "created_at", "modified_at", "author"})

#: The ``settings`` object's keys (serde's ProjectSettings; ``custom`` is the editor's free-form
#: map, whose keys are not checked).
SETTINGS_KEYS = frozenset(
    {"export", "preview", "custom", "output", "resolution", "frame_rate", "aspect_ratio"}
)

#: ``settings.export``'s keys: serde's ExportSettings (export._UNSUPPORTED names those it does
#: not honour), the export dialog's ``frameRate``/``resolution`` (studio._fps, _resolution) and
#: the other spellings export.parse_export reads.
EXPORT_KEYS = frozenset(
    {"format", "quality", "video_bitrate", "audio_bitrate", "hardware_acceleration"}
    | {"preferred_gpu_encoder", "ffmpeg_args", "encoding_profile", "rate_control_mode"}
    | {"keyframe_interval", "b_frames", "multi_pass", "preset", "max_bitrate", "min_bitrate"}
    | {"crf", "optimize_for_speed", "optimize_for_network", "normalize_audio", "audio_target"}
    | {"audio_peak", "container", "codec", "video_codec", "lossless", "bitrate", "gop_size"}
    | {"bframes", "profile", "codec_profile", "audio_codec", "frameRate", "frame_rate"}
    | {"resolution"}
)

#: serde's older ``settings.output`` (OutputSettings) and ``settings.preview`` (PreviewSettings,
#: which a render does not read).
OUTPUT_KEYS = frozenset({"format", "quality", "video_bitrate", "audio_bitrate", "duration"})
PREVIEW_KEYS = frozenset({"resolution", "quality", "fps", "format"})

#: An effect or filter entry's keys (studio_effects.read_effect, studio_effect_catalogue; serde's
#: Effect and Filter, whose descriptive fields change nothing; the frontend's ``params``).
EFFECT_KEYS = frozenset(
    {
        "id",
        "effect_type",
        "filter_type",
        "type",
        "kind",
        "name",
        "enabled",
        "parameters",
        "params",
        "start_time",
        "end_time",
        "intensity",
        "ffmpeg_command",
        "custom_filter",
        "css_filter",
        "preview_path",
        "presets",
        "category",
        "complexity",
        "tags",
        "description",
        "labels",
    }
)

#: A transition entry's keys (studio_transitions; serde's Transition and the frontend's
#: ``from_clip_id``/``to_clip_id``; ``name``, ``category``, ``tags``, ``complexity`` describe it).
TRANSITION_KEYS = frozenset(
    {
        "id",
        "transition_type",
        "type",
        "kind",
        "name",
        "enabled",
        "duration",
        "parameters",
        "params",
        "easing",
        "direction",
        "from_clip_id",
        "from_clip",
        "to_clip_id",
        "to_clip",
        "start_time",
        "ffmpeg_command",
        "category",
        "tags",
        "complexity",
    }
)

#: A subtitle's style keys (studio_subtitle_style.subtitle_look; serde's SubtitleStyle and this
#: format's older flat spellings).
SUBTITLE_STYLE_KEYS = frozenset(
    {
        "font_family",
        "font_size",
        "size",
        "font_weight",
        "color",
        "colour",
        "stroke_color",
        "stroke_width",
        "outline",
        "outline_width",
        "shadow_color",
        "shadow_x",
        "shadow_y",
        "shadow_blur",
        "background_color",
        "background",
        "background_opacity",
        "padding",
        "border_radius",
        "line_height",
        "letter_spacing",
        "max_width",
        "position",
    }
)

#: A ``subtitles[]`` entry's own keys (studio_subtitles; serde's Subtitle). Without a ``style``
#: object the style's keys are read from the entry itself (this format's flat subtitles).
SUBTITLE_KEYS = frozenset(
    {
        "id",
        "text",
        "start_time",
        "start",
        "end_time",
        "end",
        "duration",
        "position",
        "style",
        "enabled",
        "animations",
        "font_family",
        "font_size",
        "color",
        "opacity",
        "font_weight",
        "shadow",
        "outline",
    }
)

#: A subtitle's ``position`` keys (serde's Absolute/Relative SubtitlePosition, the frontend's
#: percentages with their ``margin``, this format's ``{x, y}`` fractions).
SUBTITLE_POSITION_KEYS = frozenset({"type", "x", "y", "align_x", "align_y", "margin"})

#: The sides of a subtitle's ``padding`` and of its position's ``margin``.
SIDE_KEYS = frozenset({"top", "right", "bottom", "left"})

#: A subtitle animation's keys (studio_subtitle_style.parse_animations; serde's
#: SubtitleAnimation, whose ``id`` and ``properties`` change nothing, nor do they in the editor).
SUBTITLE_ANIMATION_KEYS = frozenset(
    {
        "id",
        "animation_type",
        "type",
        "duration",
        "delay",
        "easing",
        "direction",
        "start_time",
        "properties",
    }
)

#: A multi-camera layout's keys (studio_templates; serde's Template, whose ``name`` changes
#: nothing), its cells' (TemplateCell) and its regions' (TemplateRegion).
TEMPLATE_KEYS = frozenset({"id", "template_type", "name", "screens", "cells", "regions"})
CELL_KEYS = frozenset(
    {"index", "x", "y", "width", "height", "fit_mode", "align_x", "align_y", "scale"}
)
REGION_KEYS = frozenset({"x", "y", "width", "height", "padding"})

#: A style template element's keys (studio_style_templates; serde's StyleTemplateElement and
#: the older ``type``/``content``/``style``), its ``timing``'s (ElementTiming, the editor's
#: ``start``/``end``) and its ``properties``' (StyleElementProperties: those of every element
#: type, the editor converter's ``color``, ``background_color``, ``border_*`` and ``src``).
ELEMENT_KEYS = frozenset(
    {"id", "element_type", "type", "name", "position", "size", "timing", "properties"}
    | {"animations", "content", "style"}
)
TIMING_KEYS = frozenset({"in_time", "out_time", "duration", "start", "end"})
ELEMENT_ANIMATION_KEYS = frozenset(
    {"id", "animation_type", "type", "duration", "delay", "easing", "repeat", "direction"}
    | {"properties"}
)
ELEMENT_PROPERTY_KEYS = frozenset(
    {"text", "font_family", "font_size", "font_weight", "font_style", "text_color", "color"}
    | {"text_align", "fill_color", "background_color", "stroke_color", "stroke_width"}
    | {"opacity", "rotation", "scale", "shadow", "blur", "image_path", "object_fit", "src"}
    | {"shape_type", "border_radius", "border_color", "border_width", "custom"}
)

#: Unknown keys named in one warning; the rest are counted (a hostile clip may hold millions).
NAMED = 5


def warn_unknown(
    raw: Mapping[str, Any], known: frozenset[str], what: str, p: Problems, where: str
) -> None:
    """One warning naming the keys of ``raw`` that are not in ``known`` (each with the closest
    known key, or the list of them), that they are ignored; nothing when there are none."""
    unknown = [key for key in raw if key not in known]
    if not unknown:
        return
    named = [_named(key, known) for key in unknown[:NAMED]]
    more = len(unknown) - NAMED
    listed = ", ".join(named) + (f" and {more} more" if more > 0 else "")
    plural = "key" if len(unknown) == 1 else "keys"
    hint = ""
    if not any("did you mean" in n for n in named):
        hint = f" ({what} keys: {_joined(known)})"
    p.warn(where, f"unknown {plural} {listed} ignored{hint}")


def suggestion(key: Any, known: Iterable[str], nth: int = 0) -> str:
    """`` (did you mean 'x'?)`` naming the known key closest to ``key``, or nothing; nothing
    for the ``nth`` unknown key of one object past NAMED (a hostile object may hold millions,
    and each comparison costs far more than the warning)."""
    if nth >= NAMED:
        return ""
    close = difflib.get_close_matches(str(key)[:100], list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _named(key: Any, known: Iterable[str]) -> str:
    """A key as the warning quotes it, bounded, with the closest known key if one is close."""
    text = str(key)
    quoted = shown(text[:60]) + (f" ({len(text)} characters)" if len(text) > 60 else "")
    close = difflib.get_close_matches(text[:100], list(known), n=1)
    return f"{quoted} (did you mean {close[0]!r}?)" if close else quoted


def _joined(known: Iterable[str]) -> str:
    return ", ".join(sorted(known))


def warn_unknown_settings(data: Mapping[str, Any], p: Problems) -> None:
    """Name the keys of the document's ``metadata`` and ``settings`` (and of its ``export``,
    ``output`` and ``preview`` blocks) that nothing reads: a misspelt ``qualty`` encoded at the
    default quality without a word."""
    meta = data.get("metadata")
    if isinstance(meta, Mapping):
        warn_unknown(meta, METADATA_KEYS, "the metadata's", p, "metadata")
    conf = data.get("settings")
    if not isinstance(conf, Mapping):
        return
    warn_unknown(conf, SETTINGS_KEYS, "the settings'", p, "settings")
    blocks = (("export", EXPORT_KEYS), ("output", OUTPUT_KEYS), ("preview", PREVIEW_KEYS))
    for name, known in blocks:
        block = conf.get(name)
        if isinstance(block, Mapping):
            warn_unknown(block, known, f"settings.{name}'s", p, f"settings.{name}")

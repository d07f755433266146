"""Content keys: a hash of everything a chunk's frames are made from (sound: content_audio_key).

A chunk of frames [start, end) renders to the same segment whenever its key is the same (the
same bytes where the encoder's thread count is the same too: see the end), so a re-render of an
edited timeline can take unchanged chunks from the segment cache. The key is a sha256 over a
canonical form of what the compositor (workers.compositor) reads for those frames and nothing
else:

* the enabled video tracks' clips drawn in the range, in drawing order (track order matters, a
  track's name and id do not), each with its placement, trim as exact source times, transform,
  crop, colour, opacity, cell, picture effects (windows cut to the range) and picture fades
  (only on the chunks whose frames a fade dims, so the others keep their keys); not those drawn
  over entirely by an opaque colour or pattern filling the canvas on a higher track throughout
  the range (chunking.drawn_clips: DrawnClips.shown), whose pixels no frame shows;
* the media they read by content id (``media``: FileSource.path -> an id such as
  "sha256:<hex>"), never by path, so moving a project or renaming a file keeps the key; of an
  image sequence, only the images the range can show, each by its own id (``media`` under
  ``image_media_key(path)``), so re-exporting one image re-renders only the chunks showing it;
* the transitions and subtitles overlapping the range;
* frame rate, frame size, the export settings that shape the video stream, and the render
  fingerprint (workers.fingerprint: renderer and library versions).

Times are relative to ``start``, so the same slice at another offset (after time was inserted or
deleted before it) has the same key; the segment's timestamps are rewritten when it is merged.
Frames depend on the absolute frame number only through effects in
catalogue.TIME_VARYING_EFFECTS (film grain is seeded by the effect's id and the frame:
workers.effects_basic.grain): a chunk showing one keeps its absolute start (and the effect's id) in
its key. Subtitle animations and transitions progress relative to their own start
(workers.subtitle_motion, Transition.progress), so they need neither.

Ids, names, warnings, sound-only fields (volume, fades, muting, audio stream, audio effects) and
anything outside the range are left out. Numbers that the renderer reads as exact fractions
(source_start, speed, source_end) are keyed as those fractions; other numbers by value, 3 and
3.0 alike (content_form.number), but never a flag as a number or a text as one; everything
else as the model holds it, so a doubtful case gives a different key (a cache miss), never a
wrong hit.

The encoder's thread count is left out on purpose. The planner keys a chunk before any node
takes it, and the nodes of one render group (one fingerprint) may give their encoders other
thread counts (other core or slot counts: orchestrator.local_workers.threads_per_slot). A
thread count changes only what the merge does not compare: x264 names it in the settings it
writes into a segment's first packet (and where its frame threads narrow motion search, a
picture may round otherwise); x265 kept it in the stream headers, which the merge requires to be
equal, and no longer does (workers.encoder). A key therefore promises a segment that stitches
with the others at the same quality (tests/workers/test_stitch_threads.py, for every software
codec) and, for the same thread count, the same bytes.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from chunking.content_audio_key import CHOSEN_AUDIO_FIELDS
from chunking.content_form import KEY_VERSION as KEY_VERSION
from chunking.content_form import digest, plain
from chunking.content_sources import clip_time, file_form
from chunking.content_sources import image_media_key as image_media_key
from chunking.drawn_clips import drawn_clips
from chunking.timeline.audio_catalogue import AUDIO_EFFECTS
from chunking.timeline.catalogue import TIME_VARYING_EFFECTS, effect_kind
from chunking.timeline.export import DEFAULT_CRF, DEFAULT_PRESET
from chunking.timeline.fade_curves import keys_between
from chunking.timeline.model import (
    Clip,
    Effect,
    ExportSettings,
    GeneratedSource,
    Subtitle,
    Timeline,
)
from chunking.timeline.profiles import PROFILES
from common.errors import TimelineError

#: Export settings that shape the video stream: every field but the audio bitrate and the
#: container, so a field added to ExportSettings later changes video keys until someone decides
#: otherwise. Segments are Matroska whatever the output's container (the merge remuxes them), so
#: the container shapes the video only where it picks the lossless encoder (video_export_form).
VIDEO_EXPORT_FIELDS = tuple(
    f.name
    for f in dataclasses.fields(ExportSettings)
    if f.name not in ("audio_bitrate", "container", *CHOSEN_AUDIO_FIELDS)
)

#: What a lossless encode does not read (workers.encoder: its encoder and options are fixed).
_LOSSLESS_IGNORES = (
    "codec", "crf", "bitrate", "preset", "keyframe_interval", "b_frames", "hardware_acceleration",
    "profile",
)  # fmt: skip


#: What a ProRes or DNxHR encode does not read.
_INTRA_IGNORES = (
    "crf",
    "bitrate",
    "preset",
    "keyframe_interval",
    "b_frames",
    "hardware_acceleration",
)


def video_export_form(export: ExportSettings) -> dict[str, Any]:
    """The export settings as far as they shape a chunk's segment: a lossless one keyed by the
    encoder it gets (as workers.encoder.choose_encoder picks it) and by nothing it ignores, so
    a remux to another container, or a crf or preset a lossless encode ignores, reuses it."""
    form = {name: getattr(export, name) for name in VIDEO_EXPORT_FIELDS}
    if form.get("profile") is None:
        form.pop("profile", None)  # only ProRes and DNxHR have one: other keys stay as they were
    if export.codec in PROFILES and not export.lossless:
        # Intra-only at the profile's rate: the encoder reads none of these (workers.encoder),
        # so a changed preset or CRF in the project must not re-render every chunk.
        for name in _INTRA_IGNORES:
            form.pop(name, None)
    if export.codec in DEFAULT_CRF and not export.lossless:
        # As workers.encoder reads them: no preset is the default one, no CRF the codec's
        # default, a bitrate leaves the CRF unread, and 0 asks for no bitrate or keyframe
        # interval; so a project that spells a default out keeps its chunks.
        form["preset"] = export.preset or DEFAULT_PRESET
        crf = DEFAULT_CRF[export.codec] if export.crf is None else export.crf
        form["crf"] = None if export.bitrate else crf
        form["bitrate"] = export.bitrate or None
        form["keyframe_interval"] = export.keyframe_interval or None
    if export.lossless or export.codec == "ffv1":
        for name in _LOSSLESS_IGNORES:
            form.pop(name, None)
        # FFmpeg's mov muxer refuses FFV1, so mp4 and mov carry lossless RGB H.264 instead.
        rgb264 = export.container in ("mp4", "mov") and export.codec != "ffv1"
        form["encoder"] = "libx264rgb" if rgb264 else "ffv1"
    return form


def video_cacheable(export: ExportSettings) -> bool:
    """Whether a chunk's segment is a function of its key: not when a hardware encoder may make
    it (which one opens depends on the node)."""
    return not export.hardware_acceleration or export.lossless


def as_encoded(timeline: Timeline, software: bool) -> Timeline:
    """The timeline as its chunks are keyed where they are encoded in software (``software``:
    no hardware encoder for its codec opens on the renderers): asking for hardware encoding
    there picks the same software encoder with the same options as not asking, so both key
    alike and toggling the setting reuses the chunks."""
    export = timeline.export
    if not software or not export.hardware_acceleration:
        return timeline
    return dataclasses.replace(
        timeline, export=dataclasses.replace(export, hardware_acceleration=False)
    )


def chunk_key(
    timeline: Timeline, start: int, end: int, media: Mapping[str, str], fingerprint: str
) -> str:
    """Hex sha256 of everything that determines frames [start, end) of the timeline."""
    return digest(video_form(timeline, start, end, media, fingerprint))


def video_form(
    timeline: Timeline, start: int, end: int, media: Mapping[str, str], fingerprint: str
) -> dict[str, Any]:
    """The canonical form chunk_key hashes (JSON-ready; compare two to see why keys differ).

    Raises KeyError for a file drawn in the range that ``media`` has no content id for, and
    TimelineError for a range outside the timeline.
    """
    if not 0 <= start < end <= timeline.frames:
        raise TimelineError(
            f"frame range [{start}, {end}) is not inside the timeline's [0, {timeline.frames})"
        )
    index = drawn_clips(timeline)
    since, until, track_of = index.since, index.until, index.track_of
    # Clips drawn over entirely by an opaque full-canvas clip above them are left out.
    floor, drawn = index.shown(start, end)
    # Only the order of tracks matters (items are sorted by track index), so empty ones drop out.
    rank = {i: r for r, i in enumerate(sorted({i for i, _ in drawn}))}
    ref = {clip.id: n for n, (_, clip) in enumerate(drawn)}

    origin = False
    clips = []
    for i, clip in drawn:
        hull = (max(since[clip.id], start) - start, min(until[clip.id], end) - start)
        chain = (*clip.effects, *index.track_effects.get(clip.track_id, ()))
        effects = [_effect_form(e, start, hull) for e in chain]
        origin = origin or any(e is not None and "id" in e for e in effects)
        clips.append(
            {
                "track": rank[i],
                "shown": _window(clip.start, clip.end, start, end),
                "source": (
                    {"generated": plain(clip.source)}
                    if isinstance(clip.source, GeneratedSource)
                    else file_form(clip, media, (hull[0] + start, hull[1] + start), timeline.fps)
                ),
                "time": clip_time(clip, start, timeline.fps),
                "transform": plain(clip.transform),
                "crop": plain(clip.crop),
                "color": plain(clip.color),
                "opacity": float(clip.opacity),
                "cell": plain(clip.cell),
                "effects": [e for e in effects if e is not None],
                # Only when off, so the keys of clips that leave it on stay what they were.
                **({} if clip.deinterlace else {"deinterlace": False}),
                # Only on the chunks a fade dims, so the others keep their keys.
                **_fade_form(clip, start, end, timeline.fps),
                **_motion_form(clip, start, end, timeline.fps),
            }
        )
    transitions = [
        {
            "kind": tr.kind,
            "easing": tr.easing,
            # Progress needs both ends, so they are not cut to the range.
            "start": tr.start - start,
            "end": tr.end - start,
            "layer": rank[max(track_of[tr.from_clip], track_of[tr.to_clip])],
            "from": ref[tr.from_clip],
            "to": ref[tr.to_clip],
        }
        for tr in index.transitions(drawn, start, end)
        if max(track_of[tr.from_clip], track_of[tr.to_clip]) >= floor
    ]
    subtitles = [
        _subtitle_form(sub, start, end)
        for sub in timeline.subtitles
        if sub.start < end and sub.end > start
    ]
    return {
        "version": KEY_VERSION,
        "fingerprint": fingerprint,
        "fps": str(timeline.fps),
        "size": [timeline.width, timeline.height],
        "frames": end - start,
        "export": video_export_form(timeline.export),
        "clips": clips,
        "transitions": transitions,
        "subtitles": subtitles,
        # Film grain is seeded by the absolute frame: that slice matches only where it was.
        "origin": start if origin else None,
    }


# -- video pieces -----------------------------------------------------------------------------


def _window(a: int, b: int, start: int, end: int) -> list[int] | None:
    """[a, b) cut to [start, end), relative to start; None when they do not overlap."""
    lo, hi = max(a, start), min(b, end)
    return [lo - start, hi - start] if lo < hi else None


def _effect_form(effect: Effect, start: int, hull: tuple[int, int]) -> dict[str, Any] | None:
    """A picture effect while the clip is drawn in the range; None for a sound effect or one
    not active on any of those frames."""
    kind = effect_kind(effect.kind) or effect.kind
    if kind in AUDIO_EFFECTS:
        return None
    lo = hull[0] if effect.start is None else max(effect.start - start, hull[0])
    hi = hull[1] if effect.end is None else min(effect.end - start, hull[1])
    if lo >= hi:
        return None
    intensity = float(effect.intensity)
    form: dict[str, Any] = {
        # As written: the compositor tests the raw kind against WHOLE_LAYER and TIME_VARYING.
        "kind": effect.kind,
        "params": plain(effect.params),
        "intensity": min(max(intensity, 0.0), 1.0) if math.isfinite(intensity) else 1.0,
        "active": [lo, hi],
    }
    if kind in TIME_VARYING_EFFECTS:
        form["id"] = effect.id  # the grain's seed
    return form


def _fade_form(clip: Clip, start: int, end: int, fps: Fraction) -> dict[str, Any]:
    """A clip's picture fades as they dim frames [start, end) (Clip.picture_fade), relative to
    ``start``; empty when they dim none of them."""
    # A frame a transition draws outside the clip takes the factor of the clip's first or last
    # frame (Clip.picture_fade), which a fade longer than the clip dims: ask about those.
    lo, hi = (min(max(t, clip.start), clip.end - 1) for t in (start, end - 1))
    if not clip.picture_faded(lo, hi + 1, fps):
        return {}
    fade: dict[str, Any] = {
        "in": [repr(float(clip.picture_fade_in)), repr(float(clip.picture_fade_head))],
        "out": [repr(float(clip.picture_fade_out)), repr(float(clip.picture_fade_tail))],
        "edges": [clip.start - start, clip.end - start],
    }
    # Only when set, so the keys of linear fades without opacity keys stay what they were.
    curves = [clip.picture_fade_in_curve, clip.picture_fade_out_curve]
    if curves != ["linear", "linear"]:
        fade["curves"] = curves
    if clip.opacity_keys:
        # Only the keys that decide these frames (a long keyed clip keys each chunk quickly),
        # at the times of its first and last frame here (a transition's frames take those).
        seen = [min(max(t, clip.start), clip.end - 1) for t in (start, end - 1)]
        first, last = (float((t - clip.start) / fps) for t in seen)
        fade["keys"] = [plain(key) for key in keys_between(clip.opacity_keys, first, last)]
    return {"fade": fade}


def _motion_form(clip: Clip, start: int, end: int, fps: Fraction) -> dict[str, Any]:
    """A moving clip's transform keys that decide frames [start, end), and where the clip's
    first frame (their time 0) lies from ``start``; empty for a clip without keys, so the
    keys of the others stay what they were."""
    if not clip.transform_keys:
        return {}
    # A transition's frames outside the clip take its first or last frame's (Clip.transform_at).
    seen = [min(max(t, clip.start), clip.end - 1) for t in (start, end - 1)]
    first, last = (float((t - clip.start) / fps) for t in seen)
    keys = keys_between(clip.transform_keys, first, last)
    return {"motion": {"since": clip.start - start, "keys": [plain(key) for key in keys]}}


def _subtitle_form(sub: Subtitle, start: int, end: int) -> dict[str, Any]:
    form: dict[str, Any] = plain(sub)
    del form["id"]
    form["start"], form["end"] = _window(sub.start, sub.end, start, end) or [0, 0]
    form["animations"] = [
        {**plain(anim), "start": anim.start - start, "end": anim.end - start}
        for anim in sub.animations
    ]
    return form

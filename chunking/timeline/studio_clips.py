"""Clips in ProjectSchema JSON: timing, source, geometry, colour, effects, layout cell.

A clip without media of its own is one of three things in the editor's documents: a placeholder
for the ``subtitles[]`` entry with its id (subtitle and title tracks), the carrier of a style
template (drawn over the template's background colour), or a mistake (an error naming the clip).
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from chunking.timeline.fields import Problems, flag, number, pick, shown
from chunking.timeline.frames import to_frame
from chunking.timeline.model import Clip, GeneratedSource, Source, TrackKind
from chunking.timeline.otio_layout import HOLD
from chunking.timeline.reverse import reversed_clip
from chunking.timeline.schema import MAX_SECONDS, entries
from chunking.timeline.studio_effects import parse_effects
from chunking.timeline.studio_keys import CLIP_KEYS, warn_unknown
from chunking.timeline.studio_sources import parse_source
from chunking.timeline.studio_style_templates import StyleTemplates
from chunking.timeline.studio_subtitles import checked_text
from chunking.timeline.studio_templates import Templates
from chunking.timeline.studio_transitions import Attachments
from chunking.timeline.studio_visual import (
    parse_color,
    parse_crop,
    parse_fade_curve,
    parse_opacity_keys,
    parse_transform,
    parse_transform_keys,
)
from chunking.timeline.volume_keys import parse_volume_keys

#: OTIO clips may start before their media's available range; further back is a mistake.
MAX_LEAD_SECONDS = 60.0
#: More audio streams than this in one file is not a media file anyone edits.
MAX_AUDIO_STREAMS = 64
#: The most channels of an audio stream a clip may pick one of.
MAX_CHANNELS = 64
#: A clip's speed range: the editor's own (setClipSpeed in src/features/timeline/hooks/
#: use-clips.ts clamps to 0.1-10), so every speed it saves renders; 0.25-4 refused a time-lapse
#: or slow-motion clip and with it the whole project.
MIN_SPEED, MAX_SPEED = 0.1, 10.0
#: How long a frozen clip (``speed`` 0) reads its media, in seconds: the renderer shows the frame
#: just before a clip's ``source_end``, so a freeze frame is a clip whose source ends this soon
#: after it starts (the OTIO importers' freeze frames alike).
FREEZE_HOLD = float(HOLD)


class ClipReader:
    """Reads the clips of every track, with what they refer to in the rest of the document."""

    def __init__(
        self,
        base_dir: str,
        fps: Fraction,
        effects: Mapping[str, Mapping[str, Any]],
        templates: Templates,
        styles: StyleTemplates,
        subtitle_ids: set[str],
        p: Problems,
    ) -> None:
        self.base_dir = base_dir
        self.fps = fps
        self.effects = effects
        self.templates = templates
        self.styles = styles
        self.subtitle_ids = subtitle_ids
        self.p = p
        #: transitions the clips list in their own ``transitions``
        self.attached: Attachments = {}
        #: clips that carry a style template, with its id
        self.styled: list[tuple[Clip, str]] = []
        #: ids of subtitles[] entries whose placeholder clip sits on a disabled track
        self.hidden: set[str] = set()

    def clip(
        self, track_id: str, kind: TrackKind, enabled: bool, index: int, raw: Any
    ) -> Clip | None:
        """One clip of a track; None for a placeholder that the subtitles draw instead."""
        p = self.p
        where = f"track {track_id!r} clip #{index}"
        if not isinstance(raw, Mapping):
            p.error(where, "must be an object")
            return None
        clip_id = str(pick(raw, "id", default=f"{track_id}#{index}"))
        where = f"clip {clip_id!r}"
        warn_unknown(raw, CLIP_KEYS, "a clip's", p, where)
        start, end, start_s = self._times(raw, where)
        props = raw.get("properties") if isinstance(raw.get("properties"), Mapping) else {}
        custom = props.get("custom_metadata") if isinstance(props, Mapping) else None
        custom = custom if isinstance(custom, Mapping) else {}
        text = pick(raw, "text")
        field = "text"
        if text is None and pick(custom, "text") is not None:
            text, field = pick(custom, "text"), "properties.custom_metadata.text"
        style_id = self.styles.template_of(raw, where)
        mediumless = _no_media(raw)
        if mediumless and clip_id in self.subtitle_ids and style_id is None:
            if not enabled:
                self.hidden.add(clip_id)
            if kind is not TrackKind.SUBTITLE:
                return None  # a title track's clip: its subtitles[] entry draws it
        source: Source = GeneratedSource()
        if style_id is not None and mediumless:
            source = GeneratedSource(color=self.styles.background(style_id))
        elif kind is not TrackKind.SUBTITLE or (text is None and not mediumless):
            source = parse_source(raw, custom, self.base_dir, kind, p, where)
        source_start = self._source_start(raw, where, kind)
        frozen = _frozen(raw)
        speed = 1.0
        if not frozen:
            speed = number(raw, ("speed",), 1.0, p, where, low=MIN_SPEED, high=MAX_SPEED)
        if frozen:
            # The frame at source_start held over the clip, silent (a stopped tape makes none);
            # its source_end changes nothing, so it is not read.
            hold = not isinstance(source, GeneratedSource)
            source_end = source_start + FREEZE_HOLD if hold else None
        else:
            source_end = self._source_end(raw, source, source_start, (start, end, speed), where)
        if kind is TrackKind.AUDIO:
            source_start = _on_the_grid(source_start, start_s, start, self.fps, speed)
        clip = Clip(
            id=clip_id,
            track_id=track_id,
            source=source,
            start=start,
            end=max(end, start),
            source_start=source_start,
            source_end=source_end,
            speed=speed,
            opacity=number(raw, ("opacity",), 1.0, p, where, low=0, high=1),
            volume=number(raw, ("volume",), 1.0, p, where, low=0, high=10),
            muted=flag(raw, "muted", False, p, where) or frozen,
            fade_in=self._seconds(raw, ("fade_in", "audio_fade_in"), where),
            fade_out=self._seconds(raw, ("fade_out", "audio_fade_out"), where),
            volume_keys=parse_volume_keys(raw.get("volume_keyframes"), p, where),
            picture_fade_in=self._seconds(raw, ("picture_fade_in",), where),
            picture_fade_out=self._seconds(raw, ("picture_fade_out",), where),
            picture_fade_head=self._seconds(raw, ("picture_fade_head",), where),
            picture_fade_tail=self._seconds(raw, ("picture_fade_tail",), where),
            picture_fade_in_curve=parse_fade_curve(raw, "picture_fade_in_curve", p, where),
            picture_fade_out_curve=parse_fade_curve(raw, "picture_fade_out_curve", p, where),
            opacity_keys=parse_opacity_keys(raw.get("opacity_keyframes"), p, where),
            transform=(base := parse_transform(raw.get("transform"), p, where)),
            transform_keys=parse_transform_keys(raw.get("transform_keyframes"), base, p, where),
            crop=parse_crop(raw.get("crop"), p, where),
            color=parse_color(raw.get("color_correction"), p, where),
            effects=parse_effects(raw, self.effects, self.fps, p, where, (start, max(end, start))),
            text=(
                checked_text(text, p, where, field)
                if text is not None and kind is TrackKind.SUBTITLE
                else None
            ),
            cell=self.templates.cell(raw, track_id, where),
            audio_stream=self._audio_stream(raw, where),
            audio_channel=self._audio_channel(raw, where),
            deinterlace=flag(raw, "deinterlace", True, p, where),
        )
        # A held frame looks the same played either way.
        backwards = flag(raw, "reverse", False, p, where) and not frozen
        clip = reversed_clip(clip, backwards, p, where)
        if style_id is not None:
            self.styled.append((clip, style_id))
        self._attachments(raw, clip_id, where)
        return clip

    def _seconds(self, raw: Mapping[str, Any], names: tuple[str, ...], where: str) -> float:
        return number(raw, names, 0.0, self.p, where, low=0, high=MAX_SECONDS)

    def _times(self, raw: Mapping[str, Any], where: str) -> tuple[int, int, float]:
        p = self.p
        known = len(p.errors)
        start_s = number(raw, ("start_time", "start"), 0.0, p, where, low=0, high=MAX_SECONDS)
        end_s = number(raw, ("end_time", "end"), -1.0, p, where, low=0, high=MAX_SECONDS)
        if pick(raw, "end_time", "end") is None:
            duration = number(raw, ("duration",), -1.0, p, where, low=0, high=MAX_SECONDS)
            end_s = start_s + duration if duration >= 0 else -1.0
            if duration < 0 and len(p.errors) == known:
                p.error(where, "end_time is missing")
        start, end = to_frame(start_s, self.fps), to_frame(end_s, self.fps)
        timed = len(p.errors) == known  # an unreadable time is reported once, above
        if timed and pick(raw, "end_time", "end", "duration") is not None and end <= start:
            p.error(
                where,
                f"end_time {end_s:g}s must be after start_time {start_s:g}s "
                "(the clip would be empty)",
            )
        return start, end, start_s

    def _source_start(self, raw: Mapping[str, Any], where: str, kind: TrackKind) -> float:
        value = number(
            raw, ("source_start",), 0.0, self.p, where, low=-MAX_LEAD_SECONDS, high=MAX_SECONDS
        )
        if value < 0:
            lead = to_frame(-value, self.fps)
            # The mixer plays silence before a sound's start; the compositor holds a picture.
            held = (
                "it is silent until then" if kind is TrackKind.AUDIO else "the first frame is held"
            )
            self.p.warn(
                where, f"starts {lead} frames before its media (source_start {value:g}s); {held}"
            )
        return value

    def _source_end(
        self,
        raw: Mapping[str, Any],
        source: Source,
        source_start: float,
        timing: tuple[int, int, float],
        where: str,
    ) -> float | None:
        if pick(raw, "source_end") is None or isinstance(source, GeneratedSource):
            return None  # a generator has no source times
        source_end = number(raw, ("source_end",), 0.0, self.p, where, low=0, high=MAX_SECONDS)
        if source_end == 0:
            return None  # serde writes 0 where nobody set an out point
        start, end, speed = timing
        length = Fraction(end - start) / self.fps
        half = Fraction(1, 2) / self.fps
        needed = Fraction(str(source_start)) + length * Fraction(str(speed))
        exact = Fraction(str(source_end))
        # The editor's export writes ``source_end: mediaEndTime || duration``: without an out
        # point it is the clip's length, which would end (or freeze) a clip that starts later
        # in its media or plays faster; the editor's preview plays such a clip on.
        # A hold (an importer's freeze frame: its out point a millisecond after its in point)
        # is an out point on purpose, wherever it falls.
        hold = 0 < exact - Fraction(str(source_start)) < 2 * HOLD
        if end > start and abs(exact - length) <= half and exact < needed - half and not hold:
            self.p.warn(
                where,
                f"source_end {source_end:g}s is the clip's length, the editor's stand-in for no "
                f"out point, and would cut its media short of {float(needed):g}s; the clip "
                "plays its media on",
            )
            return None
        if source_end <= source_start:
            self.p.error(
                where, f"source_end {source_end:g}s must be after source_start {source_start:g}s"
            )
            return None
        return source_end

    def _audio_stream(self, raw: Mapping[str, Any], where: str) -> int | None:
        if pick(raw, "audio_track_index", "audio_stream") is None:
            return None
        return int(
            number(
                raw,
                ("audio_track_index", "audio_stream"),
                0,
                self.p,
                where,
                low=0,
                high=MAX_AUDIO_STREAMS,
            )
        )

    def _audio_channel(self, raw: Mapping[str, Any], where: str) -> int | None:
        if pick(raw, "audio_channel") is None:
            return None
        return int(number(raw, ("audio_channel",), 1, self.p, where, low=1, high=MAX_CHANNELS))

    def _attachments(self, raw: Mapping[str, Any], clip_id: str, where: str) -> None:
        """A clip's own ``transitions`` (the frontend's AppliedTransition: a transition id,
        ``type`` in/cross (from the clip before) or out (to the clip after), a ``duration``)."""
        for item in entries(raw.get("transitions")):
            if isinstance(item, str):
                self.attached.setdefault(item, []).append((clip_id, "out", None))
                continue
            if not isinstance(item, Mapping):
                self.p.error(where, f"transitions entry {shown(item)} must be an id or an object")
                continue
            if item.get("isEnabled", item.get("enabled", True)) is False:
                continue
            ref = pick(item, "transition_id", "transitionId", "id")
            # "cross" fades from the clip before, as the editor-document converter reads it.
            side = "out" if str(item.get("type", "out")).lower() == "out" else "in"
            seconds = None
            if pick(item, "duration") is not None:
                seconds = number(item, ("duration",), 1.0, self.p, where, low=0, high=MAX_SECONDS)
            self.attached.setdefault(str(ref), []).append((clip_id, side, seconds))


def _frozen(raw: Mapping[str, Any]) -> bool:
    """Whether ``speed`` is 0: a freeze frame (the editor's speed ramps stop a clip with it)."""
    speed = raw.get("speed")
    return isinstance(speed, int | float) and not isinstance(speed, bool) and speed == 0


def _no_media(raw: Mapping[str, Any]) -> bool:
    """Whether a clip names no media: no source, or an empty source_path / File path."""
    src = raw.get("source")
    if src is None:
        path = pick(raw, "source_path", "path", "file")
        return path is None or (isinstance(path, str) and not path.strip())
    if isinstance(src, Mapping) and "File" in src:
        return isinstance(src["File"], str) and not src["File"].strip()
    return False


def _on_the_grid(
    source_start: float, start_s: float, start: int, fps: Fraction, speed: float
) -> float:
    """An audio clip's ``source_start`` once its ``start_time`` (``start_s``) is moved onto
    frame ``start``: what it plays there is what it would have played at that instant."""
    # An NLE places sound to the sample: a cut between frames moved to the frame line without
    # this played the clip early or late by up to half a frame, and a clip split there skipped
    # (or repeated) that much of its sound at the split.
    moved = Fraction(start) / fps - Fraction(str(start_s))
    if moved == 0:
        return source_start
    return float(Fraction(str(source_start)) + moved * Fraction(str(speed)))

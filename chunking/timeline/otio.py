"""OpenTimelineIO files onto the internal model, by way of the ProjectSchema loader.

The OTIO timeline is translated into a ProjectSchema-style document and handed to
:func:`chunking.timeline.studio.load_project`, so one validator checks both formats; that
document is also what a cluster render sends to its workers.

OTIO has no frame size, sample rate or export settings; they are read from the timeline's
``metadata["cloudrender"]`` when present and otherwise default to 1920x1080, 48 kHz and the
default export settings::

    {"cloudrender": {"resolution": [3840, 2160], "sample_rate": 48000,
                     "export": {"codec": "hevc", "quality": "high"}}}

Placement (tracks, nesting, transitions) is :mod:`chunking.timeline.otio_place`; media
references and effects are :mod:`chunking.timeline.otio_media`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import opentimelineio as otio

from chunking.timeline.fields import Problems
from chunking.timeline.model import Timeline
from chunking.timeline.otio_channels import drop_channel_copies
from chunking.timeline.otio_layout import Layout
from chunking.timeline.otio_nle import (
    drop_graphics,
    read_export,
    relink,
    sequence_format,
)
from chunking.timeline.otio_place import Placer, leading_in
from chunking.timeline.otio_read import (
    MAX_TIME,
    TIME_ERRORS,
    forget_unusable_ranges,
    frames,
    plain,
    rate,
    reason,
    seconds,
)
from chunking.timeline.otio_time import top_map
from chunking.timeline.otio_timecode import apply_media_timecodes
from chunking.timeline.otio_track_order import stack_by_numbers
from chunking.timeline.schema import MAX_FPS
from chunking.timeline.studio import load_project
from common.errors import TimelineError, ValidationError


def load_otio(path: str, *, strict: bool = False) -> Timeline:
    """Load an OpenTimelineIO file; raise TimelineError (ValidationError) on problems."""
    return read_otio(path, strict=strict)[1]


def read_otio(
    path: str, *, strict: bool = False, base_dir: str | None = None
) -> tuple[dict[str, Any], Timeline]:
    """An OpenTimelineIO file read once: its ProjectSchema document and the Timeline (media
    paths resolve in ``base_dir``, by default the file's folder)."""
    base_dir = base_dir or os.path.dirname(os.path.abspath(path))
    found = Problems()
    tl = read_export(path, found)
    _check_not_empty(tl, path)
    forget_unusable_ranges(tl)
    stack_by_numbers(tl, found)
    relink(tl, base_dir, found)
    apply_media_timecodes(tl, base_dir)
    drop_channel_copies(tl, found, edl=path.lower().endswith(".edl"))
    drop_graphics(tl, found)
    conv = _Converter(tl, found)
    try:
        data = conv.convert()
    except MemoryError:
        raise
    except Exception as exc:  # OTIO's objects fail in many ways on odd documents
        raise TimelineError(
            f"{path}: not a usable OpenTimelineIO timeline ({type(exc).__name__}: {reason(exc)})"
        ) from None
    # Each problem stays its own entry: ValidationError summarises a long list on one line.
    own = conv.p.errors + (conv.p.warnings if strict else [])
    try:
        timeline = load_project(data, base_dir, strict=strict)
    except ValidationError as exc:
        raise ValidationError(own + exc.problems) from None
    if own:
        raise ValidationError(own)
    return data, replace(timeline, warnings=tuple(conv.p.warnings) + timeline.warnings)


def _check_not_empty(tl: Any, path: str) -> None:
    """Raise TimelineError naming the file and its timeline when it holds no clip and has no
    length or titles (Premiere's sequence of no tracks): the loader's "the timeline is empty"
    named neither."""
    meta = plain(tl.metadata).get("cloudrender")
    if isinstance(meta, dict) and (meta.get("duration") or meta.get("subtitles")):
        return  # a length or titles of its own (an FCPXML project of titles): drawn
    try:
        if any(True for _ in tl.find_clips()) or tl.duration().value > 0:
            return
    except Exception:  # OTIO's objects fail in many ways on odd documents: the reading reports
        return
    named = f"{str(tl.name)!r} has" if tl.name else "it has"
    raise TimelineError(
        f"{path}: the timeline is empty ({named} no clips and no length); export it again "
        "with its clips"
    )


def timeline_rate(tl: Any) -> Fraction:
    """The sequence's frame rate: its global start time's, else its tracks' source ranges',
    else its first video clip's, else any clip's or media's; 24 fps when none is usable."""
    stack = tl.tracks
    tracks = [t for t in stack if isinstance(t, otio.schema.Track)]
    video = [t for t in tracks if t.kind == otio.schema.TrackKind.Video]
    clips = list(tl.find_clips())
    video_clips = [c for c in clips if getattr(c.parent(), "kind", "") == "Video"]
    start = tl.global_start_time
    # A rate-1 start time is RationalTime's default, written by tools that know no rate.
    candidates = [start if start is not None and float(start.rate) > 1 else None]
    candidates += [getattr(stack.source_range, "duration", None)]
    candidates += [getattr(t.source_range, "duration", None) for t in [*video, *tracks]]
    candidates += [getattr(c.source_range, "duration", None) for c in video_clips]
    for clip in clips:
        ref = clip.media_reference
        rng = clip.source_range or getattr(ref, "available_range", None)
        candidates.append(getattr(rng, "duration", None))
    for rt in candidates:
        if rt is not None:
            try:
                fps = rate(float(rt.rate))
            except ValueError:
                continue
            if fps <= MAX_FPS:
                return fps
    return Fraction(24)


@dataclass
class _Top:
    """A top-level item and the stack time it occupies."""

    item: Any
    begin: Fraction
    end: Fraction
    start: Fraction | None  # its own time at ``begin`` when not its trimmed range's start
    problem: str = ""  # why its range cannot be had (its items then say which is at fault)


@dataclass
class _Converter:
    tl: Any
    p: Problems = field(default_factory=Problems)

    def convert(self) -> dict[str, Any]:
        fps = timeline_rate(self.tl)
        meta = self.tl.metadata.get("cloudrender", {})
        extra = plain(meta) if isinstance(meta, Mapping) else {}
        if not isinstance(meta, Mapping):
            self.p.error("metadata.cloudrender", "must be an object")
        exported = sequence_format(self.tl)  # what an editor's export says, if anything
        stack = self.tl.tracks
        kept = [(index, item) for index, item in enumerate(stack) if self._shown(item, index)]
        tops = [self._top(item, index) for index, item in kept]
        origin, length = self._window(stack, tops)
        names = Counter(str(c.name) for c in self.tl.find_clips())
        ids = Counter(str(t.name) for t in stack)
        tracks: list[dict[str, Any]] = []
        transitions: list[dict[str, Any]] = []
        top = top_map(origin, length)
        for (index, item), place in zip(kept, tops, strict=True):
            name = str(item.name)
            track_id = name if name and ids[name] == 1 else f"#{index}"
            kind = str(getattr(item, "kind", otio.schema.TrackKind.Video))
            layout = Layout(track_id, kind == otio.schema.TrackKind.Audio, fps)
            placer = Placer(self.p, names, layout, kind)
            if place.problem:
                known = len(self.p.errors)
                if isinstance(item, otio.core.Composition):
                    placer.check(item, track_id)
                if len(self.p.errors) == known:
                    self.p.error(f"track {track_id!r}", f"has no usable range ({place.problem})")
                continue
            placer.item(
                item, top, (place.begin, place.end), 0, track_id, start=place.start, top=True
            )
            # A sliver of a clip (a nested one cut mid-frame) shorter than half a frame rounds
            # to no frame at all: it is not shown, rather than refused as empty.
            layout.dropped = {
                c.id for c in layout.placed if frames(c.start, fps) >= frames(c.end, fps)
            }
            tracks += self._tracks(item, layout, kind)
            joints = [j for j in layout.joints if not {j.a.id, j.b.id} & layout.dropped]
            transitions += [j.emit() for j in joints]
        timeline: dict[str, Any] = {
            "fps": f"{fps.numerator}/{fps.denominator}",
            "resolution": extra.get("resolution", exported.get("resolution", [1920, 1080])),
            "sample_rate": extra.get("sample_rate", exported.get("sample_rate", 48000)),
        }
        duration = extra.get("duration")  # an FCPXML sequence's own (otio_fcpxml_extras)
        if isinstance(duration, int | float) and not isinstance(duration, bool) and duration > 0:
            timeline["duration"] = float(duration)
        elif length > 0:
            timeline["duration"] = float(length)
        return {
            "metadata": {"name": str(self.tl.name)},
            "timeline": timeline,
            "tracks": tracks,
            "transitions": transitions,
            "settings": {"export": extra.get("export", {})},
            # An FCPXML's titles (otio_fcpxml), or subtitles an OTIO file's metadata carries.
            "subtitles": extra.get("subtitles", []),
        }

    def _shown(self, item: Any, index: int) -> bool:
        """Whether a top-level item carries pictures or sound; a track of another kind (an
        Avid data track: timecode, captions' data; Kdenlive's "Subtitle" track) is left out,
        with a warning; a subtitle track of nothing but gaps silently (Kdenlive's export writes
        one, empty, whenever the project has a subtitle track)."""
        kind = str(getattr(item, "kind", otio.schema.TrackKind.Video))
        if kind in (otio.schema.TrackKind.Video, otio.schema.TrackKind.Audio):
            return True
        name = str(item.name) or f"#{index}"
        if kind.lower() == "subtitle":
            held = [c for c in item if not isinstance(c, otio.schema.Gap)]
            if not held:
                return False
            count = sum(isinstance(c, otio.schema.Clip) for c in held) or len(held)
            said = "1 subtitle is" if count == 1 else f"{count} subtitles are"
            self.p.warn(f"track {name!r}", f"is a subtitle track: its {said} not rendered")
            return False
        self.p.warn(
            f"track {name!r}", f"is a track of kind {kind!r}, neither video nor audio; left out"
        )
        return False

    def _top(self, item: Any, index: int) -> _Top:
        """Where a top-level item sits in stack time.

        As OTIO defines it, a track's ``source_range`` selects part of the track's own time and
        the stack shows that part from time 0: a positive start trims the head, a negative one
        delays the content. The cmx_3600 EDL adapter writes each track's record start that way
        too (start = -01:00:00:00, duration = the events' length), which by that definition
        would show none of the events: a track whose negative start comes with a duration
        equal to its content's is read as content delayed to record time -start, in full.
        """
        try:
            duration = seconds(item.trimmed_range().duration)
            if duration < 0:
                raise ValueError(f"duration {float(duration):g} s is negative")
            sr = item.source_range
            if isinstance(item, otio.schema.Track) and sr is not None and sr.start_time.value < 0:
                delay = -seconds(sr.start_time)
                if duration == seconds(item.available_range().duration):
                    return _Top(item, delay, delay + duration, -leading_in(item))
        except TIME_ERRORS as exc:
            return _Top(item, Fraction(0), Fraction(MAX_TIME), None, reason(exc))
        return _Top(item, Fraction(0), duration, None)

    def _window(self, stack: Any, tops: list[_Top]) -> tuple[Fraction, Fraction]:
        """The stack time shown at output time 0, and the output's length in seconds."""
        if stack.source_range is not None:
            try:
                return seconds(stack.source_range.start_time), seconds(stack.source_range.duration)
            except TIME_ERRORS as exc:
                self.p.error("timeline", f"the top-level stack's source_range ({reason(exc)})")
        usable = [t for t in tops if t.end > t.begin and not t.problem]
        # EDL record times: the program starts at the earliest track's first event.
        origin = min((t.begin for t in usable), default=Fraction(0))
        return origin, max((t.end - origin for t in usable), default=Fraction(0))

    def _tracks(self, item: Any, layout: Layout, kind: str) -> list[dict[str, Any]]:
        """The model tracks of one top-level item: its own clips, then nested stacks' layers."""
        out = []
        for layer in range(layout.layers):
            clips = sorted(
                (c for c in layout.placed if c.layer == layer and c.id not in layout.dropped),
                key=lambda c: (c.start, c.id),
            )
            name = str(item.name)
            out.append(
                {
                    "id": layout.track_id if layer == 0 else f"{layout.track_id} (nested {layer})",
                    "name": name if layer == 0 else f"{name} (nested {layer})",
                    "track_type": kind,
                    "enabled": bool(item.enabled),
                    "clips": [c.emit(layout.audio) for c in clips],
                    "effects": layout.effects,
                }
            )
        return out

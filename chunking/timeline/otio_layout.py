"""What the OTIO importer places: clips on output layers and the transitions between them.

Times stay exact Fractions of seconds until ``emit`` writes the ProjectSchema document.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

#: How long a held clip reads its media (seconds): the renderer shows the frame just before a
#: clip's source_end, so a hold is a clip whose source ends this soon after it starts.
HOLD = Fraction(1, 1000)
_ZERO = Fraction(0)
#: Clip fields of keyframes timed in seconds from the clip's first frame (as the export cut it).
KEYED_FIELDS = ("transform_keyframes", "opacity_keyframes", "volume_keyframes")
#: Clip fields of fades at its start and at its end (seconds).
HEAD_FADES, TAIL_FADES = ("fade_in", "picture_fade_in"), ("fade_out", "picture_fade_out")


@dataclass
class Placed:
    """A clip on an output layer; times stay exact until the document is emitted."""

    data: dict[str, Any]
    layer: int
    start: Fraction
    end: Fraction
    #: media seconds shown at ``start`` (played backwards: where the span played ends)
    source_start: Fraction
    #: media seconds per output second; 0 holds the frame at source_start, below 0 plays the
    #: media backwards
    speed: Fraction
    fade_in: Fraction = _ZERO
    fade_out: Fraction = _ZERO
    #: where its media end, on ``source_start``'s scale, when the export says (available_range)
    media_end: Fraction | None = None
    #: output time of its keyframes' time 0 (the export's first frame of the clip), and output
    #: seconds per keyframe second; None: its keys are timed from ``start``. A transition's
    #: handle or a nested composition's trim moves ``start`` off that frame, and the keys must
    #: stay on the media frames they were set on.
    keys_origin: Fraction | None = None
    keys_scale: Fraction = Fraction(1)
    #: output time of the export's last frame of the clip (with ``keys_origin``): a nested
    #: composition's trim cuts off the fades at its ends
    keys_end: Fraction | None = None

    @property
    def id(self) -> str:
        """The clip's id in the document."""
        return str(self.data["id"])

    def emit(self, audio: bool) -> dict[str, Any]:
        """The ProjectSchema clip."""
        out = dict(self.data, start_time=float(self.start), end_time=float(self.end))
        out["source_start"] = float(self.source_start)
        out["speed"] = float(self.speed) if self.speed else 1.0
        if self.speed < 0:
            # Backwards from source_start: the span [source_start - length, source_start) it
            # plays, reversed (an interval, as Final Cut's Reverse Clip: docs/timeline-format.md).
            out["source_start"] = float(self.source_start + (self.end - self.start) * self.speed)
            out["speed"] = float(-self.speed)
            out["reverse"] = True
        if self.speed == 0:
            out["source_end"] = float(self.source_start + HOLD)
            if audio:
                out["muted"] = True  # a held frame has no sound
        if self.keys_origin is not None:
            lead = self.keys_origin - self.start
            for name in KEYED_FIELDS:
                if isinstance(keys := out.get(name), list):
                    out[name] = [_moved(key, lead, self.keys_scale) for key in keys]
            _cut_fades(out, self.start - self.keys_origin, HEAD_FADES, self.keys_scale)
            if self.keys_end is not None:
                _cut_fades(out, self.keys_end - self.end, TAIL_FADES, self.keys_scale)
        if self.fade_in:
            out["fade_in"] = float(self.fade_in)
        if self.fade_out:
            out["fade_out"] = float(self.fade_out)
        return out


def _cut_fades(out: dict[str, Any], cut: Fraction, names: tuple[str, ...], scale: Fraction) -> None:
    """Shorten the fades at an end of a clip that a nested composition cut ``cut`` output
    seconds off (the part of each fade left, ending where the editor's does; one within the
    part cut off is left out, not played at the cut)."""
    if cut <= 0:
        return
    for name in names:
        fade = out.get(name)
        if not isinstance(fade, int | float) or isinstance(fade, bool) or not math.isfinite(fade):
            continue
        left = Fraction(fade) - cut / scale
        if left > 0:
            out[name] = float(left)
        else:
            del out[name]


def _moved(key: Any, lead: Fraction, scale: Fraction) -> Any:
    """A keyframe timed from ``lead`` seconds after the clip's start, ``scale`` times slower."""
    time = key.get("time") if isinstance(key, dict) else None
    if not isinstance(time, int | float) or isinstance(time, bool) or not math.isfinite(time):
        return key  # malformed: the loader names it
    return {**key, "time": float(lead + Fraction(time) * scale)}


@dataclass
class Joint:
    """A transition between two placed clips over the output window [start, end)."""

    a: Placed
    b: Placed
    kind: str
    start: Fraction
    end: Fraction

    def emit(self) -> dict[str, Any]:
        """The ProjectSchema transition (the clips overlap over exactly its window)."""
        return {
            "id": f"{self.a.id}->{self.b.id}",
            "from_clip_id": self.a.id,
            "to_clip_id": self.b.id,
            "transition_type": self.kind,
            "duration": float(self.end - self.start),
        }


@dataclass
class Layout:
    """Everything placed for one top-level track."""

    track_id: str
    audio: bool
    fps: Fraction  # the output's: how messages count frames
    placed: list[Placed] = field(default_factory=list)
    joints: list[Joint] = field(default_factory=list)
    #: the top-level track's own picture effects (each of its layers gets them)
    effects: list[dict[str, Any]] = field(default_factory=list)
    #: ids of placed clips too short to cover a frame, left out of the document
    dropped: set[str] = field(default_factory=set)

    @property
    def layers(self) -> int:
        """How many model tracks the top-level track needs."""
        return 1 + max((c.layer for c in self.placed), default=0)

"""OTIO tracks and nested stacks flattened into layers of placed clips.

A top-level OTIO track becomes one or more model tracks ("layers"): its own clips on the first,
the upper tracks of any nested stack (a compound clip) on the next ones, so the nested stack is
drawn in the same order OTIO composites it, between the tracks below and above. Each clip lands
where OTIO's time maps put it (:mod:`chunking.timeline.otio_time`), trimmed to the windows of
the compositions it sits in.

Transitions between the items are :mod:`chunking.timeline.otio_transitions`.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import opentimelineio as otio

from chunking.timeline.fields import Problems
from chunking.timeline.otio_channels import channel_of
from chunking.timeline.otio_layout import Layout, Placed
from chunking.timeline.otio_media import (
    MAX_GAIN,
    MAX_SPEED,
    MIN_SPEED,
    PICTURE_FIELDS,
    ItemEffects,
    item_effects,
    media_source,
)
from chunking.timeline.otio_read import TIME_ERRORS, reason, seconds
from chunking.timeline.otio_time import TimeMap
from chunking.timeline.otio_transitions import is_transition, join, offset
from chunking.timeline.studio_sources import IMAGE_EXT

_ZERO = Fraction(0)


@dataclass
class Placer:
    """Walks one top-level OTIO item and places its clips, collecting problems in ``p``."""

    p: Problems
    names: Counter[str]
    layout: Layout
    kind: str  # the OTIO track kind whose nested tracks are drawn ("Video" or "Audio")

    def item(
        self,
        item: Any,
        parent: TimeMap,
        span: tuple[Fraction, Fraction],
        layer: int,
        slot: str,
        *,
        head: Fraction = _ZERO,
        tail: Fraction = _ZERO,
        inherited: tuple[dict[str, Any], ...] = (),
        start: Fraction | None = None,
        top: bool = False,
    ) -> list[Placed]:
        """Place ``item`` over parent own time ``span`` (extended by transition handles
        ``head``/``tail``); the clips it put on ``layer``. ``start``: its own time at the span's
        start, when not the one its trimmed range says; ``top``: a top-level track."""
        label = _label(item, slot)
        if not item.enabled:
            return []
        if isinstance(item, otio.schema.Clip):
            return self._clip(item, parent, span, layer, slot, head, tail, inherited)
        fx = item_effects(item, label, self.p)
        if top:
            # A top-level track's own effects become the model track's, not each clip's.
            self.layout.effects, fx.effects = fx.effects, []
        if not isinstance(item, otio.core.Composition):
            if not isinstance(item, otio.schema.Gap):
                self.p.error(label, f"unsupported item type {item.schema_name()}")
            return []
        try:
            # A composition's own time starts at 0 unless trimmed (its available range is not
            # needed, and cannot be had when one of its items has no duration).
            sr = item.source_range
            own = (seconds(sr.start_time) if sr is not None else _ZERO) - leading_in(item)
        except TIME_ERRORS as exc:
            self.p.error(label, f"has no usable range ({reason(exc)})")
            return []
        own = own if start is None else start
        if fx.scalar < 0:
            # Its items' order would run backwards too (a transition from A to B would go from
            # B to A): only a clip plays backwards.
            self.p.error(label, "a nested track or stack played in reverse is not supported; "
                         "reverse the clips inside it instead")  # fmt: skip
            return []
        inner = parent.child(span[0] - head, span[1] + tail, own - head * fx.scalar, fx.scalar)
        if inner is None:
            return []
        effects = (*fx.effects, *inherited)
        before = len(self.layout.placed)
        if isinstance(item, otio.schema.Track):
            if item.kind != self.kind:
                return []  # a nested stack's other kind: the stack in that kind's track has it
            placed = self.track(item, inner, layer, slot, effects)
        else:
            placed = self._stack(item, inner, layer, slot, effects)
        for clip in self.layout.placed[before:]:  # a track's or nested sequence's levels
            if fx.gain != 1:
                volume = clip.data.get("volume", 1.0) * fx.gain
                if volume > MAX_GAIN:
                    self.p.warn(label, f"gains add up to {volume:g}x; {MAX_GAIN:g}x is used")
                clip.data["volume"] = min(volume, MAX_GAIN)
            if fx.opacity != 1:
                clip.data["opacity"] = clip.data.get("opacity", 1.0) * fx.opacity
        if "transform" in fx.fields and self.kind == "Video":
            self.p.warn(label, "the transform of a compound clip is not rendered")
        self._notes(label, fx)
        return placed

    def _notes(self, where: str, fx: ItemEffects) -> None:
        """Warn of what the item's effects leave out of the part this track shows."""
        for part, text in fx.notes:
            if (part == "picture") == (self.kind == "Video"):
                self.p.warn(where, text)

    def _stack(
        self, stack: Any, inner: TimeMap, layer: int, slot: str, effects: tuple[Any, ...]
    ) -> list[Placed]:
        base: list[Placed] | None = None
        for j, child in enumerate(stack):
            if isinstance(child, otio.schema.Transition):
                self.p.error(_label(child, f"{slot}/{j}"), "a transition directly in a stack")
                continue
            duration = self._duration(child, f"{slot}/{j}")
            placed = self.item(
                child, inner, (_ZERO, duration), layer, f"{slot}/{j}", inherited=effects
            )
            if base is None and width(child, self.kind):
                base = placed  # the bottom layer: what a transition next to the stack mixes
            layer += width(child, self.kind)
        return base or []

    def track(
        self, track: Any, inner: TimeMap, layer: int, slot: str, effects: tuple[Any, ...]
    ) -> list[Placed]:
        """Place a track's items one after another from own time 0; the clips on ``layer``."""
        children = list(track)
        spans: list[tuple[Fraction, Fraction]] = []
        pos = _ZERO
        for index, child in enumerate(children):
            duration = _ZERO
            if not isinstance(child, otio.schema.Transition):
                duration = self._duration(child, f"{slot}#{index}")
            spans.append((pos, pos + duration))
            pos += duration
        frozen = inner.speed == 0  # a held frame shows one moment: no transition handles
        placed: dict[int, list[Placed]] = {}
        for index, child in enumerate(children):
            if isinstance(child, otio.schema.Transition):
                continue
            head = tail = _ZERO
            if not frozen and index > 0 and is_transition(children[index - 1]):
                head = offset(children[index - 1].in_offset)
            if not frozen and index + 1 < len(children) and is_transition(children[index + 1]):
                tail = offset(children[index + 1].out_offset)
            placed[index] = self.item(
                child,
                inner,
                spans[index],
                layer,
                f"{slot}#{index}",
                head=head,
                tail=tail,
                inherited=effects,
            )
        if not frozen:
            for index, child in enumerate(children):
                if isinstance(child, otio.schema.Transition):
                    cut = spans[index][0]
                    join(self.p, self.layout, child, children, index, cut, placed, inner, layer)
        return [c for index in sorted(placed) for c in placed[index] if c.layer == layer]

    def check(self, composition: Any, slot: str) -> None:
        """Record which items of a composition whose own range cannot be had are at fault."""
        for index, child in enumerate(composition):
            if not isinstance(child, otio.schema.Transition):
                self._duration(child, f"{slot}#{index}")
            if isinstance(child, otio.core.Composition):
                self.check(child, f"{slot}#{index}")

    def _duration(self, item: Any, slot: str) -> Fraction:
        try:
            duration = seconds(item.trimmed_range().duration)
        except TIME_ERRORS as exc:
            self.p.error(_label(item, slot), f"has no usable duration ({reason(exc)})")
            return _ZERO
        if duration < 0:
            self.p.error(_label(item, slot), f"has a negative duration ({float(duration):g} s)")
            return _ZERO
        return duration

    def _clip(
        self,
        item: Any,
        parent: TimeMap,
        span: tuple[Fraction, Fraction],
        layer: int,
        slot: str,
        head: Fraction,
        tail: Fraction,
        inherited: tuple[dict[str, Any], ...],
    ) -> list[Placed]:
        name = str(item.name)
        # Clip names become ids where unique, so validation messages name the editor's clip.
        clip_id = name if name and self.names[name] == 1 else f"{slot} {name}".strip()
        where = f"clip {clip_id!r}"
        fx = item_effects(item, where, self.p)
        fields = media_source(item.media_reference, where, self.p)
        if fields is None:
            return []
        media_end = None
        try:
            media = seconds(item.trimmed_range().start_time)
            available = item.media_reference.available_range
            if available is not None and not isinstance(
                item.media_reference, otio.schema.GeneratorReference
            ):
                # Media timecode (e.g. 01:00:00:00) is not seconds into the file.
                media -= seconds(available.start_time)
                media_end = seconds(available.duration) or None
        except TIME_ERRORS as exc:
            self.p.error(where, f"bad source range ({reason(exc)})")
            return []
        if isinstance(item.media_reference, otio.schema.GeneratorReference) or _still(fields):
            # A generated picture or a still looks the same at every time: a transition's head
            # starts it at 0 too, not before a "media" it does not have (a held first frame,
            # warned of), and a transition past its one frame (Resolve gives a still's
            # available_range as one frame) holds nothing that moves.
            media = head * fx.scalar
            media_end = None
        scalar = fx.scalar
        inner = parent.child(span[0] - head, span[1] + tail, media - head * scalar, scalar)
        if inner is None:
            return []
        if inner.speed and not MIN_SPEED <= abs(inner.speed) <= MAX_SPEED:
            # As the editor's own speeds are (studio_editor_speed): a time-lapse or a slow
            # motion past the range plays at its end, named, rather than refusing the cut.
            played = min(max(abs(inner.speed), MIN_SPEED), MAX_SPEED)
            self.p.warn(
                where,
                f"plays at {float(abs(inner.speed)):g} times its media's speed (LinearTimeWarp); "
                f"{float(MIN_SPEED):g} to {float(MAX_SPEED):g} is supported: played at "
                f"{float(played):g} from its in point (render the retime in the editor to keep "
                "it)",
            )
            scalar *= played / abs(inner.speed)
            inner = parent.child(span[0] - head, span[1] + tail, media - head * scalar, scalar)
            if inner is None:
                return []
        data = {"id": clip_id, "name": name, **fields, "effects": [*fx.effects, *inherited]}
        if fx.gain != 1:
            data["volume"] = fx.gain
        if fx.opacity != 1:
            data["opacity"] = fx.opacity
        self._notes(where, fx)
        for key, value in fx.fields.items():
            # A transform or picture fade is the picture's, a fade the sound's: each where the
            # clip shows it.
            if (key in PICTURE_FIELDS) == (self.kind == "Video"):
                data[key] = value
        if self.kind == "Video":
            data["muted"] = True  # OTIO keeps sound on audio tracks; this is the picture only
        elif (channel := channel_of(item)) is not None:
            data["audio_channel"] = channel  # one channel item of a dual-mono export
        placed = Placed(data, layer, inner.lo, inner.hi, inner.own0, inner.speed)
        placed.media_end = media_end
        if parent.speed > 0:  # held or reversed nesting: the keys stay timed from its start
            placed.keys_origin, placed.keys_scale = parent.out(span[0]), 1 / parent.speed
            placed.keys_end = parent.out(span[1])
        self.layout.placed.append(placed)
        return [placed]


def _still(fields: dict[str, Any]) -> bool:
    """Whether a clip's fields show one still image file (not an image sequence)."""
    source = fields.get("source")
    path = source.get("File") if isinstance(source, dict) else None
    if not isinstance(path, str) or "image_sequence" in fields:
        return False
    return os.path.splitext(path)[1].lower() in IMAGE_EXT


def width(item: Any, kind: str) -> int:
    """How many layers an item needs: 1 for a clip or gap, more for a nested stack."""
    if isinstance(item, otio.schema.Track):
        if item.kind != kind:
            return 0
        return max([1, *(width(child, kind) for child in item)])
    if isinstance(item, otio.schema.Stack):
        return sum(width(child, kind) for child in item)
    return 1


def leading_in(item: Any) -> Fraction:
    """A track's leading transition's in_offset: OTIO's available_range counts it, so the track's
    own time (where its first item starts at 0) begins that much earlier."""
    if isinstance(item, otio.schema.Track) and len(item) and is_transition(item[0]):
        return offset(item[0].in_offset)
    return _ZERO


def _label(item: Any, slot: str) -> str:
    """How messages name an item: its kind and name first, then where it sits (``track#index``,
    ``/index`` inside a stack)."""
    kind = item.schema_name().lower() if hasattr(item, "schema_name") else "item"
    name = str(item.name)
    return f"{kind} {name!r} at {slot}" if name else f"{kind} at {slot}"

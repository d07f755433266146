"""OTIO transitions as overlapping clips joined by model transitions.

Transitions follow OTIO's definition (``algorithms.track_with_expanded_transitions``): the
window is ``[cut - in_offset, cut + out_offset)``, the outgoing item plays on past its out point
by ``out_offset`` and the incoming one starts ``in_offset`` before its in point (the placer
extends both). A transition from or to a gap, or at a track's start or end, mixes with nothing:
on a video track a transparent placeholder (a fade from or to black, or to the tracks below),
on an audio track a fade from or to silence.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import opentimelineio as otio

from chunking.timeline.catalogue import TRANSITION_ALIASES
from chunking.timeline.fields import Problems, canonical
from chunking.timeline.otio_fcpxml_transitions import DIP_KIND, DIP_NOTE
from chunking.timeline.otio_layout import Joint, Layout, Placed
from chunking.timeline.otio_read import TIME_ERRORS, reason, seconds
from chunking.timeline.otio_time import TimeMap

_ZERO = Fraction(0)
_TRANSPARENT = {"type": "color", "color": [0, 0, 0, 0]}


def join(
    p: Problems,
    layout: Layout,
    tr: Any,
    children: list[Any],
    index: int,
    cut: Fraction,
    placed: dict[int, list[Placed]],
    inner: TimeMap,
    layer: int,
) -> None:
    """Join the items around ``children[index]`` (a transition at own time ``cut`` of a track
    mapped by ``inner``): a Joint over its window, or fades on an audio track."""
    label = f"track {layout.track_id!r} transition {str(tr.name or tr.transition_type)!r}"
    try:
        in_s, out_s = seconds(tr.in_offset), seconds(tr.out_offset)
    except TIME_ERRORS as exc:
        p.error(label, f"bad offsets ({reason(exc)})")
        return
    if in_s < 0 or out_s < 0:
        p.error(label, "in_offset and out_offset must not be negative")
        return
    if index + 1 < len(children) and is_transition(children[index + 1]):
        p.error(label, "two transitions in a row")
        return
    window = inner.span(cut - in_s, cut + out_s)
    if window is None or window[0] == window[1]:
        return  # a zero-length transition is a cut; one outside the window is not seen
    a = _side(p, placed.get(index - 1), children, index - 1, window, label, outgoing=True)
    b = _side(p, placed.get(index + 1), children, index + 1, window, label, outgoing=False)
    if a is False or b is False:
        # Rendered as a cut: the side that was lengthened for the transition goes back to it.
        at = min(max(inner.out(cut), window[0]), window[1])
        if isinstance(a, Placed):
            a.end = min(a.end, at)
        if isinstance(b, Placed) and b.start < at:
            b.source_start += (at - b.start) * b.speed
            b.start = at
        return
    if a is None and b is None:
        return
    length = window[1] - window[0]
    if layout.audio:
        # The mixer has no transitions: a crossfade is the two clips' fades over the window.
        if isinstance(a, Placed):
            a.fade_out = length
        if isinstance(b, Placed):
            b.fade_in = length
        if not (isinstance(a, Placed) and isinstance(b, Placed)):
            return
    if isinstance(a, Placed) and not layout.audio:  # a sound past its end is silent, not held
        _check_tail(p, a, window, layout.fps, label)
    model_kind = kind(tr)
    note = tr.metadata.get(DIP_NOTE)
    if isinstance(note, str):
        p.warn(label, note)
    elif DIP_KIND not in tr.metadata and any(
        d in canonical(str(tr.name or "")) for d in _DIP_NAMES
    ):
        p.warn(label, "its dip colour is not in the export as read: it dips through black")
    if a is None or b is None:
        other = b if a is None else a
        assert isinstance(other, Placed)
        fade = "fade in" if a is None else "fade out"
        data = {
            "id": f"{other.id} ({fade})",
            "name": "",
            "source": "Generated",
            "properties": {"custom_metadata": {"generator": dict(_TRANSPARENT)}},
            "effects": [],
        }
        nothing = Placed(data, layer, window[0], window[1], _ZERO, Fraction(1))
        layout.placed.append(nothing)
        a, b = (nothing, other) if a is None else (other, nothing)
    assert isinstance(a, Placed) and isinstance(b, Placed)
    layout.joints.append(Joint(a, b, model_kind, *window))


def _side(
    p: Problems,
    placed: list[Placed] | None,
    children: list[Any],
    index: int,
    window: tuple[Fraction, Fraction],
    label: str,
    *,
    outgoing: bool,
) -> Placed | None | bool:
    """The clip a transition mixes on one side: a Placed, None for nothing (a gap, a track
    edge, a disabled clip) or False when it cannot be rendered (already reported)."""
    if index < 0 or index >= len(children):
        return None
    item = children[index]
    if is_transition(item):
        return False  # two in a row: reported by the first
    if isinstance(item, otio.schema.Gap) or not item.enabled:
        return None
    if not placed:
        return False  # its own problem was recorded, or it is not visible here
    edge = max(placed, key=lambda c: c.end) if outgoing else min(placed, key=lambda c: c.start)
    slack = Fraction(1, 10**6)
    if edge.start <= window[0] + slack and edge.end >= window[1] - slack:
        return edge
    p.warn(
        label,
        f"joins the nested composition {str(item.name)!r}, which has no clip across the "
        "transition; rendered as a cut",
    )
    return False


def _check_tail(
    p: Problems, a: Placed, window: tuple[Fraction, Fraction], fps: Fraction, label: str
) -> None:
    """Warn where a transition plays the outgoing clip on past the end of its media, as the
    export gives its length (the compositor holds its last frame there), as ProjectSchema
    transitions warn (studio_transitions); the incoming clip's missing head is the clip's own
    warning (a negative source_start)."""
    if a.media_end is None or a.speed <= 0:
        return
    ends = a.start + (a.media_end - a.source_start) / a.speed  # output time its media end
    held = math.floor((a.end - max(ends, window[0])) * fps)
    if held > 0:
        p.warn(
            label,
            f"runs clip {a.id!r} {held} frames past the end of its media (the export gives the "
            f"media {float(a.media_end):g}s, the transition needs "
            f"{float(a.source_start + (a.end - a.start) * a.speed):g}s); the last frame is held",
        )


def offset(rt: Any) -> Fraction:
    """A transition offset in seconds (0 when unreadable: the transition reports it)."""
    try:
        return max(seconds(rt), _ZERO)
    except TIME_ERRORS:
        return _ZERO  # reported when the transition itself is read


#: Transition names that say nothing of the kind (canonical form).
_GENERIC_NAMES = frozenset({"", "transition"})
#: Names (canonical) of a dip through a colour, black unless set otherwise: Final Cut 7's and
#: Resolve's "Dip to Color Dissolve", Final Cut's "Fade To Color". They hold "dissolve" or
#: "fade" and were drawn as cross dissolves. The FCP 7 XML adapter keeps no parameter of a
#: transition, so its colour cannot be read: it dips through black, with a warning.
_DIP_NAMES = ("diptocolor", "diptocolour", "fadetocolor", "fadetocolour")
#: Final Cut 7's "Fade In Fade Out Dissolve": the outgoing clip fades to black, the next up.
_THROUGH_BLACK = ("fadeinfadeout",)


def is_transition(item: Any) -> bool:
    """Whether an OTIO item is a transition."""
    return isinstance(item, otio.schema.Transition)


def kind(tr: Any) -> str:
    """The model transition kind for an OTIO transition."""
    dip = tr.metadata.get(DIP_KIND)
    if dip in ("fade_black", "fade_white"):
        return str(dip)  # Final Cut's Fade To Color (otio_fcpxml_transitions)
    named = canonical(str(tr.name or ""))
    if any(d in named for d in (*_DIP_NAMES, *_THROUGH_BLACK)):
        return "fade_black"
    # Editors write "SMPTE_Wipe_Left", "Cross Dissolve", "Dip To Black": take the longest alias
    # inside the type (or, for a generic "Custom" type, the name) so the direction survives.
    # The FCP 7 XML adapter types every transition SMPTE_Dissolve and keeps what it is (Dip to
    # Black, Push, a wipe) only in its name, so a dissolve's name is read first.
    dissolve = tr.transition_type == otio.schema.TransitionTypes.SMPTE_Dissolve
    for text in (tr.name,) if dissolve else (tr.transition_type, tr.name):
        name = canonical(str(text or ""))
        matches = [alias for alias in TRANSITION_ALIASES if alias in name]
        if matches:
            return max(matches, key=len)
    if dissolve:
        # A named transition the renderer does not draw (Cross Zoom, Iris): load_project warns
        # and uses a dissolve, as it does for an unknown type. A name that only says it is a
        # transition (Kdenlive names each of its dissolves "Transition") is the dissolve its
        # type says, with no warning of an "unknown transition type 'transition'".
        named = canonical(str(tr.name or ""))
        return "dissolve" if named in _GENERIC_NAMES else named
    return canonical(str(tr.transition_type))  # load_project warns and uses a dissolve

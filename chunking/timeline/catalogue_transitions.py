"""Names of the transitions the compositor implements, with the editor's and other editors'
spellings, and the types that take a direction (chunking.timeline.catalogue re-exports them
beside the effects)."""

from __future__ import annotations

#: Canonical transition kinds the compositor implements.
TRANSITIONS = frozenset(
    {
        "dissolve",
        "fade_black",
        "fade_white",
        "wipe_left",
        "wipe_right",
        "wipe_up",
        "wipe_down",
        "slide_left",
        "slide_right",
        "slide_up",
        "slide_down",
    }
)

TRANSITION_ALIASES = {
    "dissolve": "dissolve",
    "crossfade": "dissolve",
    "crossdissolve": "dissolve",
    "fade": "dissolve",
    "mix": "dissolve",
    "fadeblack": "fade_black",
    "fadethroughblack": "fade_black",
    "fadetoblack": "fade_black",
    "diptoblack": "fade_black",
    "fadewhite": "fade_white",
    "fadethroughwhite": "fade_white",
    "fadetowhite": "fade_white",
    "diptowhite": "fade_white",
    "wipe": "wipe_right",
    "wipeleft": "wipe_left",
    "wiperight": "wipe_right",
    "wipeup": "wipe_up",
    "wipedown": "wipe_down",
    # The editor's catalogue types (src/features/transitions/data/transitions.json), at their
    # default directions there.
    "wipehorizontal": "wipe_right",
    "wipevertical": "wipe_down",
    "slide": "slide_left",
    "slideleft": "slide_left",
    "slideright": "slide_right",
    "slideup": "slide_up",
    "slidedown": "slide_down",
    "push": "slide_left",
    "pushleft": "slide_left",
    "pushright": "slide_right",
    "pushup": "slide_up",
    "pushdown": "slide_down",
}


#: Transition types that take a ``direction`` (after canonical()), and the family it completes:
#: ``push`` with ``right`` is ``slide_right``.
DIRECTED_TRANSITIONS = {
    "wipe": "wipe",
    "wipehorizontal": "wipe",
    "wipevertical": "wipe",
    "slide": "slide",
    "push": "slide",
}

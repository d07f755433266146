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
        # drawn as ffmpeg's xfade draws them (workers.transitions_xfade)
        "iris",
        "radial_wipe",
        "wipe_tl",
        "wipe_tr",
        "wipe_bl",
        "wipe_br",
        "pixelize",
        "hblur",
        # the editor's preview's CSS transforms (workers.transitions_motion)
        "zoom",
        "scale",
        "rotate",
        "spiral",
        "swirl",
        "squeeze",
        "wave",
        "diagonal",
        "flip",
        "slide_out_left",
        "slide_out_right",
        "slide_out_up",
        "slide_out_down",
        # the gl-transitions shader its export names (workers.transitions_gl)
        "burn",
        "kaleidoscope",
        "cube",
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
    # default directions there: wipe-horizontal's "right" is the side its export's xfade
    # ``wipeleft`` reveals the incoming clip from (studio_editor_entries).
    "wipehorizontal": "wipe_left",
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

#: The editor's other catalogue types, matched whole only: otio_transitions finds an alias of
#: TRANSITION_ALIASES anywhere inside an NLE's transition name, where these would turn Premiere's
#: "Cross Zoom" into a zoom out and its "Iris Round" (which opens) into a closing iris.
EDITOR_TRANSITION_ALIASES = {
    # The editor's export draws these with ffmpeg's xfade (iris: circleclose, radial-wipe:
    # radial, wipe-diagonal: wipetl at its default direction topleft, pixelize: pixelize, blinds:
    # hblur).
    "iris": "iris",
    "circleclose": "iris",
    "irisclose": "iris",
    "radialwipe": "radial_wipe",
    "radial": "radial_wipe",
    "clockwipe": "radial_wipe",
    "wipediagonal": "wipe_tl",
    "wipetl": "wipe_tl",
    "wipetr": "wipe_tr",
    "wipebl": "wipe_bl",
    "wipebr": "wipe_br",
    "wipediagonaltopleft": "wipe_tl",
    "wipediagonaltopright": "wipe_tr",
    "wipediagonalbottomleft": "wipe_bl",
    "wipediagonalbottomright": "wipe_br",
    "pixelize": "pixelize",
    "pixelise": "pixelize",
    "pixelate": "pixelize",
    # The export's blinds is xfade's hblur (a horizontal blur crossfade, no slats).
    "blinds": "hblur",
    "hblur": "hblur",
    # The editor's preview moves the outgoing clip with a CSS transform while it fades out.
    "zoom": "zoom",
    "scale": "scale",
    "rotate": "rotate",
    "spiral": "spiral",
    "swirl": "swirl",
    "squeeze": "squeeze",
    "wave": "wave",
    "diagonal": "diagonal",
    "flip": "flip",
    # The editor's slide (studio_editor_entries writes it as SlideOut): its preview moves the
    # outgoing clip out of the canvas, unfaded, as the incoming one fades in over it (its ffmpeg
    # template overlays the incoming clip at x 0 or W - w, both 0: a cut).
    "slideout": "slide_out_left",
    "slideoutleft": "slide_out_left",
    "slideoutright": "slide_out_right",
    "slideoutup": "slide_out_up",
    "slideoutdown": "slide_out_down",
    # Their preview draws nothing of its own; their export names gl-transitions' shaders.
    "burn": "burn",
    "kaleidoscope": "kaleidoscope",
    "cube3d": "cube",
    "cube": "cube",
}

_NO_XFADE = "its export asks ffmpeg's xfade for a transition xfade does not have"
#: The editor's catalogue types still drawn as a dissolve: why its export does not draw them,
#: and what its preview (transition-preview.tsx, which has a case for each) does to the outgoing
#: clip as it fades out, the part of it a dissolve leaves out (for the warning).
UNDRAWN_EDITOR_TRANSITIONS = {
    "pageturn": (
        "its export's page curl shader is not implemented here",
        "turns it over about its right edge (rotateY(-180deg))",
    ),
    "shatter": ("its export names a shader that does not exist", "scales it to 1.2 and blurs it"),
    "ripple": (_NO_XFADE, "scales it to 1.1 and blurs it"),
    "morph": (_NO_XFADE, "scales it to 0.8 and blurs it"),
    "glitch": (_NO_XFADE, "turns its hues and moves it 5px"),
    "tvstatic": (_NO_XFADE, "turns it grey and harsh (contrast(100) grayscale(1))"),
}
#: The editor's catalogue types drawn as their preview's motion less a CSS filter no transition
#: here draws: type -> (kind drawn, what the preview adds, for the warning). Zoom-blur's preview
#: is zoom's (scale(2) while it fades) with blur(20px) on the outgoing clip.
PARTLY_DRAWN_EDITOR_TRANSITIONS = {
    "zoomblur": ("zoom", "its 20px blur of the outgoing clip"),
}

#: Every type name a document may give (transition_type), whole, -> its canonical kind.
ALL_TRANSITION_ALIASES = {**TRANSITION_ALIASES, **EDITOR_TRANSITION_ALIASES}


#: Transition types that take a ``direction`` (after canonical()), and the family it completes:
#: ``push`` with ``right`` is ``slide_right``.
DIRECTED_TRANSITIONS = {
    "wipe": "wipe",
    "wipehorizontal": "wipe",
    "wipevertical": "wipe",
    "slide": "slide",
    "push": "slide",
    "wipediagonal": "wipediagonal",
    "slideout": "slideout",
}

#: The directions each family of DIRECTED_TRANSITIONS takes, as its warnings name them.
DIRECTIONS = {
    "wipe": "left, right, up or down",
    "slide": "left, right, up or down",
    "wipediagonal": "topleft, topright, bottomleft or bottomright",
    "slideout": "left, right, up or down",
}

"""Names of the effects and transitions the renderer implements, with the editor's aliases."""

from __future__ import annotations

#: Canonical effect kinds; workers.effects implements exactly these.
EFFECTS = frozenset(
    {
        "blur",
        "brightness",
        "contrast",
        "saturation",
        "huerotate",
        "grayscale",
        "sepia",
        "invert",
        "vignette",
        "sharpen",
        "filmgrain",
    }
)

#: Other spellings editors use, after canonical() normalisation.
EFFECT_ALIASES = {
    "gaussianblur": "blur",
    "boxblur": "blur",
    "greyscale": "grayscale",
    "desaturate": "grayscale",
    "blackandwhite": "grayscale",
    "hue": "huerotate",
    "huerotation": "huerotate",
    "hueshift": "huerotate",
    "negate": "invert",
    "negative": "invert",
    "grain": "filmgrain",
    "noise": "filmgrain",
    "unsharp": "sharpen",
    "unsharpmask": "sharpen",
}

#: Canonical transition kinds the compositor implements.
TRANSITIONS = frozenset(
    {
        "dissolve",
        "fade_black",
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
    "wipe": "wipe_right",
    "wipeleft": "wipe_left",
    "wiperight": "wipe_right",
    "wipeup": "wipe_up",
    "wipedown": "wipe_down",
    "slide": "slide_left",
    "slideleft": "slide_left",
    "slideright": "slide_right",
    "slideup": "slide_up",
    "slidedown": "slide_down",
    "push": "slide_left",
}


def effect_kind(name: str) -> str | None:
    """The canonical effect kind for an already canonical()-normalised name, or None."""
    if name in EFFECTS:
        return name
    return EFFECT_ALIASES.get(name)

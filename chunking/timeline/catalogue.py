"""Names of the effects and transitions the renderer implements, with the editor's aliases."""

from __future__ import annotations

from chunking.timeline.audio_catalogue import (
    AUDIO_EFFECT_ALIASES,
    AUDIO_EFFECT_PARAMS,
    AUDIO_EFFECTS,
)
from chunking.timeline.catalogue_params import Param

#: Canonical picture effect kinds; workers.effects implements exactly these.
VIDEO_EFFECTS = frozenset(
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


#: Largest blur radius (px): caps the cost, which grows with the radius; 250 is already a smear.
MAX_BLUR_RADIUS = 250.0

#: Each effect kind's numeric parameters, in one place for the loader's range check, the
#: worker's reading of them and the documentation's table.
VIDEO_EFFECT_PARAMS: dict[str, tuple[Param, ...]] = {
    "blur": (Param(("radius", "amount", "sigma"), 0.0, MAX_BLUR_RADIUS, 4.0),),
    "brightness": (Param(("amount", "value"), -1.0, 1.0, 0.1),),
    "contrast": (Param(("amount", "value"), 0.0, 4.0, 1.2),),
    "saturation": (Param(("amount", "value"), 0.0, 4.0, 1.5),),
    "huerotate": (Param(("degrees", "angle", "amount"), -3600.0, 3600.0, 90.0),),
    "grayscale": (Param(("amount",), 0.0, 1.0, 1.0),),
    "sepia": (Param(("amount",), 0.0, 1.0, 1.0),),
    "invert": (Param(("amount",), 0.0, 1.0, 1.0),),
    "vignette": (
        Param(("strength", "amount"), 0.0, 1.0, 0.5),
        Param(("radius",), 0.0, 10.0, 0.75),
    ),
    "sharpen": (
        Param(("amount",), -10.0, 10.0, 1.0),
        Param(("radius",), 0.0, MAX_BLUR_RADIUS, 1.0),
    ),
    "filmgrain": (Param(("amount",), 0.0, 1.0, 0.08), Param(("size",), 0.0, 16384.0, 1.0)),
}

#: Other spellings editors use, after canonical() normalisation.
VIDEO_EFFECT_ALIASES = {
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

#: Every effect kind, picture and sound (the audio ones are ``audio_catalogue``'s).
EFFECTS = VIDEO_EFFECTS | AUDIO_EFFECTS
EFFECT_PARAMS: dict[str, tuple[Param, ...]] = {**VIDEO_EFFECT_PARAMS, **AUDIO_EFFECT_PARAMS}
EFFECT_ALIASES: dict[str, str] = {**VIDEO_EFFECT_ALIASES, **AUDIO_EFFECT_ALIASES}

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


def is_audio_effect(kind: str) -> bool:
    """Whether a canonical effect kind acts on sound rather than on the picture."""
    return kind in AUDIO_EFFECTS

"""Names of the effects the renderer implements, with the editor's aliases (the transitions'
are catalogue_transitions', re-exported here).

Parameter names are the ones Timeline Studio writes: its effects' ``params`` (src/features/
effects/data/effects.json, passed through ``convertEffectParameters`` in timeline-to-project.ts,
which renames Brightness/Contrast/Saturation's ``intensity`` to ``value``) and its filters'
``parameters``, named after the filter (``{"saturation": 1.4}``, ``{"exposure": 0.5}``).
workers.effects documents what each parameter does.
"""

from __future__ import annotations

from collections.abc import Mapping

from chunking.timeline.audio_catalogue import (
    AUDIO_EFFECT_ALIASES,
    AUDIO_EFFECT_PARAMS,
    AUDIO_EFFECTS,
)
from chunking.timeline.catalogue_params import Param, TextParam, text_problem
from chunking.timeline.catalogue_stylised import (
    STYLISED_ALIASES,
    STYLISED_EFFECTS,
    STYLISED_PARAMS,
    STYLISED_TIME_VARYING,
    STYLISED_WHOLE_LAYER,
)
from chunking.timeline.catalogue_transitions import DIRECTED_TRANSITIONS as DIRECTED_TRANSITIONS
from chunking.timeline.catalogue_transitions import TRANSITION_ALIASES as TRANSITION_ALIASES
from chunking.timeline.catalogue_transitions import TRANSITIONS as TRANSITIONS

#: The editor's looks: fixed colour grades from its CSS preview filters (workers.effects_looks).
LOOKS = frozenset(
    {
        "vintage",
        "duotone",
        "noir",
        "cyberpunk",
        "dreamy",
        "infrared",
        "matrix",
        "arctic",
        "sunset",
        "lomo",
        "twilight",
        "neon",
    }
)

#: The editor's catalogue kinds that are neither a look nor a generic operation.
_EDITOR_KINDS = LOOKS | STYLISED_EFFECTS

#: Canonical picture effect kinds; workers.effects implements exactly these.
VIDEO_EFFECTS = _EDITOR_KINDS | frozenset(
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
        "glow",
        "lensflare",
        "chromaticaberration",
        "noisereduction",
        "chromakey",
        "exposure",
        "curves",
        "levels",
        "whitebalance",
        "shadowshighlights",
        "colorbalance",
        "colorcorrection",
    }
)

#: Kinds whose value at a pixel depends on other pixels or on the layer's size (neighbours,
#: distance from the centre, a position in the layer, the grain field's shape): the compositor
#: must give them the whole layer, not only its part on the canvas (also chunking.memory).
WHOLE_LAYER_EFFECTS = STYLISED_WHOLE_LAYER | frozenset(
    {
        "blur",
        "sharpen",
        "vignette",
        "filmgrain",
        "glow",
        "lensflare",
        "chromaticaberration",
        "noisereduction",
        "chromakey",
    }
)

#: Kinds whose output depends on the frame index, not only on the input pixels.
TIME_VARYING_EFFECTS = STYLISED_TIME_VARYING | frozenset({"filmgrain"})

#: Kinds that change the layer's alpha (keyed pixels become transparent).
ALPHA_EFFECTS = frozenset({"chromakey"})

#: Largest blur radius (px): caps the cost, which grows with the radius; 250 is already a smear.
MAX_BLUR_RADIUS = 250.0

_TONE = (-1.0, 1.0, 0.0)  # a tonal range control: -1..1, 0 = unchanged


def _balance(short: str, long: str) -> Param:
    return Param((short, long), -1.0, 1.0, 0.0)


#: Each effect kind's numeric parameters, in one place for the loader's range check, the
#: worker's reading of them and the documentation's table.
VIDEO_EFFECT_PARAMS: dict[str, tuple[Param, ...]] = {
    "blur": (Param(("radius", "amount", "sigma", "blur"), 0.0, MAX_BLUR_RADIUS, 4.0),),
    "brightness": (
        Param(("amount", "brightness"), -1.0, 1.0, 0.1),
        Param(("value", "intensity"), 0.0, 4.0, 1.0),
    ),
    "contrast": (Param(("amount", "value", "contrast", "intensity"), 0.0, 4.0, 1.2),),
    "saturation": (Param(("amount", "value", "saturation", "intensity"), 0.0, 4.0, 1.5),),
    "huerotate": (Param(("degrees", "angle", "amount", "hue"), -3600.0, 3600.0, 90.0),),
    "grayscale": (Param(("amount", "intensity", "grayscale"), 0.0, 1.0, 1.0),),
    "sepia": (Param(("amount", "intensity", "sepia"), 0.0, 1.0, 1.0),),
    "invert": (Param(("amount", "intensity", "invert"), 0.0, 1.0, 1.0),),
    "vignette": (
        Param(("strength", "amount", "intensity", "vignette"), 0.0, 1.0, 0.5),
        Param(("radius",), 0.0, 10.0, 0.75),
    ),
    "sharpen": (
        Param(("amount", "intensity", "sharpen"), -10.0, 10.0, 1.0),
        Param(("radius",), 0.0, MAX_BLUR_RADIUS, 1.0),
    ),
    "filmgrain": (
        Param(("amount", "grain", "strength"), 0.0, 1.0, 0.08),
        Param(("size",), 0.0, 16384.0, 1.0),
        Param(("intensity",), 0.0, 100.0, 0.0),
    ),
    "glow": (
        Param(("intensity", "amount", "glow", "strength"), 0.0, 1.0, 0.5),
        Param(("radius", "sigma"), 0.0, MAX_BLUR_RADIUS, 0.0),
    ),
    "lensflare": (
        Param(("intensity", "amount", "strength"), 0.0, 1.0, 0.5),
        Param(("x", "position_x", "center_x"), -1.0, 2.0, 0.25),
        Param(("y", "position_y", "center_y"), -1.0, 2.0, 0.25),
    ),
    "chromaticaberration": (Param(("intensity", "strength", "amount"), 0.0, 10.0, 0.5),),
    "noisereduction": (
        Param(("intensity", "strength", "amount", "s"), 0.0, 30.0, 3.0),
        Param(("radius",), 0.5, 50.0, 3.0),
    ),
    "chromakey": (
        Param(("similarity",), 0.0, 1.0, 0.3),
        Param(("blend",), 0.0, 1.0, 0.0),
    ),
    "exposure": (
        Param(("exposure", "amount", "value", "stops", "ev"), -10.0, 10.0, 0.0),
        Param(("black", "black_level"), -1.0, 1.0, 0.0),
    ),
    "curves": (Param(("gamma", "curves"), 0.1, 10.0, 1.0),),
    "levels": (
        Param(("in_black", "input_black", "black_in", "imin"), 0.0, 1.0, 0.0),
        Param(("in_white", "input_white", "white_in", "imax"), 0.0, 1.0, 1.0),
        Param(("gamma", "midtones"), 0.1, 10.0, 1.0),
        Param(("out_black", "output_black", "black_out", "omin"), 0.0, 1.0, 0.0),
        Param(("out_white", "output_white", "white_out", "omax"), 0.0, 1.0, 1.0),
        # The editor's Levels filter value: its exporter writes eq=contrast={value}.
        Param(("levels",), 0.0, 4.0, 1.0),
    ),
    "whitebalance": (
        Param(("temperature", "temp", "warmth"), -100.0, 100.0, 0.0),
        Param(("tint",), -100.0, 100.0, 0.0),
        Param(("kelvin",), 1000.0, 40000.0, 6500.0),
    ),
    "shadowshighlights": (
        Param(("shadows",), *_TONE),
        Param(("highlights",), *_TONE),
        Param(("whites",), *_TONE),
        Param(("blacks",), *_TONE),
    ),
    "colorbalance": (
        _balance("rs", "red_shadows"),
        _balance("gs", "green_shadows"),
        _balance("bs", "blue_shadows"),
        _balance("rm", "red_midtones"),
        _balance("gm", "green_midtones"),
        _balance("bm", "blue_midtones"),
        _balance("rh", "red_highlights"),
        _balance("gh", "green_highlights"),
        _balance("bh", "blue_highlights"),
        Param(("pl", "preserve_lightness"), 0.0, 1.0, 0.0),
        # The editor's ColorBalance filter value: its exporter writes eq=saturation={value}.
        Param(("colorbalance",), 0.0, 4.0, 1.0),
    ),
    "colorcorrection": (
        Param(("brightness",), -1.0, 1.0, 0.0),
        Param(("contrast",), 0.0, 4.0, 1.0),
        Param(("saturation",), 0.0, 4.0, 1.0),
        Param(("hue",), -3600.0, 3600.0, 0.0),
        Param(("gamma",), 0.1, 10.0, 1.0),
        Param(("highlights",), *_TONE),
        Param(("shadows",), *_TONE),
        Param(("whites",), *_TONE),
        Param(("blacks",), *_TONE),
        Param(("temperature",), -100.0, 100.0, 0.0),
        Param(("tint",), -100.0, 100.0, 0.0),
    ),
    # The catalogue's neon carries its ffmpeg command's strength; its preview, the look drawn
    # here, does not read it (nor does the drawing): accepted, not named as a stray key.
    "neon": (Param(("intensity",), 0.0, 100.0, 0.5),),
    **STYLISED_PARAMS,
}

#: ffmpeg's curves presets (vf_curves.c), the names the editor's ffmpeg commands use.
CURVE_PRESETS = (
    "none",
    "color_negative",
    "cross_process",
    "darker",
    "increase_contrast",
    "lighter",
    "linear_contrast",
    "medium_contrast",
    "negative",
    "strong_contrast",
    "vintage",
)

_DARK = TextParam(("dark_color", "color1", "shadow_color", "dark"), "color")
_LIGHT = TextParam(("light_color", "color2", "highlight_color", "light"), "color")

#: Each effect kind's text parameters (a colour, curve points, a named choice).
VIDEO_EFFECT_TEXT_PARAMS: dict[str, tuple[TextParam, ...]] = {
    "chromakey": (TextParam(("color", "key_color", "colour"), "color"),),
    "duotone": (_DARK, _LIGHT),
    "curves": (
        TextParam(("preset",), "choice", CURVE_PRESETS),
        TextParam(("interp", "interpolation"), "choice", ("natural", "pchip")),
        TextParam(("all",), "points"),
        TextParam(("master", "m"), "points"),
        TextParam(("red", "r"), "points"),
        TextParam(("green", "g"), "points"),
        TextParam(("blue", "b"), "points"),
    ),
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
    "bloom": "glow",
    "flare": "lensflare",
    "chromaber": "chromaticaberration",
    "chromashift": "chromaticaberration",
    "rgbsplit": "chromaticaberration",
    "noisereduce": "noisereduction",
    "nlmeans": "noisereduction",
    "greenscreen": "chromakey",
    "colorkey": "chromakey",
    "colourkey": "chromakey",
    "curve": "curves",
    "colorlevels": "levels",
    # The editor's TS filter types Temperature and Tint and its "temperature"/"tint" effects.
    "temperature": "whitebalance",
    "tint": "whitebalance",
    "colortemperature": "whitebalance",
    "colourtemperature": "whitebalance",
    # The editor's TS filter types Shadows, Highlights, Blacks and Whites.
    "shadows": "shadowshighlights",
    "highlights": "shadowshighlights",
    "blacks": "shadowshighlights",
    "whites": "shadowshighlights",
    "shadowhighlight": "shadowshighlights",
    "colourbalance": "colorbalance",
    "colourcorrection": "colorcorrection",
    "colorgrade": "colorcorrection",
    "gamma": "colorcorrection",  # the editor's TS filter type Gamma, {"gamma": g}
    **STYLISED_ALIASES,
}

#: Effect types the editor offers that are not a per-frame picture operation, and why; the
#: loader names the reason when it drops one (and --strict refuses it).
NOT_PICTURE_EFFECTS: dict[str, str] = {
    "speed": "changes the clip's timing, not a per-frame picture effect; set the clip's speed "
    "instead",
    "reverse": "is timing (backwards playback), not a per-frame picture effect, and is not "
    "supported",
    "stabilization": "needs motion analysis across frames, not a per-frame picture effect; "
    "stabilise the footage before rendering",
    "custom": "is a raw ffmpeg filter command (ffmpeg_command), not a per-frame picture effect "
    "this renderer can run",
}
_NOT_PICTURE_ALIASES = {
    "stabilisation": "stabilization",
    "stabilize": "stabilization",
    "deshake": "stabilization",
}

#: Every effect kind, picture and sound (the audio ones are ``audio_catalogue``'s).
EFFECTS = VIDEO_EFFECTS | AUDIO_EFFECTS
EFFECT_PARAMS: dict[str, tuple[Param, ...]] = {**VIDEO_EFFECT_PARAMS, **AUDIO_EFFECT_PARAMS}
EFFECT_ALIASES: dict[str, str] = {**VIDEO_EFFECT_ALIASES, **AUDIO_EFFECT_ALIASES}


def effect_kind(name: str) -> str | None:
    """The canonical effect kind for an already canonical()-normalised name, or None."""
    if name in EFFECTS:
        return name
    return EFFECT_ALIASES.get(name)


def is_audio_effect(kind: str) -> bool:
    """Whether a canonical effect kind acts on sound rather than on the picture."""
    return kind in AUDIO_EFFECTS


def not_picture_effect(name: str) -> str | None:
    """For a canonical()-normalised effect type that is not a per-frame picture operation, why
    it is not rendered (a clause: "changes the clip's timing, ..."); None for any other name."""
    return NOT_PICTURE_EFFECTS.get(_NOT_PICTURE_ALIASES.get(name, name))


def known_params(kind: str) -> frozenset[str]:
    """Every parameter name (numeric and text) the worker reads for a canonical effect kind."""
    specs: tuple[Param | TextParam, ...] = (
        *EFFECT_PARAMS.get(kind, ()),
        *VIDEO_EFFECT_TEXT_PARAMS.get(kind, ()),
    )
    return frozenset(name for spec in specs for name in spec.names)


def text_param_problems(kind: str, params: Mapping[str, object]) -> list[tuple[str, str]]:
    """(name, why) for each text parameter of the effect whose value the worker cannot read."""
    found = []
    for spec in VIDEO_EFFECT_TEXT_PARAMS.get(kind, ()):
        for name in spec.names:
            if name in params:
                problem = text_problem(spec, params[name])
                if problem:
                    found.append((name, problem))
    return found

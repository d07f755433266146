"""The editor's stylising effects of its current catalogue (motion blur, glitch, pixelate, edge
enhance, emboss, solarize, zoom blur, hologram): their kinds and parameters.

Names, defaults and ranges are the editor's: src/features/effects/data/effects.json ``params``
(the defaults) and effect-parameter-controls.tsx PARAMETER_CONFIG (the effect panel's slider
ranges: intensity 0..100, radius 0..50, angle 0..360, threshold 0..100). ``pixelSize`` has no
slider; its range is what the ffmpeg command can scale by. workers.effects_stylised says what
each draws and why.
"""

from __future__ import annotations

from chunking.timeline.catalogue_params import Param

_INTENSITY = ("intensity", "amount", "strength")

#: Canonical kinds (canonical() drops the editor's dashes: ``zoom-blur`` is ``zoomblur``).
STYLISED_EFFECTS = frozenset(
    {
        "motionblur",
        "glitch",
        "pixelate",
        "edgeenhance",
        "emboss",
        "solarize",
        "zoomblur",
        "hologram",
    }
)

#: Each kind's numeric parameters (the first is the one the editor's preview reads).
STYLISED_PARAMS: dict[str, tuple[Param, ...]] = {
    "motionblur": (Param(("radius",), 0.0, 50.0, 2.0), Param(("angle",), 0.0, 360.0, 180.0)),
    "glitch": (Param(_INTENSITY, 0.0, 100.0, 50.0),),
    "pixelate": (Param(("pixelSize", "pixel_size", "size", "block_size"), 1.0, 512.0, 4.0),),
    "edgeenhance": (Param(_INTENSITY, 0.0, 100.0, 0.5),),
    "emboss": (Param(_INTENSITY, 0.0, 100.0, 0.8),),
    "solarize": (Param(("threshold", "amount"), 0.0, 100.0, 0.5),),
    "zoomblur": (Param(_INTENSITY, 0.0, 100.0, 2.0),),
    "hologram": (Param((*_INTENSITY, "opacity"), 0.0, 100.0, 0.5),),
}

#: Kinds that read neighbouring pixels or a pixel's place in the layer (blocks, edges, blurs).
STYLISED_WHOLE_LAYER = frozenset(
    {"motionblur", "glitch", "pixelate", "edgeenhance", "emboss", "zoomblur"}
)

#: Kinds whose picture depends on the frame (glitch's noise is new every frame).
STYLISED_TIME_VARYING = frozenset({"glitch"})

#: Other spellings, after canonical().
STYLISED_ALIASES = {
    "mosaic": "pixelate",
    "pixelize": "pixelate",
    "pixelise": "pixelate",
    "edgedetect": "edgeenhance",
    "edges": "edgeenhance",
    "solarise": "solarize",
    "radialblur": "zoomblur",
    "mblur": "motionblur",
}

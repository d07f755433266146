"""Effect and filter parameter values as the editor writes them, decoded for Effect.params.

The editor's serde ``EffectParameter`` is externally tagged (``{"Float": 0.3}``), its TypeScript
twin adjacently tagged (``{"type": "Float", "value": 0.3}``); older documents hold plain values or
``{"value": x}``. ``Effect.params`` holds numbers, strings and booleans, so two variants are
encoded: ``Color`` (a u32 in RGBA order, which the editor's ffmpeg template writes as
``#{c:08x}``, ffmpeg_builder/effects.rs) becomes ``"#rrggbbaa"``, and ``FloatArray`` becomes the
comma-joined numbers the same template writes (``"0.1,0.5,1"``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from chunking.timeline.model import ParamValue

TAGS = frozenset({"Float", "Int", "String", "Bool", "Color", "FloatArray", "FilePath"})


class Unreadable(ValueError):
    """A parameter value that is none of the editor's parameter variants."""


def decode(value: Any) -> ParamValue:
    """One parameter value as a number, string or boolean; raise Unreadable if it is none."""
    if isinstance(value, Mapping):
        if len(value) == 1 and next(iter(value)) in TAGS:
            ((tag, payload),) = value.items()
            return _tagged(str(tag), payload)
        tag = value.get("type")
        if isinstance(tag, str) and tag in TAGS and "value" in value:
            return _tagged(str(value["type"]), value["value"])
        if "value" in value:
            return decode(value["value"])
        raise Unreadable(value)
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float) and _finite(value):
        return float(value)
    raise Unreadable(value)


def non_finite(payload: Any) -> float | None:
    """The NaN or infinite number in a payload Unreadable refused, or None if it holds none."""
    items = payload if isinstance(payload, list) else [payload]
    return next((v for v in items if isinstance(v, float) and not math.isfinite(v)), None)


def _tagged(tag: str, payload: Any) -> ParamValue:
    if (
        tag in ("Float", "Int")
        and isinstance(payload, int | float)
        and not isinstance(payload, bool)
    ):
        if _finite(payload):
            return float(payload)
    elif tag == "Bool" and isinstance(payload, bool):
        return payload
    elif tag in ("String", "FilePath") and isinstance(payload, str):
        return payload
    elif tag == "Color":
        if isinstance(payload, int) and not isinstance(payload, bool) and 0 <= payload < 2**32:
            return f"#{payload:08x}"
        if isinstance(payload, str):
            return payload
    elif tag == "FloatArray" and isinstance(payload, list):
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in payload):
            if all(_finite(v) for v in payload):
                return ",".join(f"{float(v):g}" for v in payload)
    raise Unreadable(payload)


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


#: How the editor's renderer turns a Filter's ``intensity`` i into amounts when the filter has no
#: parameters of its own (``build_filter`` in src-tauri/src/video_compiler/ffmpeg_builder/
#: effects.rs): the effect kind, its parameters, and the range of i itself (a signed range where
#: the sign means something: a darker Brightness, less contrast, the hue turned the other way).
#: Every i in the range maps inside the parameter's own range, so a refusal is always about
#: ``intensity``, the field the user wrote. Where the ffmpeg filter it generates has another
#: scale than the worker's parameter, the comment gives that filter and the conversion.
INTENSITY_AMOUNTS: dict[
    str, tuple[str, dict[str, Callable[[float], float]], tuple[float, float]]
] = {
    "brightness": ("brightness", {"amount": lambda i: i}, (-1.0, 1.0)),  # eq=brightness=i
    "contrast": ("contrast", {"amount": lambda i: 1 + i}, (-1.0, 1.0)),  # eq=contrast=1+i
    "saturation": ("saturation", {"amount": lambda i: 1 + i}, (-1.0, 1.0)),  # eq=saturation=1+i
    "hue": ("huerotate", {"degrees": lambda i: i * 180}, (-1.0, 1.0)),  # hue=h=180i (degrees)
    # boxblur=10i:10i; a box of radius r blurs like a Gaussian of sigma r / sqrt(3).
    "blur": ("blur", {"radius": lambda i: max(i * 10, 0.1) / math.sqrt(3)}, (0.0, 1.0)),
    "sharpen": ("sharpen", {"amount": lambda i: i * 2}, (0.0, 1.0)),  # unsharp=5:5:2i
    # vignette=angle=1.5i, whose darkest setting is angle pi/2: strength 1.
    "vignette": (
        "vignette",
        {"strength": lambda i: min(1.0, i * 1.5 / (math.pi / 2))},
        (0.0, 1.0),
    ),
    # noise=alls=50i (the worker's FilmGrain intensity is that strength), no contrast boost.
    "grain": ("filmgrain", {"intensity": lambda i: i * 50, "amount": lambda i: 0.0}, (0.0, 1.0)),
    "glow": ("glow", {"sigma": lambda i: i * 5}, (0.0, 1.0)),  # gblur=sigma=5i
    "exposure": ("brightness", {"amount": lambda i: i}, (-1.0, 1.0)),  # eq=brightness=i
    # eq=gamma=i, whose lowest gamma is 0.1 (below it ffmpeg refuses the value).
    "curves": ("curves", {"gamma": lambda i: max(i, 0.1)}, (0.0, 10.0)),
    "levels": ("contrast", {"amount": lambda i: i}, (0.0, 4.0)),  # eq=contrast=i
    "colorbalance": ("saturation", {"amount": lambda i: i}, (0.0, 4.0)),  # eq=saturation=i
    # colortemperature=1000i, whose lowest temperature is 1000 K (below it ffmpeg refuses).
    "whitebalance": ("whitebalance", {"kelvin": lambda i: max(i * 1000, 1000.0)}, (0.0, 40.0)),
}


#: The editor's filter parameters that name no effect of their own, as generateFFmpegFilter
#: (src/features/filters/utils/ffmpeg-filter-generator.ts) renders them: each value v becomes
#: effects (kind, parameters) in order. vibrance: eq=saturation=1+0.5v; clarity: above 0
#: unsharp=5:5:5v (the worker's sharpen amount), below 0 boxblur=2|v| (a box of radius r blurs
#: like a Gaussian of sigma r / sqrt(3)); dehaze: eq=contrast=1+0.3v:brightness=0.1v (eq applies
#: the contrast, then the brightness).
DERIVED_PARAMS: dict[str, Callable[[float], list[tuple[str, dict[str, float]]]]] = {
    "vibrance": lambda v: [("saturation", {"amount": 1 + 0.5 * v})],
    "clarity": lambda v: (
        [("sharpen", {"amount": 5 * v})]
        if v >= 0
        else [("blur", {"radius": max(2 * -v, 0.1) / math.sqrt(3)})]
    ),
    "dehaze": lambda v: [
        ("contrast", {"amount": 1 + 0.3 * v}),
        ("brightness", {"amount": 0.1 * v}),
    ],
}

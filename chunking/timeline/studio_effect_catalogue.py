"""Which of the editor's catalogue effects a ProjectSchema effect is, when the editor's current
converter typed it by its catalogue *category*.

The current ``timelineToProjectSchema`` (chatman-media/timeline-studio
``src/features/timeline/utils/timeline-to-project.ts``, ``convertAppliedEffects``) writes each
effect's ``effect_type`` from its category (``toRustEnumCase(effect.category)``: sepia is
``Vintage``, blur ``Artistic``, brightness ``ColorCorrection``), or ``Custom`` for an applied
effect whose definition it lacks, and moves a catalogue ``intensity`` to ``value``. The effect
itself survives in the entry's ``id`` (a catalogue effect's id is its type) and in its
``ffmpeg_command`` (the catalogue's template, or the converter's own command for an applied
effect without a definition), which the editor's renderer runs. Read as its category, sepia
rendered as the vintage look, blur and brightness not at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from chunking.timeline.catalogue import effect_kind, known_params

#: The catalogue's categories (src/features/effects/data/effects.json) and Custom, canonical.
CATEGORY_TYPES = frozenset(
    "colorcorrection vintage artistic creative cinematic technical distortion motion custom".split()
)

#: The catalogue's ffmpegCommand templates of the effects rendered here
#: (src/features/effects/data/effects.json; MIT with Commons Clause, Copyright (c) 2023-2025
#: Alexander Kireyev (Chatman Media)); ``{...}`` is a value filled in.
_TEMPLATES = {
    "brightness": "eq=brightness={intensity}",
    "contrast": "eq=contrast={intensity}",
    "saturation": "eq=saturation={intensity}",
    "sepia": "colorize=color=brown:blend={intensity}",
    "grayscale": "colorchannelmixer=.3:.4:.3:0:.3:.4:.3:0:.3:.4:.3",
    "vintage": "curves=r='0/0 0.25/0.15 0.5/0.5 0.75/0.85 1/1':g='0/0 0.25/0.2 0.5/0.5 "
    "0.75/0.8 1/1':b='0/0 0.25/0.25 0.5/0.5 0.75/0.75 1/1'",
    "neon": "colorbalance=rs={intensity}:gs={intensity}:bs={intensity * 1.6},"
    "curves=increase_contrast",
    "vignette": "vignette=angle=PI/4:mode=backward:eval=frame:dither=1:aspect=16/9:x0=w/2:"
    "y0=h/2:r0={radius}*min(w\\,h)/2:r1={radius + intensity}*min(w\\,h)/2",
    "sunset": "colorbalance=rs=0.3:gs=0.2:bs=-0.1,eq=brightness=1.1:contrast=1.2:saturation=1.5",
    "lomo": "curves=strong_contrast,colorbalance=rs=0.1:gs=0.1:bs=-0.1",
    "twilight": "colorbalance=rs=-0.1:gs=-0.1:bs=0.2,eq=brightness=0.9:contrast=1.1:saturation=0.8",
    "sharpen": "unsharp=5:5:{intensity}:5:5:0.0",
    "chromatic-aberration": "split[main][chroma];[chroma]hue=h={intensity * 10}"
    "[chroma_shifted];[main][chroma_shifted]blend=all_mode=screen:all_opacity=0.3",
    "lens-flare": "lenscorrection=k1=0.1:k2=0.1,eq=brightness={1 + (intensity || 0.5) * 0.4}:"
    "saturation=1.4",
    "glow": "gblur=sigma={intensity * 2},blend=all_mode=screen:all_opacity={intensity}",
    "film-grain": "noise=alls={intensity}:allf=t+u,eq=contrast={1 + amount}",
    "invert": "negate",
    "hue-rotate": "hue=h={angle}",
    "blur": "gblur=sigma={radius}",
    "duotone": "colorchannelmixer=.3:.4:.3:0:.3:.4:.3:0:.3:.4:.3,eq=brightness=1.2:"
    "contrast=1.5,colorize=color=sepia:blend=0.5",
    "noir": "colorchannelmixer=.3:.4:.3:0:.3:.4:.3:0:.3:.4:.3,eq=contrast=1.5:brightness=0.8",
    "cyberpunk": "hue=h=180,eq=saturation=2:contrast=1.3:brightness=1.2",
    "dreamy": "eq=brightness=1.1:contrast=0.9:saturation=0.8,hue=h=30",
    "infrared": "hue=h=-30,eq=saturation=2:contrast=1.5:brightness=1.2",
    "matrix": "eq=brightness=1.2:saturation=1.5,hue=h=100",
    "arctic": "eq=brightness=1.2:saturation=0.8:contrast=1.1,hue=h=180",
    "noise-reduction": "nlmeans=s={intensity}:p=7:pc=0:r=15:rc=0",
    "temperature": "colorchannelmixer=rr=1:rb={temperature * 0.1}:bg=1:bb={1 - temperature * 0.1}",
    "tint": "colorbalance=rm={tint * 0.01}:gm={-tint * 0.01}:bm=0",
    "exposure": "eq=brightness={exposure * 0.2}:gamma={1 + exposure * 0.1}",
    "motion-blur": "mblur=radius={radius}:shutter_angle={angle * 10}",
    "glitch": "noise=alls={intensity * 0.1}:allf=t,hue=h={intensity * 5}",
    "pixelate": "scale=iw/{pixelSize}:ih/{pixelSize}:flags=neighbor,"
    "scale=iw*{pixelSize}:ih*{pixelSize}:flags=neighbor",
    "edge-enhance": "edgedetect=mode=wires:high={intensity}:low={intensity * 0.5}",
    "emboss": "convolution='0 -1 0:-1 5 -1:0 -1 0:0 -1 0:-1 5 -1:0 -1 0'",
    "solarize": "curves=all='{threshold}/255|{1-threshold}/255 1|1-{threshold}/255'",
    "zoom-blur": "zoompan=z='zoom+{intensity*0.01}':d=1:x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'",
    "hologram": "split[main][hologram];[hologram]hue=h=180,colorbalance=rs=0.2:bs=0.3[holo];"
    "[main][holo]blend=all_mode=screen:all_opacity={intensity}",
}

#: generateFFmpegFromParams: the converter's command for an applied effect whose definition it
#: lacks, by the effect id it was applied as (those rendered here).
_GENERATED = {
    "brightness": r"eq=brightness=[^:,]*",
    "contrast": r"eq=contrast=[^:,]*",
    "saturation": r"eq=saturation=[^:,]*",
    "blur": r"gblur=sigma=[^:,]*",
    "sharpen": r"unsharp=5:5:[^:,]*:5:5:0",
    "vignette": r"vignette=PI/[^:,]*",
    "sepia": re.escape("colorchannelmixer=.393:.769:.189:0:.349:.686:.168:0:.272:.534:.131"),
    "grayscale": re.escape("hue=s=0"),
}


#: What a ``{...}`` of a template became in a command: a number, or the placeholder itself
#: (the editor's loader fills only a bare ``{name}``; an expression stays as written). Not any
#: text: "hue=h={angle}" would then take cyberpunk's "hue=h=180,eq=..." for a hue rotation.
_FILLED = r"(?:\{[^{}]*\}|[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?)"


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{[^{}]*\}", template)
    return re.compile(_FILLED.join(re.escape(part) for part in parts), re.IGNORECASE)


_SIGNATURES = [(_pattern(t), kind) for kind, t in _TEMPLATES.items()] + [
    (re.compile(rx), kind) for kind, rx in _GENERATED.items()
]


def catalogue_type(spec: Mapping[str, Any], own: str, params: Mapping[str, Any]) -> str | None:
    """The catalogue effect (its type, "sepia", "hue-rotate") an effect typed by its category or
    as Custom (``own``, canonical) is: by its id, else by its ffmpeg_command; None when it is
    not such an entry, neither says, or its type is a kind that reads its parameters (a
    ColorCorrection of brightness and contrast is one)."""
    if own not in CATEGORY_TYPES:
        return None
    kind = effect_kind(own)
    if kind is not None and any(name in known_params(kind) for name in params):
        return None
    ident = spec.get("id")
    if isinstance(ident, str) and ident in _TEMPLATES:
        return ident
    command = spec.get("ffmpeg_command")
    if isinstance(command, str):
        for pattern, found in _SIGNATURES:
            if pattern.fullmatch(command.strip()):
                return found
    return None


def catalogue_params(ctype: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters as the catalogue names them: the converter moved ``intensity`` to
    ``value``, which only brightness, contrast and saturation read (as the older converter
    wrote them)."""
    values = dict(params)
    if ctype not in ("brightness", "contrast", "saturation") and "intensity" not in values:
        if "value" in values:
            values["intensity"] = values.pop("value")
    return values

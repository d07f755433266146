"""Effect parameters as the editor writes them: every type and parameter name it uses reaches
an implementation, text parameters are read or refused clearly, and the types that are not
picture operations say why."""

from __future__ import annotations

import pytest

from chunking.timeline.audio_catalogue import AUDIO_EFFECT_ALIASES, AUDIO_EFFECTS
from chunking.timeline.catalogue import (
    VIDEO_EFFECT_ALIASES,
    VIDEO_EFFECT_PARAMS,
    VIDEO_EFFECTS,
    effect_kind,
    known_params,
    not_picture_effect,
    text_param_problems,
)
from chunking.timeline.catalogue_params import parse_color, parse_points
from chunking.timeline.colours import parse_colour
from chunking.timeline.fields import canonical
from chunking.timeline.model import Effect
from workers.effects_params import setting

#: The per-frame picture types of the editor's serde EffectType (schema/effects.rs).
EDITOR_EFFECT_TYPES = [
    "Blur", "Brightness", "Contrast", "Grayscale", "Sepia", "Saturation", "HueRotate",
    "Vintage", "Duotone", "Noir", "Cyberpunk", "Dreamy", "Infrared", "Matrix", "Arctic",
    "Sunset", "Lomo", "Twilight", "Neon", "Invert", "Vignette", "FilmGrain",
    "ChromaticAberration", "LensFlare", "Glow", "Sharpen", "NoiseReduction",
    "ColorCorrection", "ChromaKey",
]  # fmt: skip

#: (filter type, the parameter named after it): serde FilterType and the TS FilterType
#: (src/types/video-compiler.ts), whose converter names a filter's type after its first
#: parameter (timeline-to-project.ts convertFilters).
EDITOR_FILTERS = [
    ("Brightness", "brightness"), ("Contrast", "contrast"), ("Saturation", "saturation"),
    ("Hue", "hue"), ("Blur", "blur"), ("Sharpen", "sharpen"), ("Vignette", "vignette"),
    ("Grain", "grain"), ("Glow", "glow"), ("ShadowsHighlights", "shadows"),
    ("ShadowsHighlights", "highlights"), ("WhiteBalance", "temperature"),
    ("WhiteBalance", "tint"), ("Exposure", "exposure"), ("Curves", "curves"),
    ("Levels", "levels"), ("ColorBalance", "colorbalance"), ("Gamma", "gamma"),
    ("Temperature", "temperature"), ("Tint", "tint"), ("Shadows", "shadows"),
    ("Highlights", "highlights"), ("Blacks", "blacks"), ("Whites", "whites"),
]  # fmt: skip

#: (effect type, its params) from the editor's effects.json, after timeline-to-project.ts
#: (Brightness/Contrast/Saturation's intensity becomes ``value``).
EDITOR_EFFECT_PARAMS = [
    ("brightness", {"value": 1.2}), ("contrast", {"value": 1.5}),
    ("saturation", {"value": 2}), ("sepia", {"intensity": 0.8}),
    ("vignette", {"intensity": 0.3, "radius": 0.8}), ("sharpen", {"intensity": 1.0}),
    ("chromatic-aberration", {"intensity": 0.5}), ("lens-flare", {"intensity": 0.5}),
    ("glow", {"intensity": 0.5}), ("film-grain", {"intensity": 0.02, "amount": 0.5}),
    ("invert", {"intensity": 0.8}), ("hue-rotate", {"angle": 90}), ("blur", {"radius": 2}),
    ("noise-reduction", {"intensity": 3.0}), ("temperature", {"temperature": 50}),
    ("tint", {"tint": 0}), ("exposure", {"exposure": 1.0}),
    ("ChromaKey", {"color": "0x00ff00", "similarity": 0.3, "blend": 0.0}),
]  # fmt: skip


def test_picture_and_sound_names_do_not_collide() -> None:
    # One name may not mean a picture effect and a sound effect (e.g. "denoise" is the mixer's).
    assert not set(VIDEO_EFFECT_ALIASES) & set(AUDIO_EFFECT_ALIASES)
    assert not (set(VIDEO_EFFECT_ALIASES) | VIDEO_EFFECTS) & AUDIO_EFFECTS
    assert not set(AUDIO_EFFECT_ALIASES) & VIDEO_EFFECTS


@pytest.mark.parametrize("name", EDITOR_EFFECT_TYPES)
def test_every_editor_picture_effect_type_is_rendered(name: str) -> None:
    assert effect_kind(canonical(name)) in VIDEO_EFFECTS


@pytest.mark.parametrize(("name", "param"), EDITOR_FILTERS)
def test_every_editor_filter_reads_the_parameter_named_after_it(name: str, param: str) -> None:
    kind = effect_kind(canonical(name))
    assert kind in VIDEO_EFFECTS
    assert param in known_params(kind)


@pytest.mark.parametrize(("name", "params"), EDITOR_EFFECT_PARAMS)
def test_editor_effect_params_are_known_and_in_range(
    name: str, params: dict[str, float | str]
) -> None:
    kind = effect_kind(canonical(name))
    assert kind is not None
    assert set(params) <= known_params(kind)
    for spec in VIDEO_EFFECT_PARAMS[kind]:
        for key in set(spec.names) & set(params):
            assert spec.low <= float(params[key]) <= spec.high
    assert text_param_problems(kind, params) == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Speed", "set the clip's speed instead"),
        ("Reverse", "timing"),
        ("Stabilization", "motion analysis across frames"),
        ("stabilize", "motion analysis across frames"),
        ("Custom", "ffmpeg_command"),
    ],
)
def test_types_that_are_not_picture_effects_say_why(name: str, reason: str) -> None:
    assert effect_kind(canonical(name)) is None
    why = not_picture_effect(canonical(name))
    assert why is not None and reason in why and "not a per-frame picture effect" in why
    assert not_picture_effect("blur") is None


def test_filter_parameter_named_after_the_filter_is_read() -> None:
    effect = Effect(id="f", kind="saturation", params={"saturation": 1.4})
    assert setting(effect) == pytest.approx(1.4)
    exposure = Effect(id="e", kind="exposure", params={"exposure": 0.5})
    assert setting(exposure) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("value", "rgb"),
    [
        ("#00ff00", (0.0, 1.0, 0.0)),
        ("0x00FF00", (0.0, 1.0, 0.0)),
        ("#0f0", (0.0, 1.0, 0.0)),
        ("#ff000080", (1.0, 0.0, 0.0)),  # RGBA: alpha ignored
        # ffmpeg's and CSS's green (what the editor's chromakey command keys): one table for
        # every colour of a document, so an effect's green is a style's green.
        ("green", (0.0, 128 / 255, 0.0)),
        ("Lime", (0.0, 1.0, 0.0)),
        ("darkorange", (1.0, 140 / 255, 0.0)),
        ("0x00ff00@0.5", (0.0, 1.0, 0.0)),  # ffmpeg's colour@alpha: the alpha is ignored
        ("green@0x80", (0.0, 128 / 255, 0.0)),
        (0x0000FF, (0.0, 0.0, 1.0)),
        (0xFF0000FF, (1.0, 0.0, 0.0)),  # the editor's Color(u32) is RGBA
    ],
)
def test_colours_are_read_in_the_editors_and_ffmpegs_forms(
    value: object, rgb: tuple[float, float, float]
) -> None:
    assert parse_color(value) == pytest.approx(rgb)


def test_an_effects_colour_names_are_the_styles() -> None:
    for name in ("green", "gray", "purple", "orange", "rebeccapurple", "lime"):
        rgba = parse_colour(name)
        assert rgba is not None
        assert parse_color(name) == pytest.approx(tuple(c / 255 for c in rgba[:3])), name


@pytest.mark.parametrize("value", ["greenish", "#12345", "", True, -1, 2.5, "green@x"])
def test_bad_colours_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="not a colour"):
        parse_color(value)


def test_curve_points_read_ffmpegs_syntax_and_flat_lists() -> None:
    assert parse_points("0/0 0.5/0.8 1/1") == [(0.0, 0.0), (0.5, 0.8), (1.0, 1.0)]
    assert parse_points("0,0,0.5,0.8,1,1") == [(0.0, 0.0), (0.5, 0.8), (1.0, 1.0)]


def test_text_param_problems_name_the_parameter() -> None:
    problems = text_param_problems("curves", {"master": "0/0 2/1", "preset": "sparkly"})
    assert [name for name, _ in problems] == ["preset", "master"]
    assert "outside 0..1" in problems[1][1]
    assert text_param_problems("chromakey", {"color": "teal-ish"})[0][0] == "color"

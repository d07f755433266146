"""Effects and filters as the editor writes them: serde's tagged parameters, filters whose
parameters are named after what they change, ``intensity``, and nothing dropped silently."""

from __future__ import annotations

from typing import Any

import pytest

from chunking.timeline.catalogue import known_params
from chunking.timeline.model import Effect, Timeline
from chunking.timeline.studio import load_project
from chunking.timeline.studio_params import DERIVED_PARAMS, Unreadable, decode
from common.errors import ValidationError
from tests.media import project, solid, video_track


def with_effects(
    effects: list[dict[str, Any]], filters: tuple[dict[str, Any], ...] = ()
) -> Timeline:
    clip = {
        "id": "c",
        "start_time": 0,
        "end_time": 1,
        **solid("#808080"),
        "effects": [e["id"] for e in effects],
        "filters": [f["id"] for f in filters],
    }
    doc = project([video_track("v", [clip])], effects=effects, filters=list(filters))
    return load_project(doc, ".")


def clip_effects(tl: Timeline) -> list[Effect]:
    return list(tl.clip("c").effects)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ({"Float": 0.3}, 0.3),
        ({"Int": 3}, 3.0),
        ({"Bool": True}, True),
        ({"String": "soft"}, "soft"),
        ({"FilePath": "luts/film.cube"}, "luts/film.cube"),
        # u32 RGBA, as the editor's ffmpeg template prints it: #{c:08x}
        ({"Color": 4278190335}, "#ff0000ff"),
        ({"FloatArray": [0.1, 0.5, 1]}, "0.1,0.5,1"),
        ({"type": "Float", "value": 0.25}, 0.25),  # the frontend's adjacently tagged form
        ({"value": 2}, 2.0),
        # A type that is no tag's name is read as any other: was a TypeError (unhashable).
        ({"type": ["Float"], "value": 0.5}, 0.5),
        (0.5, 0.5),
    ],
)
def test_tagged_parameters_decode(raw: Any, value: Any) -> None:
    assert decode(raw) == value


@pytest.mark.parametrize(
    "raw", [{"Float": "x"}, {"Color": -1}, {"FloatArray": [1, "a"]}, [1, 2], None, {"k": 1}]
)
def test_unreadable_parameters_are_refused(raw: Any) -> None:
    with pytest.raises(Unreadable):
        decode(raw)


def test_serde_effect_parameters_reach_the_effect() -> None:
    tl = with_effects(
        [
            {
                "id": "key",
                "effect_type": "ChromaKey",
                "enabled": True,
                "parameters": {"color": {"Color": 0x00FF00FF}, "similarity": {"Float": 0.4}},
            }
        ]
    )
    (key,) = clip_effects(tl)
    assert (key.kind, dict(key.params), tl.warnings) == (
        "chromakey",
        {"color": "#00ff00ff", "similarity": 0.4},
        (),
    )


def test_params_and_parameters_both_read_and_disabled_effects_skipped() -> None:
    tl = with_effects(
        [
            {"id": "a", "effect_type": "Blur", "params": {"radius": 2}},
            {"id": "b", "effect_type": "Blur", "parameters": {"radius": {"Int": 5}}},
            {"id": "off", "effect_type": "Sepia", "enabled": False},
        ]
    )
    assert [(e.id, dict(e.params)) for e in clip_effects(tl)] == [
        ("a", {"radius": 2.0}),
        ("b", {"radius": 5.0}),
    ]


def test_an_unknown_parameter_is_a_warning_naming_effect_and_parameter() -> None:
    tl = with_effects([{"id": "b", "effect_type": "Blur", "parameters": {"wobble": {"Float": 1}}}])
    (warning,) = tl.warnings
    assert warning.startswith("clip 'c' effect 'b': parameter 'wobble' is not used by blur")


def test_effect_types_that_are_not_pictures_say_why() -> None:
    tl = with_effects([{"id": "s", "effect_type": "Speed", "parameters": {}}])
    assert clip_effects(tl) == []
    assert "effect type 'Speed' changes the clip's timing" in tl.warnings[0]


@pytest.mark.parametrize(
    "entry",
    [
        {"id": "r", "effect_type": "Reverse", "parameters": {}},
        {"id": "r", "filter_type": "reverse", "intensity": 1.0, "parameters": {}},
    ],
)
def test_a_reverse_effect_plays_the_clip_backwards(entry: dict[str, Any]) -> None:
    """Ignored with a warning (the clip played forwards), then refused; now the clip plays in
    reverse, the effect no picture effect."""
    tl = with_effects([], filters=(entry,)) if "filter_type" in entry else with_effects([entry])
    assert tl.clip("c").reverse and clip_effects(tl) == [] and tl.warnings == ()
    off = with_effects([{**entry, "enabled": False}])  # a disabled one is off
    assert off.warnings == () and not off.clip("c").reverse


def test_a_reverse_effect_over_part_of_a_clip_is_refused() -> None:
    partial = {"id": "r", "effect_type": "Reverse", "parameters": {}, "start_time": 0.5}
    with pytest.raises(ValidationError, match=r"clip 'c' effect 'r': a Reverse effect over only"):
        with_effects([partial])


def test_a_text_parameter_the_worker_cannot_read_is_an_error() -> None:
    with pytest.raises(ValidationError, match="effect 'k': params.color"):
        with_effects([{"id": "k", "effect_type": "ChromaKey", "parameters": {"color": "mauve?"}}])


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (float("nan"), "nan"),
        ({"Float": float("inf")}, "inf"),
        ({"FloatArray": [1, float("-inf")]}, "-inf"),
    ],
)
def test_a_parameter_that_is_not_a_finite_number_is_an_error(raw: Any, shown: str) -> None:
    with pytest.raises(
        ValidationError,
        match=f"effect 'b': parameter 'radius' must be a finite number, not {shown}",
    ):
        with_effects([{"id": "b", "effect_type": "Blur", "parameters": {"radius": raw}}])


def test_a_filter_preset_becomes_one_effect_per_thing_it_changes() -> None:
    # What the frontend writes for a colour-grading preset: every parameter, typed after the first.
    look = {
        "id": "look",
        "filter_type": "Brightness",
        "enabled": True,
        "parameters": {"brightness": -0.05, "contrast": 1.2, "saturation": 0.9},
        "intensity": 0.5,
    }
    tl = with_effects([], [look])
    assert [(e.id, e.kind, dict(e.params), e.intensity) for e in clip_effects(tl)] == [
        ("look", "brightness", {"brightness": -0.05}, 0.5),
        ("look.contrast", "contrast", {"contrast": 1.2}, 0.5),
        ("look.saturation", "saturation", {"saturation": 0.9}, 0.5),
    ]
    assert tl.warnings == ()


@pytest.mark.parametrize(
    ("filter_type", "intensity", "kind", "params"),
    [
        # ffmpeg_builder/effects.rs build_filter: the amount comes from intensity alone.
        ("Brightness", 0.2, "brightness", {"amount": 0.2}),
        ("Contrast", 0.5, "contrast", {"amount": 1.5}),
        ("Saturation", 0.4, "saturation", {"amount": 1.4}),
        ("Hue", 0.5, "huerotate", {"degrees": 90.0}),
        ("Sharpen", 0.5, "sharpen", {"amount": 1.0}),
        ("Grain", 0.2, "filmgrain", {"intensity": 10.0, "amount": 0.0}),
        ("Exposure", -0.1, "brightness", {"amount": -0.1}),
        ("Levels", 1.3, "contrast", {"amount": 1.3}),
    ],
)
def test_a_filter_without_parameters_takes_its_amount_from_intensity(
    filter_type: str, intensity: float, kind: str, params: dict[str, float]
) -> None:
    raw = {"id": "f", "filter_type": filter_type, "parameters": {}, "intensity": intensity}
    (effect,) = clip_effects(with_effects([], [raw]))
    assert (effect.kind, effect.intensity) == (kind, 1.0)
    assert dict(effect.params) == pytest.approx(params)


@pytest.mark.parametrize(
    ("filter_type", "intensity", "params"),
    [
        # Their mapped amount fell outside the parameter's range and was refused by that name.
        ("WhiteBalance", 0.5, {"kelvin": 1000.0}),
        ("WhiteBalance", 0.0, {"kelvin": 1000.0}),
        ("WhiteBalance", 2.5, {"kelvin": 2500.0}),
        ("Curves", 0.0, {"gamma": 0.1}),
        ("Curves", 0.05, {"gamma": 0.1}),
        ("Curves", 2.0, {"gamma": 2.0}),
    ],
)
def test_every_intensity_in_a_filters_range_maps_inside_its_parameters(
    filter_type: str, intensity: float, params: dict[str, float]
) -> None:
    raw = {"id": "f", "filter_type": filter_type, "parameters": {}, "intensity": intensity}
    (effect,) = clip_effects(with_effects([], [raw]))
    assert dict(effect.params) == pytest.approx(params)


@pytest.mark.parametrize(
    ("filter_type", "intensity", "low", "high"),
    [
        ("Blur", -0.1, 0, 1),
        ("Hue", -1.5, -1, 1),
        ("Sharpen", 5, 0, 1),
        ("Brightness", 1.5, -1, 1),
        ("Exposure", 2, -1, 1),
        ("WhiteBalance", 41, 0, 40),
    ],
)
def test_a_filters_intensity_outside_its_range_is_refused_as_intensity(
    filter_type: str, intensity: float, low: float, high: float
) -> None:
    raw = {"id": "f", "filter_type": filter_type, "parameters": {}, "intensity": intensity}
    expected = (
        f"clip 'c' filter 'f' ({filter_type} without parameters): intensity must be between "
        f"{low:g} and {high:g}, not {intensity:g}"
    )
    with pytest.raises(ValidationError) as refused:
        with_effects([], [raw])
    assert expected in str(refused.value)
    assert "params." not in str(refused.value)


def test_intensity_as_a_mix_must_be_between_0_and_1() -> None:
    raw = {"id": "f", "filter_type": "Blur", "parameters": {"radius": 2}, "intensity": 1.5}
    with pytest.raises(ValidationError, match="filter 'f': intensity must be between 0 and 1"):
        with_effects([], [raw])


def test_a_filters_key_and_parameter_warnings_name_it_the_same_way() -> None:
    """A filter entry (serde's Filter) with a misspelt key and a parameter nothing renders: both
    warnings name it ``filter 'f'``; the parameter's said ``effect 'f'``, so the user looked in
    ``effects[]`` for it."""
    raw = {"id": "f", "filter_type": "Blur", "parameters": {"radius": 2, "sheen": 1}}
    tl = with_effects([], [{**raw, "intensty": 0.5}])
    key, param = tl.warnings
    assert key.startswith("clip 'c' filter 'f': unknown key 'intensty'")
    assert param.startswith("clip 'c' filter 'f': parameter 'sheen' of 'Blur' is not rendered")


#: Every filter type of the editor (video-compiler.ts FilterType, schema/effects.rs FilterType)
#: with the parameter its frontend writes for it (timeline-to-project.ts convertFilters typeMap).
EDITOR_FILTERS = [
    ("Brightness", "brightness", 0.1),
    ("Contrast", "contrast", 1.2),
    ("Saturation", "saturation", 1.3),
    ("Gamma", "gamma", 1.1),
    ("Temperature", "temperature", 15.0),
    ("Tint", "tint", -5.0),
    ("Hue", "hue", 10.0),
    ("Vibrance", "vibrance", 0.2),
    ("Shadows", "shadows", 0.1),
    ("Highlights", "highlights", -0.1),
    ("Blacks", "blacks", -0.1),
    ("Whites", "whites", 0.1),
    ("Clarity", "clarity", 0.2),
    ("Dehaze", "dehaze", 0.1),
    ("Vignette", "vignette", 0.3),
    ("Grain", "grain", 0.2),
    ("Blur", "blur", 2.0),
    ("Sharpen", "sharpen", 0.5),
    ("Glow", "glow", 0.5),
    ("ShadowsHighlights", "shadows", 0.2),
    ("WhiteBalance", "temperature", 10.0),
    ("Exposure", "exposure", 0.5),
    ("Curves", "gamma", 1.2),
    ("Levels", "gamma", 1.1),
    ("ColorBalance", "shadows_r", 0.1),
    ("Custom", "amount", 1.0),
]


@pytest.mark.parametrize(("filter_type", "name", "value"), EDITOR_FILTERS)
def test_every_editor_filter_is_rendered_or_reported(
    filter_type: str, name: str, value: float
) -> None:
    raw = {"id": "f", "filter_type": filter_type, "parameters": {name: value}, "intensity": 1.0}
    tl = with_effects([], [raw])
    # A parameter the editor renders with other filters arrives as those (DERIVED_PARAMS).
    parts = DERIVED_PARAMS[name](value) if name in DERIVED_PARAMS else []
    wanted = [(k, v) for k, values in parts for v in values.values()]
    derived = [(e.kind, *e.params.values()) for e in clip_effects(tl)] == wanted
    reached = [
        e
        for e in clip_effects(tl)
        if value in e.params.values() and set(e.params) <= known_params(e.kind)
    ] + ([name] if name in DERIVED_PARAMS and derived else [])
    reported = [w for w in tl.warnings if repr(name) in w or repr(filter_type) in w]
    assert len(reached) + len(reported) == 1, (clip_effects(tl), tl.warnings)


def test_an_effect_window_shorter_than_a_frame_says_so() -> None:
    raw = {"id": "e", "effect_type": "Invert", "start_time": 0.50, "end_time": 0.51}
    said = r"effect 'e': start_time 0.5s and end_time 0.51s fall on the same frame \(15\)"
    with pytest.raises(ValidationError, match=said):
        with_effects([raw])


def test_an_effect_window_outside_its_clip_is_warned() -> None:
    raw = {"id": "e", "effect_type": "Invert", "start_time": 5, "end_time": 6}
    tl = with_effects([raw])
    assert tl.warnings == (
        "clip 'c' effect 'e': its window (frames 150 to 180) lies outside the clip (frames 0 to "
        "30); it never shows",
    )

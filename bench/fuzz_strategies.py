"""Hypothesis strategies for fuzzing the project loaders and the renderer (issue 13).

Used by the suite's bounded fuzz tests (``tests/security/test_fuzz.py``) and by the longer run
``bench/fuzz.py``. Three families:

* ``studio_documents()``: a valid Timeline Studio document with one to four mutations at random
  places: a value replaced by a wrong type, NaN, an infinity, a huge or tiny number, a number
  written as a string, a deeply nested list, or a key removed or added;
* ``otio_documents()``: the same mutations of a valid OpenTimelineIO JSON document;
* ``renderable_documents()``: tiny (16x16, three frames) documents whose numbers are drawn
  anywhere inside the loader's ranges, extremes included, for render fuzzing.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import opentimelineio as otio
from hypothesis import strategies as st

#: Values that have broken loaders before: wrong types, non-finite and extreme numbers.
HOSTILE_SCALARS: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2**31,
    2**64,
    10**30,
    -(10**30),
    0.5,
    -0.5,
    1e-300,
    1e300,
    1e308,
    -1e308,
    float("nan"),
    float("inf"),
    float("-inf"),
    "",
    "abc",
    "nan",
    "inf",
    "1e999",
    "-1",
    "1/0",
    "0/0",
    "30000/1001",
    "#zzzzzz",
    "\x00",
    "é" * 3,
]


def _solid(colour: str) -> dict[str, Any]:
    return {"source": {"Generated": {"type": "color", "color": colour}}}


def base_studio_document() -> dict[str, Any]:
    """A valid document touching every section the loader reads."""
    return {
        "version": "1",
        "metadata": {"name": "fuzz"},
        "timeline": {"fps": 10, "resolution": [16, 16], "sample_rate": 48000, "duration": 0.3},
        "tracks": [
            {
                "id": "v1",
                "track_type": "Video",
                "clips": [
                    {
                        "id": "a",
                        "start_time": 0,
                        "end_time": 0.2,
                        **_solid("#336699"),
                        "transform": {"scale": 1.5, "position_x": 2, "rotation": 10},
                        "crop": {"left": 1, "top": 0, "right": 0, "bottom": 1},
                        "color_correction": {"brightness": 0.1, "contrast": 1.2, "hue": 20},
                        "effects": ["blur"],
                        "opacity": 0.9,
                    },
                    {
                        "id": "b",
                        "start_time": 0.2,
                        "end_time": 0.3,
                        "source": {"Generated": {"type": "pattern", "pattern": "bars"}},
                        "effects": [{"id": "g", "effect_type": "FilmGrain", "params": {}}],
                    },
                ],
                "effects": [{"id": "v", "effect_type": "Vignette", "params": {"strength": 0.3}}],
            },
            {
                "id": "v2",
                "track_type": "Video",
                "clips": [{"id": "c", "start_time": 0, "end_time": 0.3, **_solid("#ff000080")}],
            },
        ],
        "effects": [{"id": "blur", "effect_type": "Blur", "params": {"radius": {"value": 1}}}],
        "transitions": [
            {"id": "t", "from_clip_id": "a", "to_clip_id": "b", "type": "Wipe", "duration": 0.1}
        ],
        "subtitles": [
            {
                "id": "s",
                "text": "Hi",
                "start_time": 0,
                "end_time": 0.3,
                "style": {"font_size": 8, "position": {"x": 0.5, "y": 0.8}, "outline": 1},
            }
        ],
        "settings": {"export": {"preset": "ultrafast", "crf": 30, "audio_bitrate": 128}},
    }


def base_otio_document() -> dict[str, Any]:
    """A valid OpenTimelineIO timeline as its JSON document (generators only: no media)."""
    rt, tr = otio.opentime.RationalTime, otio.opentime.TimeRange

    def solid(name: str, frames: int) -> Any:
        ref = otio.schema.GeneratorReference(
            generator_kind="SolidColor", parameters={"color": [0.2, 0.4, 0.6]}
        )
        return otio.schema.Clip(
            name=name, media_reference=ref, source_range=tr(rt(0, 10), rt(frames, 10))
        )

    first, second = solid("a", 2), solid("b", 2)
    second.effects.append(otio.schema.LinearTimeWarp(time_scalar=2.0))
    first.effects.append(otio.schema.Effect(effect_name="Blur", metadata={"radius": 1}))
    cut = otio.schema.Transition(
        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
        in_offset=rt(1, 10),
        out_offset=rt(1, 10),
    )
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    track.extend([first, cut, second, otio.schema.Gap(source_range=tr(rt(0, 10), rt(1, 10)))])
    timeline = otio.schema.Timeline(name="fuzz", tracks=[track])
    timeline.metadata["cloudrender"] = {"resolution": [16, 16], "export": {"preset": "ultrafast"}}
    document: dict[str, Any] = json.loads(otio.adapters.write_to_string(timeline, "otio_json"))
    return document


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a document (keys and list indices)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def hostile_values(draw: st.DrawFn) -> Any:
    """One value a hostile or broken editor might write where anything else was expected."""
    return draw(
        st.one_of(
            st.sampled_from(HOSTILE_SCALARS),
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(min_value=-(10**40), max_value=10**40),
            st.text(max_size=12),
            st.integers(min_value=1, max_value=200).map(_nested),
            st.lists(st.sampled_from(HOSTILE_SCALARS[:12]), max_size=4),
            st.dictionaries(
                st.sampled_from(["x", "y", "value", "File", "Generated", "id", "type"]),
                st.sampled_from(HOSTILE_SCALARS),
                max_size=3,
            ),
        )
    )


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any], max_mutations: int = 4) -> dict[str, Any]:
    """The base document with 1..max_mutations random replacements, removals or additions."""
    document = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=max_mutations))):
        paths = [p for p in _paths(document) if p]
        path = draw(st.sampled_from(paths))
        parent: Any = document
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "replace", "replace", "remove", "add"]))
        if action == "remove":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(st.text(max_size=8))] = draw(hostile_values())
        else:
            parent[path[-1]] = draw(hostile_values())
    return document


def studio_documents() -> st.SearchStrategy[dict[str, Any]]:
    """Mutations of a valid Timeline Studio document."""
    return mutated(base_studio_document())


def otio_documents() -> st.SearchStrategy[dict[str, Any]]:
    """Mutations of a valid OpenTimelineIO JSON document."""
    return mutated(base_otio_document())


def _in(low: float, high: float) -> st.SearchStrategy[float]:
    """Numbers in [low, high], the ends themselves often."""
    return st.one_of(
        st.sampled_from([low, high, (low + high) / 2]),
        st.floats(min_value=low, max_value=high, allow_nan=False),
    )


EFFECTS = {
    "Blur": {"radius": (0, 250)},
    "Brightness": {"amount": (-1, 1)},
    "Contrast": {"amount": (0, 4)},
    "Saturation": {"amount": (0, 4)},
    "HueRotate": {"degrees": (-3600, 3600)},
    "Grayscale": {"amount": (0, 1)},
    "Sepia": {"amount": (0, 1)},
    "Invert": {"amount": (0, 1)},
    "Vignette": {"strength": (0, 1), "radius": (0, 10)},
    "Sharpen": {"amount": (-10, 10), "radius": (0, 250)},
    "FilmGrain": {"amount": (0, 1), "size": (0, 16384)},
}


@st.composite
def renderable_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A 16x16, three-frame document whose numbers lie anywhere in the loader's ranges."""
    clips = []
    for i in range(draw(st.integers(min_value=1, max_value=3))):
        kind = draw(st.sampled_from(list(EFFECTS)))
        params = {name: draw(_in(*span)) for name, span in EFFECTS[kind].items()}
        colour = draw(st.sampled_from(["#336699", "#ff000080", "#00000000", "#ffffff"]))
        clips.append(
            {
                "id": f"c{i}",
                "start_time": 0,
                "end_time": 0.3,
                "source": {
                    "Generated": {
                        "type": draw(st.sampled_from(["color", "pattern"])),
                        "color": colour,
                        "pattern": draw(st.sampled_from(["bars", "checker", "grid", "gradient"])),
                    }
                },
                "transform": {
                    "scale_x": draw(_in(0, 20)),
                    "scale_y": draw(_in(0, 20)),
                    "position_x": draw(_in(-1e5, 1e5)),
                    "position_y": draw(_in(-40, 40)),
                    "rotation": draw(_in(-3600, 3600)),
                    "anchor_x": draw(_in(-10, 10)),
                    "anchor_y": draw(_in(-10, 10)),
                },
                "crop": {"left": draw(st.integers(0, 7)), "bottom": draw(st.integers(0, 7))},
                "color_correction": {
                    "brightness": draw(_in(-1, 1)),
                    "contrast": draw(_in(0, 4)),
                    "saturation": draw(_in(0, 4)),
                    "hue": draw(_in(-360, 360)),
                    "gamma": draw(_in(0.1, 10)),
                },
                "opacity": draw(_in(0, 1)),
                "effects": [{"id": f"e{i}", "effect_type": kind, "params": params}],
            }
        )
    subtitles = [
        {
            "id": "s",
            "text": draw(st.text(min_size=1, max_size=30).filter(str.strip)),
            "start_time": 0,
            "end_time": 0.3,
            "style": {
                "font_size": draw(st.integers(4, 1000)),
                "outline": draw(st.integers(0, 50)),
                "position": draw(
                    st.one_of(
                        st.sampled_from(["top", "bottom", "center"]),
                        st.fixed_dictionaries({"x": _in(0, 1), "y": _in(0, 1)}),
                    )
                ),
                "background": draw(st.sampled_from([None, "#00000080"])),
            },
        }
    ]
    transitions = []
    if len(clips) > 1 and draw(st.booleans()):
        clips[1]["start_time"], clips[0]["end_time"] = 0.1, 0.2
        kind = draw(st.sampled_from(["Dissolve", "FadeToBlack", "Wipe", "Slide", "SlideUp"]))
        transitions.append({"id": "t", "from_clip_id": "c0", "to_clip_id": "c1", "type": kind})
    # Clips on one track must not overlap unless a transition joins them.
    groups = [clips[:2], clips[2:]] if transitions else [[clip] for clip in clips]
    tracks = [
        {"id": f"v{i}", "track_type": "Video", "clips": group} for i, group in enumerate(groups)
    ]
    return {
        "timeline": {"fps": 10, "resolution": [16, 16], "duration": 0.3},
        "tracks": tracks,
        "transitions": transitions,
        "subtitles": subtitles,
        "settings": {"export": {"preset": "ultrafast"}},
    }

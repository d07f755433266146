"""Keys inside an effect or filter entry, a transition, a subtitle, its style and its animations
that nothing reads: a typo there changed the picture without a word (``enabeld: false`` left
the effect on, ``font_sise`` drew the default size). Each is a warning naming the clip (or the
transition, the subtitle) and the key's path, with the key it may have meant."""

from __future__ import annotations

from typing import Any

import pytest

from chunking.timeline.studio import load_project
from common.errors import ValidationError
from tests.media import project, solid, video_track


def clip(cid: str, start: float, end: float, **extra: Any) -> dict[str, Any]:
    return {"id": cid, "start_time": start, "end_time": end, **solid("red"), **extra}


def load(*clips: dict[str, Any], strict: bool = False, **sections: Any) -> Any:
    return load_project(project([video_track("v", list(clips))], **sections), ".", strict=strict)


def test_a_misspelt_key_of_an_effect_entry_names_the_clip_and_the_effect() -> None:
    effect = {"id": "soft", "effect_type": "Blur", "parms": {"radius": 2.0}}
    timeline = load(clip("c", 0, 1, effects=["soft"]), effects=[effect])
    assert timeline.warnings == (
        "clip 'c' effect 'soft': unknown key 'parms' (did you mean 'params'?) ignored",
    )


def test_a_misspelt_enabled_is_warned_of_because_the_effect_stays_on() -> None:
    """``enabeld: false`` meant to switch the effect off; it is drawn, and the user is told."""
    effect = {"id": "sepia", "effect_type": "Sepia", "enabeld": False}
    timeline = load(clip("c", 0, 1, effects=[effect]))
    (drawn,) = timeline.tracks[0].clips[0].effects
    assert drawn.kind == "sepia"
    assert timeline.warnings == (
        "clip 'c' effect 'sepia': unknown key 'enabeld' (did you mean 'enabled'?) ignored",
    )


def test_a_filter_entry_is_checked_too_and_strict_refuses_it() -> None:
    flt = {"id": "warm", "filter_type": "Brightness", "parameters": {}, "intensty": 0.2}
    timeline = load(clip("c", 0, 1, filters=["warm"]), filters=[flt])
    assert (
        "clip 'c' filter 'warm': unknown key 'intensty' (did you mean 'intensity'?) ignored"
        in timeline.warnings
    )
    with pytest.raises(ValidationError, match="clip 'c' filter 'warm': unknown key 'intensty'"):
        load(clip("c", 0, 1, filters=["warm"]), filters=[flt], strict=True)


def test_a_misspelt_transition_key_is_warned_of() -> None:
    """``duraton`` left the dissolve at its default length of 1 s."""
    transition = {
        "id": "x",
        "transition_type": "Dissolve",
        "from_clip_id": "a",
        "to_clip_id": "b",
        "duraton": {"value": 0.5},
    }
    timeline = load(clip("a", 0, 1), clip("b", 1, 2), transitions=[transition])
    assert timeline.warnings == (
        "transition 'x': unknown key 'duraton' (did you mean 'duration'?) ignored",
    )
    (drawn,) = timeline.transitions
    assert drawn.end - drawn.start == 30  # the default second, not the half meant


def subtitle(**extra: Any) -> dict[str, Any]:
    return {"id": "t", "text": "Hi", "start_time": 0, "end_time": 1, **extra}


def test_a_misspelt_subtitle_style_key_names_the_subtitle_and_the_path() -> None:
    timeline = load(clip("c", 0, 1), subtitles=[subtitle(style={"font_sise": 80})])
    assert timeline.warnings == (
        "subtitle 't' style: unknown key 'font_sise' (did you mean 'font_size'?) ignored",
    )
    assert timeline.subtitles[0].font_size != 80


def test_a_flat_subtitle_and_its_animations_are_checked() -> None:
    """This format's flat subtitles keep their style beside the text: those keys are known."""
    entry = subtitle(
        font_size=30,
        stroke_color="#000000",
        colr="#ff0000",
        animations=[{"animation_type": "FadeIn", "durration": 0.2}],
    )
    timeline = load(clip("c", 0, 1), subtitles=[entry])
    assert timeline.warnings == (
        "subtitle 't': unknown key 'colr' (did you mean 'color'?) ignored",
        "subtitle 't' animation #0: unknown key 'durration' (did you mean 'duration'?) ignored",
    )


def test_a_style_key_beside_a_style_object_is_not_read_and_is_named() -> None:
    """With a ``style`` object, only the keys serde's Subtitle has are read beside it."""
    entry = subtitle(style={"font_size": 30}, stroke_width=4)
    (warning,) = load(clip("c", 0, 1), subtitles=[entry]).warnings
    assert warning.startswith("subtitle 't': unknown key 'stroke_width'")


def test_entries_as_the_editor_writes_them_are_not_warned_of() -> None:
    """serde's Effect, Filter, Transition, Subtitle and SubtitleStyle with every field."""
    effect = {
        "id": "e",
        "effect_type": "Blur",
        "name": "Blur",
        "category": "Artistic",
        "complexity": "Basic",
        "tags": [],
        "description": "",
        "labels": {},
        "enabled": True,
        "parameters": {"radius": {"Float": 2.0}},
        "start_time": None,
        "end_time": None,
        "ffmpeg_command": None,
        "css_filter": None,
        "preview_path": None,
        "presets": {},
    }
    flt = {
        "id": "f",
        "filter_type": "Brightness",
        "name": "B",
        "enabled": True,
        "parameters": {"brightness": 0.1},
        "ffmpeg_command": None,
        "intensity": 1.0,
        "custom_filter": None,
    }
    transition = {
        "id": "x",
        "transition_type": "Dissolve",
        "name": "D",
        "duration": {"value": 0.5, "min": 0.1, "max": 5.0},
        "category": "Basic",
        "tags": [],
        "complexity": "Basic",
        "enabled": True,
        "parameters": {},
        "ffmpeg_command": None,
        "easing": None,
        "direction": None,
        "from_clip_id": "a",
        "to_clip_id": "b",
    }
    style = {
        "font_family": "Arial",
        "font_size": 24,
        "font_weight": "Normal",
        "color": "#ffffff",
        "stroke_color": "#000000",
        "stroke_width": 2,
        "shadow_color": "#000000",
        "shadow_x": 2,
        "shadow_y": 2,
        "shadow_blur": 4,
        "background_color": None,
        "background_opacity": 0.8,
        "padding": {"top": 8, "right": 12, "bottom": 8, "left": 12},
        "border_radius": 4,
        "line_height": 1.2,
        "letter_spacing": 0,
        "max_width": 80,
    }
    entry = subtitle(
        position={"type": "Relative", "align_x": "Center", "align_y": "Bottom"},
        style=style,
        enabled=True,
        animations=[
            {
                "id": "a",
                "animation_type": "FadeIn",
                "duration": 0.2,
                "easing": "Linear",
                "delay": 0,
                "direction": None,
                "properties": {},
                "start_time": 0,
            }
        ],
        font_family="Arial",
        font_size=24,
        color="#ffffff",
        opacity=1.0,
        font_weight="Normal",
        shadow=True,
        outline=True,
        duration=1.0,
    )
    timeline = load(
        clip("a", 0, 1, effects=["e"], filters=["f"]),
        clip("b", 1, 2),
        effects=[effect],
        filters=[flt],
        transitions=[transition],
        subtitles=[entry],
    )
    assert not [w for w in timeline.warnings if "unknown key" in w]


def test_a_misspelt_parameter_says_what_it_may_have_meant() -> None:
    """Inside ``params``: the blur stayed at its default radius, the filter did nothing, the
    wipe went its default way; each warning names the clip (transition) and the parameter it
    may have meant."""
    effect = {"id": "soft", "effect_type": "Blur", "params": {"radus": 9.0}}
    flt = {"id": "lift", "filter_type": "Brightness", "parameters": {"brightnes": 0.3}}
    transition = {
        "id": "x",
        "transition_type": "Wipe",
        "from_clip_id": "a",
        "to_clip_id": "b",
        "duration": 0.5,
        "parameters": {"directon": "left"},
    }
    timeline = load(
        clip("a", 0, 1, effects=["soft"], filters=["lift"]),
        clip("b", 1, 2),
        effects=[effect],
        filters=[flt],
        transitions=[transition],
    )
    # The blur draws at its default radius; the filter, with nothing left, draws nothing.
    assert [e.kind for e in timeline.tracks[0].clips[0].effects] == ["blur"]
    assert sorted(timeline.warnings) == sorted(
        [
            "clip 'a' effect 'soft': parameter 'radus' is not used by blur (amount, blur, "
            "radius, sigma); ignored (did you mean 'radius'?)",
            "clip 'a' filter 'lift': parameter 'brightnes' of 'Brightness' is not rendered; "
            "ignored (did you mean 'brightness'?)",
            "transition 'x': parameter 'directon' is not used by transitions; ignored "
            "(did you mean 'direction'?)",
        ]
    )


def test_a_misspelt_key_of_a_subtitles_position_or_padding_is_named() -> None:
    """``alignY`` (the editor's TypeScript spelling) left the text at the bottom."""
    entry = subtitle(
        position={"type": "Relative", "align_x": "Center", "alignY": "Top"},
        style={"font_size": 20, "padding": {"top": 4, "botom": 4}},
    )
    timeline = load(clip("c", 0, 1), subtitles=[entry])
    assert timeline.warnings == (
        "subtitle 't' position: unknown key 'alignY' (did you mean 'align_y'?) ignored",
        "subtitle 't' style.padding: unknown key 'botom' (did you mean 'bottom'?) ignored",
    )
    at = {"x": 50, "y": 80, "align_x": "Center", "align_y": "Bottom", "margin": {"lef": 10}}
    percent = subtitle(position=at)
    (warning,) = load(clip("c", 0, 1), subtitles=[percent]).warnings
    assert warning.startswith("subtitle 't' position.margin: unknown key 'lef'")


def test_a_misspelt_key_of_a_layout_or_its_cell_is_named() -> None:
    """``fit_mod: Contain`` filled the cell instead of letterboxing it, without a word."""
    cells = [
        {"index": 0, "x": 0, "y": 0, "width": 50, "height": 100, "fit_mod": "Contain"},
        {"index": 1, "x": 50, "y": 0, "width": 50, "height": 100},
    ]
    layout = {"id": "split", "template_type": "Vertical", "screens": 2, "cells": cells, "nam": ""}
    timeline = load(clip("c", 0, 1, template_id="split", template_position=0), templates=[layout])
    assert timeline.warnings == (
        "template 'split': unknown key 'nam' (did you mean 'name'?) ignored",
        "template 'split' cell #0: unknown key 'fit_mod' (did you mean 'fit_mode'?) ignored",
    )
    assert timeline.tracks[0].clips[0].cell.fit == "cover"
    regions = [{"x": 0, "y": 0, "width": 160, "height": 180, "padd": 4}]
    (warning,) = load(
        clip("c", 0, 1, template_id="r", template_position=0),
        templates=[{"id": "r", "regions": regions}],
    ).warnings
    assert warning.startswith("template 'r' region #0: unknown key 'padd'")


def test_a_misspelt_key_of_a_style_template_element_is_named_once() -> None:
    """``font_sise`` drew the title at the default size; two clips using the template get one
    warning for it, naming the template, the element and the key's path."""
    element = {
        "id": "name",
        "element_type": "Text",
        "position": {"x": 50, "y": 50},
        "size": {"width": 80, "height": 20},
        "timing": {"in_time": 0, "out_tme": 1},
        "properties": {"text": "Ada", "font_sise": 60},
        "animations": [{"animation_type": "FadeIn", "duraton": 0.2}],
        "colour": "red",
    }
    template = {"id": "lt", "name": "Lower third", "elements": [element]}
    carriers = [
        {
            "id": cid,
            "source_path": "",
            "start_time": t,
            "end_time": t + 1,
            "style_template_id": "lt",
        }
        for cid, t in (("c1", 0), ("c2", 1))
    ]
    timeline = load(*carriers, style_templates=[template])
    assert [s.font_size for s in timeline.subtitles] != [60, 60]
    at = "style template 'lt' element #0"
    first, *rest = timeline.warnings
    # Nothing close to ``colour`` among the element's own keys: they are listed.
    assert first.startswith(f"{at}: unknown key 'colour' ignored (a style template element's ")
    assert rest == [
        f"{at} timing: unknown key 'out_tme' (did you mean 'out_time'?) ignored",
        f"{at} properties: unknown key 'font_sise' (did you mean 'font_size'?) ignored",
        f"{at} animation #0: unknown key 'duraton' (did you mean 'duration'?) ignored",
    ]


def test_a_misspelt_timeline_key_is_named_because_the_frame_changes() -> None:
    """``resolutoin`` rendered 1920x1080 instead of 320x180, ``fsp`` 30 fps instead of 25."""
    doc = project([video_track("v", [clip("c", 0, 1)])])
    timeline_keys = doc["timeline"]
    timeline_keys["resolutoin"] = timeline_keys.pop("resolution")
    timeline_keys["fsp"] = 25
    timeline = load_project(doc, ".")
    assert (timeline.width, timeline.height, timeline.fps) == (1920, 1080, 30)
    assert timeline.warnings == (
        "timeline: unknown keys 'resolutoin' (did you mean 'resolution'?), 'fsp' (did you mean "
        "'fps'?) ignored",
    )


def test_an_entry_shared_by_many_clips_is_checked_once() -> None:
    """Thousands of clips may use one effect: its keys are named once, at the first clip (a
    hostile entry of a million keys is not read again for every clip); past the fifth unread
    parameter of one entry no suggestion is looked for (each costs far more than the warning)."""
    effect = {"id": "soft", "effect_type": "Blur", "parms": {}, "params": {"radius": 1.0}}
    clips = [clip(f"c{i}", i, i + 1, effects=["soft"]) for i in range(3)]
    timeline = load(*clips, effects=[effect])
    assert timeline.warnings == (
        "clip 'c0' effect 'soft': unknown key 'parms' (did you mean 'params'?) ignored",
    )
    assert [len(c.effects) for c in timeline.tracks[0].clips] == [1, 1, 1]
    many = {"id": "b", "effect_type": "Blur", "params": {f"radiu{i}": 1.0 for i in range(8)}}
    warned = load(clip("c", 0, 1, effects=["b"]), effects=[many]).warnings
    # A hostile entry may hold millions: the first five are named, the rest counted in a line.
    assert len(warned) == 6
    assert ["did you mean" in w for w in warned] == [True] * 5 + [False]
    assert warned[-1] == "clip 'c' effect 'b': 3 more parameters not used by blur; ignored"


def test_an_entry_shared_by_many_clips_is_read_once() -> None:
    """Its parameters were decoded and named again for every clip: an entry of 100,000 unread
    parameters shared by 200 clips made 20,000,000 warnings (over 4 minutes to load). It is
    read once; every clip draws the same effect."""
    effect = {"id": "b", "effect_type": "Blur", "params": {"radius": 2.0, "wobble": 1}}
    clips = [clip(f"c{i}", i, i + 1, effects=["b"]) for i in range(3)]
    timeline = load(*clips, effects=[effect])
    (warning,) = timeline.warnings
    assert warning.startswith("clip 'c0' effect 'b': parameter 'wobble' is not used by blur")
    first, *rest = [c.effects for c in timeline.tracks[0].clips]
    assert rest == [first, first] and first[0].params["radius"] == 2.0

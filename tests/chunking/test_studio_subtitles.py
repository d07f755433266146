"""Subtitles as the editor writes them: placeholder clips on subtitle and title tracks, the
subtitle's own position (serde Absolute/Relative, the frontend's percentages), its style (and
the older top-level fields), and its animations in timeline frames."""

from __future__ import annotations

from typing import Any

import pytest

from chunking.timeline.model import Subtitle, Timeline
from chunking.timeline.studio import load_project
from common.errors import ValidationError
from tests.media import project, solid, video_track

W, H = 320, 180


def frontend_clip(cid: str, start: float, end: float) -> dict[str, Any]:
    """A clip as timeline-to-project.ts convertClip writes one with no media file."""
    return {
        "id": cid,
        "source_path": "",
        "start_time": start,
        "end_time": end,
        "source_start": 0,
        "source_end": end - start,
        "speed": 1.0,
        "volume": 1.0,
        "effects": [],
        "filters": [],
    }


def entry(sid: str, start: float = 0.0, end: float = 1.0, **extra: Any) -> dict[str, Any]:
    return {"id": sid, "text": f"text of {sid}", "start_time": start, "end_time": end, **extra}


def load(subtitles: list[dict[str, Any]], tracks: tuple[dict[str, Any], ...] = ()) -> Timeline:
    background = video_track("bg", [{"id": "bg", "start_time": 0, "end_time": 2, **solid("red")}])
    return load_project(project([background, *tracks], subtitles=subtitles), ".")


def one(**extra: Any) -> Subtitle:
    tl = load([entry("s", **extra)])
    (sub,) = tl.subtitles
    return sub


def test_placeholder_clips_of_subtitle_and_title_tracks_draw_their_entries() -> None:
    tracks = [
        {
            "id": "subs",
            "track_type": "Subtitle",
            "enabled": True,
            "clips": [frontend_clip("s1", 0, 1)],
        },
        # The frontend writes a "title" track as a Video track; its clips are subtitles[] too.
        video_track("titles", [frontend_clip("t1", 1, 2)]),
    ]
    tl = load([entry("s1", 0, 1), entry("t1", 1, 2)], tuple(tracks))
    assert [(s.id, s.text, s.start, s.end) for s in tl.subtitles] == [
        ("s1", "text of s1", 0, 30),
        ("t1", "text of t1", 30, 60),
    ]
    assert tl.warnings == ()
    assert [c.id for c in tl.tracks[2].clips] == []  # not drawn as media


def test_a_disabled_subtitle_track_hides_its_entries() -> None:
    track = {
        "id": "subs",
        "track_type": "Subtitle",
        "enabled": False,
        "clips": [frontend_clip("s1", 0, 1)],
    }
    assert load([entry("s1")], (track,)).subtitles == ()


def test_a_subtitle_clip_with_nothing_to_draw_is_a_warning_not_media_not_found() -> None:
    track = {"id": "subs", "track_type": "Subtitle", "clips": [frontend_clip("lonely", 1.5, 2)]}
    tl = load([], (track,))
    (warning,) = tl.warnings
    assert warning.startswith("clip 'lonely': a subtitle clip without text")
    # A subtitles[] entry in its time range is what it stands for: no warning.
    assert load([entry("other", 1.0, 2.0)], (track,)).warnings == ()


def test_an_empty_source_path_on_a_video_track_names_the_clip() -> None:
    with pytest.raises(ValidationError) as info:
        load([], (video_track("v2", [frontend_clip("x", 0, 1)]),))
    assert info.value.problems == ["clip 'x': has no media: its source file path is empty"]


def test_a_disabled_subtitle_is_not_drawn() -> None:
    assert load([entry("s", enabled=False)]).subtitles == ()


@pytest.mark.parametrize(
    ("position", "at", "anchor", "align"),
    [
        # serde Absolute: pixels of the text's top-left corner.
        ({"type": "Absolute", "x": 32.0, "y": 18.0}, (0.1, 0.1), (0.0, 0.0), "left"),
        # serde Relative, where the editor's renderer puts it: 20 px in, 50 px above the bottom.
        (
            {"type": "Relative", "align_x": "Left", "align_y": "Top"},
            (20 / W, 20 / H),
            (0.0, 0.0),
            "left",
        ),
        (
            {"type": "Relative", "align_x": "Right", "align_y": "Bottom"},
            (300 / W, 130 / H),
            (1.0, 1.0),
            "right",
        ),
        (
            {"type": "Relative", "align_x": "Center", "align_y": "Middle"},
            (0.5, 0.5),
            (0.5, 0.5),
            "center",
        ),
        # The frontend's percentages, kept `margin` pixels inside the frame.
        (
            {
                "x": 0,
                "y": 100,
                "align_x": "Left",
                "align_y": "Bottom",
                "margin": {"top": 10, "right": 10, "bottom": 20, "left": 16},
            },
            (16 / W, 160 / H),
            (0.0, 1.0),
            "left",
        ),
        (
            {"x": 50, "y": 85, "align_x": "Center", "align_y": "Bottom"},
            (0.5, 0.85),
            (0.5, 1.0),
            "center",
        ),
    ],
)
def test_subtitle_positions(
    position: dict[str, Any], at: tuple[float, float], anchor: tuple[float, float], align: str
) -> None:
    sub = one(position=position)
    assert sub.position == pytest.approx(at)
    assert (sub.anchor, sub.align) == (anchor, align)


def test_style_fields_reach_the_subtitle() -> None:
    style = {
        "font_family": "DejaVu Serif",
        "font_size": 30,
        "font_weight": "Bold",
        "color": "#FFCC00",
        "stroke_color": "#112233",
        "stroke_width": 3.0,
        "shadow_color": "#00000080",
        "shadow_x": 4.0,
        "shadow_y": -2.0,
        "shadow_blur": 6.0,
        "background_color": "#000000",
        "background_opacity": 0.5,
        "padding": {"top": 1, "right": 2, "bottom": 3, "left": 4},
        "border_radius": 8,
        "line_height": 1.5,
        "letter_spacing": 1.5,
        "max_width": 60,
    }
    sub = one(style=style, opacity=0.9)
    assert (sub.font_family, sub.font_size, sub.font_weight, sub.color) == (
        "DejaVu Serif",
        30,
        700,
        (255, 204, 0, 255),
    )
    assert (sub.outline, sub.stroke_color) == (3, (0x11, 0x22, 0x33, 255))
    assert (sub.shadow_color, sub.shadow_offset, sub.shadow_blur) == (
        (0, 0, 0, 128),
        (4.0, -2.0),
        6.0,
    )
    assert sub.background == (0, 0, 0, 128)
    assert (sub.padding, sub.border_radius, sub.line_height, sub.letter_spacing) == (
        (1, 2, 3, 4),
        8,
        1.5,
        1.5,
    )
    assert (sub.max_width, sub.opacity) == (0.6, 0.9)


@pytest.mark.parametrize(
    ("weight", "value"),
    [("Thin", 100), ("Light", 300), ("Medium", 500), ("Black", 900), (600, 600)],
)
def test_font_weights(weight: Any, value: int) -> None:
    assert one(style={"font_weight": weight}).font_weight == value


def test_the_top_level_fields_apply_where_the_style_keeps_its_default() -> None:
    serde_style = {
        "font_family": "Arial",
        "font_size": 24.0,
        "font_weight": "Normal",
        "color": "#FFFFFF",
    }
    top = {"font_family": "Roboto", "font_size": 40.0, "color": "#FF0000", "font_weight": "Bold"}
    sub = one(style=serde_style, **top)
    assert (sub.font_family, sub.font_size, sub.color, sub.font_weight) == (
        "Roboto",
        40,
        (255, 0, 0, 255),
        700,
    )
    # A style changed from its default wins over the top-level field.
    sub = one(style={**serde_style, "font_size": 32.0}, font_size=40.0)
    assert sub.font_size == 32
    # shadow/outline false turn the editor's drawn shadow and border off.
    off = one(
        style={"stroke_color": "#000000", "shadow_color": "#000000"}, shadow=False, outline=False
    )
    assert (off.outline, off.shadow_color) == (0, None)
    # Only the top-level flags: the editor's own drawtext shadow and border.
    on = one(style={}, shadow=True, outline=True)
    assert (on.shadow_color, on.stroke_color, on.outline) == ((0, 0, 0, 128), (0, 0, 0, 204), 2)


@pytest.mark.parametrize(
    "extra",
    [
        {"shadow": True, "style": {"shadow_blur": float("nan")}},
        {"shadow": True, "style": {"shadow_x": 1e6}},
        {"style": {"background_color": "#000", "shadow_blur": -1}},
        {"shadow": True, "shadow_y": float("inf")},
    ],
)
def test_a_bad_shadow_number_is_refused_without_a_shadow_colour(extra: dict[str, Any]) -> None:
    # Given a shadow offset or blur that is not finite or out of range, and no shadow_color
    # When the project loads
    # Then it is refused naming the field, as it is when a shadow colour is given
    with pytest.raises(ValidationError, match=r"subtitle 's': (style\.)?shadow_[xyblur]+ must"):
        one(**extra)


def anims(
    animations: list[dict[str, Any]], start: float = 0.5, end: float = 1.5
) -> list[tuple[Any, ...]]:
    sub = one(start=start, end=end, animations=animations)
    return [(a.kind, a.start, a.end, a.direction, a.easing) for a in sub.animations]


def test_animations_are_timed_from_the_subtitle() -> None:
    # serde: start_time from the subtitle's start (subtitles.rs), plus the delay.
    assert anims(
        [
            {
                "animation_type": "FadeIn",
                "duration": 0.2,
                "delay": 0.1,
                "start_time": 0.0,
                "easing": "EaseOut",
            }
        ]
    ) == [("fade_in", 18, 24, "top", "ease_out")]
    # The frontend writes FadeOut with no start_time: it ends with the subtitle.
    assert anims([{"animation_type": "FadeOut", "duration": 0.2, "delay": 0}]) == [
        ("fade_out", 39, 45, "top", "linear")
    ]
    # Dissolve and Scale are drawn as the editor's renderer draws them: FadeOut and ScaleIn.
    assert [
        a[0]
        for a in anims(
            [
                {"animation_type": "Dissolve", "duration": 0.2},
                {"animation_type": "Scale", "duration": 0.2},
            ]
        )
    ] == ["fade_out", "scale_in"]
    # Slides: the side the text comes from; the frontend's Up is the top.
    assert anims(
        [
            {"animation_type": "SlideIn", "duration": 0.3, "direction": "Up"},
            {"animation_type": "SlideOut", "duration": 0.3},
        ]
    ) == [("slide_in", 15, 24, "top", "linear"), ("slide_out", 36, 45, "bottom", "linear")]


def test_an_animation_outside_its_subtitle_warns() -> None:
    tl = load(
        [
            entry(
                "s",
                0.5,
                1.0,
                animations=[{"animation_type": "Shake", "duration": 0.2, "start_time": 2.0}],
            )
        ]
    )
    assert tl.subtitles[0].animations == ()
    assert tl.warnings[0].startswith("subtitle 's' animation #0: shake lies outside")


def test_a_duration_that_disagrees_with_end_time_warns() -> None:
    tl = load([entry("s", 0.0, 1.0, duration=2.0)])
    assert tl.subtitles[0].end == 30
    assert tl.warnings == ("subtitle 's': duration 2s disagrees with end_time 1s; end_time used",)


def test_this_formats_own_style_position_still_reads() -> None:
    sub = one(style={"position": {"x": 0.25, "y": 0.75}, "font_size": 20})
    assert (sub.position, sub.font_size) == ((0.25, 0.75), 20)
    assert one(style={"position": "top"}).position == "top"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ({"en": "Hello"}, "text must be a string, not a dict of 1"),
        (["a", "b"], "text must be a string, not a list of 2"),
        (42, "text must be a string, not 42"),
        ("   ", "text is empty"),
        ("y " * 6000, "text has 12000 characters; at most 10000 fit a frame"),
    ],
)
def test_subtitle_clip_text_is_checked_like_a_subtitles_entry(text: Any, message: str) -> None:
    # A clip's text was drawn as its Python repr ({'en': 'Hello'}) or at any length (a million
    # characters took minutes for one frame); both places now refuse it alike, by name.
    clip = {"id": "c1", "start_time": 0, "end_time": 1, "text": text}
    track = {"id": "subs", "track_type": "Subtitle", "clips": [clip]}
    with pytest.raises(ValidationError) as info:
        load([], (track,))
    assert f"clip 'c1': {message}" in str(info.value)
    with pytest.raises(ValidationError) as info:
        load([entry("s1", text=text)])
    assert f"subtitle 's1': {message}" in str(info.value)


def test_subtitle_clip_text_in_custom_metadata_is_named_by_its_field() -> None:
    clip = {
        "id": "c1",
        "start_time": 0,
        "end_time": 1,
        "properties": {"custom_metadata": {"text": {"en": "Hello"}}},
    }
    track = {"id": "subs", "track_type": "Subtitle", "clips": [clip]}
    with pytest.raises(ValidationError) as info:
        load([], (track,))
    assert "clip 'c1': properties.custom_metadata.text must be a string" in str(info.value)


@pytest.mark.parametrize(
    ("char", "name"),
    [
        ("\x00", "U+0000 NULL"),
        ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("\u202d", "U+202D LEFT-TO-RIGHT OVERRIDE"),
        ("\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("\u2069", "U+2069 POP DIRECTIONAL ISOLATE"),
    ],
)
def test_hidden_characters_in_text_are_warned_of(char: str, name: str) -> None:
    """A NUL or a direction override passed validate silently (other controls are warned of)."""
    tl = load([entry("s", text=f"ev{char}il")])
    (warning,) = tl.warnings
    assert warning.startswith(f"subtitle 's': text holds {name} at character 3: ")
    clip = {**frontend_clip("t", 1.0, 2.0), "text": f"x{char}"}
    track = {"id": "st", "track_type": "Subtitle", "clips": [clip]}
    (warning,) = load([], (track,)).warnings
    assert warning.startswith(f"clip 't': text holds {name} at character 2: ")


def test_right_to_left_text_without_controls_is_not_warned_of() -> None:
    """Arabic and Hebrew need no direction controls: they draw right to left on their own."""
    assert load([entry("s", text="שלום مرحبا hello")]).warnings == ()

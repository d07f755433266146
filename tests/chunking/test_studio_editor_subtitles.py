"""Subtitle clips of the editor's documents as the editor's preview shows them: a caption left
blank draws nothing (and spoils no render), the editor's built-in subtitle styles keep their
shadow, and what is not drawn of them is said."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.loader import load_document
from chunking.timeline.model import Timeline
from tests.media import make_image


def with_captions(
    folder: Path, captions: list[dict[str, Any]], styles: list[dict[str, Any]] = ()
) -> Timeline:
    """A TimelineProject of one still and a subtitle track holding ``captions``, its resources
    holding the subtitle ``styles``."""
    make_image(folder / "still.png", (32, 18), (200, 100, 50, 255))
    for n, caption in enumerate(captions):
        caption.update(id=f"s{n}", type="subtitle", startTime=n, duration=1)
    still = {"id": "c0", "startTime": 0, "duration": 2,
             "mediaFile": {"id": "m", "path": "still.png", "isImage": True}}  # fmt: skip
    doc = {
        "id": "p",
        "sections": [],
        "globalTracks": [
            {"id": "v", "type": "video", "clips": [still]},
            {"id": "subs", "type": "subtitle", "clips": captions},
        ],
        "resources": {"subtitleStyles": list(styles)},
        "settings": {"resolution": {"width": 320, "height": 180}, "fps": 10},
    }
    return load_document(doc, str(folder))[1]


@pytest.mark.parametrize(("words", "why"), [(None, "null"), ("", "empty"), ("  ", "empty")])
def test_a_blank_caption_draws_nothing_and_the_rest_renders(
    tmp_path: Path, words: Any, why: str
) -> None:
    timeline = with_captions(tmp_path, [{"text": words}, {"text": "Hello"}])
    assert [s.text for s in timeline.subtitles] == ["Hello"]
    assert timeline.warnings == (f"clip 's0': its text is {why}: nothing is drawn",)


# Two of the editor's createDefaultSubtitleStyles(), which every new project carries.
MINIMAL = {
    "id": "st-min",
    "fontFamily": "Inter, system-ui, sans-serif",
    "fontSize": 24,
    "fontStyle": "normal",
    "color": "#ffffff",
    "textShadow": {"offsetX": 1, "offsetY": 3, "blur": 2, "color": "rgba(0, 0, 0, 0.8)"},
}
ELEGANT = {
    "id": "st-eleg",
    "fontFamily": "Georgia, Times, serif",
    "fontSize": 26,
    "fontStyle": "italic",
    "color": "#f8f8f2",
    "backgroundColor": "rgba(40, 42, 54, 0.9)",
    "strokeWidth": 0,
}


def test_a_built_in_styles_shadow_is_drawn_and_its_italics_said(tmp_path: Path) -> None:
    captions = [
        {"text": "a", "subtitleStyleId": "st-min"},
        {"text": "b", "subtitleStyleId": "st-eleg"},
    ]
    timeline = with_captions(tmp_path, captions, [MINIMAL, ELEGANT])
    minimal, elegant = timeline.subtitles
    assert (minimal.shadow_color, minimal.shadow_offset, minimal.shadow_blur) == (
        (0, 0, 0, 204),
        (1, 3),
        2,
    )
    assert elegant.font_family == "Georgia"
    assert timeline.warnings == (
        "clip 's1': subtitle style 'st-eleg': fontStyle 'italic' is not drawn; the text is upright",
    )


def test_css_colours_of_a_catalogue_style_are_read_as_css_writes_them(tmp_path: Path) -> None:
    # #ff0, #000 and a red shadow were dropped in silence: white text, no box, black shadow.
    css = {"color": "#ff0", "backgroundColor": "#000a", "textShadow": "2px 2px 4px #f00"}
    styles = [
        {"id": "short", "name": "Short hex", "style": css},
        {"id": "named", "name": "Named", "style": {"color": "gold", "background": "navy"}},
        {
            "id": "hsl",
            "name": "HSL",
            "style": {"color": "hsl(30, 100%, 50%)", "textShadow": "1px 1px hsl(240, 100%, 50%)"},
        },
    ]
    captions = [{"text": "a", "subtitleStyleId": s["id"]} for s in styles]
    timeline = with_captions(tmp_path, captions, styles)
    short, named, hsl = timeline.subtitles
    assert (short.color, short.background) == ((255, 255, 0, 255), (0, 0, 0, 170))
    assert (short.stroke_color, short.shadow_color) == ((255, 0, 0, 255), (255, 0, 0, 255))
    assert (named.color, named.background) == ((255, 215, 0, 255), (0, 0, 128, 255))
    assert (hsl.color, hsl.shadow_color) == ((255, 128, 0, 255), (0, 0, 255, 255))
    assert timeline.warnings == ()


def test_a_css_colour_that_cannot_be_read_is_a_warning_naming_style_and_property(
    tmp_path: Path,
) -> None:
    style = {
        "id": "odd",
        "name": "Odd",
        "style": {"color": "#ff00f", "fontSize": "30px", "textShadow": "1px 1px bluish"},
    }
    timeline = with_captions(tmp_path, [{"text": "a", "subtitleStyleId": "odd"}], [style])
    assert timeline.subtitles[0].color == (255, 255, 255, 255)  # the default draws
    assert timeline.warnings == (
        "clip 's0': subtitle style 'odd': style.color '#ff00f' is not a colour this renderer "
        "draws (CSS colours: #rgb, #rrggbb, names, rgb(), hsl()); the default is used",
        "clip 's0': subtitle style 'odd': style.textShadow '1px 1px bluish': no colour this "
        "renderer reads (CSS colours: #rgb, #rrggbb, names, rgb(), hsl()); the default is used",
    )


def test_a_captions_own_inline_style_overrides_its_style(tmp_path: Path) -> None:
    # SubtitleClip.style (SubtitleInlineStyle) is the clip's own look over its subtitleStyleId;
    # ``formatting`` is its older name, and ``style`` wins where both set a field.
    inline = {
        "color": "#ff0000",
        "fontSize": "40px",
        "strokeColor": "#00ff00",
        "strokeWidth": 5,
        "textShadow": "3px 4px 2px #0000ff",
        "maxWidth": 50,
        "letterSpacing": 2,
        "backgroundColor": "#000000",
        "backgroundOpacity": 0.5,
    }
    captions = [
        {"text": "own", "subtitleStyleId": "st-eleg", "style": inline},
        {"text": "old", "formatting": {"color": "#00ff00", "strokeWidth": 0}},
        {"text": "both", "formatting": {"color": "#00ff00"}, "style": {"color": "#0000ff"}},
        {"text": "plain", "subtitleStyleId": "st-eleg"},
    ]
    own, old, both, plain = with_captions(tmp_path, captions, [ELEGANT]).subtitles
    assert (own.color, own.stroke_color, own.outline) == ((255, 0, 0, 255), (0, 255, 0, 255), 5)
    assert (own.shadow_color, own.shadow_offset, own.shadow_blur) == (
        (0, 0, 255, 255),
        (3.0, 4.0),
        2.0,
    )
    assert (own.max_width, own.letter_spacing, own.background) == (0.5, 2.0, (0, 0, 0, 128))
    assert own.font_family == "Georgia"  # what the inline style leaves alone, the style sets
    assert own.font_size > plain.font_size
    assert (old.color, old.outline) == ((0, 255, 0, 255), 0)
    assert both.color == (0, 0, 255, 255)
    assert (plain.color, plain.outline) == ((248, 248, 242, 255), 0)


def test_a_styles_text_transform_changes_the_drawn_letters(tmp_path: Path) -> None:
    # The editor's catalogue style "cinematic-bold" (subtitle-styles.json) sets
    # textTransform uppercase in its CSS; a clip's inline style may set its own.
    bold = {"id": "cinematic-bold", "name": "Cinematic Bold",
            "style": {"fontFamily": "Impact, Arial Black, sans-serif", "fontSize": 28,
                      "color": "#ffffff", "textTransform": "uppercase"}}  # fmt: skip
    captions = [
        {"text": "the end, isn't it?", "subtitleStyleId": "cinematic-bold"},
        {"text": "(the end) isn't it", "style": {"textTransform": "capitalize"}},
        {"text": "Quiet Now", "formatting": {"textTransform": "lowercase"}},
        {
            "text": "as Written",
            "subtitleStyleId": "cinematic-bold",
            "style": {"textTransform": "none"},
        },
    ]
    drawn = [s.text for s in with_captions(tmp_path, captions, [bold]).subtitles]
    assert drawn == ["THE END, ISN'T IT?", "(The End) Isn't It", "quiet now", "as Written"]


def test_a_captions_entrance_and_exit_play_as_the_editor_shows_them(tmp_path: Path) -> None:
    # SubtitleAnimation: any of its types, its direction and delay; an exit plays at the end.
    captions = [
        {"text": "a", "animationIn": {"type": "slide", "direction": "bottom", "duration": 0.3,
                                      "delay": 0.2},
         "animationOut": {"type": "dissolve", "duration": 0.4}},
        {"text": "b", "animationIn": {"type": "bounce", "duration": 0.5},
         "animationOut": {"type": "shake", "duration": 0.3}},
        {"text": "c", "animationIn": {"type": "slide", "duration": 0.2, "delay": "soon",
                                      "direction": "diagonal"},
         "animationOut": {"type": "blink", "duration": 0.2}},
    ]  # fmt: skip
    timeline = with_captions(tmp_path, captions)
    drawn = [
        [(a.kind, a.start, a.end, a.direction) for a in s.animations] for s in timeline.subtitles
    ]
    assert drawn[0][0] == ("slide_in", 2, 5, "bottom")
    assert drawn[0][1][:3] == ("fade_out", 6, 10)
    assert [a[:3] for a in drawn[1]] == [("bounce", 10, 15), ("shake", 17, 20)]
    # What the preview cannot play is the converter's: no delay, its own default side.
    assert drawn[2][0] == ("slide_in", 20, 22, "right")
    assert drawn[2][1][:3] == ("blink", 28, 30)
    assert timeline.warnings == ()


def test_effects_applied_to_text_are_said_not_drawn(tmp_path: Path) -> None:
    blur = {"id": "ae-1", "effectId": "blur", "isEnabled": True}
    captions = [
        {"text": "a", "effects": [blur], "filters": [{"id": "f", "filterId": "warm"}]},
        {"text": "b", "effects": [{**blur, "isEnabled": False}]},
    ]
    timeline = with_captions(tmp_path, captions)
    assert [s.text for s in timeline.subtitles] == ["a", "b"]
    assert timeline.warnings == (
        "clip 's0': effects applied to text are not drawn (1 in effects)",
        "clip 's0': filters applied to text are not drawn (1 in filters)",
    )


def test_inline_css_this_renderer_cannot_read_is_said_and_the_style_used(tmp_path: Path) -> None:
    inline = {"fontSize": "large", "color": "var(--accent)", "lineHeight": "normal",
              "strokeColor": "currentColor", "letterSpacing": 3}  # fmt: skip
    captions = [{"text": "a", "subtitleStyleId": "st-min", "style": inline}]
    timeline = with_captions(tmp_path, captions, [MINIMAL])
    (sub,) = timeline.subtitles
    assert (sub.color, sub.letter_spacing) == ((255, 255, 255, 255), 3.0)
    assert timeline.warnings == tuple(
        f"clip 's0': style.{key} {value!r} is not a value this renderer reads; the style's is used"
        for key, value in inline.items()
        if key != "letterSpacing"
    )


@pytest.mark.parametrize(("given", "alpha"), [("half", 255), (1.5, 255), (-1, 0), (0.5, 128)])
def test_an_inline_box_opacity_is_read_as_the_preview_clamps_it(
    tmp_path: Path, given: Any, alpha: int
) -> None:
    inline = {"backgroundColor": "#000000", "backgroundOpacity": given}
    (sub,) = with_captions(tmp_path, [{"text": "a", "style": inline}]).subtitles
    assert sub.background == (0, 0, 0, alpha)


def test_inline_numbers_written_as_css_lengths_are_read(tmp_path: Path) -> None:
    inline = {"strokeWidth": "3px", "shadowX": "4px", "maxWidth": "60%", "shadowBlur": "soft"}
    timeline = with_captions(tmp_path, [{"text": "a", "style": inline}])
    (sub,) = timeline.subtitles
    assert (sub.outline, sub.shadow_offset[0], sub.max_width) == (3, 4.0, 0.6)
    assert timeline.warnings == (
        "clip 's0': style.shadowBlur 'soft' is not a value this renderer reads; the style's is "
        "used",
    )


def test_a_captions_fade_written_as_a_number_of_seconds_fades_it(tmp_path: Path) -> None:
    timeline = with_captions(tmp_path, [{"text": "a", "fadeIn": 0.3, "fadeOut": {"duration": 0.2}}])
    (sub,) = timeline.subtitles
    assert [(a.kind, a.start, a.end) for a in sub.animations] == [
        ("fade_in", 0, 3),
        ("fade_out", 8, 10),
    ]


@pytest.mark.parametrize(
    ("caption", "styles"),
    [
        # SubtitleClip.wordWrap, set by the subtitle editor's switch (subtitle-editor.tsx) ...
        ({"wordWrap": False}, []),
        # ... or SubtitleStyle.wordWrap (createSubtitleStyle), which the clip's own overrides.
        ({"subtitleStyleId": "one-line"}, [{"id": "one-line", "color": "#fff", "wordWrap": False}]),
    ],
)
def test_word_wrap_switched_off_is_said_not_silently_wrapped(
    tmp_path: Path, caption: dict[str, Any], styles: list[dict[str, Any]]
) -> None:
    """Timeline Studio (Chatman Media, MIT with Commons Clause): SubtitleClip and SubtitleStyle
    in src/features/timeline/types/timeline.ts. Neither its preview nor its export reads the
    switch; long lines here wrap at the caption's maxWidth, and that is now said."""
    timeline = with_captions(tmp_path, [{"text": "Hello", **caption}], styles)
    assert timeline.warnings == (
        "clip 's0': wordWrap false is not rendered: long lines wrap at its maxWidth",
    )
    assert (
        with_captions(tmp_path, [{"text": "Hi", **caption, "wordWrap": True}], styles).warnings
        == ()
    )

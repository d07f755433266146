"""Definitions an editor document carries in its resources, in the shapes the editor itself
writes them: music files (MusicFile ``filePath``), subtitle styles of the subtitle catalogue
(SubtitleStyleTemplate, CSS under ``style``), filters applied whose definition the document lost,
and a style template's per-clip customisations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.loader import load_document
from chunking.timeline.model import FileSource, Timeline
from common.errors import ValidationError
from tests.chunking.test_studio_editor import make_wav
from tests.media import make_image


def timeline_project(
    folder: Path,
    clips: list[dict[str, Any]],
    resources: dict[str, Any],
    music: list[dict[str, Any]] = (),
) -> Timeline:
    """A TimelineProject of a video track holding ``clips`` of one still and a music track
    holding ``music``, over ``resources``; loaded as the CLI loads it."""
    make_image(folder / "still.png", (32, 18), (200, 100, 50, 255))
    for n, clip in enumerate(clips):
        clip.setdefault("id", f"c{n}")
        clip.setdefault("mediaFile", {"id": "m", "path": "still.png", "isImage": True})
        clip.setdefault("startTime", float(n))
        clip.setdefault("duration", 1.0)
    tracks = [{"id": "v", "type": "video", "clips": clips}]
    if music:
        tracks.append({"id": "mu", "type": "music", "clips": list(music)})
    doc = {
        "id": "p",
        "name": "p",
        "sections": [{"id": "s", "tracks": tracks}],
        "resources": resources,
        "settings": {"resolution": {"width": 32, "height": 18}, "fps": 10},
    }
    return load_document(doc, str(folder))[1]


# -- music (resources.music) --------------------------------------------------------------------


def test_a_music_clip_plays_the_file_its_music_file_names(tmp_path: Path) -> None:
    # createMusicFile stores the file in ``filePath``; the music clip names it by mediaId only.
    make_wav(tmp_path / "song.wav")
    song = {"id": "music-1", "name": "Song", "filePath": "song.wav", "duration": 1}
    bed = {"id": "bed", "mediaId": "music-1", "startTime": 0, "duration": 1}
    timeline = timeline_project(tmp_path, [{}], {"music": [song]}, [bed])
    source = timeline.clip("bed").source
    assert isinstance(source, FileSource) and Path(source.path).name == "song.wav"


def test_a_music_clips_fade_written_as_a_number_fades_its_sound(tmp_path: Path) -> None:
    make_wav(tmp_path / "song.wav")
    song = {"id": "music-1", "name": "Song", "filePath": "song.wav", "duration": 1}
    bed = {"id": "bed", "mediaId": "music-1", "startTime": 0, "duration": 1, "fadeIn": 0.25,
           "fadeOut": {"duration": 0.5, "curve": "linear"}}  # fmt: skip
    timeline = timeline_project(tmp_path, [{}], {"music": [song]}, [bed])
    assert (timeline.clip("bed").fade_in, timeline.clip("bed").fade_out) == (0.25, 0.5)


def test_a_music_file_without_a_path_is_named_as_such(tmp_path: Path) -> None:
    song = {"id": "music-1", "name": "Song", "duration": 2}
    bed = {"id": "bed", "mediaId": "music-1", "startTime": 0, "duration": 1}
    with pytest.raises(ValidationError) as info:
        timeline_project(tmp_path, [{}], {"music": [song]}, [bed])
    assert info.value.problems == [
        "clip 'bed': no media path: media 'music-1' has no path in its media list"
    ]


# -- filters whose definition the document lost -------------------------------------------------


def test_a_filter_without_its_definition_is_built_from_its_application(tmp_path: Path) -> None:
    # What createAppliedFilter writes: customParams is the filter's whole parameter set. A
    # .tlsp saves the sequence's resources as {}, so the definition is gone.
    warm = {"temperature": 30, "saturation": 1.2, "brightness": 0.05}
    applied = {"id": "af", "filterId": "warm", "customParams": warm, "isEnabled": True}
    timeline = timeline_project(tmp_path, [{"filters": [applied]}], {})
    found = {e.kind: dict(e.params) for e in timeline.clip("c0").effects}
    assert found == {
        "whitebalance": {"temperature": 30},
        "saturation": {"saturation": 1.2},
        "brightness": {"brightness": 0.05},
    }
    assert timeline.warnings == ()


@pytest.mark.parametrize(
    ("applied", "why"),
    [
        ({}, "carries no values"),
        ({"customParams": {"glow": 2}}, "names no value a filter type is known by"),
    ],
)
def test_a_filter_that_cannot_be_rebuilt_is_said_and_the_clip_still_shown(
    tmp_path: Path, applied: dict[str, Any], why: str
) -> None:
    applied = {"id": "af", "filterId": "warm", "isEnabled": True, **applied}
    timeline = timeline_project(tmp_path, [{"filters": [applied]}], {})
    assert timeline.clip("c0").effects == ()
    assert timeline.warnings == (
        f"clip 'c0' filter 'warm': is not in the document's resources and its application "
        f"{why}; not rendered",
    )


def test_an_effect_without_its_definition_is_built_from_its_type_and_values(
    tmp_path: Path,
) -> None:
    applied = {"id": "ae", "effectId": "my-blur", "type": "blur", "customParams": {"radius": 5}}
    timeline = timeline_project(tmp_path, [{"effects": [applied]}], {})
    (blur,) = timeline.clip("c0").effects
    assert (blur.kind, dict(blur.params)) == ("blur", {"radius": 5})


# -- subtitle styles of the editor's subtitle catalogue ------------------------------------------


def subtitles_with(folder: Path, style: dict[str, Any]) -> Timeline:
    """A TimelineProject whose one subtitle clip names ``style`` (of its resources)."""
    sub = {"id": "s1", "type": "subtitle", "startTime": 0, "duration": 1, "text": "GOLD",
           "subtitleStyleId": style["id"]}  # fmt: skip
    make_image(folder / "still.png", (32, 18), (200, 100, 50, 255))
    doc = {
        "id": "p",
        "sections": [],
        "globalTracks": [
            {
                "id": "v",
                "type": "video",
                "clips": [
                    {
                        "id": "c0",
                        "startTime": 0,
                        "duration": 1,
                        "mediaFile": {"id": "m", "path": "still.png", "isImage": True},
                    }
                ],
            },
            {"id": "subs", "type": "subtitle", "clips": [sub]},
        ],  # fmt: skip
        "resources": {"subtitleStyles": [style]},
        "settings": {"resolution": {"width": 320, "height": 180}, "fps": 10},
    }
    return load_document(doc, str(folder))[1]


def test_a_subtitle_catalogue_style_is_drawn_from_its_css(tmp_path: Path) -> None:
    # The shape the editor's Subtitles browser adds as a resource (SubtitleStyleTemplate).
    gold = {
        "id": "cinematic-gold",
        "name": "Gold",
        "category": "cinematic",
        "labels": {"en": "Gold"},
        "style": {
            "fontFamily": "Georgia, serif",
            "fontSize": "60px",
            "fontWeight": "bold",
            "color": "#FFD700",
            "backgroundColor": "rgba(0,0,128,0.9)",
            "padding": "10px 20px",
            "borderRadius": "12px",
            "lineHeight": "1.5",
            "textShadow": "2px 3px 5px #202020",
        },
    }
    timeline = subtitles_with(tmp_path, gold)
    (sub,) = timeline.subtitles
    assert (sub.font_family, sub.font_size, sub.font_weight) == ("Georgia", 60, 700)
    assert sub.color == (255, 215, 0, 255)
    assert sub.background is not None and sub.background[:3] == (0, 0, 128)
    assert sub.padding == (10, 20, 10, 20) and sub.border_radius == 12
    assert sub.line_height == 1.5
    assert (sub.shadow_color, sub.shadow_offset, sub.shadow_blur) == (
        (32, 32, 32, 255),
        (2, 3),
        5,
    )
    assert timeline.warnings == ()


def test_a_subtitle_style_with_nothing_readable_is_said(tmp_path: Path) -> None:
    odd = {"id": "odd", "name": "Odd", "style": {"fontSize": "large", "color": "var(--gold)"}}
    timeline = subtitles_with(tmp_path, odd)
    (sub,) = timeline.subtitles
    assert sub.color == (255, 255, 255, 255)
    assert timeline.warnings == (
        "clip 's1': subtitle style 'odd' sets no font, colour, background or box this renderer "
        "can read; the default is used",
    )


# -- a style template's customisations ----------------------------------------------------------

LOWER_THIRD = {
    "id": "lower-third-basic",
    "name": {"en": "Lower third"},
    "category": "lower-third",
    "style": "modern",
    "duration": 1,
    "elements": [
        {
            "id": "el-name",
            "type": "text",
            "position": {"x": 10, "y": 75},
            "size": {"width": 80, "height": 15},
            "timing": {"start": 0, "end": 1},
            "properties": {"text": "YOUR NAME HERE", "fontSize": 12, "color": "#ffffff"},
        }
    ],
}


def test_a_style_templates_customised_text_and_colour_are_drawn(tmp_path: Path) -> None:
    # The editor's AppliedStyleTemplate: customizations.texts/colors are element id -> value.
    applied = {
        "id": "ast-1",
        "styleTemplateId": "lower-third-basic",
        "customizations": {"texts": {"el-name": "Jane Doe"}, "colors": {"el-name": "#ffff00"}},
        "isEnabled": True,
    }
    plain = {"id": "ast-2", "styleTemplateId": "lower-third-basic", "isEnabled": True}
    timeline = timeline_project(
        tmp_path,
        [{"styleTemplate": applied}, {"styleTemplate": plain}],
        {"styleTemplates": [LOWER_THIRD]},
    )
    texts = sorted((s.start, s.text, s.color) for s in timeline.subtitles)
    assert texts == [(0, "Jane Doe", (255, 255, 0, 255)), (10, "YOUR NAME HERE", (255,) * 4)]
    assert timeline.warnings == ()


def test_customisations_that_cannot_be_applied_are_said(tmp_path: Path) -> None:
    applied = {
        "styleTemplateId": "lower-third-basic",
        "customizations": {"texts": {"el-gone": "Jane"}, "fonts": {"el-name": "Georgia"}},
    }
    timeline = timeline_project(
        tmp_path, [{"styleTemplate": applied}], {"styleTemplates": [LOWER_THIRD]}
    )
    assert [s.text for s in timeline.subtitles] == ["YOUR NAME HERE"]
    here = "clip 'c0' style template 'lower-third-basic'"
    assert timeline.warnings == (
        f"{here}: customizations.fonts is not rendered; the template's own values are",
        f"{here}: customizations.texts 'el-gone' names no element of it; ignored",
    )

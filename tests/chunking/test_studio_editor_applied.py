"""What the editor applies to a clip: effects switched off, parameters edited in the effect
panel, definitions in the current editor's BaseEffect shape, transitions' edited direction, and
clip settings that are not rendered (each a warning, never silently dropped)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.loader import load_document
from chunking.timeline.model import Timeline
from tests.media import make_image

BRIGHTNESS = {"id": "brightness", "name": "Brightness", "type": "brightness"}


def timeline_project(
    folder: Path, clips: list[dict[str, Any]], effects: list[dict[str, Any]] = ()
) -> Timeline:
    """A TimelineProject of one video track holding ``clips`` of one still, as the editor
    writes it; loaded as the CLI loads it."""
    make_image(folder / "still.png", (32, 18), (200, 100, 50, 255))
    for n, clip in enumerate(clips):
        clip.setdefault("id", f"c{n}")
        clip.setdefault("mediaFile", {"id": "m", "path": "still.png", "isImage": True})
        clip.setdefault("startTime", float(n))
        clip.setdefault("duration", 1.0)
    doc = {
        "id": "p",
        "name": "p",
        "sections": [{"id": "s", "tracks": [{"id": "t", "type": "video", "clips": clips}]}],
        "resources": {"effects": list(effects), "transitions": []},
        "settings": {"resolution": {"width": 32, "height": 18}, "fps": 10},
    }
    return load_document(doc, str(folder))[1]


def params_of(timeline: Timeline) -> list[dict[str, Any]]:
    """The parameters of each effect on the first clip, in order."""
    return [dict(e.params) for e in timeline.clip("c0").effects]


@pytest.mark.parametrize("flag", ["enabled", "isEnabled"])
def test_an_effect_switched_off_in_the_editor_is_not_rendered(tmp_path: Path, flag: str) -> None:
    applied = {"id": "a", "effectId": "brightness", flag: False}
    timeline = timeline_project(tmp_path, [{"effects": [applied]}], [BRIGHTNESS])
    assert timeline.clip("c0").effects == ()


@pytest.mark.parametrize(
    ("definition", "applied", "value"),
    [
        # The effect panel's edits land in the application's ``parameters`` ...
        ({"params": {"intensity": 1.2}}, {"parameters": {"intensity": 1.5}}, 1.5),
        # ... and win over what was set when it was applied.
        ({}, {"customParams": {"intensity": 1.1}, "parameters": {"intensity": 1.5}}, 1.5),
        # The current editor's BaseEffect definition: currentValue, else defaultValue.
        ({"parameters": [{"id": "intensity", "defaultValue": 1.5}]}, {}, 1.5),
        (
            {"parameters": [{"id": "intensity", "defaultValue": 1.0, "currentValue": 1.5}]},
            {},
            1.5,
        ),
        # The EffectParameter type's current value is ``value``.
        ({"parameters": [{"id": "intensity", "defaultValue": 1.0, "value": 1.5}]}, {}, 1.5),
    ],
)
def test_the_values_the_user_set_reach_the_effect(
    tmp_path: Path, definition: dict[str, Any], applied: dict[str, Any], value: float
) -> None:
    applied = {"id": "a", "effectId": "brightness", "enabled": True, **applied}
    timeline = timeline_project(tmp_path, [{"effects": [applied]}], [{**BRIGHTNESS, **definition}])
    assert params_of(timeline) == [{"value": value}]


def test_a_transitions_edited_direction_is_rendered(tmp_path: Path) -> None:
    wipe = {"id": "w", "transitionId": "wipe-horizontal", "type": "out", "duration": 0.4}
    kinds = []
    for edited in ({}, {"parameters": {"direction": "left"}}, {"parameters": {"direction": "up"}}):
        clips = [{"transitions": [{**wipe, **edited}]}, {}]
        (transition,) = timeline_project(tmp_path, clips).transitions
        kinds.append(transition.kind)
    # The catalogue's "right" is the side the picture comes from (its export's xfade wipeleft),
    # so "left" enters from the left; up and down are the way it moves.
    assert kinds == ["wipe_left", "wipe_right", "wipe_up"]


def test_clip_settings_that_are_not_rendered_are_each_named(tmp_path: Path) -> None:
    clip = {
        "fadeIn": {"duration": 1.0, "type": "linear"},
        "fadeOut": {"duration": 0.5},
        "opacityKeyframes": [{"time": 0, "opacity": 0}, {"time": 1, "opacity": 1}],
        "speedRamping": {"enabled": True},
        "audioOffset": 0.2,
    }
    timeline = timeline_project(tmp_path, [clip])
    # The keys lie inside the fade-in's span (the fade's own samples): drawn by the fade.
    assert timeline.clip("c0").opacity_keys == ()
    assert timeline.warnings == (
        "clip 'c0': audioOffset 0.2 s is not rendered",
        "clip 'c0': speed ramping (speedRamping) has no keyframes; the clip plays at its speed",
    )


def test_a_clips_picture_fades_are_its_pictures_not_its_sounds(tmp_path: Path) -> None:
    # As the editor's VideoFadeService writes them: a duration in seconds and a curve.
    clip = {"fadeIn": {"duration": 0.4, "type": "linear"}, "fadeOut": {"duration": 0.25}}
    timeline = timeline_project(tmp_path, [clip])
    faded = timeline.clip("c0")
    assert (faded.picture_fade_in, faded.picture_fade_out) == (0.4, 0.25)
    assert (faded.fade_in, faded.fade_out) == (0.0, 0.0)  # the sound does not fade
    assert timeline.warnings == ()


def test_a_picture_fade_curve_other_than_linear_is_kept(tmp_path: Path) -> None:
    clip = {"fadeOut": {"duration": 0.5, "type": "ease-in"}, "fadeIn": {"duration": 0}}
    timeline = timeline_project(tmp_path, [clip])
    assert timeline.clip("c0").picture_fade_out == 0.5
    assert timeline.clip("c0").picture_fade_out_curve == "ease-in"
    assert timeline.clip("c0").picture_fade_in == 0.0
    assert timeline.warnings == ()


def test_a_subtitle_style_the_document_does_not_carry_is_named(tmp_path: Path) -> None:
    subtitle = {
        "id": "s1",
        "startTime": 0,
        "duration": 1,
        "text": "Hello",
        "subtitleStyleId": "cinematic",  # neither the document's nor one of the editor's
    }
    doc = {
        "id": "p",
        "name": "p",
        "sections": [{"id": "s", "tracks": [{"id": "t", "type": "subtitle", "clips": [subtitle]}]}],
        "settings": {"resolution": {"width": 32, "height": 18}, "fps": 10},
    }
    timeline = load_document(doc, str(tmp_path))[1]
    assert timeline.warnings == (
        "clip 's1': subtitle style 'cinematic' is neither in the document's resources nor one of "
        "the editor's built-in styles; the default is used",
    )


def test_a_built_in_subtitle_style_the_document_does_not_carry_is_drawn(tmp_path: Path) -> None:
    """The editor keeps its subtitle catalogue in the app: a project names its styles by id."""
    clips = [{"subtitleStyleId": "cinematic-bold"}, {"subtitleStyleId": "minimal-background"}]
    timeline = subtitles_of(tmp_path, clips, size=(320, 180))
    bold, boxed = timeline.subtitles
    assert timeline.warnings == ()
    assert (bold.font_family, bold.font_size, bold.font_weight) == ("Impact", 28, 700)
    assert bold.text == "LINE 0" and bold.letter_spacing == 2  # textTransform: uppercase
    assert (boxed.font_family, boxed.font_size, boxed.background) == ("Roboto", 20, (0, 0, 0, 153))
    assert boxed.padding == (8, 16, 8, 16) and boxed.border_radius == 4


def test_the_editors_default_clip_position_is_no_move_and_a_moved_one_moves(
    tmp_path: Path,
) -> None:
    """createTimelineClip writes a centred position on every clip: --strict must not refuse it."""
    centred = {"x": 0.5, "y": 0.5, "width": 1, "height": 1, "rotation": 0, "scaleX": 1}
    moved = {**centred, "x": 0.25}
    timeline = timeline_project(tmp_path, [{"position": centred}, {"position": moved}])
    assert timeline.warnings == ()
    assert timeline.clip("c0").transform.is_identity()
    assert timeline.clip("c1").transform.position_x == -8  # a quarter of the 32-pixel frame


def test_a_clip_muted_in_the_editor_is_silent(tmp_path: Path) -> None:
    timeline = timeline_project(tmp_path, [{"isMuted": True}, {"isMuted": False}, {}])
    assert [c.muted for c in timeline.tracks[0].clips] == [True, False, False]


def subtitles_of(
    tmp_path: Path,
    clips: list[dict[str, Any]],
    resources: dict[str, Any] | None = None,
    size: tuple[int, int] = (32, 18),
) -> Timeline:
    """A TimelineProject of one subtitle track holding ``clips``, with these ``resources``."""
    for n, clip in enumerate(clips):
        clip.update(id=f"s{n}", startTime=n, duration=1, text=f"line {n}")
    doc = {
        "id": "p",
        "name": "p",
        "sections": [{"id": "s", "tracks": [{"id": "t", "type": "subtitle", "clips": clips}]}],
        "resources": resources or {},
        "settings": {"resolution": {"width": size[0], "height": size[1]}, "fps": 10},
    }
    return load_document(doc, str(tmp_path))[1]


def test_a_subtitle_switched_off_is_not_drawn(tmp_path: Path) -> None:
    timeline = subtitles_of(tmp_path, [{"enabled": False}, {"enabled": True}, {}])
    assert [s.id for s in timeline.subtitles] == ["s1", "s2"]


@pytest.mark.parametrize(
    ("formatting", "weight"),
    [
        ({"fontWeight": "bold"}, 700),
        ({"fontWeight": 600}, 600),
        ({"fontWeight": "800"}, 800),
        ({"fontWeight": "lighter"}, 300),
        ({"fontWeight": "normal"}, 400),
        ({"fontWeight": "semi-bold"}, 600),
        ({"bold": True}, 700),  # older files
        ({}, 400),
    ],
)
def test_a_subtitles_font_weight_is_the_editors(
    tmp_path: Path, formatting: dict[str, Any], weight: int
) -> None:
    (subtitle,) = subtitles_of(tmp_path, [{"formatting": formatting}]).subtitles
    assert subtitle.font_weight == weight


def test_a_subtitles_opacity_is_rendered(tmp_path: Path) -> None:
    faint, solid = subtitles_of(tmp_path, [{"opacity": 0.3}, {}]).subtitles
    assert (faint.opacity, solid.opacity) == (0.3, 1.0)


@pytest.mark.parametrize(
    ("effect", "params"),
    [
        ("brightness", {"value": 1.2}),
        ("contrast", {"value": 1.5}),
        ("sepia", {"intensity": 0.8}),
        ("vignette", {"intensity": 0.3, "radius": 0.8}),
        ("grayscale", {}),
        # effects.json's current effects, beyond types.ts's union
        ("pixelate", {"pixelSize": 4.0}),
        ("glitch", {"intensity": 50.0}),
        ("motion-blur", {"radius": 2.0, "angle": 180.0}),
        ("edge-enhance", {"intensity": 0.5}),
        ("emboss", {"intensity": 0.8}),
        ("solarize", {"threshold": 0.5}),
        ("zoom-blur", {"intensity": 2.0}),
        ("hologram", {"intensity": 0.5}),
        ("exposure", {"exposure": 0.0}),
    ],
)
def test_an_effect_whose_definition_the_document_lost_has_the_editors_strength(
    tmp_path: Path, effect: str, params: dict[str, Any]
) -> None:
    """A .tlsp saves a sequence's resources as {}: the editor's catalogue still defines them."""
    timeline = timeline_project(tmp_path, [{"effects": [{"effectId": effect}]}])
    assert params_of(timeline) == [params] and timeline.warnings == ()


BRIGHT = {
    "id": "style-bright",
    "name": "Bright",
    "fontFamily": "Inter, system-ui, sans-serif",
    "fontSize": 28,
    "fontWeight": "bold",
    "color": "#ffeb3b",
    "backgroundColor": "rgba(0, 0, 0, 0.8)",
    "strokeWidth": 0,
    "defaultPosition": {"alignment": "top-center", "marginX": 0, "marginY": 10},
    "padding": {"top": 4, "right": 6, "bottom": 4, "left": 6},
    "borderRadius": 8,
    "maxWidth": 60,
    "lineHeight": 1.4,
}


def test_a_subtitle_style_of_the_documents_resources_is_drawn(tmp_path: Path) -> None:
    """Every new project carries the editor's built-in styles; a clip names one by id."""
    clips = [{"subtitleStyleId": "style-bright"}, {"subtitleStyleId": "style-bright"}]
    clips[1]["formatting"] = {"color": "#ff0000", "fontWeight": 400}  # the clip's own wins
    timeline = subtitles_of(tmp_path, clips, {"subtitleStyles": [BRIGHT]}, size=(320, 180))
    styled, own = timeline.subtitles
    assert timeline.warnings == ()
    assert (styled.font_family, styled.font_size, styled.font_weight) == ("Inter", 28, 700)
    assert styled.color == (255, 235, 59, 255) and styled.background == (0, 0, 0, 204)
    assert styled.outline == 0 and styled.padding == (4, 6, 4, 6) and styled.max_width == 0.6
    assert styled.position[1] < 0.2  # near the top: the style's default position
    assert (own.color, own.font_weight) == ((255, 0, 0, 255), 400)


def test_an_applied_effects_opacity_mixes_it_and_its_other_extras_are_named(
    tmp_path: Path,
) -> None:
    invert = {"id": "inv", "name": "Invert", "type": "invert"}
    applied = [
        {"id": "a", "effectId": "inv", "opacity": 0.3},
        {"id": "b", "effectId": "inv", "masks": [{"type": "rectangle"}], "blendMode": "multiply",
         "keyframes": {"intensity": [{"time": 0, "value": 0}]}},
    ]  # fmt: skip
    timeline = timeline_project(tmp_path, [{"effects": applied}], [invert])
    mixed, whole = timeline.clip("c0").effects
    assert (mixed.intensity, whole.intensity) == (0.3, 1.0)
    assert [w for w in timeline.warnings if "effect 'inv'" in w] == [
        "clip 'c0' effect 'inv': masks are not rendered; it applies to the whole frame",
        "clip 'c0' effect 'inv': keyframes are not rendered; its fixed parameters are",
        "clip 'c0' effect 'inv': blend mode 'multiply' is not rendered; it is applied normally",
    ]


def test_maintain_pitch_keeps_a_faster_clips_pitch(tmp_path: Path) -> None:
    timeline = timeline_project(
        tmp_path,
        [{"speed": 2, "maintainPitch": True}, {"speed": 2}, {"speed": 1, "maintainPitch": True}],
    )
    kept, plain, normal = timeline.tracks[0].clips
    (pitch,) = kept.effects
    assert (pitch.kind, dict(pitch.params)) == ("audiopitch", {"ratio": 0.5})
    assert plain.effects == () and normal.effects == ()


def music_track(tmp_path: Path, clip: dict[str, Any]) -> Timeline:
    """A TimelineProject of one music track holding one clip of a WAV file."""
    from tests.chunking.test_studio_editor import make_wav

    make_wav(tmp_path / "tone.wav", seconds=2.0)
    clip = {"id": "m", "startTime": 0, "duration": 2,
            "mediaFile": {"id": "w", "path": "tone.wav"}, **clip}  # fmt: skip
    doc = {
        "id": "p",
        "name": "p",
        "sections": [{"id": "s", "tracks": [{"id": "t", "type": "music", "clips": [clip]}]}],
        "resources": {},
        "settings": {"resolution": {"width": 32, "height": 18}, "fps": 10},
    }
    return load_document(doc, str(tmp_path))[1]


def test_a_music_clips_fades_are_its_sounds(tmp_path: Path) -> None:
    timeline = music_track(tmp_path, {"fadeIn": {"duration": 1, "curve": "linear"},
                                      "fadeOut": {"duration": 0.5}})  # fmt: skip
    (clip,) = timeline.tracks[0].clips
    assert (clip.fade_in, clip.fade_out) == (1.0, 0.5)
    assert not any("fade" in w for w in timeline.warnings)


def test_a_music_clips_fade_curve_is_named_and_faded_linearly(tmp_path: Path) -> None:
    """MusicClip's fadeIn/fadeOut ``curve`` ("linear" | "exponential" | "logarithmic",
    src/features/timeline/types/timeline.ts of Timeline Studio, Chatman Media, MIT with Commons
    Clause): the mixer's sound fades are linear; the curve was dropped without a word."""
    fades = {
        "fadeIn": {"duration": 1, "curve": "exponential"},
        "fadeOut": {"duration": 0.5, "curve": "logarithmic"},
    }
    timeline = music_track(tmp_path, fades)
    (clip,) = timeline.tracks[0].clips
    assert (clip.fade_in, clip.fade_out) == (1.0, 0.5)
    assert timeline.warnings == (
        "clip 'm': the sound's fadeIn curve 'exponential' is not rendered; it fades linearly",
        "clip 'm': the sound's fadeOut curve 'logarithmic' is not rendered; it fades linearly",
    )


def test_a_music_clips_unrendered_sound_settings_are_named(tmp_path: Path) -> None:
    timeline = music_track(
        tmp_path, {"equalizer": {"bass": 1, "mid": 0, "treble": 0}, "reverb": 0, "compression": 0.9}
    )
    assert [w for w in timeline.warnings if "music clip" in w] == [
        "clip 'm': the music clip's equalizer is not rendered (dry)",
        "clip 'm': the music clip's compression is not rendered (dry)",
    ]


def test_a_titles_fades_animate_it_and_its_keyframes_are_named(tmp_path: Path) -> None:
    timeline = subtitles_of(
        tmp_path,
        [{"fadeIn": {"duration": 0.5}, "fadeOut": {"duration": 0.3},
          "opacityKeyframes": [{"time": 0, "opacity": 0}]}],
    )  # fmt: skip
    (title,) = timeline.subtitles
    assert [(a.kind, a.start, a.end) for a in title.animations] == [
        ("fade_in", 0, 5),
        ("fade_out", 7, 10),
    ]
    assert timeline.warnings == (
        "clip 's0': animation of opacity (opacityKeyframes) is not rendered; the fixed values are",
    )


def test_timeline_transitions_join_the_clips_they_name(tmp_path: Path) -> None:
    make_image(tmp_path / "still.png", (32, 18), (200, 100, 50, 255))
    still = {"id": "m", "path": "still.png", "isImage": True}
    clips = [
        {"id": "a", "startTime": 0, "duration": 1, "mediaFile": still},
        {"id": "b", "startTime": 1, "duration": 1, "mediaFile": still},
    ]
    track = {"id": "t", "type": "video", "clips": clips, "transitions": ["tt1", "gone"]}
    doc = {
        "id": "p",
        "name": "p",
        "sections": [{"id": "s", "tracks": [track]}],
        "resources": {"timelineTransitions": [
            {"id": "tt1", "type": "fade", "fromClipId": "a", "toClipId": "b", "startTime": 0.5,
             "duration": 1},
        ]},
        "settings": {"resolution": {"width": 32, "height": 18}, "fps": 10},
    }  # fmt: skip
    timeline = load_document(doc, str(tmp_path))[1]
    (dissolve,) = timeline.transitions
    assert (dissolve.from_clip, dissolve.to_clip, dissolve.start, dissolve.end) == ("a", "b", 5, 15)
    assert timeline.warnings == (
        "track 't' transition 'gone': is not in resources.timelineTransitions; not rendered",
        "transition 'tt1': starts clip 'b' 5 frames before its media (it begins 5 frames early, "
        "source_start 0s); the first frame is held",
    )


def test_effects_that_could_never_show_are_named_not_fatal(tmp_path: Path) -> None:
    invert = {"id": "inv", "name": "Invert", "type": "invert"}
    applied = [
        {"id": "a", "effectId": "inv", "startTime": 0, "duration": 0},
        {"id": "b", "effectId": "inv", "startTime": 5, "duration": 1},  # the clip lasts 1 s
        {"id": "c", "effectId": "inv", "startTime": 0.5, "duration": 0.2},
    ]
    timeline = timeline_project(tmp_path, [{"effects": applied}], [invert])
    (shown,) = timeline.clip("c0").effects
    assert (shown.start, shown.end) == (5, 7)
    assert [w for w in timeline.warnings if "effect 'inv'" in w] == [
        "clip 'c0': effect 'inv' lasts 0 s; not applied",
        "clip 'c0': effect 'inv' starts after the clip's end; never shown",
    ]


def test_a_text_clip_on_a_video_track_is_drawn_as_text(tmp_path: Path) -> None:
    """createSubtitleClip's clip dropped on a video track refused the whole render ("no media
    path")."""
    text_clip = {"id": "t", "type": "subtitle", "text": "HELLO", "mediaId": "subtitle-1733",
                 "startTime": 1.0, "duration": 1.0}  # fmt: skip
    timeline = timeline_project(tmp_path, [{}, text_clip])
    assert [c.id for c in timeline.tracks[0].clips] == ["c0"]
    (title,) = timeline.subtitles
    assert (title.text, title.start, title.end) == ("HELLO", 10, 20)


def test_a_built_in_style_template_the_document_does_not_carry_is_drawn(tmp_path: Path) -> None:
    """A .tlsp saves resources as {}: the editor's own style templates are still drawn, with
    what the user typed for the clip (it refused the whole project: 'not in style_templates[]')."""
    applied = {"styleTemplateId": "modern-intro-1",
               "customizations": {"texts": {"title-text": "Hello"}}}  # fmt: skip
    timeline = timeline_project(tmp_path, [{"duration": 3.0, "styleTemplate": applied}])
    assert [s.text for s in timeline.subtitles] == ["Hello", "Ваш подзаголовок"]
    assert timeline.warnings == ()


def test_a_subtitle_styles_css_that_is_not_drawn_is_named_and_its_opacity_is(
    tmp_path: Path,
) -> None:
    faint = {"id": "faint", "name": "Faint", "style": {"color": "#ffffff", "opacity": 0.5}}
    clips = [{"subtitleStyleId": "animated-typewriter"},
             {"subtitleStyleId": "faint", "opacity": 0.8}]  # fmt: skip
    timeline = subtitles_of(tmp_path, clips, {"subtitleStyles": [faint]}, size=(320, 180))
    assert timeline.subtitles[1].opacity == pytest.approx(0.4)
    assert timeline.warnings == (
        "clip 's0': subtitle style 'animated-typewriter': style.animation 'typewriter 2s "
        "steps(40) infinite' is not drawn; the text is drawn still (its clip's "
        "animationIn/animationOut are drawn)",
        "clip 's0': subtitle style 'animated-typewriter': style.textAlign 'left' is not drawn; "
        "lines are centred",
    )

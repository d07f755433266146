"""A ProjectSchema as the editor's serde writes it (every field, externally tagged enums, the
defaults filled in) loads without spurious warnings and maps each field; export settings follow
the editor's renderer (quality to CRF, codec from format, which frame size and rate win)."""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.export import quality_crf
from chunking.timeline.loader import load
from chunking.timeline.model import ColorCorrection, Crop, Transform
from chunking.timeline.studio import load_project
from common.errors import ValidationError
from tests.media import make_video, project, solid, video_track

SAMPLE = Path(__file__).parents[1] / "data" / "timeline-studio" / "serde-project.json"


@pytest.fixture(scope="module")
def serde_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample project beside two tiny generated videos."""
    root = tmp_path_factory.mktemp("serde")
    (root / "media").mkdir()
    make_video(root / "media" / "a.mp4", frames=30, size=(64, 36))
    make_video(root / "media" / "b.mp4", frames=60, size=(64, 36))
    shutil.copy(SAMPLE, root / "project.json")
    return root


def test_serde_project_loads_with_only_its_held_frames_warned(serde_dir: Path) -> None:
    tl = load(str(serde_dir / "project.json"))
    # Clip a's out point is the end of its media: the fade runs past it on a held frame.
    assert tl.warnings == (
        "transition 'tr-fade': runs clip 'a' 6 frames past its media (it ends 6 frames late, "
        "source_end 1s); the last frame is held",
    )
    assert (tl.name, tl.fps, tl.width, tl.height, tl.frames) == ("Serde project", 30, 320, 180, 60)
    a, b = tl.tracks[0].clips
    assert (a.start, a.end, b.start, b.end, b.source_start, b.source_end) == (
        0,
        30,
        30,
        60,
        0.5,
        1.5,
    )
    assert b.opacity == 0.75 and a.audio_stream == 1
    assert a.crop == Crop(2, 4, 6, 8)
    assert a.transform == Transform(0.5, 0.5, 40.0, -20.0, 5.0, 0.5, 0.5)
    assert a.color == ColorCorrection(0.1, 1.2, 0.8, 10.0, 1.1, -0.2, 0.3, 0.05, -0.1)
    blur, saturation, contrast = a.effects
    assert (blur.kind, dict(blur.params), blur.start, blur.end) == ("blur", {"radius": 3.0}, 8, 23)
    assert (saturation.kind, dict(saturation.params), saturation.intensity) == (
        "saturation",
        {"saturation": 1.4},
        0.8,
    )
    assert (contrast.kind, dict(contrast.params), contrast.intensity) == (
        "contrast",
        {"contrast": 1.1},
        0.8,
    )
    music = tl.tracks[1]
    assert (music.volume, music.clips[0].end) == (0.5, 60)
    # One transition naming no clips and one cut: placed on that cut, 12 frames centred on it.
    (fade,) = tl.transitions
    assert (fade.kind, fade.from_clip, fade.to_clip, fade.start, fade.end) == (
        "dissolve",
        "a",
        "b",
        24,
        36,
    )
    (sub,) = tl.subtitles
    assert (sub.text, sub.start, sub.end, sub.font_size, sub.font_family) == (
        "Hello",
        6,
        54,
        24,
        "Arial",
    )
    # Relative Center/Bottom: the editor's renderer puts the text's bottom 50 px above the edge.
    assert sub.position == (0.5, 130 / 180) and sub.anchor == (0.5, 1.0)
    assert (sub.outline, sub.stroke_color, sub.shadow_color, sub.shadow_blur) == (
        2,
        (0, 0, 0, 255),
        (0, 0, 0, 255),
        4.0,
    )
    assert (sub.padding, sub.border_radius, sub.line_height, sub.max_width) == (
        (8.0, 12.0, 8.0, 12.0),
        4.0,
        1.2,
        0.8,
    )
    assert sub.background is None
    assert [(x.kind, x.start, x.end, x.easing) for x in sub.animations] == [
        ("fade_in", 6, 15, "ease_in_out")
    ]
    export = tl.export
    assert (export.container, export.codec, export.crf, export.bitrate) == ("mp4", "h264", 23, None)
    assert (export.keyframe_interval, export.b_frames, export.preset) == (60, 2, "medium")
    assert export.hardware_acceleration and export.audio_bitrate == 192_000
    assert all(c.cell is None for t in tl.tracks for c in t.clips)


@pytest.mark.parametrize(
    ("quality", "codec", "crf"),
    [(100, "h264", 18), (85, "h264", 23), (50, "h264", 35), (0, "h264", 51), (85, "hevc", 28)],
)
def test_numeric_quality_is_the_editors_crf(quality: int, codec: str, crf: int) -> None:
    assert quality_crf(quality, codec) == crf


@pytest.mark.parametrize(
    ("word", "codec", "crf"),
    [("normal", "h264", 27), ("good", "h264", 23), ("best", "h264", 20), ("good", "hevc", 28)],
)
def test_the_export_dialogs_quality_words_are_the_editors_numbers(
    word: str, codec: str, crf: int
) -> None:
    """The dialog's "normal", "good" and "best" are 75, 85 and 95 to the editor (its
    qualityToNumber) and so CRF 27, 23 and 20 for h264; "good" encoded at CRF 20 and "best" at
    16, files far larger than the editor's for the same choice."""
    export = _export({"format": "Mp4", "codec": codec, "quality": word}).export
    assert export.crf == crf == quality_crf({"normal": 75, "good": 85, "best": 95}[word], codec)


def test_quality_to_crf_is_monotonic_and_100_is_best() -> None:
    for codec in ("h264", "hevc", "av1", "vp9"):
        crfs = [quality_crf(q, codec) for q in range(101)]
        assert crfs == sorted(crfs, reverse=True)
        assert crfs[100] < crfs[85] < crfs[0]


def _export(export: dict[str, Any], **timeline: Any) -> Any:
    doc = project([video_track("v", [{"id": "c", "start_time": 0, "end_time": 1, **solid("red")}])])
    doc["settings"] = {"export": export}
    doc["timeline"].update(timeline)
    return load_project(doc, ".")


@pytest.mark.parametrize(
    ("fmt", "container", "codec"),
    [
        ("Mp4", "mp4", "h264"),
        ("Mov", "mov", "h264"),
        ("Mkv", "mkv", "hevc"),
        ("WebM", "webm", "vp9"),
        ({"Custom": "matroska"}, "mkv", "hevc"),
    ],
)
def test_codec_follows_the_format_as_the_editor_picks_it(
    fmt: Any, container: str, codec: str
) -> None:
    export = _export({"format": fmt, "quality": 85}).export
    assert (export.container, export.codec) == (container, codec)


@pytest.mark.parametrize("fmt", ["Avi", "Gif"])
def test_formats_the_renderer_cannot_write_are_refused(fmt: str) -> None:
    with pytest.raises(ValidationError, match=f"format '{fmt.lower()}' is not one of mp4"):
        _export({"format": fmt})


def test_the_editors_default_bitrate_beside_quality_is_not_a_bitrate() -> None:
    tl = _export({"quality": 95, "video_bitrate": 8000})
    assert (tl.export.crf, tl.export.bitrate, tl.warnings) == (20, None, ())


def test_a_chosen_bitrate_beside_quality_or_crf_wins_with_a_warning() -> None:
    tl = _export({"quality": 95, "video_bitrate": 4000})
    assert tl.export.bitrate == 4_000_000
    assert tl.warnings == (
        "settings.export: quality and video_bitrate 4000 are both set; the bitrate wins "
        "(quality is ignored)",
    )
    tl = _export({"crf": 30, "video_bitrate": 8000})
    assert (tl.export.crf, tl.export.bitrate) == (30, 8_000_000)
    assert "crf 30 and video_bitrate 8000 are both set; the bitrate wins" in tl.warnings[0]
    cbr = _export({"quality": 85, "video_bitrate": 8000, "rate_control_mode": "cbr"})
    assert cbr.export.bitrate == 8_000_000


def test_legacy_output_settings_are_read_where_export_is_silent() -> None:
    doc = project([video_track("v", [{"id": "c", "start_time": 0, "end_time": 2, **solid("red")}])])
    doc["settings"] = {
        "export": {"quality": 85},
        "output": {"format": "WebM", "video_bitrate": 2500, "audio_bitrate": 128, "duration": 1.5},
    }
    tl = load_project(doc, ".")
    assert (tl.export.container, tl.export.codec, tl.export.bitrate) == ("webm", "vp9", 2_500_000)
    assert tl.export.audio_bitrate == 128_000
    assert tl.frames == 45  # output.duration cuts the output, as ffmpeg -t does in the editor


@pytest.mark.parametrize(
    ("output", "says"),
    [
        ({"format": "Avi"}, "format 'avi' is not one of mp4"),
        ({"video_bitrate": 0}, "video_bitrate must be between 1"),
        ({"audio_bitrate": 1}, "audio_bitrate must be between 8"),
        ({"quality": 500}, "quality must be between 0 and 100"),
    ],
)
def test_a_bad_legacy_output_value_is_named_where_it_is(output: dict[str, Any], says: str) -> None:
    """A value read from serde's settings.output is reported there, not as settings.export
    (where the user would look for a key that is not in the document)."""
    doc = project([video_track("v", [{"id": "c", "start_time": 0, "end_time": 1, **solid("red")}])])
    doc["settings"] = {"export": {"preset": "ultrafast"}, "output": output}
    with pytest.raises(ValidationError, match=f"settings.output: {says}"):
        load_project(doc, ".")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("normalize_audio", True),
        ("ffmpeg_args", ["-tune", "grain"]),
        ("multi_pass", 2),
        ("max_bitrate", 9000),
        ("encoding_profile", "baseline"),
        ("preferred_gpu_encoder", "nvenc"),
    ],
)
def test_export_keys_without_a_counterpart_warn_by_name(key: str, value: Any) -> None:
    tl = _export({"quality": 85, key: value})
    assert len(tl.warnings) == 1 and f"settings.export: {key} " in tl.warnings[0]


def test_frame_size_and_rate_precedence() -> None:
    # timeline.* wins over serde's settings.resolution/frame_rate, with a warning naming both.
    doc = project([video_track("v", [{"id": "c", "start_time": 0, "end_time": 1, **solid("red")}])])
    doc["settings"] = {"resolution": {"width": 640, "height": 360}, "frame_rate": 25.0}
    tl = load_project(doc, ".")
    assert (tl.width, tl.height, tl.fps) == (320, 180, 30)
    assert tl.warnings == (
        "settings.frame_rate: 25 differs from timeline.fps 30; timeline.fps is used",
        "settings.resolution: 640x360 differs from timeline.resolution 320x180; "
        "timeline.resolution is used",
    )
    # Without timeline.*, settings.* is the project's size and rate.
    del doc["timeline"]["resolution"], doc["timeline"]["fps"]
    tl = load_project(doc, ".")
    assert (tl.width, tl.height, tl.fps, tl.warnings) == (640, 360, 25, ())
    # The export dialog's choice wins (the editor copies it into timeline.* before rendering).
    doc["settings"]["export"] = {"resolution": "720", "frameRate": "24"}
    tl = load_project(doc, ".")
    assert (tl.width, tl.height, tl.fps) == (1280, 720, Fraction(24))


def test_the_export_dialogs_timeline_choices_keep_the_timelines_size_and_rate() -> None:
    """The dialog's first frame rate and resolution options are "timeline" (export-constants.ts
    FRAME_RATE_OPTIONS, RESOLUTION_OPTIONS): the project's own; the frame rate's was refused
    as "not a frame rate"."""
    doc = project([video_track("v", [{"id": "c", "start_time": 0, "end_time": 1, **solid("red")}])])
    doc["settings"] = {"export": {"resolution": "timeline", "frameRate": "timeline"}}
    tl = load_project(doc, ".")
    assert (tl.width, tl.height, tl.fps, tl.warnings) == (320, 180, 30, ())


def test_a_duration_that_ends_before_the_clips_is_named_where_it_cuts() -> None:
    """serde's Timeline.duration written before clips were added: the output stopped at it and
    the later frames were gone without a word; ``settings.output.duration`` (ffmpeg's -t) is
    the cut a user asks for, and stays quiet."""
    clips = [{"id": "c", "start_time": 0, "end_time": 2, **solid("red")}]
    doc = project([video_track("v", clips)])
    doc["timeline"]["duration"] = 1.0
    tl = load_project(doc, ".")
    assert tl.frames == 30
    assert tl.warnings == (
        "timeline: duration 1s ends before the last clip or subtitle (at 2s); the output is cut "
        "there",
    )
    doc["timeline"]["duration"] = 0.0  # serde's default: none
    doc["settings"] = {"output": {"duration": 1.0}}
    tl = load_project(doc, ".")
    assert (tl.frames, tl.warnings) == (30, ())


def test_aspect_ratio_that_is_not_the_frames_shape_warns() -> None:
    assert _export({}, aspect_ratio="Ratio16x9").warnings == ()
    assert _export({}, aspect_ratio={"Custom": 1.7778}).warnings == ()
    # As the editor's settings name them (examples/demo.json too).
    assert _export({}, aspect_ratio="16:9").warnings == ()
    assert _export({}, aspect_ratio="16x9").warnings == ()
    (written,) = _export({}, aspect_ratio="4:3").warnings
    assert written.startswith("timeline.aspect_ratio: 1.33:1 is not the frame's 320x180")
    (unknown,) = _export({}, aspect_ratio="wide").warnings
    assert unknown == "timeline.aspect_ratio: 'wide' is not known; ignored"
    (warning,) = _export({}, aspect_ratio="Ratio4x3").warnings
    assert warning.startswith("timeline.aspect_ratio: 1.33:1 is not the frame's 320x180")


def frontend_project(media: str) -> dict[str, Any]:
    """A document as timeline-to-project.ts ``timelineToProjectSchema`` writes it."""
    clip = {"source_start": 0, "speed": 1.0, "volume": 1.0, "effects": [], "filters": []}
    return {
        "version": "1.0.0",
        "metadata": {"name": "Frontend", "created_at": "2025-07-02T10:00:00.000Z",
                     "modified_at": "2025-07-02T10:00:00.000Z"},
        "timeline": {"duration": 2, "fps": 30, "resolution": [320, 180], "sample_rate": 48000,
                     "aspect_ratio": "Ratio16x9"},
        "tracks": [
            {"id": "v", "track_type": "Video", "name": "video Track", "enabled": True,
             "locked": False, "volume": 1.0, "effects": [], "filters": [],
             "clips": [
                 {**clip, "id": "c1", "source_path": media, "start_time": 0, "end_time": 1,
                  "source_end": 1, "effects": ["brightness"], "filters": ["cinematic"],
                  "template_id": "split-vertical-landscape", "template_cell": 0},
                 {**clip, "id": "c2", "source_path": media, "start_time": 1, "end_time": 2,
                  "source_end": 1, "template_id": "split-vertical-landscape", "template_cell": 1},
             ]},
            {"id": "s", "track_type": "Subtitle", "name": "subtitle Track", "enabled": True,
             "locked": False, "volume": 1.0, "effects": [], "filters": [],
             "clips": [{**clip, "id": "sub1", "source_path": "", "start_time": 0.5,
                        "end_time": 1.5, "source_end": 1}]},
        ],
        "effects": [{"id": "brightness", "effect_type": "Brightness", "name": "Brightness",
                     "enabled": True, "parameters": {"value": 1.2},
                     "ffmpeg_command": "eq=brightness={intensity}"}],
        "transitions": [],
        "filters": [{"id": "cinematic", "filter_type": "Brightness", "name": "Cinematic",
                     "enabled": True,
                     "parameters": {"brightness": -0.05, "contrast": 1.2, "saturation": 0.9,
                                    "gamma": 1.1}}],
        "templates": [],
        "style_templates": [],
        "subtitles": [
            {"id": "sub1", "text": "Hi", "start_time": 0.5, "end_time": 1.5,
             "position": {"x": 50.0, "y": 85.0, "align_x": "Center", "align_y": "Bottom",
                          "margin": {"top": 20.0, "right": 20.0, "bottom": 20.0, "left": 20.0}},
             "style": {"font_family": "Arial", "font_size": 24.0, "font_weight": "Normal",
                       "color": "#FFFFFF", "stroke_color": "#000000", "stroke_width": 2.0,
                       "shadow_color": "#000000", "shadow_x": 2.0, "shadow_y": 2.0,
                       "shadow_blur": 4.0, "background_opacity": 0.8,
                       "padding": {"top": 8.0, "right": 12.0, "bottom": 8.0, "left": 12.0},
                       "border_radius": 4.0, "line_height": 1.2, "letter_spacing": 0.0,
                       "max_width": 80.0},
             "enabled": True,
             "animations": [
                 {"id": "anim_in_0", "animation_type": "FadeIn", "duration": 0.3,
                  "easing": "Ease", "delay": 0, "direction": "Right"},
                 {"id": "anim_out_1", "animation_type": "FadeOut", "duration": 0.3,
                  "easing": "Ease", "delay": 0, "direction": "Left"}]},
        ],
        "settings": {
            "export": {"format": "Mp4", "quality": 85, "video_bitrate": 8000, "audio_bitrate": 192,
                       "hardware_acceleration": True, "ffmpeg_args": []},
            "preview": {"resolution": [1280, 720], "fps": 30, "quality": 75},
            "custom": {},
        },
    }  # fmt: skip


def test_frontend_project_loads_without_warnings(serde_dir: Path) -> None:
    tl = load_project(frontend_project("media/a.mp4"), str(serde_dir), strict=True)
    c1, c2 = tl.tracks[0].clips
    assert (c1.cell and c1.cell.x, c2.cell and c2.cell.x) == (0.0, 0.5)
    assert [(e.kind, dict(e.params)) for e in c1.effects] == [
        ("brightness", {"value": 1.2}),
        ("brightness", {"brightness": -0.05}),
        ("contrast", {"contrast": 1.2}),
        ("saturation", {"saturation": 0.9}),
        ("colorcorrection", {"gamma": 1.1}),
    ]
    (sub,) = tl.subtitles
    assert (sub.id, sub.start, sub.end, sub.position, sub.anchor) == (
        "sub1",
        15,
        45,
        (0.5, 0.85),
        (0.5, 1.0),
    )
    assert [(a.kind, a.start, a.end) for a in sub.animations] == [
        ("fade_in", 15, 24),
        ("fade_out", 36, 45),
    ]
    assert (tl.export.crf, tl.export.bitrate) == (23, None)

"""Clip fields beyond the basics: tonal colour ranges, the audio stream to play, capture devices,
image sequences and clips that start before their media."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.model import FileSource, ImageSequence, Timeline
from chunking.timeline.studio import load_project
from common.errors import ValidationError
from tests.media import make_image, make_video, project, solid, video_track


def load(clip: dict[str, Any], base: str = ".") -> Timeline:
    full = {"id": "c", "start_time": 0, "end_time": 1, **clip}
    return load_project(project([video_track("v", [full])]), base)


def test_tonal_colour_ranges_and_the_audio_stream() -> None:
    grade = {"highlights": -0.3, "shadows": 0.2, "whites": 0.1, "blacks": -0.05}
    c = load({**solid("red"), "color_correction": grade, "audio_track_index": 2}).clip("c")
    assert (c.color.highlights, c.color.shadows, c.color.whites, c.color.blacks) == (
        -0.3,
        0.2,
        0.1,
        -0.05,
    )
    assert c.audio_stream == 2
    with pytest.raises(ValidationError, match="clip 'c': color_correction.shadows must be between"):
        load({**solid("red"), "color_correction": {"shadows": 2}})


def test_a_clip_can_turn_deinterlacing_off() -> None:
    assert load(solid("red")).clip("c").deinterlace is True
    assert load({**solid("red"), "deinterlace": False}).clip("c").deinterlace is False
    with pytest.raises(ValidationError, match="clip 'c': deinterlace must be true or false"):
        load({**solid("red"), "deinterlace": "off"})


def test_the_one_audio_channel_a_clip_plays() -> None:
    assert load({**solid("red"), "audio_channel": 2}).clip("c").audio_channel == 2
    assert load(solid("red")).clip("c").audio_channel is None
    with pytest.raises(ValidationError, match="clip 'c': audio_channel"):
        load({**solid("red"), "audio_channel": 0})


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"Device": "/dev/video0"}, "source Device (a capture device) cannot be rendered"),
        ({"Stream": "rtmp://x/live"}, "source Stream (live URL) cannot be rendered"),
    ],
)
def test_live_sources_are_one_clear_line(source: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        load({"source": source})
    assert info.value.problems == [f"clip 'c': {message}; record it to a file first"]


@pytest.mark.parametrize("source", ["File", "file"])
def test_the_type_name_alone_says_where_the_path_goes(source: str) -> None:
    with pytest.raises(ValidationError) as info:
        load({"source": source})
    assert info.value.problems == [
        f"clip 'c': source '{source}' names no file; write {{\"File\": \"path/to/media\"}}"
    ]


def sequence_dir(tmp_path: Path, count: int = 3) -> Path:
    for n in range(count):
        make_image(tmp_path / f"shot.{n + 1001:05d}.png", (32, 18), (n * 80, 0, 0, 255))
    return tmp_path


def test_an_image_sequence_is_one_source(tmp_path: Path) -> None:
    base = sequence_dir(tmp_path)
    seq = {
        "prefix": "shot.",
        "suffix": ".png",
        "start_frame": 1001,
        "count": 3,
        "rate": "24000/1001",
        "frame_step": 1,
        "padding": 5,
    }
    c = load({"source": {"File": "shot.01001.png"}, "image_sequence": seq}, str(base)).clip("c")
    assert c.source == FileSource(
        str(base / "shot.01001.png"),
        sequence=ImageSequence("shot.", ".png", 1001, 3, Fraction(24000, 1001), 1, 5),
    )


def test_an_image_sequence_that_does_not_start_with_its_file_is_refused(tmp_path: Path) -> None:
    base = sequence_dir(tmp_path)
    seq = {
        "prefix": "shot.",
        "suffix": ".png",
        "start_frame": 1002,
        "count": 2,
        "rate": 24,
        "padding": 5,
    }
    with pytest.raises(ValidationError) as info:
        load({"source": {"File": "shot.01001.png"}, "image_sequence": seq}, str(base))
    assert info.value.problems == [
        "clip 'c': image_sequence starts with 'shot.01002.png', but source File is 'shot.01001.png'"
    ]
    with pytest.raises(ValidationError, match="image_sequence.count must be a whole number"):
        load(
            {
                "source": {"File": "shot.01001.png"},
                "image_sequence": {**seq, "count": None, "start_frame": 1001},
            },
            str(base),
        )


def test_a_refused_sequence_number_is_the_only_problem_named(tmp_path: Path) -> None:
    # A fractional start_frame was replaced by its lower bound, so a second line claimed the
    # sequence started with 'shot.-1000000000.png'.
    base = sequence_dir(tmp_path)
    seq = {"prefix": "shot.", "suffix": ".png", "start_frame": 1001.5, "count": 2, "rate": 24,
           "padding": 5}  # fmt: skip
    with pytest.raises(ValidationError) as info:
        load({"source": {"File": "shot.01001.png"}, "image_sequence": seq}, str(base))
    assert info.value.problems == [
        "clip 'c': image_sequence.start_frame must be a whole number from -1000000000 to "
        "1000000000, not 1001.5"
    ]


def test_a_clip_may_start_up_to_a_minute_before_its_media(tmp_path: Path) -> None:
    make_video(tmp_path / "m.mp4", frames=10, size=(32, 18))
    tl = load({"source": {"File": "m.mp4"}, "source_start": -0.1}, str(tmp_path))
    assert tl.clip("c").source_start == -0.1
    assert tl.warnings == (
        "clip 'c': starts 3 frames before its media (source_start -0.1s); the first frame is held",
    )
    with pytest.raises(ValidationError, match="source_start must be between -60 and"):
        load({"source": {"File": "m.mp4"}, "source_start": -61}, str(tmp_path))


def test_serdes_zero_source_end_means_no_out_point(tmp_path: Path) -> None:
    make_video(tmp_path / "m.mp4", frames=10, size=(32, 18))
    tl = load({"source": {"File": "m.mp4"}, "source_start": 0.0, "source_end": 0.0}, str(tmp_path))
    assert tl.clip("c").source_end is None
    # A generator has no source times at all.
    assert load({**solid("red"), "source_start": 0, "source_end": 0}).clip("c").source_end is None


@pytest.mark.parametrize(("side", "value", "kept"), [("left", 10.6, 11), ("bottom", 0.4, 0)])
def test_a_crop_of_part_of_a_pixel_is_the_nearest_whole_pixel_said_so(
    side: str, value: float, kept: int
) -> None:
    raw = {"id": "c", "start_time": 0, "end_time": 1, **solid("#808080"), "crop": {side: value}}
    timeline = load(raw)
    assert getattr(timeline.clip("c").crop, side) == kept  # int() cut 10.6 to 10, silently
    assert any(f"crop.{side} {value:g} is not a whole number" in w for w in timeline.warnings)


def test_a_crop_of_whole_pixels_written_as_floats_is_read() -> None:
    raw = {"id": "c", "start_time": 0, "end_time": 1, **solid("#808080"), "crop": {"top": 4.0}}
    assert load(raw).clip("c").crop.top == 4


@pytest.mark.parametrize(
    ("source_start", "speed"), [(2.0, 1.0), (0.0, 2.0), (0.5, 1.5)], ids=["trimmed", "fast", "both"]
)
def test_the_editors_length_for_no_out_point_does_not_cut_the_clip_short(
    tmp_path: Path, source_start: float, speed: float
) -> None:
    # timeline-to-project.ts writes source_end: mediaEndTime || duration.
    make_video(tmp_path / "m.mp4", frames=10, size=(32, 18))
    raw = {"source": {"File": "m.mp4"}, "source_start": source_start, "speed": speed}
    tl = load({**raw, "end_time": 1.5, "source_end": 1.5}, str(tmp_path))
    assert tl.clip("c").source_end is None
    assert [w for w in tl.warnings if "source_end 1.5s is the clip's length" in w]
    # An out point the media reaches is kept, and one before the in point is still refused.
    kept = load({**raw, "end_time": 1.5, "source_end": 9}, str(tmp_path))
    assert kept.clip("c").source_end == 9
    with pytest.raises(ValidationError, match="source_end 1s must be after source_start"):
        load({**raw, "source_start": 2, "end_time": 1.5, "source_end": 1}, str(tmp_path))


def test_an_out_point_equal_to_the_length_that_the_clip_reaches_is_kept(tmp_path: Path) -> None:
    make_video(tmp_path / "m.mp4", frames=10, size=(32, 18))
    tl = load({"source": {"File": "m.mp4"}, "end_time": 1.5, "source_end": 1.5}, str(tmp_path))
    assert tl.clip("c").source_end == 1.5 and tl.warnings == ()


@pytest.mark.parametrize(
    ("section", "value", "said"),
    [
        ("color_correction", {"vibrance": 0.5, "contrast": 1.1}, "color_correction.vibrance"),
        ("color_correction", {"temperature": 10}, "color_correction.temperature"),
        ("transform", {"skew_x": 5, "scale": 2}, "transform.skew_x"),
        ("crop", {"x": 5, "left": 1}, "crop.x"),
    ],
)
def test_a_visual_key_that_is_not_read_is_named(section: str, value: Any, said: str) -> None:
    # serde ignores it; the picture would silently lack what the file asked for.
    clip = {"id": "c", "start_time": 0, "end_time": 2, **solid("#808080"), section: value}
    doc = project([video_track("v", [clip])], fps=10, size=(32, 18))
    (warning,) = load_project(doc, ".").warnings
    assert warning.startswith(f"clip 'c': {said} is not rendered ({section} takes ")
    assert warning.endswith("; ignored")


@pytest.mark.parametrize("speed", [0.1, 10])
def test_the_editors_whole_speed_range_loads(speed: float) -> None:
    """Timeline Studio's setClipSpeed keeps a clip's speed within 0.1-10: a time-lapse at 10x
    was refused with the whole project."""
    (clip,) = load({**solid("red"), "speed": speed}).tracks[0].clips
    assert clip.speed == speed


@pytest.mark.parametrize("speed", [0.09, 10.5])
def test_a_speed_beyond_the_editors_range_is_refused_naming_it(speed: float) -> None:
    said = f"clip 'c': speed must be between 0.1 and 10, not {speed:g}"
    with pytest.raises(ValidationError, match=said):
        load({**solid("red"), "speed": speed})

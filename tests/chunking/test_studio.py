"""Timeline Studio JSON loading: lenient variants, exact frame maths, every problem reported."""

from __future__ import annotations

import copy
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import FileSource, GeneratedSource, TrackKind
from chunking.timeline.project import read_project
from chunking.timeline.studio import load_project
from common.errors import EncodeError, TimelineError, ValidationError
from tests.media import project, solid, video_track, write_project


def clip(cid: str, start: float, end: float, **extra: Any) -> dict[str, Any]:
    return {"id": cid, "start_time": start, "end_time": end, **solid("#ff0000"), **extra}


def base() -> dict[str, Any]:
    return project([video_track("v1", [clip("a", 0, 1), clip("b", 1, 2)])])


@pytest.mark.parametrize(
    ("fps", "expected"),
    [
        (30, Fraction(30)),
        (29.97, Fraction(30000, 1001)),
        (23.976, Fraction(24000, 1001)),
        ("30000/1001", Fraction(30000, 1001)),
        ([24000, 1001], Fraction(24000, 1001)),
        (25.0, Fraction(25)),
        (59.94, Fraction(60000, 1001)),
    ],
)
def test_frame_rates_are_exact_rationals(fps: Any, expected: Fraction) -> None:
    doc = base()
    doc["timeline"]["fps"] = fps
    assert load_project(doc, ".").fps == expected


def test_times_become_nearest_frames_at_ntsc_rate() -> None:
    # Given a clip from 1.001 s to 2.002 s on a 29.97 fps timeline (exactly frames 30..60)
    doc = project([video_track("v", [clip("a", 1.001, 2.002)])], fps="30000/1001")
    tl = load_project(doc, ".")
    a = tl.clip("a")
    assert (a.start, a.end) == (30, 60)
    assert tl.frames == 60


def test_lenient_variants_are_accepted(tmp_path: Path) -> None:
    media = tmp_path / "m.mp4"
    media.write_bytes(b"")
    doc = project(
        [
            {
                "id": "t",
                "track_type": "video",
                "clips": [
                    {"id": "c", "start_time": 0, "end_time": 1, "source_path": "m.mp4"},
                ],
            },
            {
                "id": "s",
                "track_type": "SUBTITLE",
                "clips": [
                    {
                        "id": "st",
                        "start_time": 0,
                        "end_time": 1,
                        "properties": {"custom_metadata": {"text": "hi"}},
                    },
                ],
            },
        ],
        size=(640, 360),
    )
    doc["timeline"]["resolution"] = {"width": 640, "height": 360}
    tl = load_project(doc, str(tmp_path))
    assert tl.tracks[0].kind is TrackKind.VIDEO
    assert tl.clip("c").source == FileSource(str(media))
    assert [s.text for s in tl.subtitles] == ["hi"]
    assert (tl.width, tl.height) == (640, 360)


def test_generated_sources_and_effects_by_id() -> None:
    doc = project([video_track("v", [clip("a", 0, 1, effects=["fx1"], filters=["f1"])])])
    doc["effects"] = [
        {"id": "fx1", "effect_type": "Gaussian_Blur", "params": {"radius": 3}, "start_time": 0.5}
    ]
    doc["filters"] = [{"id": "f1", "filter_type": "Sepia"}]
    a = load_project(doc, ".").clip("a")
    assert isinstance(a.source, GeneratedSource)
    assert a.source.color == (255, 0, 0, 255)
    assert [(e.kind, e.start) for e in a.effects] == [("blur", 15), ("sepia", None)]


def test_unknown_effects_warn_once_and_fail_in_strict_mode() -> None:
    doc = project([video_track("v", [clip("a", 0, 1, effects=["x", "y"])])])
    doc["effects"] = [
        {"id": "x", "effect_type": "Kaleidoscope"},
        {"id": "y", "effect_type": "Wobble"},
    ]
    tl = load_project(doc, ".")
    assert len(tl.warnings) == 2
    assert "Kaleidoscope" in tl.warnings[0] and "Wobble" in tl.warnings[1]
    with pytest.raises(ValidationError, match="Kaleidoscope"):
        load_project(doc, ".", strict=True)


def test_transition_on_a_cut_is_centred_and_overlap_defines_the_window() -> None:
    doc = project([video_track("v", [clip("a", 0, 1), clip("b", 1, 2)])])
    doc["transitions"] = [
        {
            "id": "t",
            "transition_type": "Wipe",
            "direction": "left",
            "from_clip_id": "a",
            "to_clip_id": "b",
            "duration": {"value": 0.5},
        }
    ]
    tr = load_project(doc, ".").transitions[0]
    assert (tr.kind, tr.start, tr.end) == ("wipe_left", 23, 38)
    overlap = project([video_track("v", [clip("a", 0, 1.5), clip("b", 1, 2)])])
    overlap["transitions"] = [
        {"id": "t", "transition_type": "dissolve", "from_clip_id": "a", "to_clip_id": "b"}
    ]
    tr = load_project(overlap, ".").transitions[0]
    assert (tr.start, tr.end) == (30, 45)


def _bad(mutate: Any) -> dict[str, Any]:
    doc = copy.deepcopy(base())
    mutate(doc)
    return doc


def _set(path: str, value: Any) -> Any:
    def apply(doc: dict[str, Any]) -> None:
        target: Any = doc
        keys = path.split(".")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        target[keys[-1]] = value

    return apply


CLIP = "tracks.0.clips.0"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_set("timeline.fps", 0), "timeline.fps: must be a frame rate from 1 to 240, not 0"),
        (_set("timeline.fps", 1e-9), "from 1 to 240, not 1e-09"),
        (_set("timeline.fps", "abc"), "timeline.fps: not a frame rate"),
        (_set("timeline.resolution", [0, 1080]), "timeline.resolution: 0x1080 is out of range"),
        (_set("timeline.resolution", [100000, 100000]), "100000x100000 is out of range"),
        (_set("timeline.resolution", [321, 180]), "321x180 has an odd side"),
        (_set("timeline.duration", 1e9), "duration"),
        (_set(f"{CLIP}.end_time", -0.5), "clip 'a': end_time"),
        (_set(f"{CLIP}.start_time", 0.9), None),  # still valid: 0.9..1.0
        (_set(f"{CLIP}.end_time", 0.0), "clip 'a': end_time 0s must be after start_time 0s"),
        (_set(f"{CLIP}.source", {"Stream": "rtmp://x"}), "clip 'a': source Stream"),
        (_set(f"{CLIP}.source", {"Hologram": 1}), "clip 'a': unknown source type"),
        (_set(f"{CLIP}.source", {"File": "nope.mp4"}), "clip 'a': media file not found: nope"),
        (_set(f"{CLIP}.speed", 12), "clip 'a': speed must be between 0.1 and 10, not 12"),
        (_set(f"{CLIP}.opacity", "x"), "clip 'a': opacity must be a number"),
        (_set(f"{CLIP}.end_time", 1.5), "clips 'a' and 'b' overlap by 15 frames"),
        (_set("tracks.0.track_type", "Hologram"), "track 'v1': track_type 'Hologram'"),
        (_set("settings", {"export": {"codec": "cineform"}}), "codec 'cineform'"),
        (
            _set("settings", {"export": {"format": "webm", "codec": "h264"}}),
            "codec h264 cannot be stored in webm",
        ),
        (
            _set("transitions", [{"id": "t", "from_clip_id": "a", "to_clip_id": "zz"}]),
            "transition 't': refers to unknown clip(s) 'zz'",
        ),
    ],
)
def test_bad_input_names_the_problem(mutate: Any, message: str | None) -> None:
    doc = _bad(mutate)
    if message is None:
        read_project(doc, base_dir=".")
        return
    with pytest.raises(ValidationError) as info:
        read_project(doc, base_dir=".")
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_set("tracks", "abc"), "tracks must be a list, not the text 'abc'"),
        (_set("tracks", {"v1": {}}), "tracks must be a list, not an object"),
        (_set("subtitles", "x"), "subtitles must be a list"),
        (_set("settings", [1]), "settings must be an object, not a list"),
        (_set("settings", {"export": [1]}), "settings.export: must be an object, not a list"),
        (_set("tracks.0.clips", "abc"), "tracks[0] 'v1': clips must be a list"),
        (_set(f"{CLIP}.effects", "blur1"), "clip 'a': effects must be a list, not the text"),
        (_set(f"{CLIP}.transform", "big"), "clip 'a': transform must be an object"),
        (_set(f"{CLIP}.crop", [1, 2]), "clip 'a': crop must be an object, not a list"),
        (_set(f"{CLIP}.properties", 5), "clip 'a': properties must be an object, not a number"),
        (_set(f"{CLIP}.muted", "yes"), "clip 'a': muted must be true or false, not 'yes'"),
        (_set(f"{CLIP}.source", {"File": 5}), "clip 'a': source File must be a path (text)"),
        (_set(f"{CLIP}.source", {"File": "tests"}), "clip 'a': media tests is a folder"),
        (_set("subtitles", [{"id": "s", "text": "x"}]), "subtitle 's': has no end"),
        (_set("tracks", ["v1"]), "tracks[0]: must be an object, not the text 'v1'"),
        (_set("settings", {"export": {"lossless": "true"}}), "lossless must be true or false"),
    ],
)
def test_a_wrong_kind_of_value_is_an_error_not_an_empty_section(mutate: Any, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        read_project(_bad(mutate), base_dir=".")
    assert message in str(info.value)


def test_duplicate_ids_are_named() -> None:
    doc = _bad(_set(f"{CLIP}.id", "b"))  # both clips of the track are now 'b'
    doc["tracks"].append({**doc["tracks"][0], "clips": []})  # and two tracks 'v1'
    with pytest.raises(ValidationError) as info:
        read_project(doc, base_dir=".")
    assert "clip 'b': 2 clips have this id" in str(info.value)
    assert "track 'v1': 2 tracks have this id" in str(info.value)


def test_null_sections_and_fields_are_empty() -> None:
    doc = _bad(_set("subtitles", None))
    doc["tracks"][0]["clips"][0].update(effects=None, transform=None, muted=None)
    assert read_project(doc, base_dir=".").timeline.tracks


def test_an_odd_size_renders_with_the_lossless_override() -> None:
    """The project's h264 cannot encode 321x180; the lossless output a render asks for can."""
    doc = _bad(_set("timeline.resolution", [321, 180]))
    project = read_project(doc, base_dir=".", export={"lossless": True})
    assert project.timeline.export.lossless
    with pytest.raises(EncodeError, match="odd side"):
        read_project(doc, base_dir=".", export={"crf": 20})


def test_every_problem_is_reported_at_once() -> None:
    doc = _bad(_set("timeline.fps", -1))
    doc["tracks"][0]["clips"][0]["speed"] = 99
    doc["tracks"][0]["clips"][1]["source"] = {"File": "missing.mov"}
    with pytest.raises(ValidationError) as info:
        load_project(doc, ".")
    assert len(info.value.problems) == 3
    assert any("clip 'b'" in p and "missing.mov" in p for p in info.value.problems)


def test_files_that_are_not_projects(tmp_path: Path) -> None:
    with pytest.raises(TimelineError, match="not found"):
        load(str(tmp_path / "none.json"))
    broken = tmp_path / "broken.json"
    broken.write_text('{"timeline": ')
    with pytest.raises(TimelineError, match="invalid JSON at line 1"):
        load(str(broken))
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\x00garbage")
    with pytest.raises(TimelineError, match="not a UTF-8"):
        load(str(binary))
    binary.write_bytes(b"\xff\xfe\x00garbage")  # a UTF-16 byte-order mark, then no JSON
    with pytest.raises(TimelineError, match="invalid JSON at line 1"):
        load(str(binary))
    empty = write_project(tmp_path / "empty.json", project([]))
    with pytest.raises(ValidationError, match="the timeline is empty"):
        load(str(empty))


@pytest.mark.parametrize("section", ["clips", "subtitles"])
def test_a_project_of_a_hundred_thousand_entries_is_refused_at_once(
    tmp_path: Path, section: str
) -> None:
    """A generated document far bigger than any project: one line naming the section within
    seconds, not minutes of reading each clip and comparing it with its neighbours."""
    data = base()
    many = [{"id": f"e{i}", "start_time": 0, "end_time": 1, "text": "x"} for i in range(100_000)]
    if section == "clips":
        data["tracks"][0]["clips"] = [dict(e, source="Generated") for e in many]
    else:
        data["subtitles"] = many
    began = time.monotonic()
    with pytest.raises(ValidationError, match=f"{section}: 100000 entries; at most 10000"):
        load_project(data, str(tmp_path))
    assert time.monotonic() - began < 5


@pytest.mark.timeout(30)  # the FIFO hung on main
@pytest.mark.parametrize("name", ["cut.json", "cut.otio", "cut.edl", "cut.otioz", "cut.fcpxmld"])
def test_a_path_that_is_no_regular_file_is_named_so(tmp_path: Path, name: str) -> None:
    """/dev/null or a FIFO said "timeline file not found" though it is there; a FIFO named
    .otioz hung validate, its reader waiting for a writer."""
    import os

    with pytest.raises(TimelineError, match="^/dev/null is not a regular file"):
        load("/dev/null")
    path = tmp_path / name
    if name.endswith("fcpxmld"):
        path.mkdir()
        path = path / "Info.fcpxml"
    os.mkfifo(path)
    with pytest.raises(TimelineError, match=rf"^{path} is not a regular file"):
        load(str(path.parent if name.endswith("fcpxmld") else path))

"""The Timeline Studio editor's own documents: its camelCase project (the e2e fixture), .tlsp and
.tls files and its TimelineProject, each loaded as the editor means it, or refused in one line."""

from __future__ import annotations

import json
import shutil
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from av.audio.stream import AudioStream
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.fuzz_strategies import mutated
from chunking.timeline.loader import load, load_document, read_file
from chunking.timeline.model import FileSource, Timeline, TrackKind
from chunking.timeline.studio import load_project
from common.errors import TimelineError, ValidationError
from tests.helpers import CLI
from tests.media import make_video

DATA = Path(__file__).resolve().parents[1] / "data" / "timeline-studio-editor"
FIXTURE = DATA / "test-project-with-videos.json"


def make_wav(path: Path, seconds: float = 1.0, rate: int = 48_000) -> Path:
    """A stereo 16-bit WAV of a quiet 440 Hz tone."""
    t = np.arange(round(seconds * rate)) / rate
    tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=rate)
        assert isinstance(stream, AudioStream)
        stream.layout = "stereo"
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(np.stack([tone, tone])), format="fltp", layout="stereo"
        )
        frame.sample_rate, frame.pts, frame.time_base = rate, 0, Fraction(1, rate)
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def make_media(folder: Path, names: list[str]) -> None:
    """Small stand-ins for the editor's media: 320x180 videos of a few frames, short WAVs."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        if name.lower().endswith(".wav"):
            make_wav(folder / name)
        else:
            make_video(folder / name, frames=6, fps=25, size=(320, 180))


def sources(timeline: Timeline) -> dict[str, str]:
    """Each clip's media file name, by clip id."""
    found = {}
    for track in timeline.tracks:
        for clip in track.clips:
            assert isinstance(clip.source, FileSource)
            found[clip.id] = Path(clip.source.path).name
    return found


@pytest.fixture(scope="module")
def e2e_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The editor's e2e fixture, copied with its media paths relinked to generated files."""
    root = tmp_path_factory.mktemp("e2e")
    doc = json.loads(FIXTURE.read_text(encoding="utf-8"))
    names = []
    for media in [c["mediaFile"] for t in doc["timeline"]["tracks"] for c in t["clips"]]:
        names.append(media["name"])
        media["path"] = f"media/{media['name']}"
    for media in doc["resources"]["media"]:
        media["path"] = f"media/{media['name']}"
    make_media(root / "media", names)
    path = root / "test-project-with-videos.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def interview_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The .tlsp sample beside the media its pool names by relative path."""
    root = tmp_path_factory.mktemp("tlsp")
    make_media(root / "media", ["intro.mp4", "outro.mp4", "music.wav"])
    shutil.copy(DATA / "interview.tlsp", root / "interview.tlsp")
    return root


# -- the camelCase project (the editor's e2e fixture) -------------------------------------------


def test_e2e_fixture_loads_with_its_times_size_and_media(e2e_project: Path) -> None:
    timeline = load(str(e2e_project))
    assert timeline.fps == Fraction(30) and (timeline.width, timeline.height) == (1920, 1080)
    # The editor's duration is the end of the last clip: the 120.5 s audio clip.
    assert timeline.frames == 3615 and timeline.name == "Video Playback Test Project"
    video, audio = timeline.tracks
    assert video.kind is TrackKind.VIDEO and audio.kind is TrackKind.AUDIO
    assert [(c.id, c.start, c.end) for c in video.clips] == [
        ("clip-1", 0, 915),
        ("clip-2", 1050, 1506),
        ("clip-3", 1650, 3024),
    ]
    assert [(c.id, c.start, c.end, c.volume) for c in audio.clips] == [
        ("audio-clip-1", 0, 3615, 0.8)
    ]
    assert sources(timeline) == {
        "clip-1": "C0666.MP4",
        "clip-2": "Kate.mp4",
        "clip-3": "проводка после лобби.mp4",
        "audio-clip-1": "DJI_02_20250402_104352.WAV",
    }
    assert all(c.source_start == 0 and c.speed == 1 for t in timeline.tracks for c in t.clips)
    assert timeline.warnings == ()


def test_workers_receive_the_converted_document(e2e_project: Path) -> None:
    document, base_dir, timeline = read_file(str(e2e_project))
    assert "tracks" in document and document["tracks"][0]["track_type"] == "Video"
    assert document["timeline"]["fps"] == 30 and document["timeline"]["resolution"] == [1920, 1080]
    # What a worker rebuilds from the document it is sent is the same timeline.
    assert load_project(json.loads(json.dumps(document)), base_dir) == timeline
    # An already parsed editor document (the Python API's case) converts the same way.
    parsed = json.loads(e2e_project.read_text(encoding="utf-8"))
    assert load_document(parsed, base_dir, name=timeline.name) == (document, timeline)


def test_cli_validate_accepts_the_camelcase_project(cli: CLI, e2e_project: Path) -> None:
    result = cli("validate", str(e2e_project))
    assert result.returncode == 0, result.stderr
    assert "3615 frames" in result.stdout and "error" not in result.stderr


def test_missing_media_names_the_clip(e2e_project: Path) -> None:
    doc = json.loads(e2e_project.read_text(encoding="utf-8"))
    del doc["timeline"]["tracks"][0]["clips"][1]["mediaFile"]
    doc["timeline"]["tracks"][0]["clips"][2]["mediaFile"]["path"] = "media/gone.mp4"
    doc["resources"]["media"] = []
    path = e2e_project.parent / "broken.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValidationError) as info:
        load(str(path))
    assert info.value.problems == [
        "clip 'clip-2': no media path: it has neither mediaFile.path nor mediaId"
    ]
    doc["timeline"]["tracks"][0]["clips"][1]["mediaId"] = "media-9"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValidationError, match="clip 'clip-2': no media path: mediaId 'media-9'"):
        load(str(path))
    doc["timeline"]["tracks"][0]["clips"][1]["mediaFile"] = {"path": "media/Kate.mp4"}
    path.write_text(json.dumps(doc))
    with pytest.raises(ValidationError) as info:
        load(str(path))
    assert info.value.problems == ["clip 'clip-3': media file not found: media/gone.mp4"]


# -- .tlsp (TimelineStudioProject 2.x) ----------------------------------------------------------


@pytest.mark.parametrize("suffix", [".tlsp", ".tls"])
def test_tlsp_renders_the_active_sequence_over_its_range(interview_dir: Path, suffix: str) -> None:
    # The editor writes a 2.x project whatever extension the user picks in its save dialog.
    path = interview_dir / f"interview{suffix}"
    if not path.exists():
        shutil.copy(interview_dir / "interview.tlsp", path)
    timeline = load(str(path))
    assert timeline.fps == Fraction(25) and (timeline.width, timeline.height) == (320, 180)
    # The outro starts at its media's first frame, and the dissolve needs five frames before it.
    assert timeline.name == "Interview" and timeline.warnings == (
        "transition 't-cut': starts clip 'outro' 5 frames before its media (it begins 5 frames "
        "early, source_start 0s); the first frame is held",
    )
    # renderSettings in 1 s, out 6 s: five seconds, everything moved one second earlier.
    assert timeline.frames == 125
    video, music = timeline.tracks
    intro, outro = video.clips
    # The head trim moved offset to 0.5 s; the in point cuts one more second.
    assert (intro.start, intro.end, intro.source_start) == (0, 50, 1.5)
    assert (outro.start, outro.end, outro.source_start) == (50, 125, 0.0)
    assert [e.kind for e in outro.effects] == ["sepia"]
    assert music.kind is TrackKind.AUDIO and music.volume == 0.8
    (bed,) = music.clips
    assert (bed.start, bed.end, bed.volume, bed.source_start) == (0, 125, 0.5, 1.0)
    # Pool items name a path on the editor's Mac; their relativePath is found here.
    assert isinstance(intro.source, FileSource)
    assert intro.source.path == str(interview_dir / "media" / "intro.mp4")
    assert sources(timeline)["bed"] == "music.wav"
    (cut,) = timeline.transitions
    assert (cut.from_clip, cut.to_clip, cut.start, cut.end) == ("intro", "outro", 45, 55)
    (subtitle,) = timeline.subtitles
    assert (subtitle.text, subtitle.start, subtitle.end) == ("Hello from the editor", 13, 63)


def _tlsp(folder: Path, change: Any) -> Path:
    doc = json.loads((DATA / "interview.tlsp").read_text(encoding="utf-8"))
    change(doc)
    path = folder / "changed.tlsp"
    path.write_text(json.dumps(doc))
    return path


def test_tlsp_selected_tracks_and_whole_sequence(interview_dir: Path) -> None:
    def whole_video_only(doc: dict[str, Any]) -> None:
        seq = doc["sequences"]["seq-main"]
        seq["renderSettings"] = {"selectedTracks": ["v1"]}

    timeline = load(str(_tlsp(interview_dir, whole_video_only)))
    assert timeline.frames == 175 and [t.id for t in timeline.tracks] == ["v1"]
    assert timeline.subtitles == ()
    assert [(c.start, c.end, c.source_start) for c in timeline.tracks[0].clips] == [
        (0, 75, 0.5),
        (75, 175, 0.0),
    ]


@pytest.mark.parametrize("in_point", [1.2, 2.6, 3.0, 3.12])
def test_a_tlsp_range_shows_what_the_sequence_shows_there(
    interview_dir: Path, in_point: float
) -> None:
    """A range starting inside a subtitle's animations or a transition's window keeps them at
    their time in the sequence: frame k of the range is frame k + in of the whole."""

    def animated(doc: dict[str, Any]) -> None:
        seq = doc["sequences"]["seq-main"]
        sub = seq["composition"]["tracks"][2]["clips"][0]
        sub["animationIn"] = {"type": "fade", "duration": 0.48}
        sub["animationOut"] = {"type": "fade", "duration": 0.6}
        seq["composition"]["tracks"][0]["clips"][0]["transitions"][0]["duration"] = 1.0
        seq["renderSettings"] = {"inPoint": in_point, "outPoint": 6}

    def whole(doc: dict[str, Any]) -> None:
        animated(doc)
        del doc["sequences"]["seq-main"]["renderSettings"]

    ranged = load(str(_tlsp(interview_dir, animated)))
    full = load(str(_tlsp(interview_dir, whole)))
    shift = round(in_point * 25)
    assert ranged.frames == 150 - shift
    # The dissolve is centred on the cut at 3 s: it may begin before the range does.
    (cut,) = full.transitions
    assert (cut.start, cut.end) == (75 - 12, 75 + 13)
    if in_point < 3:
        (moved,) = ranged.transitions
        assert (moved.start, moved.end) == (cut.start - shift, cut.end - shift)
    else:  # the clip before the cut is outside the range: a cut, said so
        assert ranged.transitions == ()
        assert any(w.startswith("transition 't-cut': its clip 'intro'") for w in ranged.warnings)
    (sub,) = full.subtitles  # 1.5 s to 3.5 s: a fade in over 0.48 s, a fade out over 0.6 s
    assert [(a.kind, a.start, a.end) for a in sub.animations] == [
        ("fade_in", 38, 50),
        ("fade_out", 73, 88),
    ]
    windows = [(a.kind, a.start - shift, a.end - shift) for a in sub.animations]
    seen = [(k, max(a, 0), b) for k, a, b in windows if b > 0]  # what the range can show
    (kept,) = ranged.subtitles
    assert [(a.kind, a.start, a.end) for a in kept.animations] == seen
    cut_through = [k for k, a, b in windows if a < 0 < b]
    assert [w for w in ranged.warnings if "cuts through" in w] == [
        f"subtitle 's1': the render range cuts through its {k.replace('_', '')} animation; it "
        "plays over the part of its time inside the range"
        for k in cut_through
    ]


def test_tlsp_automation_is_named_not_dropped(interview_dir: Path) -> None:
    def automated(doc: dict[str, Any]) -> None:
        doc["sequences"]["seq-main"]["composition"]["automation"] = [
            {"id": "a1", "parameter": "volume", "keyframes": [{"time": 0, "value": 1},
                                                                 {"time": 1, "value": 0}]}
        ]  # fmt: skip

    warnings = load(str(_tlsp(interview_dir, automated))).warnings
    said = "automation #0: automation of volume is not rendered; the fixed values are"
    assert f"sequence 'Interview - Sequence 1' {said}" in warnings


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        ({"colorSpace": "rec2020", "hdr": {"enabled": True, "type": "pq"}},
         "settings: HDR (pq) is not rendered: the output is SDR BT.709, 8 bits"),
        ({"colorSpace": "DCI-P3"},
         "settings: colorSpace 'DCI-P3' is not rendered: the output is BT.709"),
        ({"colorSpace": "rec709", "hdr": {"enabled": False}}, None),
    ],
)  # fmt: skip
def test_an_hdr_or_wide_gamut_sequence_is_said_to_render_sdr(
    interview_dir: Path, settings: dict[str, Any], said: str | None
) -> None:
    """An SDR master shipped as HDR without a word."""

    def graded(doc: dict[str, Any]) -> None:
        doc["sequences"]["seq-main"]["settings"].update(settings)

    warnings = load(str(_tlsp(interview_dir, graded))).warnings
    found = [w for w in warnings if "not rendered: the output is" in w]
    assert [w.split(" settings: ")[-1] for w in found] == ([said.removeprefix("settings: ")]
                                                          if said else [])  # fmt: skip


@pytest.mark.parametrize(
    ("space", "said"),
    [
        ("sdr", None),
        ("hdr-pq", "settings: HDR (hdr-pq) is not rendered: the output is SDR BT.709, 8 bits"),
        ("hdr-hlg", "settings: HDR (hdr-hlg) is not rendered: the output is SDR BT.709, 8 bits"),
        ("dci-p3", "settings: colorSpace 'dci-p3' is not rendered: the output is BT.709"),
        ("p3-d65", "settings: colorSpace 'p3-d65' is not rendered: the output is BT.709"),
    ],
)
def test_the_project_settings_colour_space_is_said_when_not_rendered(
    interview_dir: Path, e2e_project: Path, space: str, said: str | None
) -> None:
    """The project settings dialog's HDR - Rec.2100PQ (COLOR_SPACES in project.ts) rendered
    SDR without a word, in a .tlsp and in a .tls alike."""

    def graded(doc: dict[str, Any]) -> None:
        doc["settings"]["colorSpace"] = space

    camel = json.loads(e2e_project.read_text(encoding="utf-8"))
    graded(camel)
    camel_path = e2e_project.parent / "graded.json"
    camel_path.write_text(json.dumps(camel), encoding="utf-8")
    for path in (_tlsp(interview_dir, graded), camel_path):
        found = [w for w in load(str(path)).warnings if "the output is" in w]
        assert found == ([said] if said else [])


def test_two_main_sequences_and_none_active_is_said(interview_dir: Path) -> None:
    def two_mains(doc: dict[str, Any]) -> None:
        doc["sequences"]["seq-scratch"]["type"] = "main"
        doc["activeSequenceId"] = ""

    warnings = load(str(_tlsp(interview_dir, two_mains))).warnings
    assert (
        "sequences: 2 sequences are main ('Interview - Sequence 1', 'Scratch') and none is "
        "active (activeSequenceId); the first is rendered"
    ) in warnings


def test_tlsp_master_volume_scales_every_track(interview_dir: Path) -> None:
    def halved(doc: dict[str, Any]) -> None:
        doc["settings"]["audio"]["masterVolume"] = 0.5

    video, music = load(str(_tlsp(interview_dir, halved))).tracks
    assert (video.volume, music.volume) == (0.5, 0.4)

    def broken(doc: dict[str, Any]) -> None:
        doc["settings"]["audio"]["masterVolume"] = "loud"

    with pytest.raises(ValidationError, match="masterVolume 'loud' must be a number from 0 to 4"):
        load(str(_tlsp(interview_dir, broken)))


# -- TimelineProject (sections and global tracks) -----------------------------------------------


@pytest.fixture(scope="module")
def holiday(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("holiday")
    make_media(root / "media", ["beach.mp4", "dinner.mp4", "narration.wav"])
    shutil.copy(DATA / "timeline-project.json", root / "holiday.json")
    return root / "holiday.json"


def test_timeline_project_sections_and_global_tracks(holiday: Path) -> None:
    timeline = load(str(holiday))
    assert timeline.fps == Fraction(24) and (timeline.width, timeline.height) == (320, 180)
    assert timeline.frames == 144
    camera, voice = timeline.tracks
    assert camera.kind is TrackKind.VIDEO and [e.kind for e in camera.effects] == ["vignette"]
    # A voiceover track holds sound; muting it silences it without hiding anything.
    assert voice.kind is TrackKind.AUDIO and voice.muted and voice.enabled
    beach, dinner = camera.clips
    assert beach.effects and all(e.id.startswith("warm-look") for e in beach.effects)
    # The applied blur's customParams win over the resource's radius; the disabled vignette
    # application is left out.
    assert [(e.kind, e.params.get("radius")) for e in dinner.effects] == [("blur", 6)]
    assert dinner.opacity == 0.75
    (slide,) = timeline.transitions
    # The editor's slide, as its preview draws it: the outgoing clip moves out left, unfaded.
    assert (slide.from_clip, slide.to_clip, slide.kind) == ("beach", "dinner", "slide_out_left")
    (title,) = timeline.subtitles
    assert (title.text, title.start, title.end) == ("Day one", 0, 48)


def test_warnings_are_collected_and_strict_refuses_them(holiday: Path) -> None:
    doc = json.loads(holiday.read_text())
    doc["globalTracks"][0]["pan"] = -0.5
    doc["sections"][0]["tracks"][0]["clips"][0]["colorGrading"] = {"isEnabled": True}
    path = holiday.parent / "panned.json"
    path.write_text(json.dumps(doc))
    timeline = load(str(path))
    assert timeline.warnings == (
        "clip 'beach': colour grading (colorGrading) is not rendered",
        "transition 'x-1': starts clip 'dinner' 6 frames before its media (it begins 6 frames "
        "early, source_start 0s); the first frame is held",
    )
    with pytest.raises(ValidationError, match="transition 'x-1': starts clip 'dinner'"):
        load(str(path), strict=True)


# -- shapes that are refused, each in one line --------------------------------------------------


def _missing_active(doc: dict[str, Any]) -> None:
    doc["activeSequenceId"] = "seq-gone"


def _old_version(doc: dict[str, Any]) -> None:
    doc["metadata"]["version"] = "1.0.0"


def _no_sequences(doc: dict[str, Any]) -> None:
    doc["sequences"] = {}


def _out_of_range(doc: dict[str, Any]) -> None:
    doc["sequences"]["seq-main"]["renderSettings"] = {"inPoint": 7.5, "outPoint": 9}


def _reversed(doc: dict[str, Any]) -> None:
    doc["sequences"]["seq-main"]["composition"]["tracks"][0]["clips"][1]["isReversed"] = True


def test_tlsp_reversed_clip_plays_backwards(interview_dir: Path) -> None:
    """``isReversed`` was refused: the clip now plays its span backwards."""
    timeline = load(str(_tlsp(interview_dir, _reversed)))
    assert timeline.clip("outro").reverse and not timeline.clip("intro").reverse


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_missing_active, "activeSequenceId 'seq-gone' names none of its sequences"),
        (_old_version, "(.tlsp, TimelineStudioProject) of format version '1.0.0'"),
        (_no_sequences, "(.tlsp, TimelineStudioProject) with no sequences: nothing to render"),
        (_out_of_range, "renderSettings: no clip lies between inPoint 7.5s and outPoint 9s"),
    ],
)
def test_tlsp_refusals(tmp_path: Path, change: Any, message: str) -> None:
    with pytest.raises(TimelineError) as info:
        load(str(_tlsp(tmp_path, change)))
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "document", "message"),
    [
        ("empty.json", {}, "not a timeline this renders: an empty JSON object"),
        (
            "other.json",
            {"name": "x", "clips": []},
            "a JSON object with keys 'clips', 'name' (expected a ProjectSchema",
        ),
        (
            "edit.json",
            {"OTIO_SCHEMA": "Timeline.1", "tracks": {}},
            "an OpenTimelineIO document ('Timeline.1'); name the file .otio",
        ),
        (
            # the AI workflow's project.json (workflow-automation-service.ts) for a video in
            # which no scene was found
            "project.json",
            {
                "version": "1.0",
                "settings": {"resolution": {"width": 1920, "height": 1080}, "framerate": 30},
                "sections": [{"id": "section_0", "startTime": 0, "endTime": 10, "clips": []}],
                "effects": [],
                "transitions": [],
            },
            "a Timeline Studio timeline (TimelineProject): no clips, nothing to render",
        ),
        (
            "media-library.tls",
            json.loads((DATA / "media-library.tls").read_text(encoding="utf-8")),
            "a legacy Timeline Studio project (.tls) holding only a media library (1 file) "
            "and no timeline: nothing to render",
        ),
        (
            "new-project.tlsp",
            json.loads((DATA / "new-project.tlsp").read_text(encoding="utf-8")),
            "sequence 'Sequence 1' of a Timeline Studio project (.tlsp, TimelineStudioProject): "
            "no clips, nothing to render",
        ),
    ],
)
def test_unknown_and_empty_shapes_get_one_line(
    tmp_path: Path, name: str, document: dict[str, Any], message: str
) -> None:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    with pytest.raises(TimelineError) as info:
        load(str(path))
    assert message in str(info.value) and "\n" not in str(info.value)


# -- hostile documents --------------------------------------------------------------------------

SAMPLES = {
    name: json.loads((DATA / name).read_text(encoding="utf-8"))
    for name in ("interview.tlsp", "test-project-with-videos.json", "timeline-project.json")
}


@settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.sampled_from(sorted(SAMPLES)).flatmap(lambda name: mutated(SAMPLES[name])))
def test_broken_editor_documents_fail_in_one_line(document: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "broken.tlsp"
        path.write_text(json.dumps(document))
        try:
            load(str(path))
        except TimelineError as exc:
            assert "\n" not in str(exc)


@pytest.mark.parametrize(("exit_type", "delay"), [("dissolve", 0), ("dissolve", 0.2), ("shake", 0)])
def test_a_tlsp_range_keeps_a_captions_exit_at_its_time(
    interview_dir: Path, exit_type: str, delay: float
) -> None:
    def animated(doc: dict[str, Any]) -> None:
        seq = doc["sequences"]["seq-main"]
        sub = seq["composition"]["tracks"][2]["clips"][0]
        sub["animationOut"] = {"type": exit_type, "duration": 0.6, "delay": delay}
        seq["renderSettings"] = {"inPoint": 1.2, "outPoint": 6}

    def whole(doc: dict[str, Any]) -> None:
        animated(doc)
        del doc["sequences"]["seq-main"]["renderSettings"]

    (full,) = load(str(_tlsp(interview_dir, whole))).subtitles
    (ranged,) = load(str(_tlsp(interview_dir, animated))).subtitles
    leaving, moved = full.animations[-1], ranged.animations[-1]
    before = round(delay * 25)  # a delayed exit ends that long before the caption does
    assert (leaving.start, leaving.end) == (73 - before, 88 - before)
    assert (moved.kind, moved.start + 30, moved.end + 30) == (
        leaving.kind,
        73 - before,
        88 - before,
    )

"""OpenTimelineIO import: OTIO built in code, written to disk, loaded through load_otio."""

from __future__ import annotations

import dataclasses
import json
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest

from chunking.timeline import otio as otio_loader
from chunking.timeline.loader import load
from chunking.timeline.model import FileSource, GeneratedSource, Timeline, TrackKind
from chunking.timeline.otio import load_otio
from chunking.timeline.studio import load_project
from common.errors import TimelineError, ValidationError

RT = otio.opentime.RationalTime
NTSC24 = 24000 / 1001
NTSC30 = 30000 / 1001


def rng(start: float, duration: float, rate: float = 24) -> Any:
    """A TimeRange in frames at a rate."""
    return otio.opentime.TimeRange(RT(start, rate), RT(duration, rate))


def media(tmp_path: Path, name: str = "a.mov") -> Path:
    """An empty file: the loader checks existence, it does not decode."""
    path = tmp_path / name
    path.write_bytes(b"")
    return path


def clip(name: str, url: str, start: float, duration: float, rate: float = 24, **kw: Any) -> Any:
    """A clip of an external file with a source range in frames."""
    ref = otio.schema.ExternalReference(target_url=url, available_range=kw.pop("available", None))
    return otio.schema.Clip(
        name=name, media_reference=ref, source_range=rng(start, duration, rate), **kw
    )


def gap(duration: float, rate: float = 24) -> Any:
    """A gap of some frames."""
    return otio.schema.Gap(source_range=rng(0, duration, rate))


def dissolve(in_frames: float, out_frames: float, rate: float = 24, **kw: Any) -> Any:
    """An SMPTE dissolve with offsets in frames."""
    kw.setdefault("transition_type", otio.schema.TransitionTypes.SMPTE_Dissolve)
    return otio.schema.Transition(
        in_offset=RT(in_frames, rate), out_offset=RT(out_frames, rate), **kw
    )


def video(*items: Any, name: str = "V1") -> Any:
    """A video track holding the items."""
    return otio.schema.Track(name=name, kind=otio.schema.TrackKind.Video, children=list(items))


def save(tmp_path: Path, *tracks: Any, metadata: dict[str, Any] | None = None) -> str:
    """Write a timeline of the tracks to tmp_path/edit.otio and return the path."""
    timeline = otio.schema.Timeline(name="edit", metadata=metadata or {})
    for track in tracks:
        timeline.tracks.append(track)
    path = str(tmp_path / "edit.otio")
    otio.adapters.write_to_file(timeline, path)
    return path


@pytest.mark.parametrize(
    ("rate", "fps"),
    [(NTSC24, Fraction(24000, 1001)), (NTSC30, Fraction(30000, 1001)), (25, Fraction(25))],
)
def test_frame_rate_is_exact(tmp_path: Path, rate: float, fps: Fraction) -> None:
    media(tmp_path)
    tl = load_otio(save(tmp_path, video(clip("A", "a.mov", 0, 100, rate))))
    assert tl.fps == fps
    assert tl.frames == 100
    assert tl.clip("A").end == 100


def test_gaps_advance_track_time_and_relative_paths_resolve(tmp_path: Path) -> None:
    a, b = media(tmp_path, "a.mov"), media(tmp_path, "b.mov")
    track = video(gap(10), clip("A", "a.mov", 0, 24), gap(6), clip("B", b.as_uri(), 0, 12))
    tl = load(save(tmp_path, track))  # through the generic loader, as the CLI does
    assert (tl.clip("A").start, tl.clip("A").end) == (10, 34)
    assert (tl.clip("B").start, tl.clip("B").end) == (40, 52)
    assert tl.clip("A").source == FileSource(str(a))
    assert tl.clip("B").source == FileSource(str(b))
    assert tl.frames == 52
    assert tl.name == "edit"


def test_source_start_is_relative_to_media_timecode(tmp_path: Path) -> None:
    media(tmp_path)
    one_hour = rng(86400, 2400)  # a QuickTime whose timecode starts at 01:00:00:00
    tracked = clip("A", "a.mov", 86448, 24, available=one_hour)
    plain = clip("B", "a.mov", 36, 24)  # no available_range: the start is taken as is
    tl = load_otio(save(tmp_path, video(tracked, plain)))
    assert tl.clip("A").source_start == pytest.approx(2.0)
    assert tl.clip("B").source_start == pytest.approx(1.5)


def test_linear_time_warp_is_speed_and_disabled_clips_are_skipped(tmp_path: Path) -> None:
    media(tmp_path)
    fast = clip("Fast", "a.mov", 0, 24, effects=[otio.schema.LinearTimeWarp(time_scalar=2.0)])
    off = clip("Off", "a.mov", 0, 24)
    off.enabled = False
    tl = load_otio(save(tmp_path, video(fast, off, clip("After", "a.mov", 0, 24))))
    assert tl.clip("Fast").speed == 2.0
    assert [c.id for c in tl.tracks[0].clips] == ["Fast", "After"]
    assert tl.clip("After").start == 48


def test_symmetric_dissolve_is_centred_on_the_cut(tmp_path: Path) -> None:
    media(tmp_path)
    track = video(clip("A", "a.mov", 0, 48), dissolve(12, 12), clip("B", "a.mov", 24, 48))
    tl = load_otio(save(tmp_path, track))
    (tr,) = tl.transitions
    assert (tr.kind, tr.from_clip, tr.to_clip, tr.start, tr.end) == ("dissolve", "A", "B", 36, 60)
    # OTIO's expanded transition: A plays on past the cut, B starts 12 frames before its in.
    assert (tl.clip("A").end, tl.clip("B").start) == (60, 36)
    assert tl.clip("B").source_start == pytest.approx(0.5)
    assert tl.frames == 96  # transitions take no track time


def test_asymmetric_dissolve_window_and_handles(tmp_path: Path) -> None:
    media(tmp_path)
    track = video(clip("A", "a.mov", 0, 48), dissolve(6, 18), clip("B", "a.mov", 24, 48))
    tl = load_otio(save(tmp_path, track))
    (tr,) = tl.transitions
    assert (tr.start, tr.end) == (42, 66)  # [cut - in_offset, cut + out_offset)
    assert tl.clip("A").end == 66
    assert tl.clip("B").start == 42
    assert tl.clip("B").source_start == pytest.approx(1.0 - 6 / 24)
    assert tl.frames == 96


def test_dissolve_without_handle_holds_the_first_frame_and_warns(tmp_path: Path) -> None:
    media(tmp_path)
    track = video(clip("A", "a.mov", 0, 48), dissolve(6, 18), clip("B", "a.mov", 0, 48))
    path = save(tmp_path, track)
    tl = load_otio(path)
    assert tl.clip("B").source_start == pytest.approx(-6 / 24)  # held until its first frame
    assert any("clip 'B'" in w and "before its media" in w for w in tl.warnings)
    with pytest.raises(ValidationError, match="clip 'B'"):
        load_otio(path, strict=True)


def test_an_audio_crossfade_without_handle_says_the_sound_is_silent_not_held(
    tmp_path: Path,
) -> None:
    """The mixer plays silence before a sound's media starts; the warning said "the first
    frame is held", which is what the picture does."""
    media(tmp_path)
    sound = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    sound.extend([clip("a", "a.mov", 0, 48), dissolve(6, 6), clip("b", "a.mov", 0, 48)])
    tl = load_otio(save(tmp_path, sound))
    said = [w for w in tl.warnings if "before its media" in w]
    assert said == [
        "clip 'b': starts 6 frames before its media (source_start -0.25s); it is silent until then"
    ]


@pytest.mark.parametrize("after", ["cut", "track end"])
def test_dissolve_past_the_outgoing_media_end_warns_naming_the_transition(
    tmp_path: Path, after: str
) -> None:
    """The outgoing clip cut at its media's last frame (as the export's available_range gives
    it) and a dissolve after it: its last frame is held for the transition's second half, which
    a Timeline Studio project's transition warns of and load() said nothing about."""
    media(tmp_path)
    whole = rng(0, 48)
    items = [clip("A", "a.mov", 24, 24, available=whole), dissolve(6, 18, name="Cross Dissolve")]
    if after == "cut":
        items.append(clip("B", "a.mov", 12, 36, available=whole))
    path = save(tmp_path, video(*items))
    tl = load_otio(path)
    assert tl.clip("A").end == 42  # 24 frames and the dissolve's 18 after the cut
    said = [w for w in tl.warnings if "past the end of its media" in w]
    assert said == [
        "track 'V1' transition 'Cross Dissolve': runs clip 'A' 18 frames past the end of its "
        "media (the export gives the media 2s, the transition needs 2.75s); the last frame is held"
    ]
    with pytest.raises(ValidationError, match="runs clip 'A' 18 frames"):
        load_otio(path, strict=True)


def test_dissolve_within_the_outgoing_media_or_on_audio_does_not_warn(tmp_path: Path) -> None:
    media(tmp_path)
    whole = rng(0, 48)
    picture = video(
        clip("A", "a.mov", 0, 24, available=whole),
        dissolve(6, 18),
        clip("B", "a.mov", 12, 36, available=whole),
    )
    sound = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    sound.extend(
        [
            clip("a", "a.mov", 24, 24, available=whole),
            dissolve(6, 18),
            clip("b", "a.mov", 12, 36, available=whole),
        ]
    )
    tl = load_otio(save(tmp_path, picture, sound))
    assert not [w for w in tl.warnings if "past the end of its media" in w]


def test_wipe_transition_type_keeps_its_direction(tmp_path: Path) -> None:
    media(tmp_path)
    wipe = dissolve(6, 6, transition_type="SMPTE_Wipe_Left")
    tl = load_otio(
        save(tmp_path, video(clip("A", "a.mov", 0, 24), wipe, clip("B", "a.mov", 0, 24)))
    )
    assert tl.transitions[0].kind == "wipe_left"
    custom = dissolve(6, 6, transition_type="Custom", name="Dip To Black")
    tl = load_otio(
        save(tmp_path, video(clip("A", "a.mov", 0, 24), custom, clip("B", "a.mov", 0, 24)))
    )
    assert tl.transitions[0].kind == "fade_black"


def test_leading_transition_fades_in_from_nothing(tmp_path: Path) -> None:
    media(tmp_path)
    tl = load_otio(save(tmp_path, video(dissolve(6, 6), clip("A", "a.mov", 12, 24))))
    (tr,) = tl.transitions
    assert (tr.kind, tr.to_clip, tr.start, tr.end) == ("dissolve", "A", 0, 12)
    assert tl.clip(tr.from_clip).source == GeneratedSource("color", (0, 0, 0, 0))
    # OTIO counts the transition's in_offset in the track: the clip starts 6 frames early.
    assert (tl.clip("A").start, tl.clip("A").end, tl.frames) == (0, 30, 30)
    assert tl.clip("A").source_start == pytest.approx(6 / 24)
    assert tl.warnings == ()


def test_generators(tmp_path: Path) -> None:
    def gen(name: str, kind: str, **params: Any) -> Any:
        ref = otio.schema.GeneratorReference(
            generator_kind=kind, parameters=params, available_range=rng(0, 24)
        )
        return otio.schema.Clip(name=name, media_reference=ref, source_range=rng(0, 24))

    track = video(
        gen("Orange", "SolidColor", color=[1.0, 0.5, 0.0]),
        gen("Hex", "SolidColor", color="#336699"),
        gen("Bars", "SMPTEBars"),
    )
    tl = load_otio(save(tmp_path, track))
    assert tl.clip("Orange").source == GeneratedSource("color", (255, 128, 0, 255))
    assert tl.clip("Hex").source == GeneratedSource("color", (0x33, 0x66, 0x99, 255))
    assert tl.clip("Bars").source == GeneratedSource("pattern", pattern="bars")


def test_a_dissolve_into_a_generator_holds_nothing_and_warns_of_nothing(tmp_path: Path) -> None:
    """A colour has no media to run out of: the incoming generator was given a negative
    source_start, and with it a "starts 6 frames before its media" warning that --strict
    refused (a Kdenlive colour clip, a Final Cut solid, an FCP 7 colour matte)."""
    red = otio.schema.GeneratorReference(
        generator_kind="SolidColor", parameters={"color": "#ff0000"}
    )
    blue = otio.schema.GeneratorReference(
        generator_kind="SolidColor", parameters={"color": "#0000ff"}
    )
    track = video(
        otio.schema.Clip(name="Red", media_reference=red, source_range=rng(0, 24)),
        dissolve(6, 6),
        otio.schema.Clip(name="Blue", media_reference=blue, source_range=rng(0, 24)),
    )
    path = save(tmp_path, track)
    tl = load_otio(path, strict=True)
    assert (tl.clip("Blue").start, tl.clip("Blue").source_start) == (18, 0)
    assert tl.warnings == ()


def test_track_order_kinds_and_ids(tmp_path: Path) -> None:
    media(tmp_path)
    audio = otio.schema.Track(
        name="A1", kind=otio.schema.TrackKind.Audio, children=[clip("Sound", "a.mov", 0, 24)]
    )
    disabled = video(clip("Top", "a.mov", 0, 24), name="V1")
    disabled.enabled = False
    tracks = [video(clip("Bottom", "a.mov", 0, 24), name="V1"), disabled, audio]
    tl = load_otio(save(tmp_path, *tracks))
    assert [(t.id, t.kind, t.enabled) for t in tl.tracks] == [
        ("#0", TrackKind.VIDEO, True),
        ("#1", TrackKind.VIDEO, False),
        ("A1", TrackKind.AUDIO, True),
    ]
    assert [t.clips[0].id for t in tl.video_tracks()] == ["Bottom"]


def test_metadata_sets_resolution_sample_rate_and_export(tmp_path: Path) -> None:
    media(tmp_path)
    meta = {
        "cloudrender": {
            "resolution": [1280, 720],
            "sample_rate": 44100,
            "export": {"codec": "hevc"},
        }
    }
    tl = load_otio(save(tmp_path, video(clip("A", "a.mov", 0, 24)), metadata=meta))
    assert (tl.width, tl.height, tl.sample_rate, tl.export.codec) == (1280, 720, 44100, "hevc")
    default = load_otio(save(tmp_path, video(clip("A", "a.mov", 0, 24))))
    assert (default.width, default.height, default.sample_rate) == (1920, 1080, 48000)


def test_missing_media_file_names_the_clip(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="clip 'Lost'.*media file not found: nope.mov"):
        load_otio(save(tmp_path, video(clip("Lost", "nope.mov", 0, 24))))


def test_missing_reference_names_the_clip(tmp_path: Path) -> None:
    offline = otio.schema.Clip(name="Offline", source_range=rng(0, 24))
    with pytest.raises(ValidationError, match="clip 'Offline'.*MissingReference"):
        load_otio(save(tmp_path, video(offline)))


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("garbage {{ not json", "not a readable OpenTimelineIO file"),
        ("", r"is empty \(0 bytes\)"),
        ('{"OTIO_SCHEMA": "Clip.2"}', "not a readable OpenTimelineIO file"),
    ],
)
def test_not_an_otio_file(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "junk.otio"
    path.write_text(text)
    with pytest.raises(TimelineError, match=f"junk.otio: {said}"):
        load_otio(str(path))


def test_freeze_frame_holds_the_clips_first_frame(tmp_path: Path) -> None:
    media(tmp_path)
    frozen = clip("Held", "a.mov", 36, 24, effects=[otio.schema.FreezeFrame()])
    held = load_otio(save(tmp_path, video(frozen))).clip("Held")
    assert (held.start, held.end, held.source_start) == (0, 24, 1.5)
    assert held.source_end is not None and 1.5 < held.source_end < 1.5 + 1 / 48


@pytest.mark.parametrize(("scalar", "played"), [(12.0, 10.0), (0.05, 0.1), (-12.0, 10.0)])
def test_speed_outside_the_renderers_range_plays_at_its_end_naming_the_clip(
    tmp_path: Path, scalar: float, played: float
) -> None:
    """As the editor's own speeds: Avid's 1437 % time-lapse or 5 % slow motion (the AAF
    adapter's misc_speed_effects.aaf, time_warp_test.avid_media_composer.aaf) refused the whole
    cut; it plays at 10x or 0.1x from its in point, named in a warning (strict: refused)."""
    media(tmp_path)
    fast = clip("Fast", "a.mov", 12, 24, effects=[otio.schema.LinearTimeWarp(time_scalar=scalar)])
    path = save(tmp_path, video(fast, clip("After", "a.mov", 0, 24)))
    tl = load_otio(path)
    shown = f"{abs(scalar):g}"
    said = [w for w in tl.warnings if w.startswith(f"clip 'Fast': plays at {shown} times")]
    assert len(said) == 1 and f"played at {played:g}" in said[0]
    warped = tl.clip("Fast")
    assert (warped.start, warped.end, warped.speed, warped.reverse) == (0, 24, played, scalar < 0)
    assert warped.source_start == pytest.approx(0.5 if scalar > 0 else 0.5 - 10)
    assert (tl.clip("After").start, tl.clip("After").end) == (24, 48)
    with pytest.raises(ValidationError, match=f"clip 'Fast': plays at {shown} times.*0.1 to 10"):
        load_otio(path, strict=True)


@pytest.mark.parametrize("scalar", [10.0, 8.0, 0.1])
def test_the_editors_whole_speed_range_plays(tmp_path: Path, scalar: float) -> None:
    """The range of a Timeline Studio project's own ``speed`` (0.1x to 10x): 0.25x to 4x
    refused an NLE's time-lapse or slow-motion clip the same project saved by the editor
    renders."""
    media(tmp_path)
    warped = clip("Warp", "a.mov", 0, 2, effects=[otio.schema.LinearTimeWarp(time_scalar=scalar)])
    played = load_otio(save(tmp_path, video(warped))).clip("Warp")
    assert played.speed == pytest.approx(scalar)
    assert (played.start, played.end) == (0, 2)


def test_nested_stack_is_flattened_in_place(tmp_path: Path) -> None:
    media(tmp_path)
    inner = video(clip("In", "a.mov", 24, 48), name="inner")
    nested = otio.schema.Stack(name="Compound 1", children=[inner], source_range=rng(12, 24))
    tl = load_otio(save(tmp_path, video(clip("A", "a.mov", 0, 24), nested)))
    assert (tl.clip("In").start, tl.clip("In").end) == (24, 48)
    assert tl.clip("In").source_start == pytest.approx(1.5)  # its frame 24 + the stack's 12
    assert tl.frames == 48


def test_same_edit_as_otio_and_json_gives_equal_timelines(tmp_path: Path) -> None:
    media(tmp_path, "a.mov")
    media(tmp_path, "b.wav")
    sound = otio.schema.Track(
        name="A1",
        kind=otio.schema.TrackKind.Audio,
        children=[gap(12, NTSC30), clip("S", "b.wav", 30, 60, NTSC30)],
    )
    picture = video(
        clip("A", "a.mov", 30, 60, NTSC30),
        dissolve(10, 10, NTSC30),
        clip("B", "a.mov", 10, 30, NTSC30),
    )
    from_otio = load_otio(save(tmp_path, picture, sound))

    sec = 1001 / 30000
    thirty = float(Fraction(30 * 1001, 30000))  # exactly what OTIO's 30 frames are in seconds
    project = {
        "timeline": {"fps": "30000/1001", "resolution": [1920, 1080]},
        "tracks": [
            {
                "id": "V1",
                "name": "V1",
                "track_type": "Video",
                "clips": [
                    {
                        "id": "A",
                        "source": {"File": "a.mov"},
                        "start_time": 0,
                        "end_time": 70 * sec,  # on past the cut by the out_offset
                        "source_start": thirty,
                        "muted": True,  # an OTIO video track is the picture only
                    },
                    {
                        "id": "B",
                        "source": {"File": "a.mov"},
                        "start_time": 50 * sec,  # from the in_offset before the cut
                        "end_time": 90 * sec,
                        "muted": True,
                    },
                ],
            },
            {
                "id": "A1",
                "name": "A1",
                "track_type": "Audio",
                "clips": [
                    {
                        "id": "S",
                        "source": {"File": "b.wav"},
                        "start_time": 12 * sec,
                        "end_time": 72 * sec,
                        "source_start": thirty,
                    },
                ],
            },
        ],
        "transitions": [
            {
                "id": "A->B",
                "from_clip_id": "A",
                "to_clip_id": "B",
                "transition_type": "dissolve",
                "duration": 20 * sec,
            }
        ],
    }
    from_json = load_project(project, str(tmp_path))
    assert isinstance(from_json, Timeline)
    assert dataclasses.replace(from_otio, name="") == from_json


def aaf_gain(amplitude: Any, name: str = "Audio Gain", parameter: str = "Amplitude") -> Any:
    """Avid's clip gain as the AAF adapter reads it: an effect whose AAF metadata holds the
    linear factor (a fraction string, or keyframes)."""
    return otio.schema.Effect(
        effect_name=name, metadata={"AAF": {"Parameters": {parameter: amplitude}}}
    )


def test_avid_clip_gain_is_the_clips_volume_and_a_nested_sequences_gain_multiplies(
    tmp_path: Path,
) -> None:
    """+10 dB on a clip (Amplitude 1697734891/536870912, as Media Composer writes it) is its
    volume, a nested sequence's gain applies to every clip in it, Mono Audio Gain's
    "Amplitude multiplier" counts too, and a keyframed gain is a named warning, not a level."""
    media(tmp_path)
    ten_db = "1697734891/536870912"
    loud = clip("Loud", "a.mov", 0, 24, effects=[aaf_gain(ten_db)])
    half = clip(
        "Half", "a.mov", 0, 24, effects=[aaf_gain("1/2", "Mono Audio Gain", "Amplitude multiplier")]
    )
    ramp = clip("Ramp", "a.mov", 0, 24, effects=[aaf_gain({"keyframe_values": [[0, 1], [24, 2]]})])
    inner = otio.schema.Track(
        name="inner",
        kind=otio.schema.TrackKind.Audio,
        children=[clip("Inside", "a.mov", 0, 24, effects=[aaf_gain("2")])],
    )
    nested = otio.schema.Stack(name="Sub", children=[inner], effects=[aaf_gain("3")])
    audio = otio.schema.Track(
        name="A1", kind=otio.schema.TrackKind.Audio, children=[loud, half, ramp, nested]
    )
    tl = load_otio(save(tmp_path, audio))
    assert tl.clip("Loud").volume == pytest.approx(10 ** (10 / 20), rel=1e-6)
    assert tl.clip("Half").volume == pytest.approx(0.5)
    assert tl.clip("Ramp").volume == 1.0
    assert tl.clip("Inside").volume == pytest.approx(6.0)
    assert any("Ramp" in w and "Audio Gain" in w for w in tl.warnings)


def test_a_track_neither_video_nor_audio_is_left_out_with_a_warning(tmp_path: Path) -> None:
    """An Avid export's data track (timecode, captions' data: "AAF_DataEssenceTrack") does not
    refuse the timeline; the pictures and sound load."""
    media(tmp_path)
    data = otio.schema.Track(
        name="TimelineMobSlot", kind="AAF_DataEssenceTrack", children=[gap(48)]
    )
    tl = load_otio(save(tmp_path, video(clip("A", "a.mov", 0, 24)), data))
    assert [t.kind for t in tl.tracks] == [TrackKind.VIDEO]
    assert tl.frames == 24
    assert any("TimelineMobSlot" in w and "AAF_DataEssenceTrack" in w for w in tl.warnings)


def test_an_otio_timeline_of_a_hundred_thousand_clips_is_refused_before_it_is_walked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A generated timeline far longer than any cut: one line once OTIO has read it, not half a
    minute of relinking and converting each clip (then refused as a project anyway)."""
    one = {
        "OTIO_SCHEMA": "Clip.2",
        "name": "c",
        "source_range": {
            "OTIO_SCHEMA": "TimeRange.1",
            "start_time": {"OTIO_SCHEMA": "RationalTime.1", "rate": 25, "value": 0},
            "duration": {"OTIO_SCHEMA": "RationalTime.1", "rate": 25, "value": 1},
        },
        "media_references": {"DEFAULT_MEDIA": {"OTIO_SCHEMA": "MissingReference.1"}},
        "active_media_reference_key": "DEFAULT_MEDIA",
    }
    track = {"OTIO_SCHEMA": "Track.1", "kind": "Video", "children": [one] * 100_000}
    document = {
        "OTIO_SCHEMA": "Timeline.1",
        "tracks": {"OTIO_SCHEMA": "Stack.1", "children": [track]},
    }
    path = tmp_path / "big.otio"
    path.write_text(json.dumps(document))

    def walked(*args: object) -> None:
        raise AssertionError("the clips were relinked one by one before the refusal")

    # Not timed (a shared machine took 15-33 s): the refusal must come before the first walk.
    monkeypatch.setattr(otio_loader, "relink", walked)
    with pytest.raises(TimelineError, match="more than 20000 clips, gaps and transitions"):
        load(str(path))


def test_an_avid_gain_written_as_a_huge_number_is_no_level_and_costs_no_time(
    tmp_path: Path,
) -> None:
    """Fraction("1e9999999") builds a ten-million-digit integer (12 s of CPU, then an
    OverflowError out of the loader); a gain that is no plain decimal or ratio of a dozen
    digits a part, or not finite, is not a level: the clip keeps its volume."""
    media(tmp_path)
    clips = [
        clip(f"C{i}", "a.mov", 0, 24, effects=[aaf_gain(value)])
        for i, value in enumerate(["1e9999999", "9" * 40, float("nan")])
    ]
    audio = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio, children=clips)
    started = time.process_time()
    tl = load_otio(save(tmp_path, audio))
    assert time.process_time() - started < 5
    assert [tl.clip(f"C{i}").volume for i in range(3)] == [1.0] * 3


EMPTY_SEQUENCE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE xmeml>
<xmeml version="4">
  <sequence id="sequence-1">
    <duration>636</duration>
    <rate><timebase>30</timebase><ntsc>FALSE</ntsc></rate>
    <name>sc01_sh010_layerA</name>
    <media>
    </media>
  </sequence>
</xmeml>
"""


@pytest.mark.parametrize(
    ("name", "text", "named"),
    [
        # Premiere's sequence of no tracks (otio-fcp-adapter's sample_just_track.xml, cut down)
        ("cut.xml", EMPTY_SEQUENCE, "empty ('sc01_sh010_layerA' has no clips"),
        ("cut.otio", otio.schema.Timeline(name="Reel 1").to_json_string(), "empty ('Reel 1' has"),
    ],
    ids=["premiere", "otio"],
)
def test_an_empty_timeline_names_the_file_and_itself(
    tmp_path: Path, name: str, text: str, named: str
) -> None:
    """It was "timeline.duration: the timeline is empty", naming neither."""
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(TimelineError) as caught:
        load_otio(str(path))
    (line,) = str(caught.value).splitlines()
    assert line.startswith(str(path)) and named in line


def test_a_timeline_of_a_gap_is_black_not_empty(tmp_path: Path) -> None:
    gap = otio.schema.Gap(source_range=rng(0, 48))
    assert load_otio(save(tmp_path, video(gap))).frames == 48

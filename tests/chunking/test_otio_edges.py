"""OTIO structures editors write that the samples do not cover: the sequence rate, audio
crossfades, compound clips (nested stacks) and their layering, effects on them, many problems."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import GeneratedSource, TrackKind
from chunking.timeline.otio import load_otio, read_otio
from common.errors import ValidationError
from tests.chunking.test_otio import clip, dissolve, media, rng, save, video

RT = otio.opentime.RationalTime


def audio(*items: Any, name: str = "A1") -> Any:
    """An audio track holding the items."""
    return otio.schema.Track(name=name, kind=otio.schema.TrackKind.Audio, children=list(items))


def test_the_sequence_rate_wins_over_the_first_clips(tmp_path: Path) -> None:
    media(tmp_path)
    track = video(clip("A", "a.mov", 0, 15, rate=15), clip("B", "a.mov", 0, 30, rate=30))
    track.source_range = otio.opentime.TimeRange(RT(0, 30), RT(60, 30))
    tl = load_otio(save(tmp_path, track))
    assert tl.fps == 30  # the track's range is in the sequence's rate; A's is its media's
    assert [(c.start, c.end) for c in tl.tracks[0].clips] == [(0, 30), (30, 60)]


def test_audio_transitions_are_crossfades_and_fades(tmp_path: Path) -> None:
    media(tmp_path, "a.wav")
    track = audio(
        dissolve(6, 6),
        clip("A", "a.wav", 24, 48),
        dissolve(12, 12),
        clip("B", "a.wav", 24, 48),
    )
    tl = load_otio(save(tmp_path, track))
    a, b = tl.clip("A"), tl.clip("B")
    assert [c.id for c in tl.tracks[0].clips] == ["A", "B"]  # no stand-in for the fade in
    assert a.fade_in == pytest.approx(12 / 24)  # from silence over the leading window
    assert a.fade_out == b.fade_in == pytest.approx(1.0)  # crossfade over [cut-12, cut+12)
    assert (a.end, b.start) == (6 + 48 + 12, 6 + 48 - 12)
    assert not a.muted and not b.muted


def test_video_clips_are_picture_only(tmp_path: Path) -> None:
    media(tmp_path)
    media(tmp_path, "a.wav")
    tl = load_otio(
        save(tmp_path, video(clip("V", "a.mov", 0, 24)), audio(clip("S", "a.wav", 0, 24)))
    )
    assert tl.clip("V").muted and not tl.clip("S").muted


def test_compound_clip_layers_stay_between_the_tracks_around_it(tmp_path: Path) -> None:
    media(tmp_path)
    low = video(clip("Low", "a.mov", 0, 24), name="inner low")
    high = video(otio.schema.Gap(source_range=rng(0, 6)), clip("High", "a.mov", 0, 12))
    sound = audio(clip("Sound", "a.mov", 0, 24), name="inner sound")
    compound = otio.schema.Stack(name="Compound", children=[low, sound, high])
    bottom = video(clip("Before", "a.mov", 0, 12), compound, name="V1")
    top = video(clip("Top", "a.mov", 0, 48), name="V2")
    tl = load_otio(save(tmp_path, bottom, top))
    assert [(t.id, [c.id for c in t.clips]) for t in tl.tracks] == [
        ("V1", ["Before", "Low"]),
        ("V1 (nested 1)", ["High"]),
        ("V2", ["Top"]),
    ]
    assert (tl.clip("High").start, tl.clip("High").end) == (18, 30)
    assert all(t.kind is TrackKind.VIDEO for t in tl.tracks)  # its audio is another track's


def test_a_transition_into_a_compound_clip_mixes_its_first_clip(tmp_path: Path) -> None:
    media(tmp_path)
    inner = video(clip("Inside", "a.mov", 24, 48), name="inner")
    # The compound starts 6 frames into its content: those are the transition's handle.
    compound = otio.schema.Stack(name="Compound", children=[inner], source_range=rng(6, 42))
    tl = load_otio(save(tmp_path, video(clip("A", "a.mov", 0, 48), dissolve(6, 6), compound)))
    (tr,) = tl.transitions
    assert (tr.from_clip, tr.to_clip, tr.start, tr.end) == ("A", "Inside", 42, 54)
    assert tl.clip("Inside").source_start == pytest.approx(1.0)


def test_a_transition_into_a_compound_clip_without_handle_is_a_cut(tmp_path: Path) -> None:
    media(tmp_path)
    inner = video(clip("Inside", "a.mov", 24, 48), name="inner")
    compound = otio.schema.Stack(name="Compound", children=[inner])
    tl = load_otio(save(tmp_path, video(clip("A", "a.mov", 0, 48), dissolve(6, 6), compound)))
    assert tl.transitions == ()
    assert (tl.clip("A").end, tl.clip("Inside").start) == (48, 48)
    assert any("'Compound'" in w and "rendered as a cut" in w for w in tl.warnings)


def test_effects_and_speed_of_a_compound_clip_reach_its_clips(tmp_path: Path) -> None:
    media(tmp_path)
    inner = video(clip("In", "a.mov", 0, 48), name="inner")
    blur = otio.schema.Effect(effect_name="Blur", metadata={"radius": 4})
    compound = otio.schema.Stack(
        name="Compound",
        children=[inner],
        source_range=rng(0, 24),
        effects=[otio.schema.LinearTimeWarp(time_scalar=2.0), blur],
    )
    tl = load_otio(save(tmp_path, video(compound)))
    fast = tl.clip("In")
    assert (fast.start, fast.end, fast.speed) == (0, 24, 2.0)  # 48 frames in 24
    assert [e.kind for e in fast.effects] == ["blur"]


def test_a_speed_change_on_a_track_plays_its_clips_faster(tmp_path: Path) -> None:
    media(tmp_path)
    track = video(clip("A", "a.mov", 0, 24), clip("B", "a.mov", 0, 24))
    track.effects.append(otio.schema.LinearTimeWarp(time_scalar=2.0))
    track.source_range = otio.opentime.TimeRange(RT(0, 24), RT(24, 24))
    tl = load_otio(save(tmp_path, track))
    assert [(c.id, c.start, c.end, c.speed) for c in tl.tracks[0].clips] == [
        ("A", 0, 12, 2.0),
        ("B", 12, 24, 2.0),
    ]


def test_a_dissolve_from_a_gap_on_an_upper_track_reveals_the_track_below(tmp_path: Path) -> None:
    media(tmp_path)
    upper = video(
        otio.schema.Gap(source_range=rng(0, 24)), dissolve(0, 12), clip("Up", "a.mov", 0, 24)
    )
    doc, tl = read_otio(save(tmp_path, video(clip("Under", "a.mov", 0, 48)), upper))
    (tr,) = tl.transitions
    assert (tr.start, tr.end, tr.to_clip) == (24, 36, "Up")
    stand_in = tl.clip(tr.from_clip)
    assert stand_in.source == GeneratedSource("color", (0, 0, 0, 0))  # transparent, not black
    assert (stand_in.start, stand_in.end) == (24, 36)


def test_every_problem_is_its_own_entry(tmp_path: Path) -> None:
    track = video(
        *(otio.schema.Clip(name=f"Offline {n}", source_range=rng(0, 24)) for n in range(40))
    )
    with pytest.raises(ValidationError) as err:
        load_otio(save(tmp_path, track))
    assert len(err.value.problems) == 40
    assert all(p.startswith(f"clip 'Offline {n}'") for n, p in enumerate(err.value.problems))


def test_image_sequence_document_and_frame_step(tmp_path: Path) -> None:
    ref = otio.schema.ImageSequenceReference(
        target_url_base=(tmp_path / "frames").as_uri() + "/",
        name_prefix="sh010.",
        name_suffix=".exr",
        start_frame=1001,
        frame_step=2,
        rate=24,
        frame_zero_padding=4,
        available_range=otio.opentime.TimeRange(RT(0, 24), RT(48, 24)),
    )
    (tmp_path / "frames").mkdir()
    (tmp_path / "frames" / "sh010.1001.exr").write_bytes(b"")
    shot = otio.schema.Clip(name="Shot", media_reference=ref, source_range=rng(4, 24))
    doc, tl = read_otio(save(tmp_path, video(shot)))
    entry = doc["tracks"][0]["clips"][0]
    assert entry["source"] == {"File": str(tmp_path / "frames" / "sh010.1001.exr")}
    # 24 frames of images on twos: 24 images at 12 a second.
    assert entry["image_sequence"]["count"] == 24
    assert Fraction(entry["image_sequence"]["rate"]) == 12
    assert entry["source_start"] == pytest.approx(4 / 24)
    bad = otio.schema.ImageSequenceReference(
        target_url_base="frames/",
        name_prefix="../x.",
        name_suffix=".png",
        rate=24,
        available_range=otio.opentime.TimeRange(RT(0, 24), RT(4, 24)),
    )
    shot.media_reference = bad
    with pytest.raises(ValidationError, match="clip 'Shot': image sequence name.*folder"):
        load_otio(save(tmp_path, video(shot)))


def test_two_transitions_in_a_row_name_the_track(tmp_path: Path) -> None:
    media(tmp_path)
    track = video(
        clip("A", "a.mov", 24, 24), dissolve(6, 6), dissolve(6, 6), clip("B", "a.mov", 24, 24)
    )
    with pytest.raises(ValidationError, match="track 'V1' transition.*two transitions in a row"):
        load_otio(save(tmp_path, track))


def test_adapter_log_lines_stay_off_the_terminal() -> None:
    """The AAF library logs through ``logging.warning``, which prints to stderr when nothing
    else handles the root logger (a plain ``cloudrender validate``): not while reading."""
    import subprocess
    import sys

    script = (
        "import logging\n"
        "from chunking.timeline.otio_read import _adapter_logging_quiet\n"
        "with _adapter_logging_quiet():\n"
        "    logging.warning('Fraction(0,0) not mathematically plausible')\n"
        "print(len(logging.getLogger().handlers))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout.strip() == "0"
    bare = script.replace("with _adapter_logging_quiet():\n    ", "")
    loud = subprocess.run([sys.executable, "-c", bare], capture_output=True, text=True)
    assert "WARNING:root:Fraction(0,0)" in loud.stderr  # the premise: it would print


@pytest.mark.parametrize(
    ("source_range", "problem"),
    [
        (rng(0, 24, rate=-24), "clip 'A' at V1#0: has no usable duration (frame rate -24.0"),
        (rng(0, 24, rate=float("nan")), "clip 'A' at V1#0: has no usable duration (frame rate nan"),
        (rng(0, -24), "clip 'A' at V1#0: has a negative duration (-1 s)"),
    ],
)
def test_a_clip_without_a_usable_range_is_named(
    tmp_path: Path, source_range: Any, problem: str
) -> None:
    media(tmp_path)
    a = clip("A", "a.mov", 0, 24)
    a.source_range = source_range
    with pytest.raises(ValidationError) as err:
        load_otio(save(tmp_path, video(a)))
    assert err.value.problems[0].startswith(problem)


@pytest.mark.parametrize("scalar", [float("nan"), float("inf")])
def test_a_speed_that_is_not_a_finite_number_is_an_error_naming_the_clip(
    tmp_path: Path, scalar: float
) -> None:
    media(tmp_path)
    a = clip("A", "a.mov", 0, 24, effects=[otio.schema.LinearTimeWarp(time_scalar=scalar)])
    with pytest.raises(
        ValidationError,
        match=f"clip 'A': LinearTimeWarp time_scalar must be a finite number, not {scalar}",
    ):
        load_otio(save(tmp_path, video(a)))


@pytest.mark.parametrize(
    ("effect", "span"),
    [
        # Backwards from its range's start (48 at 24 fps): the span [1 s, 2 s) reversed.
        (otio.schema.LinearTimeWarp(time_scalar=-1.0), (1.0, 1.0)),
        # Backwards at 0.5x: 24 frames play half a second of media, [1.5 s, 2 s).
        (otio.schema.LinearTimeWarp(time_scalar=-0.5), (1.5, 0.5)),
        # A plain effect of that name (the ProjectSchema's Reverse): the clip's span reversed.
        (otio.schema.Effect(name="Reverse", effect_name="Reverse"), (2.0, 1.0)),
    ],
)
def test_a_reversed_clip_plays_its_span_backwards(
    tmp_path: Path, effect: Any, span: tuple[float, float]
) -> None:
    """It was refused: now the clip plays the span of media its warp runs over backwards."""
    media(tmp_path)
    a = clip("A", "a.mov", 48, 24, effects=[effect])
    tl = load_otio(save(tmp_path, video(a)))
    (played,) = [c for t in tl.tracks for c in t.clips]
    assert played.reverse and (played.start, played.end) == (0, 24)
    assert played.source_start == pytest.approx(span[0])
    assert played.speed * played.frames / 24 == pytest.approx(span[1])
    assert not played.effects


def test_a_nested_stack_played_backwards_is_refused_naming_it(tmp_path: Path) -> None:
    media(tmp_path)
    inner = otio.schema.Stack(name="N", children=[video(clip("A", "a.mov", 0, 24))])
    inner.effects.append(otio.schema.LinearTimeWarp(time_scalar=-1.0))
    with pytest.raises(ValidationError, match=r"'N'.*nested track or stack played in reverse"):
        load_otio(save(tmp_path, video(inner)))


def test_kdenlive_colour_clips_and_stills_with_their_rate_0_ranges(tmp_path: Path) -> None:
    """Kdenlive writes a still's and a colour clip's available range at rate 0 (RationalTime's
    default) and its colour clips as "kdenlive:SolidColor" with the colour as 0xRRGGBBAA."""
    media(tmp_path, "red.png")
    no_rate = otio.opentime.TimeRange(RT(0, 0), RT(120, 0))
    still = clip("red.png", "red.png", 0, 24, available=no_rate)
    orange = otio.schema.Clip(
        name="Orange",
        source_range=rng(0, 24),
        media_reference=otio.schema.GeneratorReference(
            generator_kind="kdenlive:SolidColor",
            parameters={"kdenlive": {"color": "0xff8000ff"}},
            available_range=no_rate,
        ),
    )
    tl = load_otio(save(tmp_path, video(still, orange)))
    assert tl.clip("red.png").source_start == 0
    source = tl.clip("Orange").source
    assert isinstance(source, GeneratedSource) and source.color == (255, 128, 0, 255)


@pytest.mark.parametrize(
    ("names", "stacked", "warned"),
    [
        (["V2", "V1"], ["V1", "V2"], True),  # Kdenlive's export: top first
        (["V1", "V2"], ["V1", "V2"], False),  # OTIO's own order
        (["V3", "V1"], ["V1", "V3"], True),
        (["Title", "V1"], ["Title", "V1"], False),  # not all numbered: as listed
        # Kdenlive's full names of tracks the user named: the tag, then the name.
        (["V2 - Titles", "V1"], ["V1", "V2 - Titles"], True),
        (["V2-Titles", "V1"], ["V2-Titles", "V1"], False),  # not its form: as listed
    ],
)
def test_video_tracks_listed_top_first_are_stacked_by_their_numbers(
    tmp_path: Path, names: list[str], stacked: list[str], warned: bool
) -> None:
    media(tmp_path)
    tracks = [video(clip(f"{name} clip", "a.mov", 0, 24), name=name) for name in names]
    tl = load_otio(save(tmp_path, *tracks))
    assert [t.id for t in tl.tracks] == stacked
    assert any("listed top first" in w for w in tl.warnings) is warned


def test_an_otio_file_starting_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    """Windows tools start a UTF-8 file with a byte-order mark: OTIO's reader refused it as
    "Invalid value (line 1, column 0)", while a Timeline Studio JSON file with one loads."""
    path = Path(save(tmp_path, video(clip("a", str(media(tmp_path)), 0, 48))))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    timeline = load(str(path))
    assert timeline.frames == 48 and [c.id for t in timeline.tracks for c in t.clips] == ["a"]


@pytest.mark.parametrize(
    ("url", "files", "used"),
    [
        # A relative URL percent-encoded as URLs are: it names the decoded file.
        ("My%20Media/cl%C3%A9%20%231.mov", ["My Media/clé #1.mov"], "My Media/clé #1.mov"),
        # A file named with the % signs themselves stays first.
        ("a%20b.mov", ["a%20b.mov", "a b.mov"], "a%20b.mov"),
        ("a%20b.mov", ["a%20b.mov"], "a%20b.mov"),
    ],
)
def test_a_percent_encoded_relative_url_names_its_decoded_file(
    tmp_path: Path, url: str, files: list[str], used: str
) -> None:
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        media(tmp_path, name)
    tl = load_otio(save(tmp_path, video(clip("A", url, 0, 12))))
    (shown,) = tl.tracks[0].clips
    assert shown.source.path == str(tmp_path / used)  # type: ignore[union-attr]
    assert not tl.warnings

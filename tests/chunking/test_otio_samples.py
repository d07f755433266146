"""Real OTIO files (OpenTimelineIO's samples, EDLs converted by its cmx_3600 adapter) against
what OpenTimelineIO itself computes, frame by frame.

Each sample is relinked to generated media in a temporary copy; then for every output frame the
clip and media frame the loaded timeline draws (the compositor's source-time rule) must equal
OpenTimelineIO's answer: ``Item.transformed_time`` through the nesting for cuts, and
``algorithms.track_with_expanded_transitions`` for transitions.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest

from chunking.timeline.model import Clip, GeneratedSource, Timeline
from chunking.timeline.otio import read_otio
from tests.media import make_video

DATA = Path(__file__).parents[1] / "data" / "otio"
RT = otio.opentime.RationalTime
#: Frames of media before a relinked clip's in point (its head handle) and after its out point.
HANDLE = 10
#: One shot: None (nothing), (clip name, media frame) or ("mix", a, b, progress).
Shot = Any


@pytest.fixture(scope="module")
def clip_media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small generated video every relinked clip points at (the loader checks it exists)."""
    return make_video(tmp_path_factory.mktemp("media") / "media.mp4", frames=4, size=(320, 180))


def relinked(sample: str, media: Path, tmp: Path) -> tuple[Any, str]:
    """A copy of a sample whose clips all read ``media``, with handles around each source range;
    the copy in memory and the path of its file."""
    tl = otio.adapters.read_from_file(str(DATA / sample))
    for clip in tl.find_clips():
        ref = clip.media_reference
        if isinstance(ref, otio.schema.GeneratorReference):
            continue
        available = ref.available_range
        if available is None or isinstance(ref, otio.schema.MissingReference):
            rng = clip.source_range
            handle = RT(HANDLE, rng.duration.rate)
            available = otio.opentime.TimeRange(
                rng.start_time - handle, rng.duration + handle + handle
            )
        clip.media_reference = otio.schema.ExternalReference(
            target_url=media.as_uri(), available_range=available
        )
    path = tmp / Path(sample).name
    otio.adapters.write_to_file(tl, str(path))
    return tl, str(path)


def sec(rt: Any) -> Fraction:
    """An OTIO time in exact seconds."""
    return Fraction(rt.value).limit_denominator(10**6) / Fraction(rt.rate).limit_denominator(1001)


def media_frame(seconds: Fraction, fps: Fraction) -> int:
    """The media frame shown at a media time (held at the first before the media starts)."""
    return max(math.floor(seconds * fps + Fraction(1, 10**6)), 0)


# -- our side ---------------------------------------------------------------------------------


def ours(tl: Timeline, doc: dict[str, Any], track_id: str, frame: int) -> list[Shot]:
    """What the loaded timeline draws at ``frame`` on the model tracks of a top-level track."""
    names = {c["id"]: c.get("name", "") for t in doc["tracks"] for c in t["clips"]}
    shots: list[Shot] = []
    for track in tl.tracks:
        if track.id != track_id and not track.id.startswith(f"{track_id} (nested "):
            continue
        ids = {c.id for c in track.clips}
        mixes = [t for t in tl.transitions if t.start <= frame < t.end and t.from_clip in ids]
        if mixes:
            tr = mixes[0]
            a, b = tl.clip(tr.from_clip), tl.clip(tr.to_clip)
            view_a, view_b = _view(a, names, tl.fps, frame), _view(b, names, tl.fps, frame)
            shots.append(("mix", view_a, view_b, round(tr.progress(frame), 6)))
            continue
        shots += [
            _view(c, names, tl.fps, frame) for c in track.clips if c.start <= frame < c.end
        ] or [None]
    return shots


def _view(clip: Clip, names: dict[str, str], fps: Fraction, frame: int) -> Shot:
    if isinstance(clip.source, GeneratedSource):
        # The transparent stand-in a transition from or to nothing mixes with is nothing;
        # another generated picture is the same at every time.
        return None if clip.source.color[3] == 0 else (names[clip.id], 0)
    # The compositor's source time (workers.compositor): start + elapsed * speed, source_end.
    seconds = (
        Fraction(str(clip.source_start)) + (frame - clip.start) * Fraction(str(clip.speed)) / fps
    )
    if clip.source_end is not None:
        seconds = min(seconds, Fraction(str(clip.source_end)) - Fraction(1, 10**6))
    return names[clip.id], media_frame(seconds, fps)


# -- OpenTimelineIO's side --------------------------------------------------------------------


def record_track(track: Any) -> bool:
    """A cmx_3600-style track: negative source_range start, duration equal to its content's."""
    sr = track.source_range
    return (
        sr is not None
        and sr.start_time.value < 0
        and sec(sr.duration) == sec(track.available_range().duration)
    )


def cut_shots(tl: Any, track: Any, stack_time: Fraction, fps: Fraction) -> list[Shot]:
    """The clips of a top-level track visible at a stack time, by ``transformed_time`` through
    every level, each checked against the trimmed range of every item it sits in."""
    shots = []
    at = RT(float(stack_time * fps), float(fps))
    for clip in track.find_clips():
        media = tl.tracks.transformed_time(at, clip)
        if not clip.trimmed_range().contains(media):
            continue
        holder, visible = clip.parent(), True
        while holder is not None and holder is not tl.tracks:
            own = tl.tracks.transformed_time(at, holder)
            if holder is track and record_track(track):
                window = track.available_range()  # the record-time reading: all its content
            else:
                window = holder.trimmed_range()
            visible = visible and window.contains(own) and holder.enabled
            holder = holder.parent()
        if visible and clip.enabled:
            shots.append(_media(clip, sec(media) - sec(clip.source_range.start_time), fps))
    return sorted(shots) or [None]


def expanded_shots(tl: Any, track: Any, stack_time: Fraction, fps: Fraction) -> Shot:
    """What a flat track shows at a stack time, from OTIO's transition-expanded copy of it."""
    at = RT(float(stack_time * fps), float(fps))
    own = sec(tl.tracks.transformed_time(at, track))
    window = track.available_range() if record_track(track) else track.trimmed_range()
    if not window.contains(RT(float(own * fps), float(fps))):
        return None
    pos = Fraction(0)
    for item in otio.algorithms.track_with_expanded_transitions(track):
        if isinstance(item, tuple):
            pre, tr, post = item
            length = sec(tr.in_offset) + sec(tr.out_offset)
            if pos <= own < pos + length:
                progress = (own - pos + Fraction(1, 2) / fps) / length
                a, b = (_media(x, own - pos, fps) for x in (pre, post))
                return ("mix", a, b, round(float(progress), 6))
        else:
            length = sec(item.trimmed_range().duration)
            if pos <= own < pos + length:
                return _media(item, own - pos, fps)
        pos += length
    return None


def _media(item: Any, offset: Fraction, fps: Fraction) -> Shot:
    if not isinstance(item, otio.schema.Clip):
        return None
    base = item.name.removesuffix("_transition_pre").removesuffix("_transition_post")
    if isinstance(item.media_reference, otio.schema.GeneratorReference):
        return base, 0  # a generated picture is the same at every time
    start = item.media_reference.available_range.start_time
    return base, media_frame(sec(item.source_range.start_time) + offset - sec(start), fps)


def frames_of(tl: Timeline) -> Iterator[int]:
    """Every output frame."""
    return iter(range(tl.frames))


def check_cuts(sample: str, media: Path, tmp: Path, origin: Fraction = Fraction(0)) -> Timeline:
    """Every frame of every top-level track of a cut-only sample matches OTIO."""
    otl, path = relinked(sample, media, tmp)
    doc, tl = read_otio(path)
    for index, track in enumerate(otl.tracks):
        track_id = _track_id(otl, index)
        for frame in frames_of(tl):
            expected = cut_shots(otl, track, origin + Fraction(frame) / tl.fps, tl.fps)
            assert sorted(ours(tl, doc, track_id, frame), key=str) == sorted(expected, key=str), (
                f"{sample} track {track_id} frame {frame}"
            )
    return tl


def _track_id(otl: Any, index: int) -> str:
    name = str(otl.tracks[index].name)
    return name if name and [str(t.name) for t in otl.tracks].count(name) == 1 else f"#{index}"


# -- tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sample", ["edl/screening_example.otio", "screening_example.otio", "edl/gap_test.otio"]
)
def test_edl_record_offset_places_every_frame_as_otio(
    sample: str, clip_media: Path, tmp_path: Path
) -> None:
    otl = otio.adapters.read_from_file(str(DATA / sample))
    track = otl.tracks[0]
    origin = -sec(track.source_range.start_time) if track.source_range else Fraction(0)
    tl = check_cuts(sample, clip_media, tmp_path, origin)
    # The program is the events, from the first record in: 1049 frames for the screening EDL.
    assert tl.frames == otl.duration().value
    assert tl.tracks[0].clips[0].start == 0


def test_screening_edl_first_event_is_its_record_in(clip_media: Path, tmp_path: Path) -> None:
    _, path = relinked("edl/screening_example.otio", clip_media, tmp_path)
    _, tl = read_otio(path)
    first, second = tl.tracks[0].clips[:2]
    # 001: source 01:00:04:05-01:00:05:12 at record 00:59:53:11, the first event.
    assert (first.start, first.end) == (0, 31)
    assert first.source_start == pytest.approx(HANDLE / 24)
    assert (second.start, second.end) == (31, 81)


def test_track_source_range_offsets_and_trims(clip_media: Path, tmp_path: Path) -> None:
    # Track-003's source_range starts at -7: its 9-frame clip shows from frame 7 to 16.
    tl = check_cuts("multiple_track.otio", clip_media, tmp_path)
    assert tl.frames == 19
    (clip,) = tl.tracks[2].clips
    assert (clip.id, clip.start, clip.end) == ("Clip-005", 7, 16)


def test_trimmed_track_hides_what_lies_outside_its_range(clip_media: Path, tmp_path: Path) -> None:
    otl, _ = relinked("multiple_track.otio", clip_media, tmp_path)
    # Show track time 2..12 of Track-001 (Clip-001 frames 2, Clip-002, the gap).
    otl.tracks[0].source_range = otio.opentime.TimeRange(RT(2, 24), RT(10, 24))
    path = str(tmp_path / "trimmed.otio")
    otio.adapters.write_to_file(otl, path)
    doc, tl = read_otio(path)
    assert [(c.id, c.start, c.end) for c in tl.tracks[0].clips] == [
        ("Clip-001", 0, 1),
        ("Clip-002", 1, 7),
    ]
    for frame in range(tl.frames):
        expected = cut_shots(otl, otl.tracks[0], Fraction(frame, 24), Fraction(24))
        assert ours(tl, doc, "Track-001", frame) == expected


def test_nested_compositions_flatten_as_otio_places_them(clip_media: Path, tmp_path: Path) -> None:
    otl, path = relinked("nested_example.otio", clip_media, tmp_path)
    doc, tl = read_otio(path)
    assert tl.frames == otl.duration().value == 636
    timed = {"Clip Inside A Stack 2", "Clip Inside A Track"}  # under time effects: below
    for frame in range(tl.frames):
        expected = cut_shots(otl, otl.tracks[0], Fraction(frame, 24), Fraction(24))
        got = ours(tl, doc, "Top Level Track", frame)
        if any(s is not None and s[0] in timed for s in [*expected, *got]):
            continue
        assert got == expected, f"frame {frame}"
    # The nested stack's source_range (0, 31) shows 31 of its clip's 37 frames.
    inside = tl.clip("Clip Inside A Stack 1")
    assert (inside.start, inside.end) == (238, 269)


def test_nested_time_effects_speed_and_hold(clip_media: Path, tmp_path: Path) -> None:
    _, path = relinked("nested_example.otio", clip_media, tmp_path)
    doc, tl = read_otio(path)
    # "Nested Stack 2" plays its content at 0.8545x over its 29 frames (from frame 302).
    warped = tl.clip("Clip Inside A Stack 2")
    assert warped.start == 302
    assert warped.speed == pytest.approx(0.8545454551724138)
    # Its 24 frames of content last 24 / 0.8545 = 28.1 frames; the stack's 29th shows nothing.
    assert warped.end == 302 + 28
    # "Nested Track" has a FreezeFrame: its one clip's first frame is held for 4 frames.
    held = tl.clip("Clip Inside A Track")
    assert (held.start, held.end) == (394, 398)
    names = {c["id"]: c["name"] for t in doc["tracks"] for c in t["clips"]}
    shown = {_view(held, names, tl.fps, f) for f in range(394, 398)}
    assert shown == {("Clip Inside A Track", HANDLE)}


@pytest.mark.parametrize(
    "sample",
    [
        "edl/dissolve_test.otio",
        "edl/dissolve_test_4.otio",
        "edl/wipe_test.otio",
        "edl/transition_duration.otio",
        "transition.otio",
        "transition_test.otio",
    ],
)
def test_transitions_match_otio_expanded_tracks(
    sample: str, clip_media: Path, tmp_path: Path
) -> None:
    otl, path = relinked(sample, clip_media, tmp_path)
    doc, tl = read_otio(path)
    track = otl.tracks[0]
    origin = Fraction(0)
    if record_track(track):
        origin = -sec(track.source_range.start_time)
    assert tl.frames == otl.duration().value
    track_id = doc["tracks"][0]["id"]
    for frame in range(tl.frames):
        expected = expanded_shots(otl, track, origin + Fraction(frame) / tl.fps, tl.fps)
        assert ours(tl, doc, track_id, frame) == [expected], f"{sample} frame {frame}"


def test_edge_transitions_count_in_the_length_and_fade_from_nothing(
    clip_media: Path, tmp_path: Path
) -> None:
    otl, path = relinked("transition_test.otio", clip_media, tmp_path)
    _, tl = read_otio(path)
    # t0 (10/10) before A and t3 (10/10) after C: 150 frames of clips, 170 of timeline.
    assert tl.frames == 170
    first = tl.transitions[0]
    assert (first.kind, first.start, first.end, first.to_clip) == ("dissolve", 0, 20, "A")
    assert tl.clip(first.from_clip).source.kind == "color"  # type: ignore[union-attr]
    assert tl.clip(first.from_clip).source.color[3] == 0  # type: ignore[union-attr]
    last = tl.transitions[-1]
    assert (last.start, last.end, last.from_clip) == (150, 170, "C")


def test_fcp_derived_sequence_renders_at_its_own_rate(clip_media: Path, tmp_path: Path) -> None:
    otl, path = relinked("premiere_example.otio", clip_media, tmp_path)
    doc, tl = read_otio(path)
    # The first video clip's range is stored at 15 fps; the sequence (global start) is 30.
    assert tl.fps == 30
    assert tl.frames == otl.duration().value == 1271
    # Premiere's title, exported as a Slug with alpha and no pixels, is left out, not drawn
    # as black over the whole sequence (chunking.timeline.otio_nle.drop_graphics).
    assert all(c.id != "test_title" for t in tl.tracks for c in t.clips)
    assert any("'test_title'" in w and "not drawn" in w for w in tl.warnings)
    # The 50 frames at 15 fps are 100 at 30.
    first = next(c for t in tl.tracks for c in t.clips if c.start == 536)
    assert first.end == 636
    # "Cross Dissolve" (in 19, out 0) into a gap: the clip fades out over its last 19 frames.
    fade = [t for t in tl.transitions if t.to_clip.endswith("(fade out)")]
    assert len(fade) == 1
    assert fade[0].end - fade[0].start == 19
    # Every flat video track matches OTIO's expanded transitions frame by frame.
    for index, track in enumerate(otl.tracks):
        if track.kind != "Video" or any(isinstance(c, otio.schema.Stack) for c in track):
            continue
        if any(c.name == "test_title" for c in track.find_clips()):
            continue  # the title's track: left out above
        for frame in range(tl.frames):
            expected = expanded_shots(otl, track, Fraction(frame, 30), tl.fps)
            assert ours(tl, doc, f"#{index}", frame) == [expected], f"#{index} frame {frame}"


def test_converted_edl_with_speed_effects(clip_media: Path, tmp_path: Path) -> None:
    otl, path = relinked("edl/speed_effects_small.otio", clip_media, tmp_path)
    _, tl = read_otio(path)
    assert tl.frames == otl.duration().value == 16636
    frozen = next(c for c in tl.tracks[0].clips if c.id.endswith("Z682_156 (LAY3)"))
    assert frozen.source_end is not None and frozen.source_end - frozen.source_start < 0.01
    fast = next(c for c in tl.tracks[0].clips if "47.56 FPS" in c.id)
    assert fast.speed == pytest.approx(47.56 / 24, rel=1e-3)


def test_generator_sample_is_bars(tmp_path: Path) -> None:
    _, tl = read_otio(str(DATA / "generator_reference_test.otio"))
    (clip,) = tl.tracks[0].clips
    assert clip.source == GeneratedSource("pattern", pattern="bars")
    assert (clip.start, clip.end, tl.frames) == (0, 50, 50)

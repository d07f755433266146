"""Chunk planning: full coverage, balanced default sizes, snapping boundaries to edit points."""

from __future__ import annotations

import math
import random
from fractions import Fraction
from itertools import pairwise

import pytest

from chunking.plan import Chunk, edit_points, plan_chunks
from chunking.timeline.model import Clip, GeneratedSource, Timeline, Track, TrackKind, Transition
from common.errors import TimelineError


def timeline(
    frames: int,
    cuts: tuple[int, ...] = (),
    *,
    fps: Fraction = Fraction(30),
    kind: TrackKind = TrackKind.VIDEO,
    enabled: bool = True,
    transitions: tuple[Transition, ...] = (),
) -> Timeline:
    """A one-track timeline whose back-to-back clips cut at the given frames."""
    edges = [0, *cuts, frames]
    clips = tuple(
        Clip(id=f"c{i}", track_id="t", source=GeneratedSource(), start=a, end=b)
        for i, (a, b) in enumerate(pairwise(edges))
    )
    track = Track(id="t", kind=kind, enabled=enabled, clips=clips)
    return Timeline(
        fps=fps, width=16, height=16, frames=frames, tracks=(track,), transitions=transitions
    )


def spans(chunks: list[Chunk]) -> list[tuple[int, int]]:
    return [(c.start, c.end) for c in chunks]


def check_invariants(chunks: list[Chunk], frames: int) -> None:
    assert chunks, "a timeline with frames always gets at least one chunk"
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert chunks[0].start == 0
    assert chunks[-1].end == frames
    for before, after in pairwise(chunks):
        assert before.end == after.start
    assert all(c.frames >= 1 for c in chunks)
    assert sum(c.frames for c in chunks) == frames
    assert len(chunks) <= frames


# --- coverage and contiguity -------------------------------------------------------------------


@pytest.mark.parametrize("frames", [1, 2, 3, 7, 29, 30, 31, 59, 60, 61, 100, 997, 1000, 1801])
@pytest.mark.parametrize("workers", [1, 2, 3, 8, 64])
@pytest.mark.parametrize("chunk_frames", [None, 1, 2, 7, 30, 1000])
def test_every_frame_is_covered_once_in_order(
    frames: int, workers: int, chunk_frames: int | None
) -> None:
    tl = timeline(frames, tuple(c for c in (5, 17, 33, 240, 480, 900) if c < frames))
    check_invariants(plan_chunks(tl, workers=workers, chunk_frames=chunk_frames), frames)


# --- explicit chunk size -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frames", "chunk_frames", "expected"),
    [
        (10, 5, [(0, 5), (5, 10)]),
        (10, 4, [(0, 4), (4, 8), (8, 10)]),
        (10, 10, [(0, 10)]),
        (10, 11, [(0, 10)]),
        (10, 1000, [(0, 10)]),
        (3, 1, [(0, 1), (1, 2), (2, 3)]),
        (1, 1, [(0, 1)]),
    ],
)
def test_fixed_size_chunks(frames: int, chunk_frames: int, expected: list[tuple[int, int]]) -> None:
    assert spans(plan_chunks(timeline(frames), workers=4, chunk_frames=chunk_frames)) == expected


def test_one_frame_chunks() -> None:
    chunks = plan_chunks(timeline(50, (10, 20)), workers=2, chunk_frames=1)
    assert spans(chunks) == [(i, i + 1) for i in range(50)]
    assert all(c.frames == 1 for c in chunks)


def test_fixed_size_chunks_are_not_snapped() -> None:
    # A cut one frame past the would-be boundary is ignored: chunk_frames is an explicit override.
    chunks = plan_chunks(timeline(300, (101,)), workers=1, chunk_frames=100)
    assert spans(chunks) == [(0, 100), (100, 200), (200, 300)]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"chunk_frames": 0},
        {"chunk_frames": -5},
        {"workers": 0},
        {"workers": -1},
        {"chunks_per_worker": 0},
        {"min_frames": 0},
        {"snap_fraction": -0.1},
        {"snap_fraction": math.nan},
    ],
)
def test_bad_arguments_are_timeline_errors(kwargs: dict[str, float]) -> None:
    args: dict[str, object] = {"workers": 2, **kwargs}
    with pytest.raises(TimelineError):
        plan_chunks(timeline(100), **args)  # type: ignore[arg-type]


def test_chunk_frames_error_names_the_value() -> None:
    with pytest.raises(TimelineError, match="chunk_frames must be at least 1, got 0"):
        plan_chunks(timeline(100), workers=2, chunk_frames=0)


def test_empty_timeline_is_rejected() -> None:
    with pytest.raises(TimelineError, match="no frames"):
        plan_chunks(Timeline(fps=Fraction(30), width=2, height=2, frames=0), workers=1)


# --- default sizing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frames", "fps", "workers", "min_frames", "per_worker", "sizes"),
    [
        # long enough: workers * chunks_per_worker even chunks
        (800, Fraction(30), 2, None, 4, [100] * 8),
        (1001, Fraction(30), 2, None, 4, [125, 125, 125, 125, 125, 125, 125, 126]),
        # one worker still gets chunks_per_worker chunks
        (1200, Fraction(30), 1, None, 4, [300] * 4),
        (1200, Fraction(30), 1, None, 2, [600, 600]),
        # min_frames (default one second) limits the count: fewer, longer chunks
        (100, Fraction(30), 4, None, 4, [33, 33, 34]),
        (59, Fraction(30), 8, None, 4, [59]),
        (29, Fraction(30), 8, None, 4, [29]),
        (60, Fraction(30), 8, None, 4, [30, 30]),
        (1000, Fraction(30), 4, 200, 4, [250] * 4),  # 5 fit; rounded to whole rounds of 4
        (1000, Fraction(30), 4, 1000, 4, [1000]),
        (1000, Fraction(30), 4, 5000, 4, [1000]),
        # fractional rates: one second is ceil(fps) frames
        (1800, Fraction(30000, 1001), 4, None, 4, [112, 113] * 8),
        (100, Fraction(30000, 1001), 4, None, 4, [33, 33, 34]),
        (59, Fraction(30000, 1001), 4, None, 4, [59]),
        (47, Fraction(24000, 1001), 4, None, 4, [47]),
        (48, Fraction(24000, 1001), 4, None, 4, [24, 24]),
        (50, Fraction(25, 2), 4, None, 4, [16, 17, 17]),
        # never more chunks than frames
        (3, Fraction(30), 10, 1, 4, [1, 1, 1]),
        (1, Fraction(30), 10, 1, 4, [1]),
        (5, Fraction(1), 100, None, 4, [1] * 5),
    ],
)
def test_default_sizes(
    frames: int,
    fps: Fraction,
    workers: int,
    min_frames: int | None,
    per_worker: int,
    sizes: list[int],
) -> None:
    tl = timeline(frames, fps=fps)
    chunks = plan_chunks(tl, workers=workers, min_frames=min_frames, chunks_per_worker=per_worker)
    assert [c.frames for c in chunks] == sizes
    check_invariants(chunks, frames)


def test_frames_fewer_than_workers() -> None:
    chunks = plan_chunks(timeline(6), workers=16, min_frames=1)
    assert spans(chunks) == [(i, i + 1) for i in range(6)]


# --- snapping to edit points -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cuts", "bounds", "why"),
    [
        # defaults 100, 200, 300 (target 100, reach 15 frames, chunks stay >= 50)
        ((), [100, 200, 300], "no cuts"),
        ((110,), [110, 200, 300], "cut 10 frames after"),
        ((90,), [90, 200, 300], "cut 10 frames before"),
        ((115,), [115, 200, 300], "exactly at the reach"),
        ((116,), [100, 200, 300], "one frame too far"),
        ((150,), [100, 200, 300], "far away"),
        ((95, 105), [95, 200, 300], "tie goes to the earlier cut"),
        ((93, 104), [104, 200, 300], "nearest wins"),
        ((100, 104), [100, 200, 300], "already on a cut"),
        ((110, 190, 310), [110, 190, 310], "each boundary snaps"),
        ((112, 195), [112, 195, 300], "neighbours snap independently"),
    ],
)
def test_boundaries_snap_to_nearby_cuts(cuts: tuple[int, ...], bounds: list[int], why: str) -> None:
    chunks = plan_chunks(timeline(400, cuts), workers=1, min_frames=1)
    assert [c.start for c in chunks[1:]] == bounds, why
    check_invariants(chunks, 400)


def test_snap_fraction_controls_the_reach() -> None:
    tl = timeline(400, (130,))
    assert plan_chunks(tl, workers=1, min_frames=1)[0].end == 100
    assert plan_chunks(tl, workers=1, min_frames=1, snap_fraction=0.3)[0].end == 130
    assert plan_chunks(tl, workers=1, min_frames=1, snap_fraction=0.0)[0].end == 100


def test_snapping_keeps_chunks_at_least_half_the_target() -> None:
    # Target 10 frames, reach 5, minimum length 5: boundary 10 moves to 14 (4 is out of reach);
    # boundary 20 may then not move to 18, which would leave a chunk of 4.
    tl = timeline(40, (4, 14, 18))
    chunks = plan_chunks(tl, workers=1, min_frames=1, snap_fraction=0.5)
    assert [c.start for c in chunks[1:]] == [14, 20, 30]
    assert all(c.frames >= 5 for c in chunks)


def test_fallback_when_nearest_cut_would_make_a_short_chunk() -> None:
    # Target 10, reach 5, minimum 5. Boundary 10 moves to 14. Boundary 20 is 4 frames from both
    # 16 and 24; the tie prefers 16 but that leaves a 2-frame chunk, so 24 is taken.
    tl = timeline(40, (14, 16, 24))
    chunks = plan_chunks(tl, workers=1, min_frames=1, snap_fraction=0.5)
    assert [c.start for c in chunks[1:]] == [14, 24, 30]


def test_transitions_are_edit_points() -> None:
    fade = Transition("x", "dissolve", "c0", "c1", start=190, end=210)
    tl = timeline(400, (200,), transitions=(fade,))
    assert edit_points(tl) == [190, 200, 210]
    # Boundary 200 sits on the cut in the middle of the dissolve; 100 snaps to nothing.
    chunks = plan_chunks(tl, workers=1, min_frames=1)
    assert [c.start for c in chunks[1:]] == [100, 200, 300]
    tl = timeline(400, (230,), transitions=(Transition("x", "dissolve", "c0", "c1", 212, 240),))
    assert [c.start for c in plan_chunks(tl, workers=1, min_frames=1)[1:]] == [100, 212, 300]


@pytest.mark.parametrize(
    ("kind", "enabled", "expected"),
    [
        (TrackKind.VIDEO, True, [110, 250]),
        (TrackKind.VIDEO, False, []),
        (TrackKind.AUDIO, True, []),
        (TrackKind.SUBTITLE, True, []),
    ],
)
def test_edit_points_only_from_enabled_video_tracks(
    kind: TrackKind, enabled: bool, expected: list[int]
) -> None:
    tl = timeline(400, (110, 250), kind=kind, enabled=enabled)
    assert edit_points(tl) == expected
    bounds = [c.start for c in plan_chunks(tl, workers=1, min_frames=1)[1:]]
    assert bounds == ([110, 200, 300] if expected else [100, 200, 300])


def test_edit_points_are_sorted_unique_and_inside() -> None:
    clips = (
        Clip("a", "v1", GeneratedSource(), 0, 50),
        Clip("b", "v1", GeneratedSource(), 50, 120),
        Clip("c", "v2", GeneratedSource(), 20, 50),
        Clip("d", "v2", GeneratedSource(), 100, 150),
    )
    tl = Timeline(
        fps=Fraction(30),
        width=2,
        height=2,
        frames=150,
        tracks=(
            Track("v1", TrackKind.VIDEO, clips=clips[:2]),
            Track("v2", TrackKind.VIDEO, clips=clips[2:]),
        ),
        transitions=(Transition("t", "dissolve", "a", "b", 40, 60),),
    )
    assert edit_points(tl) == [20, 40, 50, 60, 100, 120]


# --- randomised invariants ---------------------------------------------------------------------


def test_random_plans_keep_every_invariant() -> None:
    rng = random.Random(20261)
    for _ in range(2000):
        frames = rng.randint(1, 5000)
        cuts = tuple(sorted(rng.sample(range(1, frames), min(frames - 1, rng.randint(0, 12)))))
        fps = rng.choice([Fraction(24), Fraction(30000, 1001), Fraction(60), Fraction(1)])
        tl = timeline(frames, cuts, fps=fps)
        workers = rng.randint(1, 40)
        per_worker = rng.randint(1, 6)
        min_frames = rng.choice([None, 1, rng.randint(1, 400)])
        snap = rng.choice([0.0, 0.15, 0.5, 1.0])
        chunks = plan_chunks(
            tl,
            workers=workers,
            min_frames=min_frames,
            chunks_per_worker=per_worker,
            snap_fraction=snap,
        )
        check_invariants(chunks, frames)
        m = min_frames if min_frames is not None else math.ceil(fps)
        count = len(chunks)
        expected = max(1, min(workers * per_worker, frames // m, frames))
        if expected > workers:
            expected -= expected % workers
        assert count == expected
        target = math.ceil(frames / count)
        assert all(c.frames >= max(1, target // 2) for c in chunks)
        # A boundary is either where the even split put it or on a cut within reach.
        for i, chunk in enumerate(chunks[1:], start=1):
            default = i * frames // count
            if chunk.start != default:
                assert chunk.start in cuts
                assert abs(chunk.start - default) <= snap * target
        fixed = rng.randint(1, frames + 3)
        chunks = plan_chunks(tl, workers=workers, chunk_frames=fixed)
        check_invariants(chunks, frames)
        assert all(c.frames == fixed for c in chunks[:-1])
        assert 1 <= chunks[-1].frames <= fixed

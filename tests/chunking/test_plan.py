"""Chunk planning: full coverage, explicit sizes, and the anchored default plan (boundaries on
cuts and on a fixed grid from the cut before them, stable across edits and worker counts)."""

from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import pytest

from chunking.plan import (
    ANCHOR_ODDS,
    PIECE_SECONDS,
    Chunk,
    anchors,
    cut_signatures,
    edit_points,
    piece_frames,
    plan_chunks,
)
from chunking.timeline.model import (
    Clip,
    ColorCorrection,
    FileSource,
    GeneratedSource,
    Timeline,
    Track,
    TrackKind,
    Transition,
)
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


def test_a_chunk_size_that_makes_too_many_chunks_is_refused_before_planning() -> None:
    """One frame a chunk over a day at 120 fps took minutes and gigabytes to plan."""
    frames = 24 * 3600 * 120
    with pytest.raises(TimelineError, match=r"splits the 10368000 frames into 10368000 chunks; "
                       r"at most 20000 are planned \(use at least 519\)"):  # fmt: skip
        plan_chunks(timeline(frames), workers=2, chunk_frames=1)
    assert len(plan_chunks(timeline(frames), workers=2, chunk_frames=519)) == 19977


def test_empty_timeline_is_rejected() -> None:
    with pytest.raises(TimelineError, match="no frames"):
        plan_chunks(Timeline(fps=Fraction(30), width=2, height=2, frames=0), workers=1)


# --- default sizing ----------------------------------------------------------------------------
# One clip, so no anchors: the grid step is PIECE_SECONDS (8 s), halved until every worker slot
# gets chunks_per_worker pieces, never below min_frames (default one second); a piece that
# would leave less than max(min_frames, 15 % of a step) before the end is merged into the last,
# and a last chunk longer than a step shares itself and the piece before it equally.


@pytest.mark.parametrize(
    ("frames", "fps", "workers", "min_frames", "per_worker", "sizes"),
    [
        # long enough for 8-second pieces
        (2400, Fraction(30), 1, None, 4, [240] * 10),
        (2400, Fraction(30), 1, None, 8, [240] * 10),
        (2500, Fraction(30), 1, None, 4, [240] * 10 + [100]),
        # 20 frames left over: less than the reach, so the last two pieces share them
        (2420, Fraction(30), 1, None, 4, [240] * 8 + [250, 250]),
        # 3 slots x 4 would get only 10 pieces of 8 s: 4-second pieces
        (2400, Fraction(30), 3, None, 4, [120] * 20),
        # short timelines: min_frames (one second) bounds the piece
        (100, Fraction(30), 4, None, 4, [30, 35, 35]),
        (59, Fraction(30), 8, None, 4, [59]),
        (29, Fraction(30), 8, None, 4, [29]),
        (60, Fraction(30), 8, None, 4, [30, 30]),
        (1000, Fraction(30), 4, 200, 4, [200] * 5),
        (1000, Fraction(30), 4, 1000, 4, [1000]),
        (1000, Fraction(30), 4, 5000, 4, [1000]),
        # fractional rates: 8 s is round(8 * fps) frames, one second ceil(fps)
        (1800, Fraction(30000, 1001), 1, None, 4, [240] * 7 + [120]),
        (48, Fraction(24000, 1001), 4, None, 4, [24, 24]),
        (47, Fraction(24000, 1001), 4, None, 4, [47]),
        (50, Fraction(25, 2), 4, None, 4, [13, 18, 19]),
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


@pytest.mark.parametrize(
    ("frames", "per_worker", "sizes"),
    [
        # the throughput bench's job: 10 s at 30 fps, keyframes every 60, two source GOPs least
        (300, 4, [300]),
        (300, 8, [300]),
        # one 8-second piece, the rest within the reach: one chunk
        (330, 4, [330]),
        # longer: 8-second pieces as for any slot count whose pieces need no halving
        (600, 4, [240, 240, 120]),
        (2400, 4, [240] * 10),
    ],
)
def test_a_single_slot_gets_whole_pieces(frames: int, per_worker: int, sizes: list[int]) -> None:
    # One slot renders its chunks one after another: halving the piece so that it gets
    # chunks_per_worker of them balances nothing and adds a chunk's fixed costs per cut.
    tl = timeline(frames)
    one = plan_chunks(tl, workers=1, min_frames=120, chunks_per_worker=per_worker)
    assert [c.frames for c in one] == sizes
    check_invariants(one, frames)
    assert piece_frames(tl, 1, per_worker, 120) == 240
    # Two slots still halve the piece for the balance between them.
    assert [c.frames for c in plan_chunks(tl, workers=2, min_frames=120)][:1] != [frames]


def test_piece_is_eight_seconds_until_the_slots_need_more() -> None:
    tl = timeline(18000)  # 10 minutes at 30 fps
    assert PIECE_SECONDS == 8
    assert [piece_frames(tl, w, 4, 30) for w in (1, 18, 19, 37, 38, 75, 76)] == [
        240, 240, 120, 120, 60, 60, 30
    ]  # fmt: skip
    assert piece_frames(tl, 1000, 4, 45) == 45  # never below min_frames


# --- anchors -----------------------------------------------------------------------------------


def starts(chunks: list[Chunk]) -> list[int]:
    return [c.start for c in chunks[1:]]


def test_cuts_are_boundaries_and_the_grid_restarts_at_each() -> None:
    # 8-second (240-frame) pieces from 0, then from the cut at 500, then from the cut at 1300;
    # [1220, 1300) is 80 frames, over the 36-frame reach, so it stays a chunk of its own;
    # [240, 500) would be 260, longer than a piece, so [0, 500) is cut in the middle.
    chunks = plan_chunks(timeline(2400, (500, 1300)), workers=1)
    assert starts(chunks) == [250, 500, 740, 980, 1220, 1300, 1540, 1780, 2020, 2260]
    check_invariants(chunks, 2400)


@pytest.mark.parametrize(
    ("cuts", "expected", "why"),
    [
        ((100, 110, 300), [100, 300], "a cut 10 frames after another does not anchor"),
        ((100, 120, 140, 160, 400), [100, 400], "a run of quick cuts anchors at its first"),
        ((100, 120, 140, 170, 400), [100, 170, 400], "30 frames after the last cut anchors"),
        ((20, 300), [300], "a cut within a second of the start does not anchor"),
        ((300, 580), [300], "nor one within a second of the end"),
        ((), [], "no cuts"),
    ],
)
def test_which_cuts_anchor(cuts: tuple[int, ...], expected: list[int], why: str) -> None:
    tl = timeline(600, cuts)
    found = anchors(tl, 30)
    # Besides these, a quick cut may anchor by what starts there (the test below).
    signatures = cut_signatures(tl)
    assert set(expected) <= set(found), why
    assert all(signatures[c] % ANCHOR_ODDS == 0 for c in set(found) - set(expected)), why
    assert all(b - a >= 30 for a, b in pairwise([0, *found])) and all(c <= 570 for c in found)
    assert set(found) <= set(starts(plan_chunks(tl, workers=1))), why


def shot_files(folder: Path, count: int, prefix: str = "shot") -> list[str]:
    """One media file per shot, each of its own size (as footage is), in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{prefix}{i}.mov"
        path.write_bytes(b"x" * (1000 + i))
        paths.append(str(path))
    return paths


@pytest.mark.parametrize("shift", [1, 30, -45, 97])
def test_quick_cuts_anchor_by_content_so_a_ripple_edit_keeps_the_chunks_after_it(
    shift: int, tmp_path: Path
) -> None:
    """Shots of 1.5 s, chunks at least 2 s: no cut is 2 s after the one before it, so only
    cuts chosen by what starts there can anchor; time inserted or trimmed at the head must
    leave most later chunks as they were, shifted (the segment cache then reuses them)."""
    lengths = [45] * 40
    files = shot_files(tmp_path, len(lengths))

    def shots(first: int) -> Timeline:
        edges = list(itertools.accumulate([first, *lengths[1:]], initial=0))
        clips = tuple(
            Clip(id=f"c{i}", track_id="t", source=FileSource(files[i]), start=a, end=b)
            for i, (a, b) in enumerate(pairwise(edges))
        )
        track = Track(id="t", kind=TrackKind.VIDEO, clips=clips)
        return Timeline(fps=Fraction(30), width=16, height=16, frames=edges[-1],
                        tracks=(track,))  # fmt: skip

    before = plan_chunks(shots(45), workers=4, min_frames=60)
    after = plan_chunks(shots(45 + shift), workers=4, min_frames=60)
    moved = {(c.start + shift, c.end + shift) for c in before if c.start >= 45}
    kept = [c for c in after if (c.start, c.end) in moved]
    assert len(kept) >= len(before) // 2, (spans(before), spans(after))


def test_renaming_the_media_or_moving_the_project_keeps_the_plan(tmp_path: Path) -> None:
    """README: a content key never depends on a path, so a moved project or a renamed file
    keeps its keys; the quick cuts that anchor chunks must not depend on one either."""

    def shots(files: list[str]) -> Timeline:
        clips = tuple(
            Clip(id=f"c{i}", track_id="t", source=FileSource(path), start=45 * i, end=45 * i + 45)
            for i, path in enumerate(files)
        )
        track = Track(id="t", kind=TrackKind.VIDEO, clips=clips)
        return Timeline(fps=Fraction(30), width=16, height=16, frames=45 * len(files),
                        tracks=(track,))  # fmt: skip

    def plan(files: list[str]) -> list[tuple[int, int]]:
        return spans(plan_chunks(shots(files), workers=4, min_frames=60))

    original = plan(shot_files(tmp_path / "project", 40))
    assert len(set(original)) > 2
    assert plan(shot_files(tmp_path / "moved" / "project", 40)) == original
    assert plan(shot_files(tmp_path / "renamed", 40, prefix="take")) == original


def test_snap_fraction_sets_how_close_to_an_anchor_a_grid_boundary_may_fall() -> None:
    # min_frames 1: 60-frame pieces (400 frames for 2 slots x 2 chunks); the reach is
    # max(1, floor(snap_fraction * 60)): 9 frames keeps the boundary at 360, 42 drops it (and
    # the last two pieces then share the 160 frames after 240 equally).
    tl = timeline(400)
    assert starts(plan_chunks(tl, workers=2, chunks_per_worker=2, min_frames=1)) == [
        60, 120, 180, 240, 300, 360
    ]  # fmt: skip
    snapped = plan_chunks(tl, workers=2, chunks_per_worker=2, min_frames=1, snap_fraction=0.7)
    assert starts(snapped) == [60, 120, 180, 240, 320]
    assert snapped[-1].frames == 80


def test_transitions_are_edit_points() -> None:
    fade = Transition("x", "dissolve", "c0", "c1", start=190, end=210)
    tl = timeline(400, (200,), transitions=(fade,))
    assert edit_points(tl) == [190, 200, 210]
    # 190 anchors; 200 and 210 follow it too closely.
    assert anchors(tl, 30) == [190]


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
    assert anchors(tl, 30) == expected


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


# --- stability across edits --------------------------------------------------------------------


def film(lengths: list[int], recolour: int | None = None) -> Timeline:
    """Back-to-back clips of these lengths on one track (clip ``recolour`` graded)."""
    clips, at = [], 0
    for i, length in enumerate(lengths):
        grade = ColorCorrection(saturation=0.5) if i == recolour else ColorCorrection()
        clips.append(Clip(f"c{i}", "v", GeneratedSource(), at, at + length, color=grade))
        at += length
    track = Track("v", TrackKind.VIDEO, clips=tuple(clips))
    return Timeline(fps=Fraction(30), width=16, height=16, frames=at, tracks=(track,))


#: 40 clips of 2 to 28 seconds: 17835 frames, about 10 minutes at 30 fps.
_LENGTHS_RNG = random.Random(18)
LENGTHS = [_LENGTHS_RNG.randrange(60, 840) for _ in range(40)]


def surviving(old: list[Chunk], new: list[Chunk], x0: int, x1: int, shift: int) -> list[Chunk]:
    """Old chunks the new plan has too: unchanged before the edit [x0, x1), moved by ``shift``
    after it."""
    have = set(spans(new))
    return [
        c
        for c in old
        if (c.end <= x0 and (c.start, c.end) in have)
        or (c.start >= x1 and (c.start + shift, c.end + shift) in have)
    ]


def edited(kind: str, k: int) -> tuple[list[int], int | None, int, int, int]:
    """LENGTHS after an edit of clip k: (lengths, recoloured clip, x0, x1, shift), where
    [x0, x1) is the edited stretch of the old timeline and ``shift`` what follows moves by."""
    at = sum(LENGTHS[:k])
    n = LENGTHS[k]
    if kind == "recolour":
        return LENGTHS, k, at, at + n, 0
    if kind == "insert 2 s at a cut":
        return [*LENGTHS[:k], 60, *LENGTHS[k:]], None, at, at, 60
    if kind == "insert 2 s inside a clip":
        half = n // 2
        return [*LENGTHS[:k], half, 60, n - half, *LENGTHS[k + 1 :]], None, at, at + n, 60
    if kind == "delete a clip":
        return [*LENGTHS[:k], *LENGTHS[k + 1 :]], None, at, at + n, -n
    assert kind == "trim a clip's end by 1.5 s"
    return [*LENGTHS[:k], n - 45, *LENGTHS[k + 1 :]], None, at, at + n, -45


@pytest.mark.parametrize(
    ("kind", "most_new"),
    [
        ("recolour", 0),  # cuts unchanged: the plan is identical
        ("insert 2 s at a cut", 1),  # the inserted clip is the only new chunk
        ("insert 2 s inside a clip", 4),  # the split clip's pieces, plus the insert
        ("delete a clip", 0),  # the deleted clip's pieces go, nothing else changes
        ("trim a clip's end by 1.5 s", 1),  # the trimmed clip's last piece
    ],
)
@pytest.mark.parametrize("k", [5, 20, 33])
def test_an_edit_moves_only_the_boundaries_near_it(kind: str, most_new: int, k: int) -> None:
    lengths, recolour, x0, x1, shift = edited(kind, k)
    before = plan_chunks(film(LENGTHS), workers=8)
    after = plan_chunks(film(lengths, recolour), workers=8)
    check_invariants(after, sum(lengths))
    kept = surviving(before, after, x0, x1, shift)
    # Every chunk wholly outside the edited clip's stretch is still there (shifted after it)...
    assert kept == [c for c in before if c.end <= x0 or c.start >= x1]
    # ...so the new plan renders only the chunks inside it.
    assert len(after) - len(kept) <= most_new + sum(1 for c in before if x0 <= c.start < x1)


def test_same_timeline_same_plan() -> None:
    tl = film(LENGTHS)
    assert plan_chunks(tl, workers=8) == plan_chunks(film(list(LENGTHS)), workers=8)


def test_slot_changes_rarely_change_the_plan() -> None:
    # The rule: the plan depends on the slot count W only through the grid step, which halves
    # when W * chunks_per_worker * step exceeds the frames. For 18000 frames and 4 chunks per
    # slot: 8-second steps up to 18.6 slots, 4 up to 37.2, 2 up to 74.3.
    tl = film(LENGTHS)
    plans = {w: plan_chunks(tl, workers=w) for w in range(1, 65)}
    changes = [w for w in range(1, 64) if plans[w] != plans[w + 1]]
    assert sum(LENGTHS) == 17835
    assert changes == [18, 37]


def test_ten_minute_film_plan_shape() -> None:
    # The figures quoted in the report: every chunk between one second and 8 s + the reach.
    chunks = plan_chunks(film(LENGTHS), workers=8)
    sizes = [c.frames for c in chunks]
    assert min(sizes) >= 30 and max(sizes) < 240 + 36
    assert len(chunks) == len(set(spans(chunks)))
    assert 40 <= len(chunks) <= 40 + sum(LENGTHS) // 240


# --- randomised invariants ---------------------------------------------------------------------


def test_random_plans_keep_every_invariant() -> None:
    rng = random.Random(20261)
    for _ in range(1500):
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
        assert chunks == plan_chunks(
            tl,
            workers=workers,
            min_frames=min_frames,
            chunks_per_worker=per_worker,
            snap_fraction=snap,
        )
        m = min_frames if min_frames is not None else math.ceil(fps)
        piece = piece_frames(tl, workers, per_worker, m)
        reach = max(m, math.floor(snap * piece))
        if frames >= m:
            assert all(c.frames >= m for c in chunks)
        assert all(c.frames < piece + reach for c in chunks) or len(chunks) == 1
        # A boundary is an anchor or a whole number of steps after the anchor before it, but
        # for the middle of a stretch's last two pieces where the last would exceed a step.
        points = anchors(tl, m)
        for before, chunk in zip(chunks, chunks[1:], strict=False):
            base = max([0, *(a for a in points if a <= chunk.start)])
            if (chunk.start - base) % piece:
                assert chunk.end in {*points, frames}
                assert chunk.start == before.start + (chunk.end - before.start) // 2
                assert (before.start - base) % piece == 0
            if chunk.end in {*points, frames} and before.start >= base:
                # a stretch's last chunk: at most a step, or sharing equally with the one before
                assert chunk.frames <= piece or chunk.frames - before.frames in (0, 1)
        assert set(points) <= {c.start for c in chunks}
        fixed = rng.randint(1, frames + 3)
        chunks = plan_chunks(tl, workers=workers, chunk_frames=fixed)
        check_invariants(chunks, frames)
        assert all(c.frames == fixed for c in chunks[:-1])
        assert 1 <= chunks[-1].frames <= fixed


def test_random_edits_keep_the_chunks_away_from_them() -> None:
    rng = random.Random(918)
    checked = 0
    for _ in range(150):
        lengths = [rng.randrange(10, 600) for _ in range(rng.randint(2, 30))]
        k = rng.randrange(len(lengths))
        at, n = sum(lengths[:k]), lengths[k]
        added = rng.randrange(1, 120)
        changed = [*lengths[:k], added, *lengths[k + 1 :]]
        workers = rng.randint(1, 4)
        if piece_frames(film(lengths), workers, 4, 30) != piece_frames(
            film(changed), workers, 4, 30
        ):
            continue  # a short timeline whose new length crossed a halving of the grid step
        checked += 1
        old = plan_chunks(film(lengths), workers=workers)
        new = plan_chunks(film(changed), workers=workers)
        # Replacing clip k (a cut at `at` stays, the next moves by added - n) can change anchors
        # only up to the first cut after the edit (and the last before the end, when the edit
        # brings the end within a second of it), and the grid after the last anchor before it.
        cuts = list(itertools.accumulate(lengths))
        ahead = [c for c in cuts if c > at + n]
        x1 = ahead[0] if ahead else at + n
        both = set(anchors(film(lengths), 30)) & set(anchors(film(changed), 30))
        behind = [0, *sorted(a for a in both if a <= at)]
        kept = surviving(old, new, behind[-1], x1, added - n)
        assert kept == [c for c in old if c.end <= behind[-1] or c.start >= x1]
    assert checked >= 120


@pytest.mark.parametrize("interval", [2, 30, 45, 60, 250, 5000])
@pytest.mark.parametrize("chunk_frames", [None, 7, 13, 100])
@pytest.mark.parametrize("frames", [1, 44, 360, 1801])
def test_a_keyframe_interval_puts_every_chunk_start_on_its_grid(
    interval: int, chunk_frames: int | None, frames: int
) -> None:
    """Keyframes must fall on multiples of the interval, as a single-process render puts them
    (renditions for streaming are cut there): each chunk starts a segment with a keyframe."""
    from dataclasses import replace

    from chunking.timeline.model import ExportSettings

    tl = replace(
        timeline(frames, tuple(c for c in (17, 95, 400) if c < frames)),
        export=ExportSettings(keyframe_interval=interval),
    )
    chunks = plan_chunks(tl, workers=4, chunk_frames=chunk_frames)
    check_invariants(chunks, frames)
    assert all(c.start % interval == 0 for c in chunks)
    # Without the interval, the same plan is not on the grid (the test would prove nothing).
    plain = plan_chunks(replace(tl, export=ExportSettings()), workers=4, chunk_frames=chunk_frames)
    if any(c.start % interval for c in plain):
        assert spans(plain) != spans(chunks)


@pytest.mark.parametrize("most", [1, 7, 30, 64, 250])
def test_a_capped_plan_stays_anchored_and_within_the_cap(most: int) -> None:
    """Spot pools cap a chunk (max_frames): every chunk is within the cap, the cuts still start
    chunks, and a clip inserted near the start leaves every chunk after the next anchor as it
    was, only moved (a grid from frame 0 moved them all)."""
    lengths = LENGTHS[:12]
    old = plan_chunks(film(lengths), workers=4, max_frames=most)
    check_invariants(old, sum(lengths))
    assert all(c.frames <= most for c in old)
    assert set(anchors(film(lengths), min(30, most))) <= {c.start for c in old}
    assert old == plan_chunks(film(lengths), workers=4, max_frames=most)
    added = 45
    new = plan_chunks(film([added, *lengths]), workers=4, max_frames=most)
    x1 = next(a for a in anchors(film(lengths), min(30, most)) if a >= lengths[0])
    assert surviving(old, new, 0, x1, added) == [c for c in old if c.start >= x1]
    with pytest.raises(TimelineError, match="max_frames must be at least 1, got 0"):
        plan_chunks(film(lengths), workers=4, max_frames=0)


@pytest.mark.parametrize(
    ("chunk_frames", "used", "lengths"),
    [
        (10, 48, [48, 48, 24]),
        (60, 48, [48, 48, 24]),
        (72, 96, [96, 24]),
        (96, 96, [96, 24]),
        (500, 480, [120]),
    ],
)
def test_explicit_chunk_frames_are_whole_keyframe_intervals(
    chunk_frames: int, used: int, lengths: list[int]
) -> None:
    """Moved one by one onto a 48-frame keyframe grid, boundaries of 60-frame chunks made
    chunks of 48 and 72 frames: the length is rounded to whole intervals instead."""
    from dataclasses import replace

    from chunking.plan import keyframe_chunk_frames
    from chunking.timeline.model import ExportSettings

    tl = replace(timeline(120), export=ExportSettings(keyframe_interval=48))
    assert keyframe_chunk_frames(tl, chunk_frames) == used
    chunks = plan_chunks(tl, workers=2, chunk_frames=chunk_frames)
    assert [c.end - c.start for c in chunks] == lengths

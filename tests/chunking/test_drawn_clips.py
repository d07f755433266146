"""The drawn-clips index answers what a scan of every clip answers, for any frame range."""

from __future__ import annotations

import dataclasses
import random
from fractions import Fraction
from pathlib import Path

import pytest

from chunking.content_key import chunk_key
from chunking.drawn_clips import drawn_clips
from chunking.timeline.model import (
    Cell,
    Clip,
    Crop,
    Effect,
    FileSource,
    GeneratedSource,
    Subtitle,
    Timeline,
    Track,
    TrackKind,
    Transform,
    Transition,
)
from chunking.timeline.studio import load_project
from tests.media import make_video
from workers.compositor import Compositor


def random_timeline(seed: int) -> dict[str, object]:
    """Three tracks of clips from a tenth of a second to 40 s (past several index buckets),
    with gaps, and dissolves on some cuts (they draw their clips beyond the clips' ends)."""
    rng = random.Random(seed)
    tracks, transitions = [], []
    for t in range(3):
        clips, pos = [], 0.0
        for i in range(rng.randint(1, 30)):
            pos += rng.choice([0, 0, 0.5, 3])
            length = rng.choice([0.1, 1, 5, 40])
            clips.append(
                {
                    "id": f"t{t}c{i}",
                    "start_time": pos,
                    "end_time": pos + length,
                    "source": "Generated",
                }
            )
            pos += length
        for a, b in zip(clips, clips[1:], strict=False):
            if a["end_time"] == b["start_time"] and rng.random() < 0.5:
                transitions.append(
                    {
                        "id": f"{a['id']}>",
                        "transition_type": "Dissolve",
                        "from_clip_id": a["id"],
                        "to_clip_id": b["id"],
                        "duration": {"value": 0.2},
                    }
                )
        tracks.append({"id": f"v{t}", "track_type": "Video", "clips": clips})
    return {
        "timeline": {"fps": 30, "resolution": [64, 36]},
        "tracks": tracks,
        "transitions": transitions,
    }


@pytest.mark.parametrize("seed", range(8))
def test_the_index_agrees_with_a_scan_of_every_clip(seed: int) -> None:
    timeline = load_project(random_timeline(seed), ".")
    index = drawn_clips(timeline)
    assert drawn_clips(timeline) is index  # made once per timeline
    # Every clip's drawn span, from the timeline itself: its own, stretched by its dissolves.
    layers = [(i, c) for i, t in enumerate(timeline.tracks) for c in t.clips]
    span = {c.id: [c.start, c.end] for _, c in layers}
    for tr in timeline.transitions:
        for cid in (tr.from_clip, tr.to_clip):
            span[cid] = [min(span[cid][0], tr.start), max(span[cid][1], tr.end)]
    assert timeline.transitions  # the case the spans are stretched for is there
    rng = random.Random(seed)
    for _ in range(60):
        start = rng.randrange(timeline.frames)
        end = rng.randint(start + 1, timeline.frames)
        scanned = [(i, c) for i, c in layers if span[c.id][0] < end and span[c.id][1] > start]
        assert index.drawn(start, end) == scanned
        # The transitions drawn there, found from the drawn clips, are a scan's, in its order.
        crossing = [tr for tr in timeline.transitions if tr.start < end and tr.end > start]
        assert index.transitions(scanned, start, end) == crossing


# -- clips drawn over entirely (incremental finding: a clip moved on a lower track, under an
# opaque full-canvas clip, re-rendered every chunk it spans although no pixel changed) --------


def covered(top: dict[str, object] | None = None, **lower: object) -> Timeline:
    """A 90-frame timeline: a file clip on the lower track, an opaque colour over all of it
    on the upper one (``top`` changes that clip), a title over both."""
    low = Clip(id="low", track_id="v1", source=FileSource("/m/a.mp4"), start=0, end=90)
    cover = Clip(id="top", track_id="v2", source=GeneratedSource(color=(200, 30, 40, 255)),
                 start=0, end=90)  # fmt: skip
    low, cover = dataclasses.replace(low, **lower), dataclasses.replace(cover, **(top or {}))
    return Timeline(
        fps=Fraction(30), width=32, height=18, frames=90,
        tracks=(
            Track(id="v1", kind=TrackKind.VIDEO, clips=(low,)),
            Track(id="v2", kind=TrackKind.VIDEO, clips=(cover,)),
        ),
        subtitles=(Subtitle(id="t", text="Hi", start=10, end=50),),
    )  # fmt: skip


MEDIA = {"/m/a.mp4": "sha256:a", "/m/b.mp4": "sha256:b"}
LOWER_EDITS: list[dict[str, object]] = [
    {"source_start": 1.0},
    {"source": FileSource("/m/b.mp4")},
    {"opacity": 0.5, "transform": Transform(rotation=10.0)},
    {"start": 5},
]


@pytest.mark.parametrize("edit", LOWER_EDITS)
def test_a_clip_under_an_opaque_full_canvas_clip_does_not_key_the_range(
    edit: dict[str, object],
) -> None:
    assert chunk_key(covered(**edit), 30, 60, MEDIA, "fp") == chunk_key(
        covered(), 30, 60, MEDIA, "fp"
    )


@pytest.mark.parametrize(
    "top",
    [
        {"opacity": 0.99},
        {"source": GeneratedSource(color=(200, 30, 40, 254))},
        {"transform": Transform(scale_x=0.9)},
        {"crop": Crop(left=1)},
        {"cell": Cell(0.0, 0.0, 1.0, 1.0)},
        {"effects": (Effect("k", "chromakey", start=55),)},
        {"start": 31},
        {"end": 59},
    ],
)
def test_a_clip_that_may_not_cover_every_pixel_hides_nothing(top: dict[str, object]) -> None:
    assert chunk_key(covered(top, source_start=1.0), 30, 60, MEDIA, "fp") != chunk_key(
        covered(top), 30, 60, MEDIA, "fp"
    )


def test_a_transition_drawn_above_the_cover_keeps_its_lower_clip() -> None:
    tl = covered()
    other = Clip(id="up", track_id="v3", source=GeneratedSource(color=(1, 2, 3, 255)),
                 start=40, end=90)  # fmt: skip
    up = Track(id="v3", kind=TrackKind.VIDEO, clips=(other,))
    # From the low clip (under the cover) to one above it: drawn on the top track.
    tr = Transition(id="x", kind="dissolve", from_clip="low", to_clip="up", start=35, end=45)
    joined = dataclasses.replace(tl, tracks=(*tl.tracks, up), transitions=(tr,))
    moved = dataclasses.replace(joined, tracks=(
        covered(source_start=1.0).tracks[0], *joined.tracks[1:]))  # fmt: skip
    assert chunk_key(moved, 30, 60, MEDIA, "fp") != chunk_key(joined, 30, 60, MEDIA, "fp")


def test_the_compositor_draws_the_same_frames_whatever_lies_under_the_cover(
    tmp_path: Path,
) -> None:
    # The key's claim checked against the renderer itself: two timelines whose keys agree
    # because their lower clips are covered give equal frames.
    a, b = make_video(tmp_path / "a.mp4", frames=90, size=(32, 18)), tmp_path / "b.mp4"
    make_video(b, frames=90, size=(16, 16))
    one = covered(source=FileSource(str(a)))
    two = covered(source=FileSource(str(b)), source_start=0.5, opacity=0.5)
    media = {str(a): "sha256:a", str(b): "sha256:b"}
    assert chunk_key(one, 0, 90, media, "fp") == chunk_key(two, 0, 90, media, "fp")
    frames = [list(Compositor(tl).frames(0, 90)) for tl in (one, two)]
    assert all((x == y).all() for x, y in zip(*frames, strict=True))

"""Content ids of an image sequence's images: a chunk's key names only the images it shows, so
re-exporting one image of a sequence re-renders only the chunks showing it (incremental
finding: one image changed made every chunk of a 120-image sequence render again)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from chunking.content_key import chunk_key
from chunking.timeline.model import Clip, FileSource, ImageSequence, Timeline, Track, TrackKind
from orchestrator.planning import media_ids
from tests.media import make_image
from workers.media_ids import LocalIds

CHUNKS = [(0, 30), (30, 60), (60, 90), (90, 120)]


def sequence_timeline(folder: Path) -> Timeline:
    """120 frames at 30 fps of a 120-image sequence (img_0000.png ...) played at 30 fps."""
    for n in range(120):
        make_image(folder / f"img_{n:04d}.png", (8, 8), (n, 2 * n % 256, 0, 255))
    seq = ImageSequence("img_", ".png", 0, 120, Fraction(30), padding=4)
    clip = Clip(id="s", track_id="v", source=FileSource(str(folder / "img_0000.png"), seq),
                start=0, end=120)  # fmt: skip
    track = Track(id="v", kind=TrackKind.VIDEO, clips=(clip,))
    return Timeline(fps=Fraction(30), width=16, height=16, frames=120, tracks=(track,))


def keys(timeline: Timeline) -> list[str]:
    """Each chunk's key as a worker works it out from its own disk."""
    ids = LocalIds(timeline)
    return [chunk_key(timeline, a, b, ids, "fp") for a, b in CHUNKS]


def test_one_image_re_exported_changes_only_the_keys_of_chunks_showing_it(
    tmp_path: Path,
) -> None:
    timeline = sequence_timeline(tmp_path)
    before = keys(timeline)
    make_image(tmp_path / "img_0070.png", (8, 8), (255, 255, 255, 255))
    after = keys(timeline)
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert changed == [2]  # frames 60-89 show image 70


def test_the_planner_and_a_worker_key_a_sequence_alike(tmp_path: Path) -> None:
    timeline = sequence_timeline(tmp_path)
    planned = media_ids({}, timeline=timeline)
    assert [chunk_key(timeline, a, b, planned, "fp") for a, b in CHUNKS] == keys(timeline)


def test_an_image_missing_leaves_the_chunks_of_the_sequence_unkeyed(tmp_path: Path) -> None:
    timeline = sequence_timeline(tmp_path)
    (tmp_path / "img_0100.png").unlink()
    ids = LocalIds(timeline)
    for a, b in CHUNKS:
        try:
            chunk_key(timeline, a, b, ids, "fp")
        except KeyError:
            continue
        raise AssertionError(f"frames {a}-{b} keyed without image 100")

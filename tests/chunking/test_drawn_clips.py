"""The drawn-clips index answers what a scan of every clip answers, for any frame range."""

from __future__ import annotations

import random

import pytest

from chunking.drawn_clips import drawn_clips
from chunking.timeline.studio import load_project


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

"""The index cache of a worker process is bounded in frames, not in files alone: 64 files
near MAX_INDEX_FRAMES (one crafted file uploaded under 64 names) kept 64 indexes of 10 million
frames, 27 GB, in one worker."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from tests.media import make_video
from workers import video_index


def _index(path: Path) -> video_index.VideoIndex:
    with av.open(str(path)) as container:
        return video_index.video_index(container, container.streams.video[0], str(path))


def test_the_cache_keeps_at_most_its_frame_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(video_index, "_CACHE", {})
    monkeypatch.setattr(video_index, "_CACHE_FRAMES", 100, raising=False)
    paths = [make_video(tmp_path / f"{n}.mkv", frames=40, size=(32, 18)) for n in range(4)]
    indexes = [_index(path) for path in paths]
    assert all(len(index.pts) == 40 for index in indexes)
    cached = video_index._CACHE
    assert sum(len(index.pts) for index in cached.values()) <= 100
    # The newest are kept (oldest out first), and a cached one is served again as it was.
    assert [key[0] for key in cached] == [str(p) for p in paths[2:]]
    assert _index(paths[3]) is indexes[3]


def test_an_index_over_the_budget_alone_is_still_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file of more frames than the cache keeps (but fewer than MAX_INDEX_FRAMES) renders:
    the cache empties for it rather than refusing it."""
    monkeypatch.setattr(video_index, "_CACHE", {})
    monkeypatch.setattr(video_index, "_CACHE_FRAMES", 30, raising=False)
    small = _index(make_video(tmp_path / "small.mkv", frames=10, size=(32, 18)))
    large = _index(make_video(tmp_path / "large.mkv", frames=40, size=(32, 18)))
    assert len(small.pts) == 10 and len(large.pts) == 40
    assert list(video_index._CACHE.values()) == [large]

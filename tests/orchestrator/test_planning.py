"""Content ids of a job's media (orchestrator.planning.media_ids)."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

import pytest

from chunking.timeline.model import Clip, FileSource, Timeline, Track, TrackKind
from orchestrator.planning import media_ids

DIGEST = "ab" * 32


def timeline(*paths: str) -> Timeline:
    clips = tuple(
        Clip(id=f"c{i}", track_id="v", source=FileSource(p), start=0, end=10)
        for i, p in enumerate(paths)
    )
    track = Track(id="v", kind=TrackKind.VIDEO, clips=clips)
    return Timeline(fps=Fraction(30), width=64, height=36, frames=10, tracks=(track,))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # an uploaded asset the HTTP service read with a placeholder, gone since
        (f"asset:sha256:{DIGEST}.mp4", f"sha256:{DIGEST}"),
        (f"asset:sha256:{DIGEST}", f"sha256:{DIGEST}"),
        # anything else that cannot be read has no id: its chunks are rendered, never cached
        ("missing.mp4", None),
        (f"asset:sha256:{DIGEST[:-1]}.mp4", None),
        (f"asset:md5:{DIGEST}.mp4", None),
    ],
)
def test_media_that_is_not_here(tmp_path: Path, name: str, expected: str | None) -> None:
    path = str(tmp_path / name)
    assert media_ids({}, timeline=timeline(path)).get(path) == expected


def test_a_file_here_is_known_by_its_content_whatever_its_name(tmp_path: Path) -> None:
    body = b"not the bytes the name says"
    named = tmp_path / f"asset:sha256:{DIGEST}.mp4"
    plain = tmp_path / "plain.mp4"
    for path in (named, plain):
        path.write_bytes(body)
    ids = media_ids({}, timeline=timeline(str(named), str(plain)))
    expected = f"sha256:{hashlib.sha256(body).hexdigest()}"
    assert ids == {str(named): expected, str(plain): expected}

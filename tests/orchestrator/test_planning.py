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


@pytest.mark.parametrize("how", ["rewritten", "replaced"])
def test_a_file_changed_behind_a_restored_mtime_gets_its_new_id(
    tmp_path: Path, redis_url: str, how: str
) -> None:
    """Same path, same size, mtime set back (``touch -d``, ``cp -p``, ``rsync -t``): the id
    must follow the content, or a lasting cluster reuses the old file's cached chunks."""
    import os

    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"A" * 4096)
    before = os.stat(path)
    first = media_ids({}, timeline=timeline(str(path)), client=client)[str(path)]
    if how == "rewritten":
        path.write_bytes(b"B" * 4096)  # in place: same inode
    else:
        other = tmp_path / "new.tmp"
        other.write_bytes(b"B" * 4096)
        other.replace(path)  # a new file renamed over it: the inode may be recycled
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(path).st_size == before.st_size
    second = media_ids({}, timeline=timeline(str(path)), client=client)[str(path)]
    assert first != second == f"sha256:{hashlib.sha256(b'B' * 4096).hexdigest()}"

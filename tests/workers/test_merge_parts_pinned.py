"""On local storage the merge reads each segment in place; what it checks (sha256, frames) must
be what it stitches. A segment replaced in storage after its check (a late copy of the chunk,
a speculative or redelivered one, finishing during the merge: put_file renames over the name)
was stitched unchecked, a file the checks never saw."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import pytest

from chunking.timeline.project import read_project
from providers.storage.local import remove_temps
from tests.media import project, solid, video_track
from tests.workers.test_segment_digest import _Service, _stored_segment
from workers import cache_use
from workers.assets import sha256_file
from workers.cache_use import merge_parts
from workers.render import render_to_file


def _other_segment(tmp_path: Path) -> str:
    """A valid segment of the same chunk with other pixels (a copy rendered elsewhere)."""
    doc = project([video_track("v", [{"id": "c", "start_time": 0, "end_time": 0.5,
                                      **solid("#ff0000")}])], size=(64, 36), fps=20)  # fmt: skip
    path = str(tmp_path / "other.mkv")
    render_to_file(read_project(doc, base_dir=str(tmp_path)).timeline, path,
                   file_format="matroska", audio=False)  # fmt: skip
    return path


@pytest.mark.parametrize("when", ["after the checksum", "after merge_parts"])
def test_a_segment_replaced_during_the_merge_is_not_the_one_stitched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    spec, storage, digest = _stored_segment(tmp_path)
    other = _other_segment(tmp_path)
    real = cache_use.sha256_file

    def then_replaced(path: str) -> str:
        result = real(path)
        storage.put_file(spec.segment_key(0), other)  # the late copy lands now
        return result

    if when == "after the checksum":
        monkeypatch.setattr(cache_use, "sha256_file", then_replaced)
    parts = merge_parts(_Service({0: digest}), spec, storage, Fraction(20), [0], False,
                        str(tmp_path / "merge"))  # type: ignore[arg-type]  # fmt: skip
    assert parts is not None
    if when == "after merge_parts":
        storage.put_file(spec.segment_key(0), other)
    try:
        path = parts.segments[0][0]
        assert sha256_file(path) == digest  # the stitch reads the checked bytes
        assert parts.infos[path].frames == 10
    finally:
        parts.release()
    # The pin goes with the merge: nothing of it is left in the job's storage.
    assert remove_temps(storage, spec.prefix) == 0
    assert storage.list(spec.prefix) == [spec.segment_key(0)]


def test_released_parts_leave_the_stored_segment(tmp_path: Path) -> None:
    spec, storage, digest = _stored_segment(tmp_path)
    parts = merge_parts(_Service({0: digest}), spec, storage, Fraction(20), [0], False,
                        str(tmp_path / "merge"))  # type: ignore[arg-type]  # fmt: skip
    assert parts is not None
    parts.release()
    parts.release()  # twice is harmless
    assert sha256_file(storage.local_path(spec.segment_key(0))) == digest
    assert os.listdir(os.path.dirname(storage.local_path(spec.segment_key(0)))) == ["000000.mkv"]

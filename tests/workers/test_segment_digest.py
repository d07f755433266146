"""A segment damaged or replaced in storage between its render and the merge fails the job
naming the chunk (workers.cache_use.merge_parts against the digest its worker recorded), where
the merge used to stitch it into a "completed" video that does not decode."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.project import read_project
from providers.storage import open_storage
from tests.media import project, solid, video_track
from workers.assets import sha256_file
from workers.cache_use import merge_parts
from workers.job_spec import JobSpec
from workers.render import render_to_file
from workers.stitch import MergeError


class _Service:
    """The one hook the merge's parts need: the digests the rendering workers recorded."""

    def __init__(self, digests: dict[int, str]) -> None:
        self.digests = digests

    def segment_digests(self, job_id: str) -> dict[int, str]:
        return self.digests


def _stored_segment(tmp_path: Path) -> tuple[JobSpec, Any, str]:
    doc = project([video_track("v", [{"id": "c", "start_time": 0, "end_time": 0.5,
                                      **solid("#336699")}])], size=(64, 36), fps=20)  # fmt: skip
    timeline = read_project(doc, base_dir=str(tmp_path)).timeline
    spec = JobSpec(
        id="job", project=doc, base_dir=str(tmp_path), export={}, frames=timeline.frames,
        storage_url=f"file://{tmp_path / 'storage'}", output_ext="mp4", chunks=[(0, 10)],
    )  # fmt: skip
    segment = tmp_path / "000000.mkv"
    render_to_file(timeline, str(segment), file_format="matroska", audio=False)
    storage = spec.storage()
    storage.put_file(spec.segment_key(0), str(segment))
    return spec, storage, sha256_file(str(segment))


def test_an_intact_segment_is_merged(tmp_path: Path) -> None:
    spec, storage, digest = _stored_segment(tmp_path)
    parts = merge_parts(_Service({0: digest}), spec, storage, Fraction(20), [0], False,
                        str(tmp_path))  # type: ignore[arg-type]  # fmt: skip
    assert parts is not None and [s[1:] for s in parts[0]] == [(0, 10)]


def test_a_segment_damaged_in_storage_fails_the_merge_naming_its_chunk(tmp_path: Path) -> None:
    spec, storage, digest = _stored_segment(tmp_path)
    stored = storage.local_path(spec.segment_key(0))
    data = bytearray(Path(stored).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(b ^ 0xFF for b in data[middle : middle + 16])
    Path(stored).write_bytes(bytes(data))
    with pytest.raises(MergeError, match=r"segment of chunk 0 \(frames 0-10\).*sha256 differs"):
        merge_parts(_Service({0: digest}), spec, storage, Fraction(20), [0], False,
                    str(tmp_path))  # type: ignore[arg-type]  # fmt: skip


def test_a_segment_without_a_recorded_digest_is_merged_as_before(tmp_path: Path) -> None:
    """An earlier attempt's segment, or a record from before digests: nothing to compare."""
    spec, storage, _ = _stored_segment(tmp_path)
    assert merge_parts(_Service({}), spec, storage, Fraction(20), [0], False,
                       str(tmp_path)) is not None  # type: ignore[arg-type]  # fmt: skip
    assert open_storage(spec.storage_url).exists(spec.segment_key(0))

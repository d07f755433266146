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
    """The hooks the merge's parts need: the digests the rendering workers recorded, how often
    each chunk rendered, and where lost parts go back to rendering."""

    def __init__(self, digests: dict[int, str], renders: int = 1) -> None:
        self.digests = digests
        self.renders = renders
        self.lost: list[int] = []

    def chunk_renders(self, job_id: str) -> dict[int, int]:
        return {0: self.renders}

    def segment_digests(self, job_id: str) -> dict[int, str]:
        return self.digests

    def cache_lost(self, job_id: str, chunks: list[int], audio: bool) -> None:
        self.lost += chunks


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
    assert parts is not None and [s[1:] for s in parts.segments] == [(0, 10)]
    # Read and checked here once, handed to the stitch as it is
    (path, _, _) = parts.segments[0]
    assert parts.infos[path].frames == 10


def test_a_segment_damaged_in_storage_fails_the_merge_naming_its_chunk(tmp_path: Path) -> None:
    spec, storage, digest = _stored_segment(tmp_path)
    stored = storage.local_path(spec.segment_key(0))
    data = bytearray(Path(stored).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(b ^ 0xFF for b in data[middle : middle + 16])
    Path(stored).write_bytes(bytes(data))
    # Rendered once: it renders again rather than lose the job
    again = _Service({0: digest})
    assert merge_parts(again, spec, storage, Fraction(20), [0], False,
                       str(tmp_path)) is None  # type: ignore[arg-type]  # fmt: skip
    assert again.lost == [0]
    # Gone, so the new render renders it instead of taking the damaged object as done.
    assert not storage.exists(spec.segment_key(0))
    storage.put_file(spec.segment_key(0), str(tmp_path / "000000.mkv"))
    Path(stored).write_bytes(bytes(data))
    # Rendered three times already: the job fails, naming the chunk
    with pytest.raises(MergeError, match=r"segment of chunk 0 \(frames 0-10\).*sha256 differs"):
        merge_parts(_Service({0: digest}, renders=3), spec, storage, Fraction(20), [0], False,
                    str(tmp_path))  # type: ignore[arg-type]  # fmt: skip


@pytest.mark.parametrize("damage", ["deleted", "truncated"])
def test_a_segment_lost_or_cut_short_in_storage_renders_again(tmp_path: Path, damage: str) -> None:
    """The job's own segment (not a cached one) gone before the merge: the chunk renders again
    instead of the whole job failing."""
    spec, storage, _ = _stored_segment(tmp_path)
    stored = Path(storage.local_path(spec.segment_key(0)))
    if damage == "deleted":
        stored.unlink()
    else:
        stored.write_bytes(stored.read_bytes()[: stored.stat().st_size // 3])
    service = _Service({})
    assert merge_parts(service, spec, storage, Fraction(20), [0], False,
                       str(tmp_path)) is None  # type: ignore[arg-type]  # fmt: skip
    assert service.lost == [0]
    assert not storage.exists(spec.segment_key(0))


def test_a_segment_without_a_recorded_digest_is_merged_as_before(tmp_path: Path) -> None:
    """An earlier attempt's segment, or a record from before digests: nothing to compare."""
    spec, storage, _ = _stored_segment(tmp_path)
    assert merge_parts(_Service({}), spec, storage, Fraction(20), [0], False,
                       str(tmp_path)) is not None  # type: ignore[arg-type]  # fmt: skip
    assert open_storage(spec.storage_url).exists(spec.segment_key(0))

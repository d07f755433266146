"""What a completed merge leaves in its job's prefix: the video, and no temp file of an
upload killed mid-write (a chunk's segment, an earlier merge's video). Younger than the
storage's own clean-up age (an hour), those stayed for ever beside the video: a completed
job's prefix is never deleted, nor swept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from providers.storage.base import TMP_PREFIX
from tests.workers.test_segment_digest import _stored_segment
from workers import hooks, merge_task

pytestmark = pytest.mark.timeout(60)


class _Service:
    """The hooks a merge calls, for a job that completes."""

    def __init__(self, spec: Any, digest: str) -> None:
        self.spec, self.digest = spec, digest

    def merge_started(self, job_id: str) -> bool:
        return True

    def job_spec(self, job_id: str) -> dict[str, Any]:
        return dict(self.spec.to_dict())

    def segment_digests(self, job_id: str) -> dict[int, str]:
        return {0: self.digest}

    def chunk_renders(self, job_id: str) -> dict[int, int]:
        return {0: 1}

    def should_stop(self, job_id: str, index: int, node: str) -> str | None:
        return None

    def merge_finished(self, job_id: str, summary: dict[str, Any]) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def test_a_completed_merge_removes_the_temp_files_of_killed_uploads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, storage, digest = _stored_segment(tmp_path)
    root = Path(storage.local_path(spec.output_key)).parent
    killed = [root / (TMP_PREFIX + "merge"), root / "segments" / (TMP_PREFIX + "chunk")]
    for path in killed:
        path.write_bytes(b"half a file")  # just now: younger than the storage's clean-up age
    monkeypatch.setattr(hooks, "_installed", [_Service(spec, digest)])
    summary = merge_task.merge(spec.id, [{"index": 0}], None)
    assert summary is not None and storage.exists(spec.output_key)
    assert not any(path.exists() for path in killed)
    assert storage.list(spec.prefix) == [spec.output_key]

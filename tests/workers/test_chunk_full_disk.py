"""A chunk whose segment cannot be written for lack of space (storage's disk full for a
moment, this node's scratch disk full) is rendered again later, and fails its job with the
disk's own words only once its retries are spent. A 5 s full disk failed a whole job at
once (bench/chaos.py --kinds disk)."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest
from celery.exceptions import Retry

from common.errors import RenderError
from providers.storage.base import map_storage_errors
from tests.workers.test_segment_digest import _stored_segment
from workers import hooks, task_support, tasks
from workers.retry import MAX_TRANSIENT_RETRIES


class _Service:
    """The hooks a chunk asks, recording how it ended."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self.retrying: list[str] = []
        self.failed: list[str] = []
        self.handed: list[str] = []
        self.peers = False  # whether another node may take the chunk

    def chunk_started(self, job_id: str, index: int, task_id: str | None, node: str) -> bool:
        return True

    def job_spec(self, job_id: str) -> dict[str, Any]:
        return self.spec.to_dict()  # type: ignore[no-any-return]

    def chunk_retrying(self, job_id: str, index: int, error: RenderError, delay: float) -> None:
        self.retrying.append(str(error))

    def chunk_failed(self, job_id: str, index: int, error: RenderError) -> None:
        self.failed.append(str(error))

    def chunk_node_trouble(self, job_id: str, index: int, node: str, error: RenderError) -> bool:
        if self.peers:
            self.handed.append(node)
        return self.peers


def _full_disk(*args: object, **kwargs: object) -> None:
    with map_storage_errors("jobs/job/segments/000000.mkv"):
        raise OSError(errno.ENOSPC, "No space left on device", "/store/jobs/job/segments/x")


@pytest.mark.parametrize(("retries", "fails"), [(0, False), (MAX_TRANSIENT_RETRIES, True)])
def test_a_chunk_on_a_full_disk_is_rendered_again_then_fails_in_the_disks_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, retries: int, fails: bool
) -> None:
    spec, _, _ = _stored_segment(tmp_path)
    service = _Service(spec)
    monkeypatch.setattr(tasks, "_render_segment", _full_disk)
    hooks.install(service)  # type: ignore[arg-type]
    tasks.render_chunk.push_request(retries=retries, hostname="render@a")
    try:
        with pytest.raises((Retry, RenderError)) as raised:  # a direct call raises its retry
            tasks.render_chunk.run(spec.id, 0)
    finally:
        tasks.render_chunk.pop_request()
        hooks._installed.clear()
    assert isinstance(raised.value, RenderError if fails else Retry)
    words = "chunk 0 (frames 0-9): storage operation on 'jobs/job/segments/000000.mkv' failed: "
    words += "No space left on device [ENOSPC]"
    if fails:
        assert service.retrying == [] and len(service.failed) == 1
        assert service.failed[0].startswith(words) and "free disk space" in service.failed[0]
    else:
        assert service.failed == [] and service.retrying[0].startswith(words)


@pytest.mark.parametrize(
    ("scratch_full", "peers", "handed"),
    [(True, True, True), (True, False, False), (False, True, False)],
)
def test_a_full_scratch_disk_hands_the_chunk_to_another_node_instead_of_a_retry_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scratch_full: bool, peers: bool, handed: bool
) -> None:
    """Only this node's own scratch disk being full hands the chunk on at once (storage's full
    disk is every node's: the chunk waits with backoff), and only where another node may take
    it; else the retry here as before."""
    spec, _, _ = _stored_segment(tmp_path)
    service = _Service(spec)
    service.peers = peers
    monkeypatch.setattr(tasks, "_render_segment", _full_disk)
    monkeypatch.setattr(task_support, "SCRATCH_FREE_MIN", 2**62 if scratch_full else 0)
    hooks.install(service)  # type: ignore[arg-type]
    tasks.render_chunk.push_request(retries=0, hostname="render@a")
    try:
        if handed:
            assert tasks.render_chunk.run(spec.id, 0) is None
        else:
            with pytest.raises(Retry):
                tasks.render_chunk.run(spec.id, 0)
    finally:
        tasks.render_chunk.pop_request()
        hooks._installed.clear()
    assert service.handed == (["render@a"] if handed else [])
    assert service.failed == [] and len(service.retrying) == (0 if handed else 1)


def test_the_scratch_disk_counts_as_in_trouble_when_its_free_room_is_below_the_minimum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not task_support.scratch_in_trouble(str(tmp_path))
    monkeypatch.setattr(task_support, "SCRATCH_FREE_MIN", 2**62)
    assert task_support.scratch_in_trouble(str(tmp_path))
    assert task_support.scratch_in_trouble(str(tmp_path / "missing"))

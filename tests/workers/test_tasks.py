"""Task-body helpers that need no cluster: the merge's lease renewal, a merge cancelled
under it."""

from __future__ import annotations

import dataclasses
import errno
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from celery.exceptions import Retry

from common.errors import EncodeError, RenderError
from orchestrator.health import STALLED_SECONDS
from tests.workers.test_segment_digest import _stored_segment
from workers import hooks, merge_task, tasks
from workers.merge_task import _finish, _merge
from workers.task_support import Stopped, node_trouble, renewing


def test_lease_renews_while_the_block_runs_and_stops_after() -> None:
    calls: list[float] = []
    with renewing(lambda: calls.append(time.monotonic()), 0.01):
        time.sleep(0.2)
    during = len(calls)
    time.sleep(0.05)
    assert during >= 3 and len(calls) == during
    assert not any(t.name == "lease" for t in threading.enumerate())


def test_a_failing_renewal_does_not_stop_the_lease_or_the_work() -> None:
    attempts: list[int] = []

    def flaky() -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("Redis is restarting")

    with renewing(flaky, 0.01):
        time.sleep(0.2)
    assert len(attempts) > 3


class _CancelledWhileStitching:
    """The hooks a merge asks: the digests its workers recorded, and whether to stop."""

    def __init__(self, digest: str) -> None:
        self.digest = digest

    def chunk_renders(self, job_id: str) -> dict[int, int]:
        return {0: 1}

    def segment_digests(self, job_id: str) -> dict[int, str]:
        return {0: self.digest}

    def should_stop(self, job_id: str, index: int, node: str) -> str | None:
        return "cancelled"


def test_a_job_cancelled_while_it_is_stitched_delivers_nothing(tmp_path: Path) -> None:
    spec, storage, digest = _stored_segment(tmp_path)
    service = _CancelledWhileStitching(digest)
    with pytest.raises(Stopped):
        _merge(spec, [{"index": 0}], None, service)  # type: ignore[arg-type]
    assert not storage.exists(spec.output_key)


@pytest.mark.parametrize(
    ("cause", "node"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), True),
        (OSError(errno.EIO, "Input/output error"), True),
        (OSError(errno.EROFS, "Read-only file system"), True),
        (OSError(errno.ENOENT, "No such file"), False),
        (ValueError("bad"), False),
    ],
)
def test_a_nodes_own_disk_trouble_is_told_apart(cause: BaseException, node: bool) -> None:
    """The audio task is mixed again elsewhere on these, instead of failing the job."""
    try:
        try:
            raise cause
        except (OSError, ValueError) as exc:
            raise EncodeError(f"cannot write audio file 'a.mka': {exc}") from exc
    except EncodeError as error:
        assert node_trouble(error) is node


class _RedisAwayAtFirst:
    """merge_finished fails while Redis is away, then records the job."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.finished: list[str] = []

    def merge_finished(self, job_id: str, summary: dict[str, object]) -> None:
        if self.failures:
            self.failures -= 1
            raise redis.ConnectionError("Connection refused")
        self.finished.append(job_id)


def test_a_finished_merge_waits_out_redis_to_record_the_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(merge_task, "backoff", lambda attempt: 0.01)
    service = _RedisAwayAtFirst(failures=2)
    _finish(service, "job", {"frames": 10})  # type: ignore[arg-type]
    assert service.finished == ["job"]
    monkeypatch.setattr(merge_task, "FINISH_PATIENCE", 0.0)
    with pytest.raises(redis.ConnectionError):
        _finish(_RedisAwayAtFirst(failures=1), "job", {})  # type: ignore[arg-type]


def test_the_stitching_keeps_the_parts_until_the_job_is_recorded_complete(
    tmp_path: Path,
) -> None:
    """A merge sent again (its message restored while Redis was away) must find every part."""
    spec, storage, digest = _stored_segment(tmp_path)

    class _Go(_CancelledWhileStitching):
        def should_stop(self, job_id: str, index: int, node: str) -> str | None:
            return None

    summary = _merge(spec, [{"index": 0}], None, _Go(digest))  # type: ignore[arg-type]
    assert summary is not None and storage.exists(spec.output_key)
    assert storage.exists(spec.segment_key(0))


def test_a_video_that_cannot_be_delivered_is_kept_and_the_job_says_why(tmp_path: Path) -> None:
    """Its directory gone after the render: the work is not thrown away with the delivery."""
    spec, storage, digest = _stored_segment(tmp_path)
    gone = tmp_path / "share"
    spec = dataclasses.replace(spec, destination=str(gone / "film.mp4"))

    class _Go(_CancelledWhileStitching):
        def should_stop(self, job_id: str, index: int, node: str) -> str | None:
            return None

    summary = _merge(spec, [{"index": 0}], None, _Go(digest))  # type: ignore[arg-type]
    assert summary is not None and storage.exists(spec.output_key)
    assert summary["delivery_error"] == (
        f"the video was not delivered to {gone / 'film.mp4'}: output directory does not "
        f"exist: {gone}"
    )
    gone.mkdir()
    summary = _merge(spec, [{"index": 0}], None, _Go(digest))  # type: ignore[arg-type]
    assert summary is not None and "delivery_error" not in summary
    assert (gone / "film.mp4").read_bytes() == Path(
        storage.local_path(spec.output_key)
    ).read_bytes()


def test_a_video_delivered_for_a_job_cancelled_meanwhile_is_taken_back(tmp_path: Path) -> None:
    """The merge delivered, then found the job cancelled: nothing of it stays, and a file at
    the name that is not its video is never touched."""
    spec, storage, digest = _stored_segment(tmp_path)
    share = tmp_path / "share"
    share.mkdir()
    spec = dataclasses.replace(spec, destination=str(share / "film.mp4"))

    class _Go(_CancelledWhileStitching):
        def should_stop(self, job_id: str, index: int, node: str) -> str | None:
            return None

    summary = _merge(spec, [{"index": 0}], None, _Go(digest))  # type: ignore[arg-type]
    assert summary is not None and (share / "film.mp4").exists()
    merge_task._take_back(spec, summary)
    assert not (share / "film.mp4").exists()
    assert not storage.exists(spec.output_key) and not storage.exists(spec.segment_key(0))
    (share / "film.mp4").write_bytes(b"someone else's")
    merge_task._take_back(spec, summary)
    assert (share / "film.mp4").read_bytes() == b"someone else's"


def test_a_merge_learns_whether_its_job_is_complete() -> None:
    class _Cancelled(_RedisAwayAtFirst):
        def merge_finished(self, job_id: str, summary: dict[str, object]) -> bool:
            return False  # cancelled while it delivered

    assert _finish(_RedisAwayAtFirst(failures=0), "job", {}) is True  # type: ignore[arg-type]
    assert _finish(_Cancelled(failures=0), "job", {}) is False  # type: ignore[arg-type]


class _MergeOnFullDisk(_CancelledWhileStitching):
    """A job whose merge runs on a node whose scratch disk is full."""

    def __init__(self, digest: str, spec: Any, started: int) -> None:
        super().__init__(digest)
        self.spec, self.started, self.failed = spec, started, []

    def merge_started(self, job_id: str) -> bool:
        self.started += 1
        return True

    def job_spec(self, job_id: str) -> dict[str, Any]:
        return self.spec.to_dict()  # type: ignore[no-any-return]

    def merge_alive(self, job_id: str) -> None:
        pass

    def should_stop(self, job_id: str, index: int, node: str) -> str | None:
        return None

    def merge_retry(self, job_id: str) -> int:
        return self.started

    def job_failed(self, job_id: str, error: Exception) -> None:
        self.failed.append(str(error))


@pytest.mark.parametrize(("started_before", "fails"), [(0, False), (7, True)])
def test_a_merge_on_a_full_scratch_disk_is_retried_a_bounded_number_of_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started_before: int, fails: bool
) -> None:
    """It was resent for ever: the job stayed merging, with no error."""
    spec, _, digest = _stored_segment(tmp_path)
    service = _MergeOnFullDisk(digest, spec, started_before)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "/scratch/output.mp4")

    monkeypatch.setattr(merge_task, "stitch", full)
    hooks.install(service)  # type: ignore[arg-type]
    try:
        with pytest.raises((Retry, RenderError)) as raised:  # a direct call raises its retry
            merge_task.merge.run(spec.id, [{"index": 0}], None)
    finally:
        hooks._installed.clear()
    assert isinstance(raised.value, RenderError if fails else Retry)
    if fails:
        assert service.failed == [
            "merge of job job: No space left on device (/scratch/output.mp4) (the merge failed "
            "8 times)"
        ]
    else:
        assert service.failed == []  # merged again later, or on another node


def test_the_objects_of_a_job_redis_lost_are_removed_from_storage(tmp_path: Path) -> None:
    """Redis restarted without persistence mid-job: its chunks stop ("gone"), and what the
    job stored before (finished segments) went with nobody left to merge or cancel it."""
    spec, storage, _ = _stored_segment(tmp_path)
    other = dataclasses.replace(spec, id="other")
    storage.put_file(other.segment_key(0), storage.local_path(spec.segment_key(0)))
    tasks.forget_job(spec)
    assert not storage.exists(spec.segment_key(0))
    assert storage.exists(other.segment_key(0))  # only the lost job's prefix


def test_a_merge_of_a_job_redis_lost_stops_without_delivering(tmp_path: Path) -> None:
    spec, storage, digest = _stored_segment(tmp_path)

    class _Gone(_CancelledWhileStitching):
        def should_stop(self, job_id: str, index: int, node: str) -> str | None:
            return "gone"

    with pytest.raises(Stopped):
        _merge(spec, [{"index": 0}], None, _Gone(digest))  # type: ignore[arg-type]
    assert not storage.exists(spec.output_key)


def test_a_chunk_fetching_or_uploading_reports_it_is_alive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fetching a large source asset before the first frame (or uploading the segment after
    the last) reported nothing for minutes: the tick took the chunk for stalled, which counts
    against its node, and two chunks fetching one big file failed the job on a one-node
    cluster."""
    reports: list[tuple[str, int, int, int]] = []

    class _Service:
        def chunk_progress(self, job_id: str, index: int, done: int, total: int) -> None:
            reports.append((job_id, index, done, total))

    assert tasks.ALIVE_SECONDS < STALLED_SECONDS / 2  # a missed report is not yet a stall
    monkeypatch.setattr(tasks, "ALIVE_SECONDS", 0.01)
    with tasks._reporting(_Service(), "job", 3, 0, 40):  # type: ignore[arg-type]
        deadline = time.monotonic() + 10
        while len(reports) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert len(reports) >= 3 and set(reports) == {("job", 3, 0, 40)}
    after = len(reports)
    time.sleep(0.05)
    assert len(reports) == after  # not after the block

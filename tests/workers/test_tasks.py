"""Task-body helpers that need no cluster: the merge's lease renewal, a merge cancelled
under it."""

from __future__ import annotations

import errno
import threading
import time
from pathlib import Path

import pytest

from common.errors import EncodeError
from tests.workers.test_segment_digest import _stored_segment
from workers.tasks import Stopped, _merge, _node_trouble, _renewing


def test_lease_renews_while_the_block_runs_and_stops_after() -> None:
    calls: list[float] = []
    with _renewing(lambda: calls.append(time.monotonic()), 0.01):
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

    with _renewing(flaky, 0.01):
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
        assert _node_trouble(error) is node

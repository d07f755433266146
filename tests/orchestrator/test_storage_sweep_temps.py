"""The sweep of temp files that uploads killed mid-write left in a local storage: a late chunk
copy killed after its job completed left one beside the video for ever (never listed, so no
sweep saw it, and the merge's clean-up had run before it began). Only a finished or lost job's,
only once unchanged for an hour; never a live job's, never one still being written."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from orchestrator.job_cancel import cancel
from orchestrator.job_record import JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.storage_sweep import SweepWatch, mark_owner, sweep
from orchestrator.tasks import ended, keeps
from providers.storage import open_storage
from providers.storage.base import TMP_PREFIX, Storage
from providers.storage.encrypted import EncryptedStorage
from providers.storage.local import TMP_STALE

GRACE = 600.0  # the shortest sweep grace: the temp files' own wait (an hour) still holds
US, THEM = "cluster-us", "cluster-them"
T0 = 1_000_000.0
DONE, LIVE, GONE = "aaaa1111aaaa1111", "bbbb2222bbbb2222", "cccc3333cccc3333"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "storage"


@pytest.fixture
def storage(root: Path) -> Storage:
    return open_storage(root.as_uri())


@pytest.fixture
def store(redis_url: str) -> JobStore:
    return JobStore.from_url(redis_url)


def _job(
    storage: Storage, store: JobStore | None, tmp_path: Path, job_id: str, state: JobState
) -> None:
    """A job of ``state`` (no record with ``store`` None) whose prefix holds a segment, the
    marker, and (completed) its video."""
    src = tmp_path / "object"
    src.write_bytes(b"bytes")
    storage.put_file(f"jobs/{job_id}/segments/000000.mkv", str(src))
    mark_owner(storage, job_id, US)
    if state is JobState.COMPLETED:
        storage.put_file(f"jobs/{job_id}/output.mp4", str(src))
    if store is not None:
        store.create(JobRecord(id=job_id, state=state, frames=48, submitted_at=T0), {})


def _killed_upload(root: Path, job_id: str) -> Path:
    """A chunk's copy into ``job_id``'s prefix killed (SIGKILL) mid-write; its temp file."""
    dest = root / "jobs" / job_id / "segments" / "000001.mkv"
    writer = textwrap.dedent(
        f"""
        import sys, time
        from providers.storage.base import write_atomic
        def fill(out):
            out.write(b"half a segment"); out.flush(); print("writing", flush=True); time.sleep(60)
        write_atomic({str(dest)!r}, fill)
        """
    )
    with subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stdout.readline() == b"writing\n"
        proc.kill()
        proc.wait(10)
    (temp,) = dest.parent.glob(f"{TMP_PREFIX}*")
    assert not dest.exists()
    return temp


def _sweep(storage: Storage, store: JobStore, watch: SweepWatch, after: float) -> int:
    """One sweep ``after`` seconds past T0 on both clocks."""
    watch.clock = lambda: after
    return sweep(storage, keeps(store), watch, T0 + after, GRACE, US, ended(store))


def test_a_killed_upload_into_a_completed_jobs_prefix_is_removed_after_an_hour(
    storage: Storage, store: JobStore, root: Path, tmp_path: Path
) -> None:
    _job(storage, store, tmp_path, DONE, JobState.COMPLETED)
    temp = _killed_upload(root, DONE)
    watch = SweepWatch()
    assert _sweep(storage, store, watch, 0) == 0  # first seen: its wait starts
    assert _sweep(storage, store, watch, TMP_STALE - 1) == 0
    assert temp.exists()
    assert _sweep(storage, store, watch, TMP_STALE) == 1
    assert not temp.exists()
    # The job's own objects stay: its video, its segment, its marker
    assert storage.list(f"jobs/{DONE}/") == [
        f"jobs/{DONE}/output.mp4",
        f"jobs/{DONE}/owner.json",
        f"jobs/{DONE}/segments/000000.mkv",
    ]
    assert store.state(DONE) is JobState.COMPLETED


def test_a_live_jobs_temp_file_is_never_removed(
    storage: Storage, store: JobStore, root: Path, tmp_path: Path
) -> None:
    _job(storage, store, tmp_path, LIVE, JobState.RENDERING)
    temp = _killed_upload(root, LIVE)
    watch = SweepWatch()
    for after in (0, TMP_STALE, 30 * TMP_STALE):
        assert _sweep(storage, store, watch, after) == 0
    assert temp.exists()  # its own job's next write beside it removes it (LocalStorage)


def test_an_upload_still_being_written_is_not_removed(
    storage: Storage, store: JobStore, root: Path, tmp_path: Path
) -> None:
    """A late copy into a completed job's prefix that is still writing: each buffer it writes
    restarts the wait, whatever the clocks say."""
    _job(storage, store, tmp_path, DONE, JobState.COMPLETED)
    temp = root / "jobs" / DONE / "segments" / f"{TMP_PREFIX}0123456789abcdef"
    temp.write_bytes(b"a")
    watch = SweepWatch()
    assert _sweep(storage, store, watch, 0) == 0
    for step in range(1, 4):
        with temp.open("ab") as out:
            out.write(b"more")  # as the copy goes on
        assert _sweep(storage, store, watch, step * TMP_STALE) == 0
    assert temp.exists()
    assert _sweep(storage, store, watch, 4 * TMP_STALE) == 1  # then it stopped an hour ago


def test_a_cancelled_jobs_only_leftover_is_removed_with_its_folders(
    storage: Storage, store: JobStore, root: Path, tmp_path: Path
) -> None:
    """Cancelling removed the job's objects; a copy killed just after left a temp file alone
    in its folder, which no listing shows, so the sweep of ended jobs' objects never saw it."""
    store.create(
        JobRecord(id=DONE, state=JobState.RENDERING, frames=48, submitted_at=T0),
        {"id": DONE, "storage_url": storage.url},
    )
    assert cancel(store, DONE, "cancelled by the user", app=None)
    temp = _killed_upload(root, DONE)
    assert storage.list("jobs/") == []
    watch = SweepWatch()
    assert _sweep(storage, store, watch, 0) == 0
    assert _sweep(storage, store, watch, TMP_STALE) == 1
    assert not temp.exists() and not (root / "jobs" / DONE).exists()
    assert (root / "jobs").is_dir()


def test_a_lost_jobs_temp_file_goes_only_from_this_clusters_prefix(
    storage: Storage, store: JobStore, root: Path, tmp_path: Path
) -> None:
    """A completed job whose record is gone (expired, or Redis lost it) keeps its video, so its
    prefix is never removed: its leftover goes alone, if the prefix is this cluster's."""
    _job(storage, None, tmp_path, DONE, JobState.COMPLETED)
    _job(storage, None, tmp_path, GONE, JobState.COMPLETED)
    mark_owner(storage, GONE, THEM)  # a cluster sharing the storage
    ours, theirs = _killed_upload(root, DONE), _killed_upload(root, GONE)
    assert not store.has_record(DONE)
    watch = SweepWatch()
    assert _sweep(storage, store, watch, 0) == 0
    assert _sweep(storage, store, watch, TMP_STALE) == 1
    assert not ours.exists() and theirs.exists()


def test_a_clock_jump_does_not_shorten_a_temp_files_wait(
    storage: Storage, store: JobStore, root: Path, tmp_path: Path
) -> None:
    _job(storage, store, tmp_path, DONE, JobState.COMPLETED)
    temp = _killed_upload(root, DONE)
    watch = SweepWatch()
    watch.clock = lambda: 0.0
    sweep(storage, keeps(store), watch, T0, GRACE, US, ended(store))
    watch.clock = lambda: 60.0  # a minute here, a month on the cluster's clock
    assert sweep(storage, keeps(store), watch, T0 + 30 * 86400, GRACE, US, ended(store)) == 0
    assert temp.exists()


def test_the_wait_is_measured_not_read_from_the_files_time(
    storage: Storage, store: JobStore, root: Path, tmp_path: Path
) -> None:
    """A file time a day old (a storage host's clock behind) is no reason to remove it now."""
    _job(storage, store, tmp_path, DONE, JobState.COMPLETED)
    temp = _killed_upload(root, DONE)
    day_ago = time.time() - 86400
    os.utime(temp, (day_ago, day_ago))
    assert _sweep(storage, store, SweepWatch(), 0) == 0
    assert temp.exists()


def test_temp_files_are_swept_under_an_encrypting_storage(
    storage: Storage, store: JobStore, root: Path
) -> None:
    """A cluster with an encryption key sweeps through the wrapper: its local storage inside."""
    store.create(
        JobRecord(id=DONE, state=JobState.RENDERING, frames=48, submitted_at=T0),
        {"id": DONE, "storage_url": storage.url},
    )
    assert cancel(store, DONE, "cancelled by the user", app=None)
    temp = _killed_upload(root, DONE)
    sealed = EncryptedStorage(storage, bytes(32))
    watch = SweepWatch()
    for after, removed in ((0, 0), (TMP_STALE, 1)):
        watch.clock = lambda: after  # noqa: B023 (called within the iteration)
        assert sweep(sealed, keeps(store), watch, T0 + after, GRACE, US, ended(store)) == removed
    assert not temp.exists()

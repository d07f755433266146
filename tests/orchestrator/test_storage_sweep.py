"""The sweep of lost jobs' objects: a job Redis lost keeps nothing in storage for ever, while a
live job's objects, a recent unknown prefix and a finished video stay."""

from __future__ import annotations

import builtins
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis

from common.errors import RenderError
from common.names import TASK_SWEEP
from common.settings import DEFAULT_SWEEP_GRACE, Settings
from monitoring.families import counter_families
from orchestrator import keys, render_counters, storage_sweep, tasks
from orchestrator.celery_config import celery_config
from orchestrator.job_cancel import cancel
from orchestrator.job_record import JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.render_counters import CLUSTER
from orchestrator.storage_sweep import (
    SweepWatch,
    claim_prefix,
    cluster_id,
    group_by_job,
    mark_owner,
    sweep,
    unmarked_grace,
)
from orchestrator.tasks import ended, keeps
from providers.storage import open_storage
from providers.storage.base import Storage, StorageError

GRACE = 3600.0
US = "cluster-us"
T0 = 1_000_000.0


def _segments(
    storage: Storage, tmp_path: Path, job_id: str, count: int = 2, owner: str | None = US
) -> None:
    """Write ``count`` segments of ``job_id`` as a worker does, in a prefix ``owner`` marked."""
    src = tmp_path / "segment.mkv"
    src.write_bytes(b"segment")
    for index in range(count):
        storage.put_file(f"jobs/{job_id}/segments/{index:06d}.mkv", str(src))
    if owner:
        mark_owner(storage, job_id, owner)  # as planning the job does


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return open_storage((tmp_path / "storage").as_uri())


@pytest.fixture
def store(redis_url: str) -> JobStore:
    return JobStore.from_url(redis_url)


def _at(watch: SweepWatch, local: float) -> SweepWatch:
    """The watch, its own clock reading ``local`` (these tests move both clocks together)."""
    watch.clock = lambda: local
    return watch


def _live(store: JobStore, job_id: str) -> None:
    store.create(JobRecord(id=job_id, state=JobState.RENDERING, frames=48, submitted_at=T0), {})


def test_lost_jobs_segments_are_removed_after_the_grace(
    storage: Storage, store: JobStore, redis_url: str, tmp_path: Path
) -> None:
    _live(store, "aaaa1111aaaa1111")
    _segments(storage, tmp_path, "aaaa1111aaaa1111")
    with redis.Redis.from_url(redis_url) as client:
        client.flushall()  # Redis restarted without persistence: the record is gone
    watch = SweepWatch()
    assert sweep(storage, keeps(store), _at(watch, T0), T0, GRACE, US) == 0  # first seen: wait
    assert sweep(storage, keeps(store), _at(watch, T0 + GRACE - 1), T0 + GRACE - 1, GRACE, US) == 0
    assert len(storage.list("jobs/aaaa1111aaaa1111/")) == 3  # two segments and the marker
    assert sweep(storage, keeps(store), _at(watch, T0 + GRACE), T0 + GRACE, GRACE, US) == 3
    assert storage.list("jobs/") == []


def test_a_jump_of_the_cluster_clock_does_not_shorten_the_wait(
    storage: Storage, store: JobStore, tmp_path: Path
) -> None:
    """Redis's clock stepped a day ahead (its host's NTP, a move to another host): the next
    sweep took every unknown prefix as unchanged for a day and removed it."""
    _segments(storage, tmp_path, "aaaa2222aaaa2222")  # marked as ours
    _segments(storage, tmp_path, "bbbb2222bbbb2222", owner=None)
    watch = SweepWatch()
    assert sweep(storage, keeps(store), _at(watch, 0.0), T0, GRACE, US) == 0
    # When the cluster's clock jumps 30 days while a minute passes here
    jumped = T0 + 30 * 86400
    assert sweep(storage, keeps(store), _at(watch, 60.0), jumped, GRACE, US) == 0
    # Then the waits go on in this process's time: the marked one goes after its grace
    assert sweep(storage, keeps(store), _at(watch, GRACE - 1), jumped, GRACE, US) == 0
    assert sweep(storage, keeps(store), _at(watch, GRACE), jumped + 60, GRACE, US) == 3
    assert len(storage.list("jobs/bbbb2222bbbb2222/")) == 2
    # And a clock stepped back makes a wait longer, never shorter
    assert sweep(storage, keeps(store), _at(watch, 30 * GRACE), T0, GRACE, US) == 0
    assert len(storage.list("jobs/bbbb2222bbbb2222/")) == 2


def test_live_job_and_recent_unknown_prefix_are_kept(
    storage: Storage, store: JobStore, tmp_path: Path
) -> None:
    _live(store, "bbbb2222bbbb2222")
    _segments(storage, tmp_path, "bbbb2222bbbb2222")
    watch = SweepWatch()
    sweep(storage, keeps(store), _at(watch, T0), T0, GRACE, US)
    _segments(storage, tmp_path, "cccc3333cccc3333", 1)  # an unknown prefix appears later
    sweep(storage, keeps(store), _at(watch, T0 + GRACE), T0 + GRACE, GRACE, US)
    assert (
        sweep(storage, keeps(store), _at(watch, T0 + 2 * GRACE - 1), T0 + 2 * GRACE - 1, GRACE, US)
        == 0
    )
    assert len(storage.list("jobs/bbbb2222bbbb2222/")) == 3
    assert len(storage.list("jobs/cccc3333cccc3333/")) == 2
    # Days later the live job is still there; the unknown one has waited its grace.
    assert (
        sweep(storage, keeps(store), _at(watch, T0 + 30 * GRACE), T0 + 30 * GRACE, GRACE, US) == 2
    )
    assert len(storage.list("jobs/bbbb2222bbbb2222/")) == 3
    assert storage.list("jobs/cccc3333cccc3333/") == []


def test_a_new_object_restarts_the_wait(storage: Storage, store: JobStore, tmp_path: Path) -> None:
    _segments(storage, tmp_path, "dddd4444dddd4444", 1)
    watch = SweepWatch()
    sweep(storage, keeps(store), _at(watch, T0), T0, GRACE, US)
    _segments(storage, tmp_path, "dddd4444dddd4444", 2)  # a chunk finished its upload late
    assert sweep(storage, keeps(store), _at(watch, T0 + GRACE), T0 + GRACE, GRACE, US) == 0
    assert sweep(storage, keeps(store), _at(watch, T0 + 2 * GRACE), T0 + 2 * GRACE, GRACE, US) == 3


def test_a_remnant_hash_is_no_record(storage: Storage, store: JobStore, tmp_path: Path) -> None:
    # A late progress update after the loss recreates a hash without the record itself.
    store.redis.hset(keys.job("eeee5555eeee5555"), "cost", "0.5")
    _segments(storage, tmp_path, "eeee5555eeee5555", 1)
    watch = SweepWatch()
    sweep(storage, keeps(store), _at(watch, T0), T0, GRACE, US)
    assert sweep(storage, keeps(store), _at(watch, T0 + GRACE), T0 + GRACE, GRACE, US) == 2


def test_finished_video_and_foreign_names_are_never_removed(
    storage: Storage, store: JobStore, tmp_path: Path
) -> None:
    _segments(storage, tmp_path, "ffff6666ffff6666", 1)
    src = tmp_path / "out.mp4"
    src.write_bytes(b"video")
    storage.put_file("jobs/ffff6666ffff6666/output.mp4", str(src))
    storage.put_file("jobs/Not A Job/notes.txt", str(src))
    watch = SweepWatch()
    sweep(storage, keeps(store), _at(watch, T0), T0, GRACE, US)
    assert (
        sweep(storage, keeps(store), _at(watch, T0 + 30 * GRACE), T0 + 30 * GRACE, GRACE, US) == 0
    )
    assert len(storage.list("jobs/")) == 4


class _Failing:
    """A storage whose listing or deletes fail, as an unreachable bucket's do."""

    def __init__(self, inner: Storage, fail_list: bool) -> None:
        self.inner = inner
        self.fail_list = fail_list

    def list(self, prefix: str) -> builtins.list[str]:
        if self.fail_list:
            raise StorageError("bucket unreachable", key=prefix, transient=True)
        return self.inner.list(prefix)

    def get_file(self, key: str, path: str) -> None:
        self.inner.get_file(key, path)

    def delete_prefix(self, prefix: str) -> int:
        if prefix.startswith("jobs/1111"):
            raise StorageError("access denied", key=prefix)
        return self.inner.delete_prefix(prefix)


def test_storage_errors_are_logged_and_the_sweep_goes_on(
    storage: Storage, store: JobStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _segments(storage, tmp_path, "1111aaaa1111aaaa", 1)
    _segments(storage, tmp_path, "2222bbbb2222bbbb", 1)
    watch = SweepWatch()
    down = _Failing(storage, fail_list=True)
    with caplog.at_level(logging.WARNING):
        assert sweep(down, keeps(store), _at(watch, T0), T0, GRACE, US) == 0  # type: ignore[arg-type]
    assert "could not list jobs/" in caplog.text and "bucket unreachable" in caplog.text
    flaky = _Failing(storage, fail_list=False)
    sweep(flaky, keeps(store), _at(watch, T0), T0, GRACE, US)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING):
        assert sweep(flaky, keeps(store), _at(watch, T0 + GRACE), T0 + GRACE, GRACE, US) == 2  # type: ignore[arg-type]
    assert "could not remove job 1111aaaa1111aaaa" in caplog.text
    assert "removed 2 objects of job 2222bbbb2222bbbb" in caplog.text
    assert storage.list("jobs/") == [
        "jobs/1111aaaa1111aaaa/owner.json",
        "jobs/1111aaaa1111aaaa/segments/000000.mkv",
    ]


def test_clusters_sharing_one_bucket_never_sweep_each_others_jobs(
    storage: Storage, store: JobStore, tmp_path: Path
) -> None:
    """Staging and production on one bucket: each Redis knows only its own jobs, and each took
    the other's live ones for lost and deleted their segments."""
    # Given a job of ours and a job of another cluster, in the same storage
    _segments(storage, tmp_path, "aaaa0000aaaa0000", owner=US)
    _segments(storage, tmp_path, "bbbb0000bbbb0000", owner="cluster-them")
    # And a job from before the markers existed (no marker: whose it is cannot be told)
    _segments(storage, tmp_path, "cccc0000cccc0000", owner=None)
    watch = SweepWatch()
    # When our sweep has waited many grace periods, our Redis knowing none of them
    for period in range(5):
        sweep(
            storage, keeps(store), _at(watch, T0 + period * GRACE), T0 + period * GRACE, GRACE, US
        )
    # Then only our lost job went; the other cluster's and the unmarked one are untouched
    assert storage.list("jobs/aaaa0000aaaa0000/") == []
    assert len(storage.list("jobs/bbbb0000bbbb0000/")) == 3
    assert len(storage.list("jobs/cccc0000cccc0000/")) == 2


def test_a_prefix_from_before_the_markers_is_removed_once_abandoned_for_a_day(
    storage: Storage, store: JobStore, tmp_path: Path
) -> None:
    """A job planned before owner.json existed kept its segments in storage for ever."""
    late = unmarked_grace(GRACE)
    assert late == 24 * GRACE
    # Given an unmarked lost job, an unmarked live one, and an unmarked finished video
    _segments(storage, tmp_path, "dddd0000dddd0000", owner=None)
    _segments(storage, tmp_path, "eeee0000eeee0000", owner=None)
    _live(store, "eeee0000eeee0000")
    _segments(storage, tmp_path, "ffff0000ffff0000", owner=None)
    src = tmp_path / "out.mp4"
    src.write_bytes(b"video")
    storage.put_file("jobs/ffff0000ffff0000/output.mp4", str(src))
    # And a marker that cannot be read (whose it is cannot be told either: kept)
    _segments(storage, tmp_path, "abab0000abab0000", owner=None)
    (tmp_path / "bad.json").write_text("{not json")
    storage.put_file("jobs/abab0000abab0000/owner.json", str(tmp_path / "bad.json"))
    watch = SweepWatch()
    # When it is seen unchanged for less than the unmarked wait, nothing goes
    for at in (T0, T0 + GRACE, T0 + late - 1):
        assert sweep(storage, keeps(store), _at(watch, at), at, GRACE, US) == 0
    # Then, past it, only the lost unmarked job's objects go
    assert sweep(storage, keeps(store), _at(watch, T0 + late), T0 + late, GRACE, US) == 2
    assert storage.list("jobs/dddd0000dddd0000/") == []
    assert len(storage.list("jobs/eeee0000eeee0000/")) == 2
    assert len(storage.list("jobs/ffff0000ffff0000/")) == 3
    assert len(storage.list("jobs/abab0000abab0000/")) == 3
    assert sweep(storage, keeps(store), _at(watch, T0 + 3 * late), T0 + 3 * late, GRACE, US) == 0


def test_an_unmarked_prefix_that_changes_is_not_abandoned(
    storage: Storage, store: JobStore, tmp_path: Path
) -> None:
    _segments(storage, tmp_path, "dddd1111dddd1111", owner=None)
    watch = SweepWatch()
    late = unmarked_grace(GRACE)
    sweep(storage, keeps(store), _at(watch, T0), T0, GRACE, US)
    _segments(storage, tmp_path, "dddd1111dddd1111", count=3, owner=None)  # a chunk wrote
    assert sweep(storage, keeps(store), _at(watch, T0 + late), T0 + late, GRACE, US) == 0
    assert sweep(storage, keeps(store), _at(watch, T0 + 2 * late), T0 + 2 * late, GRACE, US) == 3


def test_cluster_id_is_kept_in_redis_and_survives_its_loss(
    store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage_sweep, "_KNOWN_ID", None)
    first = cluster_id(store.redis)
    assert first and cluster_id(store.redis) == first
    assert store.redis.get(keys.CLUSTER_ID) == first
    store.redis.flushall()  # Redis lost its data: this process still knows whose jobs they were
    assert cluster_id(store.redis) == first
    assert store.redis.get(keys.CLUSTER_ID) == first
    assert cluster_id(store.redis, "production") == "production"  # CLOUDRENDER_CLUSTER_ID


def test_an_unwritable_marker_leaves_the_job_to_render(
    store: JobStore, caplog: pytest.LogCaptureFixture
) -> None:
    def unreachable() -> Storage:
        raise StorageError("bucket unreachable", key="jobs/", transient=True)

    with caplog.at_level(logging.WARNING):
        claim_prefix(store.redis, unreachable, "abab1212abab1212", US)  # logged, not raised
    assert "could not mark job abab1212abab1212" in caplog.text


def test_the_sweep_can_be_turned_off(
    storage: Storage, store: JobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDRENDER_STORAGE_URL", (tmp_path / "storage").as_uri())
    monkeypatch.setenv("CLOUDRENDER_SWEEP_GRACE", "600")
    monkeypatch.setenv("CLOUDRENDER_CLUSTER_ID", US)
    monkeypatch.setenv("CLOUDRENDER_SWEEP", "off")
    monkeypatch.setattr(tasks, "worker_hooks", lambda: SimpleNamespace(store=store))
    clock = [T0]
    monkeypatch.setattr(tasks, "_SWEEP_WATCH", SweepWatch(clock=lambda: clock[0]))
    monkeypatch.setattr(store, "now", lambda: clock[0])
    _segments(storage, tmp_path, "dcba1111dcba1111")
    for _ in range(3):
        assert tasks.sweep_storage() == {"swept": 0}
        clock[0] += 3600
    assert len(storage.list("jobs/dcba1111dcba1111/")) == 3


@pytest.mark.parametrize(
    ("raw", "on"), [(None, True), ("on", True), ("off", False), ("OFF", False)]
)
def test_sweep_switch_setting(raw: str | None, on: bool) -> None:
    env = {} if raw is None else {"CLOUDRENDER_SWEEP": raw}
    assert Settings.from_env(env).sweep is on


def test_sweep_switch_refuses_other_words() -> None:
    with pytest.raises(RenderError, match="CLOUDRENDER_SWEEP"):
        Settings.from_env({"CLOUDRENDER_SWEEP": "maybe"})


def test_group_by_job() -> None:
    keys = ["jobs/a/segments/1.mkv", "jobs/a/audio.mka", "jobs/b/x", "jobs/stray", "assets/z"]
    assert group_by_job(keys) == {
        "a": frozenset({"jobs/a/segments/1.mkv", "jobs/a/audio.mka"}),
        "b": frozenset({"jobs/b/x"}),
    }


@pytest.mark.parametrize(
    ("raw", "grace"), [(None, DEFAULT_SWEEP_GRACE), ("600", 600), ("86400", 86400)]
)
def test_sweep_grace_setting(raw: str | None, grace: int) -> None:
    env = {} if raw is None else {"CLOUDRENDER_SWEEP_GRACE": raw}
    assert Settings.from_env(env).sweep_grace == grace


@pytest.mark.parametrize("raw", ["0", "599", "soon"])
def test_sweep_grace_refuses_too_short(raw: str) -> None:
    with pytest.raises(RenderError, match="CLOUDRENDER_SWEEP_GRACE"):
        Settings.from_env({"CLOUDRENDER_SWEEP_GRACE": raw})


def test_beat_schedules_the_sweep() -> None:
    schedule = celery_config(Settings())["beat_schedule"]
    assert any(entry["task"] == TASK_SWEEP for entry in schedule.values())


def test_beat_task_sweeps_the_cluster_storage_and_survives_its_errors(
    storage: Storage,
    store: JobStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("CLOUDRENDER_STORAGE_URL", (tmp_path / "storage").as_uri())
    monkeypatch.setenv("CLOUDRENDER_SWEEP_GRACE", "600")
    monkeypatch.setenv("CLOUDRENDER_CLUSTER_ID", US)
    monkeypatch.setattr(tasks, "worker_hooks", lambda: SimpleNamespace(store=store))
    clock = [T0]
    monkeypatch.setattr(tasks, "_SWEEP_WATCH", SweepWatch(clock=lambda: clock[0]))
    monkeypatch.setattr(store, "now", lambda: clock[0])
    _live(store, "abcd0000abcd0000")
    _segments(storage, tmp_path, "abcd0000abcd0000")
    _segments(storage, tmp_path, "dcba0000dcba0000")
    real_open = tasks.open_storage
    monkeypatch.setattr(tasks, "open_storage", lambda url: _Failing(real_open(url), True))
    with caplog.at_level(logging.WARNING):
        assert tasks.sweep_storage() == {"swept": 0}  # logged, not raised
    assert "bucket unreachable" in caplog.text
    monkeypatch.setattr(tasks, "open_storage", real_open)
    assert tasks.sweep_storage() == {"swept": 0}
    clock[0] += 600
    assert render_counters.read(store.redis, CLUSTER).swept_objects == 0
    assert tasks.sweep_storage() == {"swept": 3}
    assert render_counters.read(store.redis, CLUSTER).swept_objects == 3
    samples = {
        s.name: s.value
        for family in counter_families([(CLUSTER, render_counters.read(store.redis, CLUSTER))])
        for s in family.samples
    }
    assert samples["cloudrender_storage_swept_objects_total"] == 3
    assert [k.split("/")[1] for k in storage.list("jobs/")] == ["abcd0000abcd0000"] * 3


@pytest.mark.parametrize("ending", ["cancelled", "failed"])
def test_a_late_upload_into_an_ended_jobs_storage_is_swept_while_its_record_lasts(
    storage: Storage, store: JobStore, tmp_path: Path, ending: str
) -> None:
    # Given a job whose objects its cancel (or failure) removed, marker included
    job = "cccc3333cccc3333"
    store.create(
        JobRecord(id=job, state=JobState.RENDERING, frames=48, submitted_at=T0),
        {"id": job, "storage_url": storage.url},
    )
    _segments(storage, tmp_path, job)
    if ending == "cancelled":
        assert cancel(store, job, "cancelled by the user", app=None)
    else:  # as HookBase.job_failed ends it
        assert store.transition(job, JobState.FAILED, error="chunk 0: bad")
        storage.delete_prefix(f"jobs/{job}/")
    assert storage.list(f"jobs/{job}/") == []
    # When a chunk that was uploading as it ended stores its segment just after (a worker
    # stalled, or slow storage): no marker, and the record lives on for a week
    _segments(storage, tmp_path, job, count=1, owner=None)
    watch = SweepWatch()
    assert sweep(storage, keeps(store), _at(watch, T0), T0, GRACE, US, ended(store)) == 0
    # Then the orphan goes once unchanged for the grace, not a week and a day later
    assert (
        sweep(storage, keeps(store), _at(watch, T0 + GRACE), T0 + GRACE, GRACE, US, ended(store))
        == 1
    )
    assert storage.list("jobs/") == []
    assert store.state(job) is JobState(ending)  # the record itself stays


def test_an_ended_jobs_output_and_a_live_jobs_objects_stay(
    storage: Storage, store: JobStore, tmp_path: Path
) -> None:
    live, done = "dddd4444dddd4444", "eeee5555eeee5555"
    _live(store, live)
    store.create(JobRecord(id=done, state=JobState.COMPLETED, frames=48, submitted_at=T0), {})
    _segments(storage, tmp_path, live)
    _segments(storage, tmp_path, done)
    watch = SweepWatch()
    for now in (T0, T0 + GRACE, T0 + 30 * GRACE):
        assert sweep(storage, keeps(store), _at(watch, now), now, GRACE, US, ended(store)) == 0
    assert len(storage.list("jobs/")) == 6

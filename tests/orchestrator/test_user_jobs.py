"""A user's jobs are found through the user's own index, whatever other tenants submit."""

from __future__ import annotations

from orchestrator import keys
from orchestrator.job_record import JobRecord, JobState
from orchestrator.job_store import JobStore


def test_a_users_jobs_are_not_hidden_by_other_tenants_many_jobs(redis_url: str) -> None:
    """Listing and billing read the newest 2,000 jobs of the cluster: 2,050 of someone else's
    hid every job of bob's."""
    store = JobStore.from_url(redis_url)
    store.create(JobRecord(id="bobs", user="bob", submitted_at=1.0), {})
    pipe = store.redis.pipeline()
    for n in range(300):
        pipe.zadd(keys.ALL, {f"mass{n}": 2.0 + n})  # another tenant's newer jobs
    pipe.execute()
    assert "bobs" not in store.recent(100)
    assert store.recent_of("bob", 100) == ["bobs"]
    # An expired record leaves the index when it is read
    store.create(JobRecord(id="old", user="bob", submitted_at=0.5), {})
    store.redis.delete(keys.job("old"))
    assert store.recent_of("bob", 100) == ["bobs"]
    assert store.redis.zscore(keys.user_jobs("bob"), "old") is None
    # A user whose jobs were all stored before the index was kept: the newest of all
    store.redis.zadd(keys.ALL, {"legacy": 10_000.0})
    assert store.recent_of("carol", 5)[0] == "legacy"
    assert store.get("bobs").state is JobState.QUEUED

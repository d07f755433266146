"""A job id that is not one (``<id>:events`` names the job's event stream in Redis) is an unknown
job, as over HTTP: no Redis error, and ``wait`` tells an unknown job from a lost one."""

from __future__ import annotations

import threading

import pytest

from orchestrator import keys
from orchestrator.api import CloudRenderingAPI
from orchestrator.api_results import JobLost
from orchestrator.job_events import publish_event
from orchestrator.job_record import JobNotFound, JobRecord, JobState
from tests.helpers import CLI


@pytest.mark.parametrize("suffix", [":events", ":done", ":chunks", ":cancel", " ", ""])
def test_an_id_naming_another_key_of_the_job_is_no_job(redis_url: str, suffix: str) -> None:
    api = CloudRenderingAPI(redis_url)
    api.store.create(JobRecord(id="abc", state=JobState.RENDERING), {})
    publish_event(api.store.redis, "abc", "progress", chunk=0)  # cr:job:abc:events is a stream
    api.store.request_cancel("abc")  # cr:job:abc:cancel a string
    api.store.redis.sadd(keys.done("abc"), "0")
    bad = "abc" + suffix if suffix else ""
    for call in (api.get_job_status, api.cancel_job, api.wait, api.output_url):
        with pytest.raises(JobNotFound, match="^no job "):
            call(bad)


def test_status_and_cancel_of_a_bad_id_say_no_job(cli: CLI, redis_url: str) -> None:
    """They exited 3 telling the operator to check Redis's memory limit and role."""
    api = CloudRenderingAPI(redis_url)
    api.store.create(JobRecord(id="abc", state=JobState.RENDERING), {})
    publish_event(api.store.redis, "abc", "progress", chunk=0)
    run = cli.with_env(CLOUDRENDER_BROKER_URL=redis_url)
    for args in (("status", "abc:events", "--json"), ("cancel", "abc:events")):
        done = run(*args)
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip() == "error: no job 'abc:events': not a job id"


def test_waiting_for_an_unknown_job_is_job_not_found_not_job_lost(redis_url: str) -> None:
    api = CloudRenderingAPI(redis_url)
    with pytest.raises(JobNotFound, match="^no job 'nosuch'") as info:
        api.wait("nosuch", timeout=2)
    assert not isinstance(info.value, JobLost)


def test_a_job_that_vanishes_while_waited_for_is_lost(redis_url: str) -> None:
    api = CloudRenderingAPI(redis_url)
    api.store.create(JobRecord(id="gone", state=JobState.RENDERING), {})
    flush = threading.Timer(0.5, api.store.redis.flushall)
    flush.start()
    try:
        with pytest.raises(JobLost, match="append-only persistence"):
            api.wait("gone", timeout=10, poll=0.05)
    finally:
        flush.cancel()

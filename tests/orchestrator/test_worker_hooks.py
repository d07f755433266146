"""The job service's failure handling on a real Redis and broker (no workers needed)."""

from __future__ import annotations

import json
import time

import pytest

from common.errors import RenderError
from common.settings import Settings
from orchestrator import keys, render_counters
from orchestrator.celery_app import make_app
from orchestrator.health import MERGE_LEASE
from orchestrator.job_events import read_events
from orchestrator.job_record import ChunkRecord, ChunkState, JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.render_counters import CLUSTER
from orchestrator.worker_hooks import BLOCKLIST_AFTER, CHUNK_NODE_LIMIT, WorkerHooks


@pytest.fixture
def service(redis_url: str) -> WorkerHooks:
    store = JobStore.from_url(redis_url)
    app = make_app(Settings(broker_url=redis_url, result_backend=redis_url))
    svc = WorkerHooks(store, app)
    store.create(JobRecord(id="j", submitted_at=time.time(), frames=40), {"chunks": []})
    store.set_chunks(
        "j",
        [ChunkRecord(i, i * 10, i * 10 + 10) for i in range(4)],
        {"chunks": [[i * 10, i * 10 + 10] for i in range(4)]},
    )
    store.transition("j", JobState.PLANNING)
    store.transition("j", JobState.RENDERING)
    for node in ("n1", "n2", "n3", "n4"):
        store.redis.set(keys.node(node), f'{{"name": "{node}", "concurrency": 1}}', ex=60)
    store.redis.delete(keys.pending("j"))
    return svc


def test_a_crash_requeues_the_chunk_for_another_worker(service: WorkerHooks) -> None:
    assert service.chunk_started("j", 0, "t1", "n1")
    service.chunk_crashed("j", 0, "n1", "MemoryError: boom")
    chunk = service.store.chunk("j", 0)
    assert chunk.state is ChunkState.RETRYING and chunk.failed_nodes == ["n1"]
    assert service.store.state("j") is JobState.RENDERING
    assert (
        0 in [int(i) for i in service.store.redis.lrange(keys.pending("j"), 0, -1)]
        or service.store.redis.zscore(keys.QUEUED, "j:0") is not None
    )  # dispatched again


def test_a_node_failing_twice_is_blocklisted_for_the_job(service: WorkerHooks) -> None:
    for index in range(BLOCKLIST_AFTER):
        assert service.chunk_started("j", index, f"t{index}", "n1")
        service.chunk_crashed("j", index, "n1", "SegFault")
    assert service.blocklisted("j", "n1") and not service.blocklisted("j", "n2")
    assert service.store.get("j").node_failures == {"n1": BLOCKLIST_AFTER}  # in the record
    assert not service.chunk_started("j", 2, "t9", "n1")  # refused on n1 ...
    assert service.chunk_started("j", 2, "t10", "n2")  # ... taken elsewhere


def test_when_every_live_node_is_blocklisted_the_job_fails_instead_of_waiting(
    service: WorkerHooks,
) -> None:
    """Every chunk crashing on every node (a worker started under a limit the render cannot
    live with): once the last live node is blocklisted nobody will take the chunk, and the job
    fails naming the last error (it waited in "rendering" for ever)."""
    for node in ("n3", "n4"):
        service.store.redis.delete(keys.node(node))  # two live render nodes: n1 and n2
    for node in ("n1", "n2"):
        now = time.time()
        beat = {"name": node, "concurrency": 1, "since": now, "time": now, "queues": ["render"]}
        service.store.redis.set(keys.node(node), json.dumps(beat), ex=60)
    index = 0
    for node in ("n1", "n2"):
        for _ in range(BLOCKLIST_AFTER):
            if service.store.state("j").finished:
                break
            task_id = service.store.chunk("j", index % 4).task_id or f"t-{node}-{index}"
            assert service.chunk_started("j", index % 4, task_id, node)
            service.chunk_crashed("j", index % 4, node, "ValueError: not allowed to raise")
            index += 1
    record = service.store.get("j")
    assert record.state is JobState.FAILED
    assert record.error is not None and "every live worker failed" in record.error
    assert "not allowed to raise" in record.error


def test_a_chunk_crashing_on_three_workers_fails_the_job(service: WorkerHooks) -> None:
    for node in ("n1", "n2", "n3")[:CHUNK_NODE_LIMIT]:
        # Each attempt is the message the dispatcher sent last (none before the first).
        task_id = service.store.chunk("j", 1).task_id or f"t-{node}"
        assert service.chunk_started("j", 1, task_id, node)
        service.chunk_crashed("j", 1, node, "OSError: disk on fire")
    record = service.store.get("j")
    assert record.state is JobState.FAILED
    assert record.error is not None and "failed on 3 workers" in record.error
    assert "disk on fire" in record.error


def test_deterministic_failure_fails_at_once_and_stops_the_rest(service: WorkerHooks) -> None:
    assert service.chunk_started("j", 0, "t", "n1")
    service.chunk_failed("j", 0, RenderError("chunk 0 (frames 0-9): clip 'x': corrupt"))
    assert service.store.state("j") is JobState.FAILED
    assert service.should_stop("j", 1, "n2") == "cancelled"


def test_a_finished_chunk_stops_its_speculative_copy(service: WorkerHooks) -> None:
    assert service.chunk_started("j", 3, "a", "n1")
    service.dispatcher.send_chunk("j", 3, "normal")  # failover sends the straggler's copy
    copy = service.store.chunk("j", 3).task_id
    assert copy and service.chunk_started("j", 3, copy, "n2")
    assert service.store.chunk("j", 3).speculative
    service.chunk_finished("j", 3, {"index": 3, "start": 30, "end": 40, "seconds": 1.0})
    assert service.should_stop("j", 3, "n1") == "done"
    assert not service.chunk_started("j", 3, "c", "n3")  # never runs again


def test_a_released_chunk_does_not_count_as_an_attempt(service: WorkerHooks) -> None:
    assert service.chunk_started("j", 2, "a", "n1")
    service.store.redis.set(keys.evict("n1"), "GCP pre-emption")
    assert service.should_stop("j", 2, "n1") == "evicted"
    service.chunk_released("j", 2, "n1")
    chunk = service.store.chunk("j", 2)
    assert chunk.state is ChunkState.PENDING and chunk.attempts == 0


def test_a_done_chunk_is_never_overwritten_by_a_stale_update(service: WorkerHooks) -> None:
    # A progress report (or a requeue) read the chunk while it ran, and writes after it finished.
    store = service.store
    service.chunk_started("j", 2, "t1", "n1")
    stale = store.chunk("j", 2)
    service.chunk_finished("j", 2, {"index": 2, "start": 20, "end": 30, "seconds": 1.0})
    stale.frames_done = 5
    assert not store.save_chunk("j", stale)
    assert store.chunk("j", 2).state is ChunkState.DONE
    # Updates of chunks that are not done go through, and a done chunk may be saved as done.
    running = store.chunk("j", 1)
    running.frames_done = 3
    assert store.save_chunk("j", running) and store.chunk("j", 1).frames_done == 3
    done = store.chunk("j", 2)
    done.seconds = 2.0
    assert store.save_chunk("j", done) and store.chunk("j", 2).seconds == 2.0


def test_a_duplicate_merge_does_not_run_beside_a_live_one(service: WorkerHooks) -> None:
    assert service.merge_started("j")
    assert service.store.state("j") is JobState.MERGING
    # A copy resent while the first waited in the queue: the first holds a fresh lease.
    assert not service.merge_started("j")
    service.merge_alive("j")
    assert not service.merge_started("j")
    # The first merge died and its lease lapsed: a resent one takes over, and holds it.
    service.store.update("j", merge_alive_at=time.time() - MERGE_LEASE - 1)
    assert service.merge_started("j")
    assert not service.merge_started("j")


# -- render counters and the event log ----------------------------------------------------------


def counted(service: WorkerHooks, node: str = CLUSTER) -> render_counters.Snapshot:
    return render_counters.read(service.store.redis, node)


def test_outside_a_workers_task_events_count_on_the_cluster(service: WorkerHooks) -> None:
    assert service.node_name() == CLUSTER


def test_chunks_count_once_and_a_second_copy_as_a_duplicate(service: WorkerHooks) -> None:
    assert service.chunk_started("j", 0, "a", "n1")
    service.dispatcher.send_chunk("j", 0, "normal")  # a speculative copy
    copy = service.store.chunk("j", 0).task_id
    assert copy and service.chunk_started("j", 0, copy, "n2")
    result = {"index": 0, "start": 0, "end": 10, "seconds": 2.0, "node": "n1"}
    service.chunk_finished("j", 0, result)
    service.chunk_finished("j", 0, {**result, "seconds": 3.0, "node": "n2"})
    service.chunk_finished("j", 1, {**result, "index": 1, "start": 10, "end": 20, "reused": True})
    snap = counted(service)
    assert snap.frames == 10
    assert (snap.chunks["done"], snap.chunks["duplicate"], snap.chunks["reused"]) == (1, 1, 1)
    assert snap.chunk_seconds.count == 1 and snap.chunk_seconds.total == 2.0
    # Subscribers see the same: each chunk_done says its outcome and frames.
    events = [m for _, m in read_events(service.store.redis, "j") if m["event"] == "chunk_done"]
    assert [(m["chunk"], m["outcome"], m["frames"]) for m in events] == [
        (0, "done", 10),
        (0, "duplicate", 10),
        (1, "reused", 10),
    ]


def test_retries_requeues_and_failures_are_counted(service: WorkerHooks) -> None:
    service.chunk_started("j", 0, "t", "n1")
    service.chunk_retrying("j", 0, RenderError("storage timeout"), 1.0)
    service.chunk_crashed("j", 0, "n1", "MemoryError")
    service.chunk_started("j", 2, "a", "n2")
    service.chunk_released("j", 2, "n2")
    service.chunk_failed("j", 1, RenderError("clip 'x': corrupt"))
    snap = counted(service)
    assert snap.chunks["retried"] == 1 and snap.chunks["requeued"] == 2
    assert snap.chunks["failed"] == 1
    assert snap.jobs == {"completed": 0, "failed": 1, "cancelled": 0}
    assert snap.job_seconds["failed"].count == 1


def test_a_completed_job_counts_once_with_its_seconds(service: WorkerHooks) -> None:
    service.store.update("j", submitted_at=time.time() - 50)
    assert service.merge_started("j")
    service.merge_finished("j", {"merge_seconds": 1.0})
    service.merge_finished("j", {"merge_seconds": 1.0})  # a duplicate merge: billed once
    snap = counted(service)
    assert snap.jobs["completed"] == 1
    histogram = snap.job_seconds["completed"]
    assert histogram.count == 1 and 49 <= histogram.total <= 80
    (completed,) = [
        m for _, m in read_events(service.store.redis, "j") if m["event"] == "completed"
    ]
    assert 49 <= completed["seconds"] <= 80


def test_a_stale_message_of_a_resent_chunk_is_not_rendered(service: WorkerHooks) -> None:
    """A chunk whose node died is sent again under a new task id; the broker may still deliver
    the old message too (acks_late): that copy must not render the chunk a second time."""
    assert service.chunk_started("j", 0, "t-old", "n1")
    service.chunk_crashed("j", 0, "n1", "node lost")
    resent = service.store.chunk("j", 0).task_id
    assert resent and resent != "t-old"  # the dispatcher sent it again
    assert not service.chunk_started("j", 0, "t-old", "n2")  # the redelivered old message
    assert service.store.chunk("j", 0).state is ChunkState.RETRYING
    assert service.chunk_started("j", 0, resent, "n2")  # the new one renders it
    assert service.store.chunk("j", 0).node == "n2"


def test_a_failed_job_shows_no_chunk_running_or_pending(service: WorkerHooks) -> None:
    # Given a job with a chunk done, one running and one pending
    assert service.chunk_started("j", 0, "t0", "n1")
    service.chunk_finished("j", 0, {"index": 0, "start": 0, "end": 10, "seconds": 1.0})
    assert service.chunk_started("j", 1, "t1", "n2")
    assert service.chunk_started("j", 2, "t2", "n3")
    # When chunk 2 fails the job (the storage full, say)
    service.chunk_failed("j", 2, RenderError("chunk 2 (frames 20-29): disk full"))
    # Then no chunk is left running or pending: the stopped ones failed, saying why
    chunks = service.store.chunks("j")
    assert [c.state for c in chunks] == [ChunkState.DONE] + [ChunkState.FAILED] * 3
    assert chunks[1].error == chunks[3].error == "stopped: the job failed"
    assert chunks[2].error == "chunk 2 (frames 20-29): disk full"  # the cause keeps its own
    # And the running chunk's late progress report does not bring it back to life
    service.store.chunk_progress("j", 1, 5)
    assert service.store.chunk("j", 1).state is ChunkState.FAILED


def _all_done(service: WorkerHooks) -> None:
    for i in range(4):
        assert service.chunk_started("j", i, f"t{i}", "n1")
        service.store.chunk_done("j", i, 1.0)
    service.store.part_done("j", "audio")


def test_a_late_merge_of_a_completed_job_does_not_undo_its_chunks(service: WorkerHooks) -> None:
    # Given a job whose merge completed it (and removed its segments) while a second merge,
    # paused past its lease, waited
    _all_done(service)
    assert service.merge_started("j")
    assert service.merge_finished("j", {"frames": 40, "merge_seconds": 0.1})
    # When the late merge resumes, finds the segments gone and reports them lost
    service.cache_lost("j", [0, 1, 2, 3], False)
    # Then the completed job keeps its chunks done (the record showed 0 frames done)
    assert service.store.state("j") is JobState.COMPLETED
    assert [c.state for c in service.store.chunks("j")] == [ChunkState.DONE] * 4
    assert service.store.redis.scard(keys.done("j")) == 5
    assert not service.store.redis.llen(keys.pending("j"))


def test_a_merge_cancelled_under_it_does_not_undo_the_chunks(service: WorkerHooks) -> None:
    # Given a merging job cancelled mid-merge (the cancel removed its segments)
    _all_done(service)
    assert service.merge_started("j")
    service.store.transition("j", JobState.CANCELLED, error="cancelled by request")
    # When the merge finds them gone
    service.cache_lost("j", [0, 1, 2, 3], False)
    # Then what was rendered stays recorded done
    assert [c.state for c in service.store.chunks("j")] == [ChunkState.DONE] * 4


def test_a_merge_finding_a_part_gone_renders_it_again(service: WorkerHooks) -> None:
    # Given a merging job whose chunk 2 segment is gone (the guard above keeps this working)
    _all_done(service)
    assert service.merge_started("j")
    service.cache_lost("j", [2], False)
    assert service.store.state("j") is JobState.RENDERING
    assert service.store.chunk("j", 2).state is not ChunkState.DONE
    assert not service.store.redis.sismember(keys.done("j"), "2")


def test_a_chunk_of_a_job_redis_lost_stops_instead_of_crashing(service: WorkerHooks) -> None:
    # Given a running chunk whose job record vanished (Redis restarted without persistence)
    assert service.chunk_started("j", 1, "t1", "n1")
    for key in service.store.redis.keys("cr:job:j*"):
        service.store.redis.delete(key)
    # When it reports progress and polls, it stops (storing nothing) instead of raising
    service.chunk_progress("j", 1, 5, 10)  # raised JobNotFound: a traceback and a crash path
    assert service.should_stop("j", 1, "n1") == "gone"


def test_a_chunk_failing_after_redis_lost_its_job_ends_quietly(service: WorkerHooks) -> None:
    """Redis lost the job between the chunk's start and the read of its document: the task's
    failure path ended in a JobNotFound traceback in the worker's log."""
    assert service.chunk_started("j", 1, "t1", "n1")
    for key in service.store.redis.keys("cr:job:j*"):
        service.store.redis.delete(key)
    service.chunk_failed("j", 1, RenderError("chunk 1: no job 'j'"))
    assert not service.store.redis.keys("cr:job:j*")  # nothing recreated


def test_a_chunk_whose_process_died_counts_as_requeued_when_its_message_comes_back(
    service: WorkerHooks,
) -> None:
    """A pool process killed mid-chunk (OOM killer, SIGKILL) reports nothing; Celery hands the
    same message out again (task_reject_on_worker_lost) and the chunk renders a second time.
    Before, that re-run was counted nowhere: chunks_total{outcome="requeued"} stayed 0."""
    assert service.chunk_started("j", 0, "t1", "n1")
    service.chunk_progress("j", 0, 7, 10)
    # Then the same message starts again
    assert service.chunk_started("j", 0, "t1", "n1")
    assert counted(service).chunks["requeued"] == 1
    requeued = [
        m for _, m in read_events(service.store.redis, "j") if m["event"] == "chunk_requeued"
    ]
    assert [(m["chunk"], m["reason"]) for m in requeued] == [(0, "redelivered")]
    chunk = service.store.chunk("j", 0)
    assert (chunk.attempts, chunk.frames_done) == (2, 0)
    # A retry after a transient error (the same task id again) is a retry, not a requeue
    service.chunk_retrying("j", 0, RenderError("storage timeout"), 1.0)
    assert service.chunk_started("j", 0, "t1", "n1")
    assert counted(service).chunks["requeued"] == 1 and counted(service).chunks["retried"] == 1


def test_a_speculative_copy_keeps_the_chunks_progress_from_going_back(
    service: WorkerHooks,
) -> None:
    """A straggler at 6 of 10 frames gets a copy on an idle node. Before, the copy's start
    showed the chunk at 0 frames, and then the job's progress jumped between the two copies'
    reports (6, 1, 7, 2...)."""
    assert service.chunk_started("j", 0, "a", "n1")
    service.store.chunk_progress("j", 0, 6)
    straggler = service.store.chunk("j", 0)
    straggler.speculative = True  # as the tick marks it before sending its copy
    service.store.save_chunk("j", straggler)
    service.dispatcher.send_chunk("j", 0, "normal")
    copy = service.store.chunk("j", 0).task_id
    assert copy and service.chunk_started("j", 0, copy, "n2")
    assert service.store.get("j").frames_done == 6
    shown = []
    for done in (1, 7, 2, 8):  # the copy's and the first's reports, interleaved
        service.store.chunk_progress("j", 0, done)
        shown.append(service.store.get("j").frames_done)
    assert shown == [6, 7, 7, 8]
    # The cluster's frames per second divide those frames by the first copy's time
    assert service.store.chunk("j", 0).started_at == straggler.started_at
    assert counted(service).chunks["requeued"] == 0  # a copy, not a re-run of a dead one


def test_a_chunk_whose_process_died_reads_retrying_once_its_worker_sees_it(
    service: WorkerHooks,
) -> None:
    """The worker's main process reports the lost process (workers.chunk_request): the chunk
    reads retrying with why at once, and its message coming back is not a second requeue.
    A report about another run of the chunk (a later start, another task id) changes nothing."""
    assert service.chunk_started("j", 0, "t1", "n1")
    service.chunk_progress("j", 0, 7, 10)
    service.chunk_lost("j", 0, "t-other", "n1", "signal 9")
    service.chunk_lost("j", 0, "t1", "n2", "signal 9")
    assert service.store.chunk("j", 0).state is ChunkState.RUNNING
    service.chunk_lost("j", 0, "t1", "n1", "Worker exited prematurely: signal 9 (SIGKILL)")
    chunk = service.store.chunk("j", 0)
    assert (chunk.state, chunk.frames_done) == (ChunkState.RETRYING, 0)
    assert chunk.error is not None and "render process died" in chunk.error
    # Then the same message starts again: one requeue in all
    assert service.chunk_started("j", 0, "t1", "n1")
    assert counted(service).chunks["requeued"] == 1


def test_a_chunk_whose_process_dies_on_three_workers_fails_the_job_naming_it(
    service: WorkerHooks,
) -> None:
    """Each lost process counts against its node like a crash: a chunk that takes its pool
    process down wherever it runs fails the job (its message came back for ever before)."""
    for node in ("n1", "n2", "n3")[:CHUNK_NODE_LIMIT]:
        assert service.store.state("j") is JobState.RENDERING
        assert service.chunk_started("j", 2, "t1", node)
        service.chunk_lost("j", 2, "t1", node, "Worker exited prematurely: signal 9 (SIGKILL)")
    record = service.store.get("j")
    assert record.state is JobState.FAILED
    assert record.error is not None
    assert "chunk 2 (frames 20-29) failed on 3 workers" in record.error, record.error
    assert "signal 9" in record.error
    assert not service.chunk_started("j", 2, "t1", "n4")  # its message back: not rendered


def test_a_chunked_jobs_clipped_mix_reaches_its_warnings(service: WorkerHooks) -> None:
    """The audio task's notes (its mix clipped) join the job's, as a chunk's do."""
    note = "the audio mix goes 3.5 dB over full scale, first at 1.00 s"
    service.audio_finished("j", {"key": "a.mka", "codec": "aac", "seconds": 1.0, "notes": [note]})
    assert service.store.redis.smembers(keys.notes("j")) == {note}


def _beat(service: WorkerHooks, node: str, fingerprint: str, room: bool = True) -> None:
    now = time.time()
    beat = {"name": node, "concurrency": 1, "since": now, "time": now, "fingerprint": fingerprint}
    beat["scratch_room"] = room
    beat["queues"] = ["render", f"render.{fingerprint}"]
    service.store.redis.set(keys.node(node), json.dumps(beat), ex=60)


@pytest.mark.parametrize(
    ("peer_fingerprint", "peer_blocklisted", "handed"),
    [
        ("fp-a", False, True),
        ("fp-b", False, False),
        ("fp-a", True, False),
        (None, False, False),
        ("full", False, False),  # a peer on a full disk too
    ],
)
def test_a_chunk_on_a_full_scratch_disk_goes_to_a_peer_of_its_fingerprint_at_once(
    service: WorkerHooks, peer_fingerprint: str | None, peer_blocklisted: bool, handed: bool
) -> None:
    """A node whose scratch disk is full hands the chunk on now, counted against it; with no
    other live node of the job's fingerprint that may take it, the chunk stays for a retry
    here (a disk that has room again in a moment must not fail a lone node's job)."""
    for node in ("n1", "n2", "n3", "n4"):
        service.store.redis.delete(keys.node(node))
    _beat(service, "n1", "fp-a")
    if peer_fingerprint is not None:
        room = peer_fingerprint != "full"
        _beat(service, "n2", "fp-a" if not room else peer_fingerprint, room=room)
    if peer_blocklisted:
        service.store.redis.hset(keys.failures("j"), "n2", BLOCKLIST_AFTER)
    service.store.update("j", renderer="fp-a")
    assert service.chunk_started("j", 0, "t1", "n1")
    error = RenderError("chunk 0 (frames 0-9): No space left on device")
    assert service.chunk_node_trouble("j", 0, "n1", error) is handed
    chunk = service.store.chunk("j", 0)
    assert service.store.state("j") is JobState.RENDERING
    if handed:
        assert chunk.state is ChunkState.RETRYING and chunk.failed_nodes == ["n1"]
        assert "No space left" in (chunk.error or "") and "n1" in (chunk.error or "")
        assert service.store.redis.hget(keys.failures("j"), "n1") == "1"
        kinds = [(m["event"], m.get("reason")) for _, m in read_events(service.store.redis, "j")]
        assert ("chunk_requeued", "node trouble") in kinds
    else:
        assert chunk.state is ChunkState.RUNNING and chunk.failed_nodes == []
        assert service.store.redis.hget(keys.failures("j"), "n1") is None

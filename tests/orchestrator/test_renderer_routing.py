"""Fingerprint routing: every chunk of a job renders on nodes of one render fingerprint, chosen
when the job starts dispatching, so its lossless segments join exactly on a mixed fleet.

The decisions are tables (scheduling); dispatch and the merge check run on the session's private
Redis with a stand-in for the Celery app that keeps what would have gone to the broker; the end
to end test runs two real render workers whose fingerprints differ by an operator's salt.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from bench.support import ChaosCluster, blurred_project
from chunking.timeline.project import read_project
from common.names import QUEUE_RENDER, TASK_MERGE, TASK_RENDER_CHUNK, render_queue
from orchestrator import keys
from orchestrator.api import CloudRenderingAPI
from orchestrator.dispatcher import MAX_RENDERER_ATTEMPTS, STALE_QUEUED, Dispatcher
from orchestrator.job_events import read_events
from orchestrator.job_record import ChunkRecord, ChunkState, JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.planning import job_fingerprint, keyed_plan
from orchestrator.scheduling import (
    choose_renderer,
    group_hardware_encoders,
    renderer_groups,
    stray_chunks,
)
from orchestrator.worker_hooks import WorkerHooks
from tests.helpers import CLI
from tests.media import decode_rgb, project, solid, video_track, write_project
from workers import fingerprint
from workers.job_spec import JobSpec

A, B, C = "a" * 16, "b" * 16, "c" * 16


def beat(
    name: str,
    fingerprint: str,
    concurrency: int = 1,
    *,
    draining: bool = False,
    busy: int = 0,
    queues: list[str] | None = None,
    compositor: str = "cpu",
) -> dict[str, Any]:
    """A render node's heartbeat as node_signals writes it (its fingerprint queue listed)."""
    listed = [QUEUE_RENDER, render_queue(fingerprint)] if queues is None else queues
    return {
        "compositor": compositor,
        "name": name,
        "concurrency": concurrency,
        "pid": 1,
        "since": 0.0,
        "time": time.time(),
        "draining": draining,
        "busy": busy,
        "queues": listed,
        "fingerprint": fingerprint,
    }


# -- the decisions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("beats", "groups"),
    [
        ([beat("n1", A, 2), beat("n2", A), beat("n3", B)], {A: 3, B: 1}),
        ([beat("n1", A), beat("n2", B, 4, draining=True)], {A: 1}),  # draining: no new work
        ([beat("n1", A), beat("n2", "")], {A: 1}),  # no fingerprint: ignored
        ([beat("n1", A), beat("o", B, queues=["orchestrator"])], {A: 1}),  # not a render node
        ([beat("n1", A), beat("old", B, queues=[QUEUE_RENDER])], {A: 1}),  # no queue of its own
        ([beat("n1", A, queues=[])], {A: 1}),  # a heartbeat that lists no queues renders
        ([], {}),
    ],
)
def test_renderer_groups_count_live_render_slots_per_fingerprint(
    beats: list[dict[str, Any]], groups: dict[str, int]
) -> None:
    assert renderer_groups({b["name"]: b for b in beats}) == groups


@pytest.mark.parametrize(
    ("current", "planned", "groups", "chosen"),
    [
        (A, B, {A: 1, B: 5}, A),  # the pin is kept while its group lives, however small
        (A, B, {B: 1, C: 5}, B),  # its group is gone: the fingerprint the keys were made with
        ("", B, {B: 1, C: 5}, B),  # a new job goes where its cached segments came from
        ("", "", {B: 1, C: 5}, C),  # else the group with the most slots
        ("", A, {B: 2, C: 2}, B),  # planned not live, a tie: by fingerprint
        (A, C, {B: 2, C: 0}, B),  # a group without slots is no group
        (A, A, {}, ""),  # no render node at all
        ("", "", {}, ""),
    ],
)
def test_choose_renderer(current: str, planned: str, groups: dict[str, int], chosen: str) -> None:
    assert choose_renderer(current, planned, groups) == chosen


@pytest.mark.parametrize(
    ("pin", "renderers", "held", "stray"),
    [
        (A, {0: A, 1: A}, A, []),
        (A, {0: A, 1: B, 2: "", 3: A}, A, [1]),  # "": a record from before, counts as matching
        ("", {0: A, 1: B, 2: A}, A, [1]),  # no pin: the fingerprint most chunks have
        ("", {0: B, 1: A}, A, [0]),  # a tie: by fingerprint
        ("", {0: "", 1: ""}, "", []),
    ],
)
def test_stray_chunks(pin: str, renderers: dict[int, str], held: str, stray: list[int]) -> None:
    assert stray_chunks(pin, renderers) == (held, stray)


def test_a_groups_hardware_encoders_are_what_its_live_nodes_report() -> None:
    beats = [
        {**beat("n1", A), "hardware_encoders": []},
        {**beat("n2", A), "hardware_encoders": ["h264_nvenc"]},
        {**beat("n3", B), "hardware_encoders": []},
        {**beat("n4", B, draining=True), "hardware_encoders": ["hevc_nvenc"]},  # takes no work
        beat("n5", C),  # a node from before nodes told: unknown
    ]
    by_name = {b["name"]: b for b in beats}
    assert group_hardware_encoders(by_name, A) == {"h264_nvenc"}
    assert group_hardware_encoders(by_name, B) == set()
    assert group_hardware_encoders(by_name, C) is None
    assert group_hardware_encoders(by_name, "gone") is None


@pytest.mark.parametrize(
    ("codec", "encoders", "cached"),
    [
        ("h264", None, False),  # unknown: a hardware encoder may make it
        ("h264", [], True),  # no node of the group has one: encoded in software
        ("h264", ["hevc_nvenc"], True),  # one for another codec only
        ("h264", ["h264_nvenc"], False),
        ("hevc", ["hevc_vaapi", "h264_qsv"], False),
    ],
)
def test_a_project_asking_for_hardware_encoding_is_keyed_where_its_group_has_none(
    tmp_path: Path, codec: str, encoders: list[str] | None, cached: bool
) -> None:
    card = {"id": "c", "start_time": 0, "end_time": 2, **solid("#3366ff")}
    doc = project([video_track("v", [card])], fps=10, size=(160, 90))
    timeline = (
        read_project(doc, base_dir=str(tmp_path))
        .with_export({"codec": codec, "hardware_acceleration": True})
        .timeline
    )
    keyed = keyed_plan(timeline, 2, None, {}, A, encoders)
    assert keyed and all(bool(key) == cached for _, key in keyed)


@pytest.mark.parametrize("codec", ["h264", "av1"])
def test_toggling_hardware_encoding_where_none_opens_keeps_the_keys(
    tmp_path: Path, codec: str
) -> None:
    """Where the group has no hardware encoder for the codec, asking for one encodes in
    software exactly as not asking: a re-render after toggling it reused no chunk."""
    card = {"id": "c", "start_time": 0, "end_time": 2, **solid("#3366ff")}
    doc = project([video_track("v", [card])], fps=10, size=(160, 90))
    base = read_project(doc, base_dir=str(tmp_path))

    def keys_with(hardware: bool, encoders: list[str]) -> list[str]:
        timeline = base.with_export({"codec": codec, "hardware_acceleration": hardware}).timeline
        return [key for _, key in keyed_plan(timeline, 2, None, {}, A, encoders)]

    plain = keys_with(False, [])
    assert plain and all(plain)
    assert keys_with(True, []) == plain
    assert keys_with(True, ["vp9_vaapi"]) == plain  # one for another codec only
    assert keys_with(False, [f"{codec}_nvenc"]) == plain  # not asked for: software anyway


def test_a_job_is_keyed_for_the_largest_live_group_else_for_this_process() -> None:
    mixed = {"n1": beat("n1", A), "n2": beat("n2", B, 2)}
    assert job_fingerprint(mixed, C) == B
    assert job_fingerprint({"n1": beat("n1", A, draining=True)}, C) == C
    assert job_fingerprint({}, C) == C


def test_an_operators_salt_sets_a_nodes_fingerprint_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    def fresh() -> str:
        fingerprint._parts.cache_clear()
        fingerprint._fingerprint.cache_clear()
        return fingerprint.render_fingerprint()

    try:
        plain = fresh()
        monkeypatch.setenv("CLOUDRENDER_FINGERPRINT_SALT", "build-2")
        salted = fresh()
        assert salted != plain and fingerprint.fingerprint_parts()["salt"] == "build-2"
        monkeypatch.delenv("CLOUDRENDER_FINGERPRINT_SALT")
        assert fresh() == plain  # no salt: the fingerprint (and cache keys) nodes had before
    finally:
        monkeypatch.undo()
        fresh()


def test_job_and_chunk_renderers_round_trip(store: JobStore) -> None:
    store.create(JobRecord(id="j", submitted_at=time.time(), renderer=A), {})
    store.set_chunks("j", [ChunkRecord(0, 0, 10), ChunkRecord(1, 10, 20)], {})
    store.chunk_started("j", 0, "n1", None)
    store.chunk_done("j", 0, 1.0, B)
    record = store.get("j")
    assert record.renderer == A and record.to_json()["renderer"] == A
    assert [c.renderer for c in record.chunks] == [B, ""]
    store.undo_parts("j", [0])
    assert store.chunk("j", 0).renderer == ""


def test_a_copy_that_found_the_segment_stored_keeps_what_the_render_recorded(
    store: JobStore,
) -> None:
    """A second copy (a retry, a speculative one) that finds the segment in storage made
    nothing: the renderer and the sha256 the merge checks stay the ones the render recorded."""
    store.create(JobRecord(id="j", submitted_at=time.time(), renderer=A), {})
    store.set_chunks("j", [ChunkRecord(0, 0, 10)], {})
    store.chunk_started("j", 0, "n1", None)
    store.chunk_done("j", 0, 1.0, A, "ab" * 32)
    store.chunk_done("j", 0, 0.0, "", "")
    assert (store.chunk("j", 0).renderer, store.chunk("j", 0).digest) == (A, "ab" * 32)


# -- dispatch -------------------------------------------------------------------------------------


class Broker:
    """Stands for the Celery app: keeps the tasks it is given."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_task(self, name: str, args: list[Any] | None = None, **options: Any) -> None:
        self.sent.append({"name": name, "args": list(args or []), **options})

    def chunks(self, job_id: str) -> list[tuple[int, str]]:
        """(chunk index, queue) of each chunk task of the job, in order."""
        return [
            (m["args"][1], m["queue"])
            for m in self.sent
            if m["name"] == TASK_RENDER_CHUNK and m["args"][0] == job_id
        ]

    def merges(self, job_id: str) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["name"] == TASK_MERGE and m["args"][0] == job_id]


@pytest.fixture
def store(redis_url: str) -> JobStore:
    return JobStore.from_url(redis_url)


def up(store: JobStore, *beats: dict[str, Any]) -> None:
    for b in beats:
        store.redis.set(keys.node(b["name"]), json.dumps(b), ex=60)


def add_job(
    store: JobStore,
    job_id: str,
    chunks: int,
    *,
    planned: str = "",
    storage: str = "file:///none",
    gpu: bool = False,
) -> JobSpec:
    """A rendering job of `chunks` 10-frame chunks, keyed with fingerprint `planned`, exported
    with hardware acceleration when `gpu`."""
    spec = JobSpec(
        id=job_id,
        project={},
        base_dir="",
        export={"hardware_acceleration": True} if gpu else {},
        storage_url=storage,
        frames=chunks * 10,
        output_ext="mkv",
        chunks=[(i * 10, i * 10 + 10) for i in range(chunks)],
        fingerprint=planned,
    )
    store.create(JobRecord(id=job_id, submitted_at=time.time(), frames=chunks * 10), {})
    store.set_chunks(
        job_id, [ChunkRecord(i, i * 10, i * 10 + 10) for i in range(chunks)], spec.to_dict()
    )
    store.transition(job_id, JobState.PLANNING)
    store.transition(job_id, JobState.RENDERING)
    return spec


def render_what_is_queued(store: JobStore, broker: Broker, job_id: str, done: int) -> int:
    """Start and finish the job's chunk tasks from the `done`-th on, each by a node of the
    queue it was sent to; how many tasks the job has had in all."""
    sent = broker.chunks(job_id)
    for index, queue in sent[done:]:
        renderer = queue.removeprefix(QUEUE_RENDER + ".")
        store.chunk_started(job_id, index, f"node-{renderer[:1]}", None)
        store.chunk_done(job_id, index, 1.0, renderer)
    return len(sent)


def test_every_chunk_of_a_job_goes_to_one_fingerprints_queue(store: JobStore) -> None:
    broker = Broker()
    dispatcher = Dispatcher(store, broker)
    up(store, beat("n1", A, 2), beat("n2", B, 1), beat("n3", C, 2))
    add_job(store, "big", 8)  # no cache keys: the largest group, A over C by name
    add_job(store, "keyed", 5, planned=B)  # keyed for B's nodes: it goes there
    done = {"big": 0, "keyed": 0}
    for _ in range(20):
        dispatcher.fill()
        for job in done:
            done[job] = render_what_is_queued(store, broker, job, done[job])
    assert {q for _, q in broker.chunks("big")} == {render_queue(A)}
    assert sorted(i for i, _ in broker.chunks("big")) == list(range(8))
    assert {q for _, q in broker.chunks("keyed")} == {render_queue(B)}
    assert sorted(i for i, _ in broker.chunks("keyed")) == list(range(5))
    assert store.get("big").renderer == A and store.get("keyed").renderer == B
    assert all(c.renderer == A for c in store.get("big").chunks)


def test_gpu_jobs_go_to_gpu_nodes_and_the_rest_to_cpu_nodes(store: JobStore) -> None:
    broker = Broker()
    dispatcher = Dispatcher(store, broker)
    # The CPU group is the larger: without routing by kind every job would go there.
    up(store, beat("cpu1", A, 4), beat("gpu1", B, 1, compositor="cupy"))
    add_job(store, "film", 4, gpu=True)
    add_job(store, "proxy", 4)
    done = {"film": 0, "proxy": 0}
    for _ in range(20):
        dispatcher.fill()
        for job in done:
            done[job] = render_what_is_queued(store, broker, job, done[job])
    assert {q for _, q in broker.chunks("film")} == {render_queue(B)}
    assert {q for _, q in broker.chunks("proxy")} == {render_queue(A)}
    assert sorted(i for i, _ in broker.chunks("film")) == list(range(4))


def test_a_gpu_job_renders_on_cpu_nodes_when_no_gpu_node_is_live(store: JobStore) -> None:
    broker = Broker()
    up(store, beat("cpu1", A, 2))
    add_job(store, "film", 2, gpu=True)
    Dispatcher(store, broker).fill()
    assert {q for _, q in broker.chunks("film")} == {render_queue(A)}
    # Pinned when it started dispatching: a GPU node coming up later does not split the job.
    up(store, beat("gpu1", B, 4, compositor="cupy"))
    render_what_is_queued(store, broker, "film", 0)
    Dispatcher(store, broker).fill()
    assert {q for _, q in broker.chunks("film")} == {render_queue(A)}


@pytest.mark.parametrize(
    ("gpu", "groups"),
    [
        (None, {A: 4, B: 1, C: 2}),
        (True, {B: 1, C: 2}),
        (False, {A: 4}),
    ],
)
def test_renderer_groups_of_a_kind(gpu: bool | None, groups: dict[str, int]) -> None:
    beats = {
        "n1": beat("n1", A, 4),
        "n2": beat("n2", B, 1, compositor="cupy"),
        "n3": beat("n3", C, 2, compositor="cupy"),
    }
    assert renderer_groups(beats, gpu) == groups
    assert renderer_groups({"n1": beats["n1"]}, True) == {A: 4}  # no GPU group: any group


def test_no_render_node_yet_sends_to_the_shared_queue(store: JobStore) -> None:
    broker = Broker()
    add_job(store, "j", 3)
    Dispatcher(store, broker).fill()
    assert broker.chunks("j") == [(0, QUEUE_RENDER)]  # any node may take it
    assert store.get("j").renderer == ""


def test_the_pin_moves_when_its_group_vanishes(
    store: JobStore, caplog: pytest.LogCaptureFixture
) -> None:
    broker = Broker()
    dispatcher = Dispatcher(store, broker)
    up(store, beat("n1", A), beat("n2", B))
    add_job(store, "j", 4)
    dispatcher.fill()
    assert broker.chunks("j") == [(0, render_queue(A)), (1, render_queue(A))]
    store.chunk_started("j", 0, "n1", None)
    store.chunk_done("j", 0, 1.0, A)

    # When A's only node goes away, with chunk 1 still waiting in A's queue
    store.redis.delete(keys.node("n1"))
    with caplog.at_level(logging.WARNING, logger="orchestrator.dispatcher"):
        dispatcher.fill()

    # Then the job is B's from now on, and says why in one line
    assert store.get("j").renderer == B
    (line,) = [r.getMessage() for r in caplog.records if "fingerprint" in r.getMessage()]
    assert A in line and B in line
    # And the chunk stranded in A's queue, which nobody consumes now, goes to B at once
    assert broker.chunks("j")[2:] == [(1, render_queue(B))]
    store.chunk_started("j", 1, "n2", None)
    store.chunk_done("j", 1, 1.0, B)
    dispatcher.fill()
    assert broker.chunks("j")[3:] == [(2, render_queue(B))]


def test_a_chunk_queued_for_a_busy_group_is_not_lost_while_another_group_idles(
    store: JobStore,
) -> None:
    dispatcher = Dispatcher(store, Broker())
    up(store, beat("n1", A, busy=1), beat("n2", A, busy=1), beat("n3", B, 4))
    add_job(store, "j", 1)
    store.update("j", renderer=A)
    store.redis.delete(keys.pending("j"))
    store.redis.zadd(keys.QUEUED, {"j:0": time.time() - STALE_QUEUED - 1})
    chunks = store.chunks("j")
    # A's two slots are busy: B's four idle ones would never take it, so it is not lost
    assert dispatcher.reconcile("j", chunks, time.time(), idle=4) == 0
    assert dispatcher.reconcile("j", chunks, time.time(), idle=4) == 0  # nor the next time
    # One of A's slots is free and the chunk still waits: its message was lost
    up(store, beat("n2", A, busy=0))
    assert dispatcher.reconcile("j", chunks, time.time(), idle=4) == 1


# -- the merge check ------------------------------------------------------------------------------


@pytest.fixture
def service(store: JobStore) -> WorkerHooks:
    return WorkerHooks(store, Broker(), cache_max_bytes=2**20)


def finish(service: WorkerHooks, job_id: str, index: int, renderer: str, node: str = "n1") -> None:
    """A node reports the chunk done, as workers.tasks.render_chunk does."""
    service.store.chunk_started(job_id, index, node, None)
    result = {"node": node, "start": index * 10, "end": index * 10 + 10, "seconds": 0.0}
    service.chunk_finished(job_id, index, {**result, "renderer": renderer})


def with_segments(service: WorkerHooks, tmp_path: Path, job_id: str, chunks: int) -> JobSpec:
    """A job whose segments lie in storage, its audio done (a silent timeline)."""
    spec = add_job(service.store, job_id, chunks, storage=(tmp_path / "storage").as_uri())
    storage = spec.storage()
    for index in range(chunks):
        part = tmp_path / f"{index}.mkv"
        part.write_bytes(b"segment %d" % index)
        storage.put_file(spec.segment_key(index), str(part))
    service.store.redis.delete(keys.pending(job_id))
    service.audio_finished(job_id, None)
    return spec


def test_a_chunk_of_another_fingerprint_renders_again_before_the_merge(
    service: WorkerHooks, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broker: Broker = service.app
    up(service.store, beat("n1", A), beat("n2", B))
    spec = with_segments(service, tmp_path, "j", 3)
    service.store.update("j", renderer=A)
    finish(service, "j", 0, A)
    finish(service, "j", 1, B, node="n2")  # sent to the shared queue before the job had a pin

    with caplog.at_level(logging.WARNING, logger="orchestrator.dispatcher"):
        finish(service, "j", 2, A)

    # No merge: chunk 1 is to do again, on A's nodes, its B segment gone
    assert broker.merges("j") == []
    record = service.store.get("j")
    assert record.state is JobState.RENDERING
    assert [c.state for c in record.chunks] == [
        ChunkState.DONE,
        ChunkState.PENDING,
        ChunkState.DONE,
    ]
    assert not spec.storage().exists(spec.segment_key(1))
    assert spec.storage().exists(spec.segment_key(0))
    assert broker.chunks("j")[-1] == (1, render_queue(A))
    (line,) = [r.getMessage() for r in caplog.records if "render again" in r.getMessage()]
    assert "1 chunks" in line and A in line
    events = [e for _, e in read_events(service.store.redis, "j") if e["event"] == "chunk_requeued"]
    assert [(e["chunk"], e["reason"]) for e in events] == [(1, "renderer")]

    # When it is rendered on A, the merge goes out, once, with every chunk
    finish(service, "j", 1, A)
    (merge,) = broker.merges("j")
    assert [c["index"] for c in merge["args"][1]] == [0, 1, 2]


def test_a_chunk_that_keeps_rendering_under_another_fingerprint_fails_its_job(
    service: WorkerHooks, tmp_path: Path
) -> None:
    """A node whose pool reports another fingerprint than the queue it consumes (its code
    changed while it ran) would render the chunk for ever: after MAX_RENDERER_ATTEMPTS the
    job fails, saying why."""
    up(service.store, beat("n1", A))
    with_segments(service, tmp_path, "j", 2)
    service.store.update("j", renderer=A)
    finish(service, "j", 0, A)
    for _ in range(MAX_RENDERER_ATTEMPTS):
        assert service.store.get("j").state is JobState.RENDERING
        finish(service, "j", 1, B)
    record = service.store.get("j")
    assert record.state is JobState.FAILED
    assert record.error is not None and "another render fingerprint" in record.error
    assert "restart its workers" in record.error
    assert service.app.merges("j") == []


def test_without_a_pin_the_fingerprint_most_chunks_have_wins(
    service: WorkerHooks, tmp_path: Path
) -> None:
    # No render node was live while it dispatched (nodes from before fingerprint queues): no pin
    with_segments(service, tmp_path, "j", 3)
    finish(service, "j", 0, B)
    finish(service, "j", 1, A)
    finish(service, "j", 2, B)
    assert service.store.get("j").renderer == B
    assert service.app.merges("j") == []
    assert service.store.chunk("j", 1).state is ChunkState.PENDING
    assert service.app.chunks("j")[-1] == (1, render_queue(B))


def test_a_job_rendered_on_one_fingerprint_merges_as_before(
    service: WorkerHooks, tmp_path: Path
) -> None:
    up(service.store, beat("n1", A))
    with_segments(service, tmp_path, "j", 3)
    service.store.update("j", renderer=A)
    finish(service, "j", 0, A)
    finish(service, "j", 1, "")  # a record from before fingerprints were recorded
    finish(service, "j", 2, A)
    assert len(service.app.merges("j")) == 1
    assert service.store.get("j").renderer == A


# -- end to end -----------------------------------------------------------------------------------


def wait_for_beats(store: JobStore, names: list[str], timeout: float = 30) -> dict[str, Any]:
    """The heartbeats, once every node named has written one."""
    deadline = time.monotonic() + timeout
    while not set(names) <= set(beats := store.heartbeats()):
        assert time.monotonic() < deadline, f"no heartbeat from {names}"
        time.sleep(0.1)
    return beats


@pytest.mark.timeout(180)
def test_two_builds_never_share_a_job_and_it_renders_exactly(tmp_path: Path, cli: CLI) -> None:
    doc = blurred_project(
        tmp_path, 2.0, size=(320, 180), radius=3, export={"format": "mkv", "lossless": True}
    )
    path = write_project(tmp_path / "project.json", doc)
    direct = tmp_path / "direct.mkv"
    assert cli("render", str(path), "-o", str(direct), "--direct", "--lossless").returncode == 0

    with ChaosCluster(workers=0) as farm:
        builds = [farm.add_worker({"CLOUDRENDER_FINGERPRINT_SALT": s}) for s in ("one", "two")]
        api = CloudRenderingAPI(farm.redis.url, storage_url=(tmp_path / "storage").as_uri())
        beats = wait_for_beats(api.store, [w.hostname for w in builds])
        fingerprints = {w.hostname: beats[w.hostname]["fingerprint"] for w in builds}
        assert len(set(fingerprints.values())) == 2
        for worker in builds:
            assert render_queue(fingerprints[worker.hostname]) in beats[worker.hostname]["queues"]

        out = tmp_path / "out.mkv"
        job = api.submit_job(doc, output=str(out), chunk_frames=10, base_dir=str(tmp_path))
        record = api.wait(job, timeout=120)

    assert record.state is JobState.COMPLETED, record.error
    assert len(record.chunks) == 6 and record.renderer in fingerprints.values()
    assert {c.renderer for c in record.chunks} == {record.renderer}
    assert {fingerprints[str(c.node)] for c in record.chunks} == {record.renderer}
    assert all(c.attempts == 1 for c in record.chunks)  # routed right the first time
    ours, reference = decode_rgb(out), decode_rgb(direct)
    assert len(ours) == len(reference) == 60
    assert all((a == b).all() for a, b in zip(ours, reference, strict=True))

"""Incremental re-render: a job re-submitted after an edit takes every chunk whose inputs did not
change from the segment cache, renders only the others, and its video is bit-identical to a
full render of the edited project.

The whole job flow runs here: plan_job, render_chunk, render_audio and merge, on an in-process
Celery worker (tests/orchestrator/conftest.py) that consumes every queue, with the job service
on the session's private Redis and the storage in the test's directory. Projects are 4 s of
160x90 at 10 fps in chunks of 10 frames, exported lossless (FFV1 in Matroska).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from celery import Celery

from chunking.timeline.project import read_project
from common.names import QUEUE_ORCHESTRATOR, QUEUES, TASK_PLAN_JOB
from orchestrator import keys
from orchestrator import tasks as orchestrator_tasks
from orchestrator.job_record import JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.segment_cache import CACHE_PREFIX, SegmentCache
from orchestrator.worker_hooks import WorkerHooks
from tests.media import decode_rgb, make_video, project, solid, video_track
from workers import hooks, merge_task
from workers import tasks as worker_tasks
from workers.job_spec import JobSpec

pytestmark = [
    pytest.mark.timeout(120),
    # Celery's Redis result backend stores results with redis-py's deprecated setex; this worker
    # is a thread of the test process, where the warning would fail the task (warnings are errors).
    pytest.mark.filterwarnings("ignore:Call to deprecated setex:DeprecationWarning"),
]

FPS = 10
CHUNK = 10  # frames per chunk: 4 chunks in 4 s
LOSSLESS = {"container": "mkv", "lossless": True}


# -- the farm ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def celery_includes() -> list[str]:
    """Every task: the orchestrator's, the workers' and the merge (imported above, before any
    test app exists, so each app gets them when it is finalized; run alone, this file's worker
    had no merge task)."""
    return [orchestrator_tasks.__name__, worker_tasks.__name__, merge_task.__name__]


@pytest.fixture
def celery_worker_parameters(node_signals_connected: None) -> dict[str, Any]:
    """One in-process worker on every queue: it plans, renders, mixes and merges."""
    from tests.orchestrator.conftest import SignallingWorker

    return {"queues": list(QUEUES), "perform_ping_check": False, "WorkController": SignallingWorker}


@dataclasses.dataclass
class Farm:
    """The job service, its storage, and a way to submit projects and wait for them."""

    service: WorkerHooks
    app: Celery
    storage_url: str
    root: Path

    @property
    def store(self) -> JobStore:
        return self.service.store

    def submit(
        self,
        doc: dict[str, Any],
        base: Path,
        *,
        use_cache: bool = True,
        chunk_frames: int | None = CHUNK,
        **export: Any,
    ) -> str:
        """Queue a job as the API does: its record, its document, and plan_job."""
        prepared = read_project(doc, base_dir=str(base)).with_export({**LOSSLESS, **export})
        timeline = prepared.timeline
        job_id = uuid.uuid4().hex[:16]
        spec = JobSpec(
            id=job_id,
            project=dict(prepared.document),
            base_dir=prepared.base_dir,
            export=dataclasses.asdict(timeline.export),
            storage_url=self.storage_url,
            frames=timeline.frames,
            output_ext=timeline.export.container,
            chunk_frames=chunk_frames,
            use_cache=use_cache,
        )
        record = JobRecord(id=job_id, submitted_at=time.time(), frames=timeline.frames)
        self.store.create(record, spec.to_dict())
        self.app.send_task(TASK_PLAN_JOB, args=[job_id], queue=QUEUE_ORCHESTRATOR)
        return job_id

    def wait(self, job_id: str, timeout: float = 90.0) -> JobRecord:
        """The job's record once it ended; fails the test unless it completed."""
        deadline = time.monotonic() + timeout
        while not self.store.state(job_id).finished:
            assert time.monotonic() < deadline, f"job {job_id} did not finish"
            time.sleep(0.05)
        record = self.store.get(job_id)
        assert record.state is JobState.COMPLETED, record.error
        return record

    def render(self, doc: dict[str, Any], base: Path, **options: Any) -> JobRecord:
        """Submit and wait."""
        return self.wait(self.submit(doc, base, **options))

    def output(self, record: JobRecord) -> Path:
        """The finished video in storage."""
        assert record.result is not None
        return self.root / str(record.result["output_key"])

    def cache(self) -> SegmentCache:
        """The segment cache in this farm's storage, as the jobs use it."""
        spec = JobSpec(
            id="probe", project={}, base_dir="", export={}, storage_url=self.storage_url,
            frames=0, output_ext="mkv",
        )  # fmt: skip
        return self.service.segment_cache(spec.storage())


@pytest.fixture
def farm(celery_app: Celery, celery_worker: Any, redis_url: str, tmp_path: Path) -> Iterator[Farm]:
    service = WorkerHooks(JobStore.from_url(redis_url), celery_app, cache_max_bytes=2**30)
    root = tmp_path / "storage"
    saved = list(hooks._installed)
    hooks.install(service)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(orchestrator_tasks, "worker_hooks", lambda: service)
        yield Farm(service, celery_app, f"file://{root}", root)
    hooks._installed[:] = saved


# -- projects ---------------------------------------------------------------------------------


def base_project(tmp: Path) -> dict[str, Any]:
    """A filmed clip with sound (0-2 s), a colour card (2-4 s), a subtitle over each."""
    make_video(tmp / "a.mp4", frames=20, fps=FPS, size=(160, 90), gop=5, audio_hz=440.0)
    return project(
        [
            video_track(
                "v",
                [
                    {"id": "a", "start_time": 0, "end_time": 2.0, "source": {"File": "a.mp4"}},
                    {"id": "b", "start_time": 2.0, "end_time": 4.0, **solid("#3366ff")},
                ],
            )
        ],
        fps=FPS,
        size=(160, 90),
        subtitles=[
            {"id": "s1", "text": "hello", "start_time": 0.2, "end_time": 0.8},
            {"id": "s2", "text": "world", "start_time": 2.2, "end_time": 2.8},
        ],
    )


def edited(doc: dict[str, Any], change: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    change(out)
    return out


def packets(path: Path) -> dict[str, list[bytes]]:
    """Every packet's payload, per stream type: equal lists are the same bitstreams."""
    found: dict[str, list[bytes]] = {"video": [], "audio": []}
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.size:
                found[packet.stream.type].append(bytes(packet))
    return found


def assert_same_video(ours: Path, reference: Path) -> None:
    mine, theirs = packets(ours), packets(reference)
    assert len(mine["video"]) == len(theirs["video"]) > 0
    assert mine == theirs, "the re-render's bitstream differs from a full render's"
    for t, (a, b) in enumerate(zip(decode_rgb(ours), decode_rgb(reference), strict=True)):
        assert np.array_equal(a, b), f"frame {t} differs"


def rendered(record: JobRecord) -> list[int]:
    """Chunks the job rendered (not reused)."""
    return [c.index for c in record.chunks if not c.reused]


# -- tests ------------------------------------------------------------------------------------


def test_a_subtitle_edit_renders_only_its_chunk(farm: Farm, tmp_path: Path) -> None:
    doc = base_project(tmp_path)
    first = farm.render(doc, tmp_path)
    assert rendered(first) == [0, 1, 2, 3] and first.result is not None
    after = edited(doc, lambda d: d["subtitles"][1].update(text="World!"))
    again = farm.render(after, tmp_path)
    # Only chunk 2 shows the subtitle; the audio did not change either.
    assert rendered(again) == [2] and again.reused_chunks == 3
    assert again.frames_done == again.frames == 40 and again.progress == 1.0
    assert [c.attempts for c in again.chunks] == [0, 0, 1, 0]
    assert again.result is not None and again.result["audio"] == "flac"
    full = farm.render(after, tmp_path, use_cache=False)
    assert rendered(full) == [0, 1, 2, 3]
    assert_same_video(farm.output(again), farm.output(full))


def test_a_colour_change_renders_only_that_clips_chunks(farm: Farm, tmp_path: Path) -> None:
    doc = base_project(tmp_path)
    farm.render(doc, tmp_path)
    after = edited(
        doc, lambda d: d["tracks"][0]["clips"][1].update(color_correction={"brightness": 0.3})
    )
    again = farm.render(after, tmp_path)
    assert rendered(again) == [2, 3]
    full = farm.render(after, tmp_path, use_cache=False)
    assert_same_video(farm.output(again), farm.output(full))


def test_inserted_time_reuses_later_chunks_at_their_new_offset(farm: Farm, tmp_path: Path) -> None:
    # The default (anchored) plan: boundaries at cuts, so the insert moves none before it.
    doc = base_project(tmp_path)
    farm.render(doc, tmp_path, chunk_frames=None)

    def insert(d: dict[str, Any]) -> None:
        clips = d["tracks"][0]["clips"]
        clips[1].update(start_time=4.0, end_time=6.0)
        clips.insert(1, {"id": "new", "start_time": 2.0, "end_time": 4.0, **solid("#ff0000")})
        d["subtitles"][1].update(start_time=4.2, end_time=4.8)

    after = edited(doc, insert)
    again = farm.render(after, tmp_path, chunk_frames=None)
    # Only the new two seconds render; what followed them is reused two seconds later (its
    # timestamps rebuilt at the merge), and so is what came before.
    assert again.frames == 60
    fresh = [c for c in again.chunks if not c.reused]
    assert [f for c in fresh for f in range(c.start, c.end)] == list(range(20, 40))
    assert any(c.reused and c.start >= 40 for c in again.chunks)
    full = farm.render(after, tmp_path, chunk_frames=None, use_cache=False)
    assert [(c.start, c.end) for c in full.chunks] == [(c.start, c.end) for c in again.chunks]
    assert_same_video(farm.output(again), farm.output(full))


def test_a_project_asking_for_hardware_encoding_is_reused_where_no_node_has_one(
    farm: Farm, tmp_path: Path
) -> None:
    """The editor's projects ask for hardware encoding; on a cluster whose nodes have no
    hardware encoder (no GPU; an H100 has no NVENC) they are encoded in software, so an
    unchanged re-render takes every chunk from the cache (it took none)."""
    from workers.encoder import hardware_encoders

    if hardware_encoders():
        pytest.skip(f"a hardware encoder opens here ({hardware_encoders()}): not cached")
    doc = base_project(tmp_path)
    asks = {"container": "mp4", "lossless": False, "hardware_acceleration": True}
    first = farm.render(doc, tmp_path, **asks)
    assert rendered(first) == [0, 1, 2, 3] and first.result is not None
    again = farm.render(doc, tmp_path, **asks)
    assert rendered(again) == [] and again.reused_chunks == 4
    assert packets(farm.output(again))["video"] == packets(farm.output(first))["video"]


def test_a_changed_crf_reuses_nothing(farm: Farm, tmp_path: Path) -> None:
    doc = base_project(tmp_path)
    h264 = {"container": "mkv", "lossless": False, "codec": "h264", "preset": "ultrafast"}
    farm.render(doc, tmp_path, **h264, crf=23)
    same = farm.render(doc, tmp_path, **h264, crf=23)
    assert rendered(same) == []  # the control: an unchanged project renders nothing
    changed = farm.render(doc, tmp_path, **h264, crf=30)
    assert rendered(changed) == [0, 1, 2, 3]


def test_a_replaced_media_file_of_the_same_name_is_not_reused(farm: Farm, tmp_path: Path) -> None:
    doc = base_project(tmp_path)
    farm.render(doc, tmp_path)
    # Same name, other pictures and sound (another editor's export over the old file).
    make_video(tmp_path / "a.mp4", frames=20, fps=FPS, size=(160, 90), gop=4, audio_hz=880.0)
    again = farm.render(doc, tmp_path)
    assert rendered(again) == [0, 1]
    full = farm.render(doc, tmp_path, use_cache=False)
    assert_same_video(farm.output(again), farm.output(full))


def test_without_the_cache_everything_renders_and_nothing_is_kept(
    farm: Farm, tmp_path: Path
) -> None:
    doc = base_project(tmp_path)
    farm.render(doc, tmp_path)
    kept = farm.cache().stats()
    assert kept.entries == 5  # four segments and the audio mix
    record = farm.render(doc, tmp_path, use_cache=False)
    assert rendered(record) == [0, 1, 2, 3] and record.reused_chunks == 0
    assert all(c.key is None for c in record.chunks)
    assert farm.cache().stats() == kept  # neither looked up nor written


def test_a_cache_entry_deleted_before_the_merge_is_rendered_after_all(
    farm: Farm, tmp_path: Path
) -> None:
    doc = base_project(tmp_path)
    farm.render(doc, tmp_path)
    after = edited(doc, lambda d: d["subtitles"][1].update(text="World!"))
    farm.store.redis.set(keys.PAUSED, "1")  # chunk 2 waits; the reused ones are planned
    job = farm.submit(after, tmp_path)
    deadline = time.monotonic() + 30
    while farm.store.state(job) is not JobState.RENDERING:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    record = farm.store.get(job)
    assert rendered(record) == [2]
    lost = record.chunks[0].key
    assert lost is not None
    (farm.root / CACHE_PREFIX / lost).unlink()  # evicted, or `cache clear`, behind its back
    farm.store.redis.delete(keys.PAUSED)
    farm.service.dispatcher.fill()
    done = farm.wait(job)
    assert rendered(done) == [0, 2] and done.chunks[0].attempts == 1
    full = farm.render(after, tmp_path, use_cache=False)
    assert_same_video(farm.output(done), farm.output(full))
    # Rendered again, the chunk is back in the cache.
    assert farm.cache().present([lost]) == {lost}


def test_a_damaged_cache_entry_is_rendered_again_not_stitched(farm: Farm, tmp_path: Path) -> None:
    """Bytes flipped in a cached segment on disk: the merge must not stitch them."""
    doc = base_project(tmp_path)
    first = farm.render(doc, tmp_path)
    damaged = first.chunks[1].key
    assert damaged is not None
    target = farm.root / CACHE_PREFIX / damaged
    raw = bytearray(target.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 64] = bytes(b ^ 0xFF for b in raw[middle : middle + 64])
    target.write_bytes(bytes(raw))
    again = farm.render(doc, tmp_path)
    assert rendered(again) == [1]
    full = farm.render(doc, tmp_path, use_cache=False)
    assert_same_video(farm.output(again), farm.output(full))


def test_the_job_document_refuses_cache_keys_that_are_not_digests() -> None:
    base = {
        "id": "j1", "project": {}, "base_dir": "/", "export": {}, "storage_url": "file:///s",
        "frames": 1, "output_ext": "mkv",
    }  # fmt: skip
    JobSpec.from_dict({**base, "chunk_keys": ["ab" * 32, ""], "audio_cache_key": "cd" * 32})
    for bad in (
        {"chunk_keys": ["../../jobs/other/output.mp4"]},
        {"chunk_keys": "ab"},
        {"audio_cache_key": "x"},
        {"use_cache": "yes"},
    ):
        with pytest.raises(Exception, match="segment cache key|wrong type"):
            JobSpec.from_dict(json.loads(json.dumps({**base, **bad})))


def test_rendered_chunks_record_their_segments_digest(farm: Farm, tmp_path: Path) -> None:
    """The merge checks each segment against the sha256 its worker recorded (a segment damaged
    in storage fails the job naming its chunk: tests/workers/test_segment_digest.py)."""
    record = farm.render(base_project(tmp_path), tmp_path, use_cache=False)
    digests = [c.digest for c in record.chunks]
    assert digests and all(len(d) == 64 and int(d, 16) >= 0 for d in digests)


def test_under_a_small_cap_a_job_reads_the_hits_it_planned(farm: Farm, tmp_path: Path) -> None:
    """A cap smaller than the project: the re-render's own new segments must not evict the
    chunks it planned to reuse before its merge reads them (it rendered them after all)."""
    doc = base_project(tmp_path)
    first = farm.render(doc, tmp_path)
    cache = farm.cache()
    for chunk in first.chunks[2:]:
        assert chunk.key is not None
        cache.discard(chunk.key)
    farm.service.cache_max_bytes = cache.stats().bytes  # chunks 0 and 1 and the audio
    lost: list[tuple[list[int], bool]] = []
    cache_lost = farm.service.cache_lost
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            farm.service, "cache_lost", lambda j, c, a: (lost.append((c, a)), cache_lost(j, c, a))
        )
        again = farm.render(doc, tmp_path)
    assert lost == []  # the merge found every part it planned to take from the cache
    assert rendered(again) == [2, 3] and again.reused_chunks == 2
    assert [c.attempts for c in again.chunks] == [0, 0, 1, 1]
    full = farm.render(doc, tmp_path, use_cache=False)
    assert_same_video(farm.output(again), farm.output(full))


def test_a_cached_clipped_mix_still_warns_the_job_that_reuses_it(
    farm: Farm, tmp_path: Path
) -> None:
    """The clipping warning is made while mixing: a re-render that takes the mix from the
    cache (no audio task runs) warned of nothing before, though its sound is as distorted."""
    doc = edited(base_project(tmp_path), lambda d: d["tracks"][0]["clips"][0].update(volume=10))
    first = farm.render(doc, tmp_path)
    again = farm.render(edited(doc, lambda d: d["subtitles"][1].update(text="!")), tmp_path)
    assert rendered(again) == [2]  # the mix came from the cache
    for record in (first, again):
        notes = farm.store.redis.smembers(keys.notes(record.id))
        assert any("dB over full scale" in note for note in notes), notes
    quiet = farm.render(base_project(tmp_path), tmp_path)
    assert not any("full scale" in n for n in farm.store.redis.smembers(keys.notes(quiet.id)))


def test_a_plan_that_reuses_every_chunk_closes_a_warm_render_process(
    farm: Farm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A one-process worker launches the job's zygote as its plan begins
    (workers.zygote_warmup): a plan that leaves nothing to render closes it again."""
    from orchestrator import tasks

    closed: list[str] = []
    monkeypatch.setattr(tasks, "plan_rendered_nothing", closed.append)
    doc = base_project(tmp_path)
    first = farm.render(doc, tmp_path)
    assert rendered(first) == [0, 1, 2, 3] and closed == []  # chunks to render: kept
    again = farm.render(doc, tmp_path)
    assert rendered(again) == [] and closed == [again.id]

"""A chunk's task starts its job's warm render process (``workers.zygote_warmup``) as it begins,
in the background, and the chunk's render then runs in that process; other tasks, and workers
without bubblewrap, start nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from celery.signals import task_postrun, task_prerun, worker_init

from common.names import (
    QUEUE_AUDIO,
    QUEUE_MERGE,
    QUEUE_ORCHESTRATOR,
    QUEUE_RENDER,
    TASK_PLAN_JOB,
    TASK_RENDER_AUDIO,
    TASK_RENDER_CHUNK,
)
from tests.helpers import file_clip
from tests.media import decode_rgb, make_video, project, video_track
from tests.workers.test_sandbox import settings_for
from workers import hooks, sandbox, zygote_warmup
from workers import zygote as zygotes
from workers.job_spec import JobSpec
from workers.render import render_to_file

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(autouse=True)
def _no_zygote_left() -> Iterator[None]:
    yield
    zygotes.drop()
    zygote_warmup._PLANS_AHEAD[0] = False


def worker_starts(concurrency: int, queues: tuple[str, ...]) -> None:
    """What Celery does in a worker's main process before its pool forks."""

    class Worker:  # hashable, as Celery's signal cache needs its sender to be
        app = SimpleNamespace(
            amqp=SimpleNamespace(queues=SimpleNamespace(consume_from={q: 1 for q in queues}))
        )

    Worker.concurrency = concurrency  # type: ignore[attr-defined]
    worker_init.send(sender=Worker())


def job_with_media(tmp: Path, monkeypatch: pytest.MonkeyPatch, mode: str) -> JobSpec:
    """A stored job (its spec served by stub hooks) of one 12-frame lossless video clip, on a
    worker whose chunks run in sandbox ``mode``."""
    src = make_video(tmp / "a.mp4", frames=12, size=(64, 36), gop=4)
    doc = project([video_track("v", [file_clip("a", src, 0, 0.4)])], size=(64, 36))
    spec = JobSpec(
        id=f"job-{time.monotonic_ns()}", project=doc, base_dir=str(tmp), frames=12,
        export={"container": "mkv", "lossless": True}, output_ext="mkv",
        storage_url=f"file://{tmp / 'storage'}", chunks=[(0, 6), (6, 12)],
    )  # fmt: skip
    document = spec.to_dict()
    monkeypatch.setattr(hooks, "current", lambda: SimpleNamespace(job_spec=lambda _: document))
    monkeypatch.setattr(sandbox, "_SETTINGS", [settings_for(mode)])
    return spec


def task_begins(name: str, *args: Any) -> None:
    """What Celery does in the pool process just before a task's body."""
    task_prerun.send(sender=None, task_id="t", task=SimpleNamespace(name=name), args=args)


def test_a_chunk_task_starts_its_zygote_before_its_render_which_then_runs_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = job_with_media(tmp_path, monkeypatch, "bwrap")
    task_begins(TASK_RENDER_CHUNK, spec.id, 0)
    assert zygotes._current, "the task's start launched no zygote"
    assert not zygotes._current[0].ready  # it imports while the task goes on with its checks
    started = zygotes._current[0].popen.pid
    timeline = spec.timeline()
    run = sandbox.render_segment(
        timeline, str(tmp_path / "a.mkv"), start=0, end=6, settings=sandbox._settings(), job=spec.id
    )
    assert run.summary.frames == 6
    assert zygotes._current[0].popen.pid == started  # rendered by the zygote started early
    task_begins(TASK_RENDER_CHUNK, spec.id, 1)  # the job's zygote runs: nothing new
    assert zygotes._current[0].popen.pid == started
    direct = tmp_path / "direct.mkv"
    render_to_file(timeline, str(direct), start=0, end=6, audio=False, file_format="matroska")
    ours, reference = decode_rgb(tmp_path / "a.mkv"), decode_rgb(direct)
    assert len(ours) == 6 and all(
        np.array_equal(a, b) for a, b in zip(ours, reference, strict=True)
    )


def test_other_tasks_and_workers_without_bubblewrap_start_no_zygote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = job_with_media(tmp_path, monkeypatch, "bwrap")
    task_begins(TASK_RENDER_AUDIO, spec.id)
    assert not zygotes._current
    monkeypatch.setattr(sandbox, "_SETTINGS", [settings_for("off")])
    task_begins(TASK_RENDER_CHUNK, spec.id, 0)
    assert not zygotes._current


def test_a_job_that_cannot_be_read_leaves_the_chunk_to_its_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_with_media(tmp_path, monkeypatch, "bwrap")
    monkeypatch.setattr(hooks, "current", lambda: SimpleNamespace(job_spec=lambda _: {}))
    task_begins(TASK_RENDER_CHUNK, "gone", 0)  # no exception: the task reports it itself
    assert not zygotes._current


ALL_QUEUES = (QUEUE_RENDER, QUEUE_AUDIO, QUEUE_MERGE, QUEUE_ORCHESTRATOR)


def test_a_one_process_worker_that_renders_starts_the_zygote_as_the_job_is_planned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A private cluster's worker: its one pool process plans the job, then renders its chunks.
    spec = job_with_media(tmp_path, monkeypatch, "bwrap")
    worker_starts(1, ALL_QUEUES)
    task_begins(TASK_PLAN_JOB, spec.id)
    assert zygotes._current, "the plan task's start launched no zygote"
    started = zygotes._current[0].popen.pid
    task_begins(TASK_RENDER_CHUNK, spec.id, 0)  # its chunk finds it running
    run = sandbox.render_segment(
        spec.timeline(),
        str(tmp_path / "a.mkv"),
        start=0,
        end=6,
        settings=sandbox._settings(),
        job=spec.id,
    )
    assert run.summary.frames == 6
    assert zygotes._current[0].popen.pid == started


@pytest.mark.parametrize(
    ("concurrency", "queues"),
    [
        (2, ALL_QUEUES),  # its chunks may run in the other pool process
        (1, (QUEUE_ORCHESTRATOR,)),  # an orchestrator node renders nothing
        (1, (QUEUE_RENDER, QUEUE_AUDIO)),  # plans nothing (and never runs a plan task)
    ],
)
def test_other_workers_start_no_zygote_for_a_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, concurrency: int, queues: tuple[str, ...]
) -> None:
    spec = job_with_media(tmp_path, monkeypatch, "bwrap")
    worker_starts(concurrency, queues)
    task_begins(TASK_PLAN_JOB, spec.id)
    assert not zygotes._current


def test_a_plan_that_planned_nothing_closes_the_zygote_it_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = job_with_media(tmp_path, monkeypatch, "bwrap")
    worker_starts(1, ALL_QUEUES)
    task_begins(TASK_PLAN_JOB, spec.id)
    zygote = zygotes._current[0]
    task = SimpleNamespace(name=TASK_PLAN_JOB)
    task_postrun.send(sender=None, task_id="t", task=task, args=(spec.id,), retval=3)
    assert zygotes._current == [zygote]  # chunks to render: kept for them
    task_postrun.send(sender=None, task_id="t", task=task, args=(spec.id,), retval=0)
    assert not zygotes._current
    assert zygote.popen.wait(timeout=10) is not None  # closed, not left to its idle timeout

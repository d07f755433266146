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
from celery.signals import task_prerun

from common.names import TASK_RENDER_AUDIO, TASK_RENDER_CHUNK
from tests.helpers import file_clip
from tests.media import decode_rgb, make_video, project, video_track
from tests.workers.test_sandbox import settings_for
from workers import hooks, sandbox
from workers import zygote as zygotes
from workers.job_spec import JobSpec
from workers.render import render_to_file

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(autouse=True)
def _no_zygote_left() -> Iterator[None]:
    yield
    zygotes.drop()


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

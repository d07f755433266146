"""A chunk whose render keeps working without a new frame (a demuxer or decoder looping on
hostile media) fails naming its clip and file; a slow but progressing one does not. Before,
its alive reports kept it "running" until the task's time limits (4.8 h soft, 5.4 h hard by
default)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import workers.render
from chunking.timeline.project import read_project
from common.settings import Settings
from tests.helpers import file_clip
from tests.media import make_video, project, solid, video_track
from workers import liveness, sandbox, tasks
from workers.job_spec import JobSpec

pytestmark = pytest.mark.timeout(90)


def _burn(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def _looping_render(frames: int, each: float, then: float) -> Callable[..., Any]:
    """A render_to_file that makes ``frames`` frames of ``each`` seconds, then works ``then``
    seconds without another (a demuxer looping): what the forked render process runs."""

    def render_to_file(timeline: Any, output: str, **kwargs: Any) -> Any:
        total = kwargs["end"] - kwargs["start"]
        for done in range(1, frames + 1):
            _burn(each)
            kwargs["progress"](done, total)
        _burn(then)
        for done in range(frames + 1, total + 1):
            kwargs["progress"](done, total)
        Path(output).write_bytes(b"segment")
        return workers.render.RenderSummary(
            output=output, frames=total, seconds=1.0, fps=1.0, encoder="x", hardware=False,
            audio=None, bytes=7, warnings=[], compositor="cpu",
        )  # fmt: skip

    return render_to_file


class _Service:
    def __init__(self) -> None:
        self.reports: list[tuple[int, int]] = []

    def chunk_progress(self, job_id: str, index: int, done: int, total: int) -> None:
        self.reports.append((done, total))

    def should_stop(self, job_id: str, index: int, node: str) -> str | None:
        return None

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


@pytest.fixture
def chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[JobSpec, Path]:
    """A job of one file clip, rendered by a real forked render process: no bubblewrap (no
    zygote), and a memory limit far above this process's size, so that the chunk forks from
    this process (and runs its render_to_file) rather than starting a fresh Python, as it did
    once a long test run had grown the process past half the default limit."""
    media = make_video(tmp_path / "looping.mkv", frames=20, fps=10, size=(320, 180))
    doc = project([video_track("v", [file_clip("hostile", media, 0, 2)])], size=(320, 180),
                  fps=10)  # fmt: skip
    timeline = read_project(doc, base_dir=str(tmp_path)).timeline
    # An id of its own: workers.job_spec caches timelines by job id.
    spec = JobSpec(
        id=f"spin-{tmp_path.name}", project=doc, base_dir=str(tmp_path), export={},
        frames=timeline.frames, storage_url=f"file://{tmp_path / 'storage'}", output_ext="mp4",
        chunks=[(0, 10)],
    )  # fmt: skip
    settings = dataclasses.replace(Settings(), sandbox="off", chunk_memory_bytes=1 << 40)
    monkeypatch.setattr(sandbox, "_SETTINGS", [settings])
    monkeypatch.setattr(liveness, "ALIVE_SECONDS", 0.2)
    monkeypatch.setattr(liveness, "NO_FRAME_FLOOR", 3.0, raising=False)
    return spec, media


def _run(spec: JobSpec, service: _Service) -> dict[str, Any]:
    task = type("T", (), {"app": type("A", (), {"conf": {}})()})()
    return tasks._render_segment(task, service, spec, 0, 0, 10, "node-a")


def test_a_file_whose_demuxer_spins_fails_the_chunk_naming_it(
    chunk: tuple[JobSpec, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real hostile media, rendered for real: a 2 s Matroska file grown (sparse) to 1 TB. It
    opens at once and says 2 s, but its demuxer then scans the terabyte of zeros for the next
    element, using CPU and reading fast (no read watchdog), without a packet."""
    spec, media = chunk
    with open(media, "r+b") as handle:
        handle.truncate(1 << 40)  # a hole: no disk used
    service = _Service()
    began = time.monotonic()
    with pytest.raises(Exception) as caught:
        _run(spec, service)
    assert time.monotonic() - began < 30
    message = str(caught.value)
    assert "no new frame" in message and "frame 0" in message, message
    assert f"clip 'hostile' ({media})" in message


def test_a_slow_but_progressing_render_is_not_stopped(
    chunk: tuple[JobSpec, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, _ = chunk
    # Ten frames of 1.5 s each, every one under the limit, the chunk 15 s in all: five limits.
    monkeypatch.setattr(workers.render, "render_to_file", _looping_render(10, 1.5, 0))
    service = _Service()
    result = _run(spec, service)
    assert result["key"] == spec.segment_key(0)
    # It was the slow render above that ran (its encoder "x"), not a real one of this small
    # clip, done long before any limit: that one passed whatever the rule.
    assert result["encoder"] == "x"
    assert set(range(1, 11)) <= {done for done, _ in service.reports}


@pytest.mark.parametrize(
    ("expected", "longest", "limit"),
    [
        (0.0, 0.0, 600.0),
        (1.0, 30.0, 600.0),  # floor: a frame 20x the chunk's slowest so far is still waited for
        (90.0, 0.0, 900.0),  # an 8K frame expected at 90 s gets 15 minutes before its first
        (1.0, 120.0, 1200.0),  # a chunk that already took 2 minutes over a frame gets 20
    ],
)
def test_no_frame_limit(expected: float, longest: float, limit: float) -> None:
    assert liveness.no_frame_limit(expected, longest) == limit


def test_the_clock_waits_longer_after_a_slow_frame_and_only_a_new_frame_restarts_it() -> None:
    now = [0.0]
    clock = liveness.FrameClock(0.0, lambda: now[0])
    now[0] = 599.0
    assert clock.overdue() is None
    clock.frame(1)  # a first frame after 599 s of set-up: the next may take 5990 s
    now[0] += 5000.0
    clock.frame(1)  # the same frame reported again (the alive timer) restarts nothing
    assert clock.overdue() is None
    now[0] += 1000.0
    assert clock.overdue() == pytest.approx(6000.0)


def test_an_8k_heavy_blur_frame_is_expected_to_be_slow(tmp_path: Path) -> None:
    def timeline(size: tuple[int, int], blur: bool) -> Any:
        clip = {"id": "c", "start_time": 0, "end_time": 1, **solid("#336699")}
        effects = [{"id": "b", "effect_type": "Blur", "params": {"radius": 200}}]
        doc = project([video_track("v", [{**clip, "effects": ["b"]} if blur else clip])],
                      size=size, fps=10, effects=effects if blur else [])  # fmt: skip
        return read_project(doc, base_dir=str(tmp_path)).timeline

    big, small = timeline((7680, 4320), True), timeline((320, 180), False)
    assert liveness.expected_frame_seconds(big, 0, 10) > 20 * liveness.expected_frame_seconds(
        small, 0, 10
    )
    assert liveness.frame_sources(big, 3) == "clip 'c'"
    assert liveness.frame_sources(big, 10) == "no clip"


def test_a_spinning_flush_after_the_last_frame_fails_the_chunk(
    chunk: tuple[JobSpec, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every frame made, then the render process works on without ending (an encoder whose
    flush loops): the flush was not timed, and the chunk ran "alive" until the task's time
    limits (hours)."""
    spec, _ = chunk

    def flush_spins(timeline: Any, output: str, **kwargs: Any) -> Any:
        total = kwargs["end"] - kwargs["start"]
        for done in range(1, total + 1):
            kwargs["progress"](done, total)
        _burn(60)  # the flush, far over the 3 s floor
        return _looping_render(0, 0, 0)(timeline, output, **kwargs)

    monkeypatch.setattr(workers.render, "render_to_file", flush_spins)
    began = time.monotonic()
    with pytest.raises(Exception) as caught:
        _run(spec, _Service())
    assert time.monotonic() - began < 30
    message = str(caught.value)
    assert "after its last frame" in message and "limit 3 s" in message, message

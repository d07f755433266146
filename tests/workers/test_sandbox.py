"""Chunk renders in a child process (a fork, or a program under bubblewrap): frames identical to
an in-process render, progress, cancelling, memory limits and bad media as one line, and no
render process outliving its worker. Isolation is in test_isolation.py, limits in
test_chunk_limits.py."""

from __future__ import annotations

import dataclasses
import functools
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chunking.timeline.export_overrides import with_overrides
from chunking.timeline.model import Timeline
from chunking.timeline.studio import load_project
from common.errors import MediaError, RenderCancelled, RenderError
from common.settings import Settings
from tests.helpers import clip, file_clip
from tests.media import decode_rgb, make_video, project, video_track
from workers import arrays, render_process
from workers import isolation as iso
from workers.child import Child
from workers.chunk_limits import ChunkLimitExceeded, chunk_limits
from workers.render import render_to_file
from workers.sandbox import render_segment

pytestmark = pytest.mark.timeout(120)
GB = 2**30


@functools.cache
def bwrap_usable() -> bool:
    return iso.detect("auto").kind == iso.BWRAP


MODES = ["off", "bwrap"]


def settings_for(mode: str, **changes: Any) -> Settings:
    """Worker settings in sandbox ``mode`` ("bwrap" skips where bubblewrap cannot run)."""
    if mode == "bwrap" and not bwrap_usable():
        pytest.skip(f"bubblewrap is not usable here: {iso.detect('auto').reason}")
    return dataclasses.replace(Settings(), sandbox=mode, **changes)


def lossless(doc: dict[str, Any], tmp: Path) -> Timeline:
    tl = load_project(doc, str(tmp))
    return dataclasses.replace(tl, export=with_overrides(tl.export, container="mkv", lossless=True))


def small_timeline(tmp: Path) -> Timeline:
    """Decoded video under a blur, then a flat clip: 20 frames at 96x54."""
    src = make_video(tmp / "a.mp4", frames=30, size=(96, 54), gop=6)
    doc = project(
        [video_track("v", [file_clip("a", src, 0, 0.4, effects=["b"]), clip("c", 0.4, 0.67)])],
        size=(96, 54),
        effects=[{"id": "b", "effect_type": "Blur", "params": {"radius": 3}}],
    )
    return lossless(doc, tmp)


_BEFORE: set[int] = set()


@pytest.fixture(autouse=True)
def _children_before() -> None:
    """What this process already runs (the suite's Redis, emulators) is not the test's."""
    _BEFORE.clear()
    _BEFORE.update(_live_children())


def my_children() -> list[int]:
    """Live processes this process started during the test."""
    return [pid for pid in _live_children() if pid not in _BEFORE]


def _live_children() -> list[int]:
    """Live (not zombie) processes whose parent is this one."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            found.append(int(entry))
    return found


# -- rendering through the child -----------------------------------------------------------------


def test_a_turned_source_renders_in_the_child_after_a_render_in_process(tmp_path: Path) -> None:
    """Reading a frame's display matrix left the frame in a reference cycle; the child forked
    after an in-process render collected it and deadlocked (the chunk never ended)."""
    src = make_video(tmp_path / "a.mp4", frames=30, size=(96, 54), gop=6, rotate=180)
    tl = lossless(project([video_track("v", [file_clip("a", src, 0, 0.4)])], size=(96, 54)),
                  tmp_path)  # fmt: skip
    render_to_file(tl, str(tmp_path / "direct.mkv"), start=4, end=10, audio=False,
                   file_format="matroska")  # fmt: skip
    (tmp_path / "scratch").mkdir()
    run = render_segment(tl, str(tmp_path / "scratch" / "000001.mkv"), start=4, end=10,
                         settings=settings_for("off"))  # fmt: skip
    assert run.summary.frames == 6
    ours = decode_rgb(tmp_path / "scratch" / "000001.mkv")
    assert all(np.array_equal(a, b) for a, b in zip(ours, decode_rgb(tmp_path / "direct.mkv"),
                                                      strict=True))  # fmt: skip


@pytest.mark.parametrize("mode", MODES)
def test_a_chunk_rendered_in_the_child_equals_the_in_process_render(
    tmp_path: Path, mode: str
) -> None:
    settings = settings_for(mode)
    tl = small_timeline(tmp_path)
    direct = tmp_path / "direct.mkv"
    render_to_file(tl, str(direct), start=4, end=16, audio=False, file_format="matroska")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    reports: list[tuple[int, int]] = []
    run = render_segment(
        tl,
        str(scratch / "000001.mkv"),
        start=4,
        end=16,
        progress=lambda done, total: reports.append((done, total)),
        settings=settings,
    )
    assert run.isolation == (iso.BWRAP if mode == "bwrap" else iso.RLIMITS)
    assert reports == [(n, 12) for n in range(1, 13)]
    assert run.summary.frames == 12 and run.summary.encoder == "ffv1"
    assert 0 < run.peak_rss_bytes < run.peak_memory_bytes
    ours, reference = decode_rgb(scratch / "000001.mkv"), decode_rgb(direct)
    assert len(ours) == len(reference) == 12
    assert all(np.array_equal(a, b) for a, b in zip(ours, reference, strict=True))
    assert my_children() == []


def test_a_worker_grown_past_the_limit_still_renders_its_chunks(tmp_path: Path) -> None:
    """A worker process that has grown (many jobs; a test runner) past a chunk's memory limit
    forked render processes that could not allocate and hung: it starts a fresh one instead."""
    import mmap

    settings = settings_for("off")
    tl = small_timeline(tmp_path)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    limit = chunk_limits(settings, tl, 4, None).memory_bytes
    grown = mmap.mmap(-1, limit + (1 << 30))  # address space only: never touched
    try:
        began = time.monotonic()
        run = render_segment(tl, str(scratch / "000001.mkv"), start=0, end=4, settings=settings)
    finally:
        grown.close()
    assert run.summary.frames == 4 and time.monotonic() - began < 60
    assert my_children() == []


@pytest.mark.parametrize("mode", MODES)
def test_the_render_process_composites_where_the_worker_is_told(
    tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CLOUDRENDER_COMPOSITOR reaches the render process (bubblewrap clears the environment),
    and the chunk's summary says which compositor ran."""
    settings = settings_for(mode)
    monkeypatch.setenv("CLOUDRENDER_COMPOSITOR", "gpu-numpy")
    arrays.forget()  # a fork inherits this process's probe
    try:
        run = render_segment(
            small_timeline(tmp_path), str(tmp_path / "a.mkv"), start=0, end=2, settings=settings
        )
    finally:
        monkeypatch.delenv("CLOUDRENDER_COMPOSITOR")
        arrays.forget()
    assert run.summary.compositor.startswith("the GPU code path on the CPU")


@pytest.mark.parametrize("mode", MODES)
def test_a_chunk_over_its_memory_limit_fails_as_out_of_memory(tmp_path: Path, mode: str) -> None:
    # What a small chunk needs here, measured: the limit leaves 300 MB on top of it.
    roomy = settings_for(mode)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    small = small_timeline(tmp_path)
    baseline = render_segment(small, str(scratch / "a.mkv"), start=0, end=2, settings=roomy)
    tight = dataclasses.replace(roomy, chunk_memory_bytes=baseline.peak_memory_bytes + 300 * 2**20)
    render_segment(small, str(scratch / "b.mkv"), start=0, end=2, settings=tight)
    # An 8K canvas of two blurred layers: one float frame of it alone is ~400 MB, and the blur's
    # temporaries take the render gigabytes over that limit. (A 4K canvas left only a few
    # hundred MB: a loaded machine's extra malloc arenas in the small render's peak used it up.)
    big = project(
        [video_track(f"v{i}", [clip(f"c{i}", 0, 0.1, effects=["b"])]) for i in range(2)],
        size=(7680, 4320),
        effects=[{"id": "b", "effect_type": "Blur", "params": {"radius": 4}}],
    )
    began = time.monotonic()
    with pytest.raises(ChunkLimitExceeded, match=r"^ran out of memory \(limit [\d.]+ [MG]B\)"):
        render_segment(
            load_project(big, str(tmp_path)), str(scratch / "c.mkv"), start=0, end=1, settings=tight
        )
    assert time.monotonic() - began < 60
    assert not (scratch / "c.mkv").exists() and my_children() == []


@pytest.mark.parametrize("mode", MODES)
def test_stopping_a_chunk_kills_its_render_process_at_once(tmp_path: Path, mode: str) -> None:
    settings = settings_for(mode)
    src = make_video(tmp_path / "a.mp4", frames=300, size=(320, 180), gop=30)
    doc = project(
        [video_track("v", [file_clip("a", src, 0, 10, effects=["b"])])],
        size=(320, 180),
        effects=[{"id": "b", "effect_type": "Blur", "params": {"radius": 8}}],
    )
    tl = load_project(doc, str(tmp_path))
    seen: list[int] = []
    began = time.monotonic()
    with pytest.raises(RenderCancelled):
        render_segment(
            tl,
            str(tmp_path / "000000.mkv"),
            start=0,
            end=300,
            progress=lambda done, _: seen.append(done),
            cancelled=lambda: len(seen) >= 3,
            settings=settings,
        )
    assert time.monotonic() - began < 30 and 3 <= len(seen) < 300
    assert not (tmp_path / "000000.mkv").exists() and my_children() == []


@pytest.mark.parametrize("mode", MODES)
def test_bad_media_is_still_one_line_naming_the_clip(tmp_path: Path, mode: str) -> None:
    settings = settings_for(mode)
    src = make_video(tmp_path / "a.mp4", frames=10, size=(64, 36))
    tl = lossless(
        project([video_track("v", [file_clip("a", src, 0, 0.3)])], size=(64, 36)), tmp_path
    )
    src.write_bytes(b"not a video any more")
    with pytest.raises(MediaError, match=r"clip 'a'") as caught:
        render_segment(tl, str(tmp_path / "000000.mkv"), start=0, end=5, settings=settings)
    assert "\n" not in str(caught.value) and not caught.value.transient


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.append(int(entry))
        except OSError:
            continue
    return [pid for pid in found if alive(pid)]


@pytest.mark.parametrize("mode", MODES)
def test_a_render_process_dies_with_its_worker(tmp_path: Path, mode: str) -> None:
    settings_for(mode)
    marker = f"orphan-probe-{os.getpid()}-{mode}"
    read, write = os.pipe()
    worker = os.fork()
    if worker == 0:  # pragma: no cover - a stand-in worker, killed outright below
        code = 1
        try:
            if mode == "bwrap":
                bwrap = iso.detect("auto").bwrap
                assert bwrap is not None
                ready = "import pathlib, time; pathlib.Path('ready').touch()"
                script = f"{ready}; time.sleep(60)  # {marker}"
                program = [sys.executable, "-c", script]
                env = iso.child_env(os.environ, str(tmp_path))
                argv = iso.sandbox_command(bwrap, program=program, env=env, scratch=str(tmp_path))
                child = Child.spawn(argv, env, str(tmp_path))
            else:
                parent = os.getpid()

                def render(fd: int) -> int:
                    render_process._die_with(parent)
                    time.sleep(60)
                    return 0

                child = Child.fork(render)
            os.write(write, f"{child.pid}\n".encode())
            time.sleep(60)
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as reader:
        child_pid = int(reader.readline())
    # Under bwrap, once the sandbox is set up: bwrap 0.8 has a window during its setup when its
    # parent's death goes unnoticed. A render process left that way dies at its next progress
    # report, when it finds nobody reading its pipe.
    deadline = time.monotonic() + 10
    while mode == "bwrap" and not (tmp_path / "ready").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert alive(child_pid) and (mode != "bwrap" or processes_with(marker))
    os.kill(worker, signal.SIGKILL)  # the worker dies without a chance to clean up
    os.waitpid(worker, 0)
    deadline = time.monotonic() + 10
    while (alive(child_pid) or processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child_pid) and processes_with(marker) == []


def test_a_render_process_nobody_listens_to_stops_at_its_next_frame(tmp_path: Path) -> None:
    src = make_video(tmp_path / "a.mp4", frames=300, size=(320, 180), gop=30)
    # Five minutes (the file 30 times over): a render this test process is too starved to
    # stop in time cannot finish first (300 frames did, in a loaded CI run).
    clips = [file_clip(f"a{i}", src, 10 * i, 10 * i + 10) for i in range(30)]
    doc = project([video_track("v", clips)], size=(320, 180))
    request = {
        "timeline": load_project(doc, str(tmp_path)),
        "output": str(tmp_path / "000000.mkv"),
        "start": 0,
        "end": 9000,
        "threads": None,
        "hardware": {},
    }
    limits = {"memory_bytes": 64 * GB, "file_bytes": GB, "cpu_seconds": 600}
    parent = os.getpid()
    child = Child.fork(lambda fd: render_process.forked(request, limits, fd, parent))
    with os.fdopen(os.dup(child.fd), "rb") as reader:
        assert b"progress" in reader.readline()  # it renders
    os.close(child.fd)  # as a dead worker's end of the pipe closes
    began = time.monotonic()
    status = child.wait(30)
    assert status == render_process.REPORTED or status == 1
    assert time.monotonic() - began < 10 and not (tmp_path / "000000.mkv").exists()


def test_a_required_sandbox_that_is_missing_refuses_the_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = iso.Isolation(iso.RLIMITS, None, "not installed", error="CLOUDRENDER_SANDBOX=bwrap")
    monkeypatch.setitem(iso._detected, "bwrap", refused)
    with pytest.raises(iso.SandboxUnavailable):
        render_segment(
            small_timeline(tmp_path),
            str(tmp_path / "s.mkv"),
            start=0,
            end=2,
            settings=Settings(sandbox="bwrap"),
        )


@pytest.mark.parametrize("mode", MODES)
def test_a_chunk_whose_scratch_is_gone_is_retried_naming_the_file(
    tmp_path: Path, mode: str
) -> None:
    """The chunk's scratch folder removed (a cleaner of /tmp) or its disk full: under bubblewrap
    the request file could not be written and a bare OSError failed the chunk as a crash,
    naming no file; now it is the transient error of any segment that cannot be written."""
    settings = settings_for(mode)
    tl = small_timeline(tmp_path)
    output = tmp_path / "gone" / "000001.mkv"
    with pytest.raises(RenderError) as caught:
        render_segment(tl, str(output), start=0, end=4, settings=settings)
    assert caught.value.transient, caught.value
    assert str(tmp_path / "gone") in str(caught.value), caught.value
    assert my_children() == []

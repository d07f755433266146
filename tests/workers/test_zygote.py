"""Chunks of one job forked by a warm render process (``workers.zygote``) under bubblewrap:
frames identical to an in-process render, one zygote per job on a worker process and never
another job's, the chunk's limits and cancelling as before, and no zygote outliving its worker
or its idle timeout."""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from chunking.timeline.studio import load_project
from common.errors import MediaError, RenderCancelled
from tests.helpers import clip, file_clip
from tests.media import decode_rgb, make_video, project, video_track
from tests.workers.test_sandbox import (
    _children_before,  # noqa: F401 - autouse here too: my_children() counts from each test's start
    alive,
    lossless,
    my_children,
    settings_for,
    small_timeline,
)
from workers import isolation as iso
from workers import zygote as zygotes
from workers.chunk_limits import ChunkLimitExceeded
from workers.render import render_to_file
from workers.sandbox import render_segment

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(autouse=True)
def _no_zygote_left() -> Iterator[None]:
    yield
    zygotes.drop()


def current_pid() -> int:
    """The bwrap process of this process's zygote."""
    assert zygotes._current, "no zygote"
    return zygotes._current[0].popen.pid


def test_chunks_of_a_job_are_forks_of_one_zygote_and_equal_the_direct_render(
    tmp_path: Path,
) -> None:
    settings = settings_for("bwrap")
    tl = small_timeline(tmp_path)
    direct = tmp_path / "direct.mkv"
    render_to_file(tl, str(direct), start=0, end=20, audio=False, file_format="matroska")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    reports: list[tuple[int, int]] = []
    pids = []
    for name, (start, end) in (("a", (0, 8)), ("b", (8, 20))):
        run = render_segment(
            tl,
            str(scratch / f"{name}.mkv"),
            start=start,
            end=end,
            progress=lambda done, total: reports.append((done, total)),
            settings=settings,
            job="job-1",
        )
        assert run.isolation == iso.BWRAP and run.summary.frames == end - start
        assert 0 < run.peak_rss_bytes < run.peak_memory_bytes
        pids.append(current_pid())
    assert pids[0] == pids[1]  # the second chunk imported nothing again
    assert reports == [(n, 8) for n in range(1, 9)] + [(n, 12) for n in range(1, 13)]
    ours = decode_rgb(scratch / "a.mkv") + decode_rgb(scratch / "b.mkv")
    reference = decode_rgb(direct)
    assert len(ours) == len(reference) == 20
    assert all(np.array_equal(a, b) for a, b in zip(ours, reference, strict=True))
    # Only the segments are left in the chunk's scratch, and nothing in the zygote's.
    assert sorted(p.name for p in scratch.iterdir()) == ["a.mkv", "b.mkv"]
    assert os.listdir(zygotes._current[0].scratch) == []


def test_a_chunk_of_another_job_never_gets_the_zygote_of_the_first(tmp_path: Path) -> None:
    settings = settings_for("bwrap")
    tl = small_timeline(tmp_path)
    render_segment(tl, str(tmp_path / "a.mkv"), start=0, end=2, settings=settings, job="job-1")
    first = current_pid()
    render_segment(tl, str(tmp_path / "b.mkv"), start=0, end=2, settings=settings, job="job-2")
    assert current_pid() != first and not alive(first)
    zygotes.drop()
    assert my_children() == []


def test_a_zygote_sees_every_medium_of_its_job_and_nothing_else(tmp_path: Path) -> None:
    """Bound once for the whole job: a chunk whose own frames use only the first clip still
    renders the later one's in the next chunk from the same zygote."""
    settings = settings_for("bwrap")
    a = make_video(tmp_path / "a.mp4", frames=10, size=(64, 36))
    b = make_video(tmp_path / "b.mp4", frames=10, size=(64, 36))
    doc = project(
        [video_track("v", [file_clip("a", a, 0, 0.2), file_clip("b", b, 0.2, 0.4)])], size=(64, 36)
    )
    tl = lossless(doc, tmp_path)
    render_segment(tl, str(tmp_path / "1.mkv"), start=0, end=6, settings=settings, job="j")
    render_segment(tl, str(tmp_path / "2.mkv"), start=6, end=12, settings=settings, job="j")
    direct = tmp_path / "direct.mkv"
    render_to_file(tl, str(direct), start=6, end=12, audio=False, file_format="matroska")
    ours, reference = decode_rgb(tmp_path / "2.mkv"), decode_rgb(direct)
    assert all(np.array_equal(x, y) for x, y in zip(ours, reference, strict=True))
    bound = zygotes._current[0].key[2]
    assert {path for _, path in bound} == {str(a), str(b)}


def test_limits_and_stopping_hold_per_chunk_and_the_zygote_takes_the_next(
    tmp_path: Path,
) -> None:
    roomy = settings_for("bwrap")
    small = small_timeline(tmp_path)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    baseline = render_segment(small, str(scratch / "a.mkv"), start=0, end=2, settings=roomy,
                              job="j")  # fmt: skip
    tight = dataclasses.replace(roomy, chunk_memory_bytes=baseline.peak_memory_bytes + 300 * 2**20)
    big = project(
        [video_track(f"v{i}", [clip(f"c{i}", 0, 0.1, effects=["b"])]) for i in range(2)],
        size=(7680, 4320),
        effects=[{"id": "b", "effect_type": "Blur", "params": {"radius": 4}}],
    )
    big_tl = load_project(big, str(tmp_path))
    zygote = current_pid()
    with pytest.raises(ChunkLimitExceeded, match=r"^ran out of memory \(limit [\d.]+ [MG]B\)"):
        render_segment(big_tl, str(scratch / "c.mkv"), start=0, end=1, settings=tight, job="j")
    assert not (scratch / "c.mkv").exists()
    # Stopped after three frames: killed at once, and the zygote is still the job's.
    src = make_video(tmp_path / "long.mp4", frames=300, size=(320, 180), gop=30)
    doc = project(
        [video_track("v", [file_clip("a", src, 0, 10, effects=["b"])])],
        size=(320, 180),
        effects=[{"id": "b", "effect_type": "Blur", "params": {"radius": 8}}],
    )
    long = load_project(doc, str(tmp_path))
    seen: list[int] = []
    began = time.monotonic()
    with pytest.raises(RenderCancelled):
        render_segment(long, str(scratch / "d.mkv"), start=0, end=300, settings=roomy, job="j2",
                       progress=lambda done, _: seen.append(done),
                       cancelled=lambda: len(seen) >= 3)  # fmt: skip
    assert time.monotonic() - began < 30 and 3 <= len(seen) < 300
    assert current_pid() != zygote and not alive(zygote)
    again = current_pid()
    render_segment(long, str(scratch / "e.mkv"), start=0, end=2, settings=roomy, job="j2")
    assert current_pid() == again


def test_bad_media_is_still_one_line_naming_the_clip(tmp_path: Path) -> None:
    settings = settings_for("bwrap")
    src = make_video(tmp_path / "a.mp4", frames=10, size=(64, 36))
    tl = lossless(
        project([video_track("v", [file_clip("a", src, 0, 0.3)])], size=(64, 36)), tmp_path
    )
    src.write_bytes(b"not a video any more")
    with pytest.raises(MediaError, match=r"clip 'a'") as caught:
        render_segment(tl, str(tmp_path / "0.mkv"), start=0, end=5, settings=settings, job="j")
    assert "\n" not in str(caught.value) and not caught.value.transient


def test_an_idle_zygote_exits_and_the_next_chunk_starts_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for("bwrap")
    monkeypatch.setattr(zygotes, "IDLE_TIMEOUT", 3.0)
    monkeypatch.setattr(zygotes, "IDLE_MARGIN", 0.5)
    tl = small_timeline(tmp_path)
    render_segment(tl, str(tmp_path / "a.mkv"), start=0, end=2, settings=settings, job="j")
    first = zygotes._current[0]
    first.popen.wait(30)  # it exits by itself
    render_segment(tl, str(tmp_path / "b.mkv"), start=0, end=2, settings=settings, job="j")
    assert current_pid() != first.popen.pid


def _processes_of(scratch: str) -> list[int]:
    """Live processes whose command line names ``scratch`` (the zygote's bwrap)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and scratch.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.append(int(entry))
        except OSError:
            continue
    return [pid for pid in found if alive(pid)]


def test_a_zygote_dies_with_its_worker(tmp_path: Path) -> None:
    settings_for("bwrap")
    bwrap = iso.detect("auto").bwrap
    assert bwrap is not None
    read, write = os.pipe()
    worker = os.fork()
    if worker == 0:  # pragma: no cover - a stand-in worker, killed outright below
        try:
            zygote = zygotes.for_job("j", bwrap, [], os.environ)
            assert zygote is not None
            os.write(write, f"{zygote.popen.pid} {zygote.scratch}\n".encode())
            time.sleep(60)
        finally:
            os._exit(1)
    os.close(write)
    with os.fdopen(read) as reader:
        pid, scratch = reader.readline().split()
    children = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    assert alive(int(pid)) and children  # bwrap and the sandbox's processes under it
    os.kill(worker, signal.SIGKILL)  # the worker dies without a chance to clean up
    os.waitpid(worker, 0)
    deadline = time.monotonic() + 10
    while (_processes_of(scratch) or any(map(alive, children))) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_of(scratch) == [] and not any(map(alive, children))

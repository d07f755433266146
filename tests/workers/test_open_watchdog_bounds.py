"""Every open of a source is watched (probing, a clip's audio, the merge's segments, not only
rendering), and the threads that opens stuck on a dead mount leave behind are bounded."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.project import read_project
from tests.media import make_video, project, video_track
from workers import media_open, open_watchdog, probe, stitch_audio
from workers.audio_source import clip_audio
from workers.open_watchdog import SourceOpenTimeout, open_watched, stuck_opens
from workers.stitch import inspect_segment

pytestmark = pytest.mark.timeout(60)


def _left_behind() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "source-open"]


@pytest.fixture
def dead_mount(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Every source open hangs (as on a mount that stopped answering) until the event is set."""
    answers = threading.Event()
    real = media_open.open_unwatched

    def hangs(path: str) -> Any:
        answers.wait(30)
        return real(path)

    monkeypatch.setattr(media_open, "open_unwatched", hangs)
    monkeypatch.setattr(open_watchdog, "OPEN_SECONDS", 0.5)
    yield answers
    answers.set()  # the mount answers again: what is left behind ends
    deadline = time.monotonic() + 10
    while _left_behind() or stuck_opens():
        assert time.monotonic() < deadline, "an opening thread never ended"
        time.sleep(0.02)


def _clip_audio(path: Path) -> None:
    clip = {"id": "c7", "source": {"File": str(path)}, "start_time": 0, "end_time": 0.2}
    timeline = read_project(project([video_track("v", [clip])]), base_dir=str(path.parent))
    with clip_audio(timeline.timeline.tracks[0].clips[0], str(path), 48000, 4800):
        pass


def _probe(path: Path) -> None:
    facts = probe.examine(str(path))
    assert facts.opened is not None
    raise SourceOpenTimeout(facts.opened)  # examine reports what it could not open


def _segment(path: Path) -> None:
    inspect_segment(str(path), 0, 0, 5)


def _merge_audio(path: Path) -> None:
    with ExitStack() as stack:
        stitch_audio.AudioQueue(stack, None, str(path), Fraction(1))


@pytest.mark.parametrize(
    "reader",
    [_clip_audio, _probe, _segment, _merge_audio],
    ids=["clip audio", "probe", "merge segment", "merge audio"],
)
def test_every_reader_of_a_source_on_a_dead_mount_fails_in_time_naming_the_file(
    reader: Callable[[Path], None], tmp_path: Path, dead_mount: threading.Event
) -> None:
    video = make_video(tmp_path / "a.mkv", frames=5, audio_hz=440.0)
    started = time.monotonic()
    with pytest.raises(Exception) as caught:
        reader(video)
    assert time.monotonic() - started < 10
    assert f"opening {video} did not finish in 0.5 s" in str(caught.value)


def test_a_clips_sound_on_a_dead_mount_is_not_looked_at_before_its_watched_open(
    tmp_path: Path, dead_mount: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stat of the file, before the open, hung as the open would (an NFS hard mount)."""
    video = make_video(tmp_path / "a.mkv", frames=5, audio_hz=440.0)
    clip = {"id": "c8", "source": {"File": str(video)}, "start_time": 0, "end_time": 0.2}
    timeline = read_project(project([video_track("v", [clip])]), base_dir=str(tmp_path))

    def stat_hangs(path: object) -> bool:
        dead_mount.wait(30)
        return True

    monkeypatch.setattr(os.path, "isfile", stat_hangs)
    started = time.monotonic()
    with pytest.raises(SourceOpenTimeout, match=r"^clip 'c8': opening .* did not finish in 0.5"):
        with clip_audio(timeline.timeline.tracks[0].clips[0], str(video), 48000, 4800):
            pass
    assert time.monotonic() - started < 10


def test_a_file_still_stuck_gets_no_second_thread(dead_mount: threading.Event) -> None:
    for _ in range(3):
        with pytest.raises(SourceOpenTimeout, match="did not finish"):
            open_watched("/mnt/dead/a.mp4", seconds=0.2)
    assert len(_left_behind()) == 1
    assert stuck_opens() == 1


def test_once_enough_opens_are_stuck_the_next_fails_at_once(
    tmp_path: Path, dead_mount: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(open_watchdog, "MAX_STUCK", 2)
    for name in ("a", "b"):
        with pytest.raises(SourceOpenTimeout):
            open_watched(f"/mnt/dead/{name}.mp4", seconds=0.2)
    started = time.monotonic()
    with pytest.raises(SourceOpenTimeout, match=r"^opening /mnt/dead/c.mp4 was not tried: 2 "):
        open_watched("/mnt/dead/c.mp4", seconds=5)
    assert time.monotonic() - started < 1
    assert len(_left_behind()) == 2
    dead_mount.set()  # the mount recovers: opens work again
    deadline = time.monotonic() + 10
    while stuck_opens():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    video = make_video(tmp_path / "ok.mp4", frames=3)
    with open_watched(str(video), seconds=10) as container:
        assert container.streams.video


def test_a_forked_pool_process_inherits_no_stuck_opens(dead_mount: threading.Event) -> None:
    with pytest.raises(SourceOpenTimeout):
        open_watched("/mnt/dead/a.mp4", seconds=0.2)
    assert stuck_opens() == 1
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports by its exit status
        os._exit(0 if stuck_opens() == 0 else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0

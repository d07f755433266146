"""Opening a source that hangs (a stuck network mount, a file that never ends) is a clear error
naming the clip and the file after a while, not a render hung for ever."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from common.errors import AssetNotFound, DecodeError
from tests.media import make_video
from workers import media_open, open_watchdog
from workers.open_watchdog import SourceOpenTimeout, open_watched
from workers.video_source import VideoSource

pytestmark = pytest.mark.timeout(60)


def _left_behind() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "source-open"]


def _wait_gone(timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while _left_behind():
        assert time.monotonic() < deadline, "the opening thread never ended"
        time.sleep(0.02)


def test_a_source_on_a_stuck_mount_fails_its_clip_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = make_video(tmp_path / "a.mp4", frames=5)
    stuck = tmp_path / "stuck"
    os.mkfifo(stuck)
    real = media_open.open_unwatched

    def on_a_dead_mount(path: str) -> Any:
        # Blocks in the kernel, as an open or read on a mount that stopped answering does.
        os.close(os.open(stuck, os.O_RDONLY))
        return real(path)

    monkeypatch.setattr(media_open, "open_unwatched", on_a_dead_mount)
    monkeypatch.setattr(open_watchdog, "OPEN_SECONDS", 1.0)
    started = time.monotonic()
    try:
        with pytest.raises(DecodeError) as caught:
            VideoSource(str(video), "c1")
        took = time.monotonic() - started
    finally:
        # The mount answers again: the thread left behind ends, closing what it opened.
        os.close(os.open(stuck, os.O_WRONLY | os.O_NONBLOCK))
    assert 1.0 <= took < 10
    message = str(caught.value)
    assert message.startswith(f"clip 'c1': opening {video} did not finish in 1 s"), message
    assert "network mount" in message
    assert isinstance(caught.value, SourceOpenTimeout) and caught.value.transient
    _wait_gone()


def test_an_open_that_finishes_in_time_is_the_open_and_its_errors_are_its_own(
    tmp_path: Path,
) -> None:
    video = make_video(tmp_path / "b.mp4", frames=3)
    with open_watched(str(video), seconds=30) as container:
        assert container.streams.video
    with pytest.raises(AssetNotFound, match="media file not found"):
        open_watched(str(tmp_path / "missing.mp4"), seconds=30)
    _wait_gone()


def test_what_an_open_given_up_on_returns_later_is_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()

    class Container:
        closed = False

        def close(self) -> None:
            self.closed = True

    late = Container()

    def slow(path: str) -> Container:
        release.wait(10)
        return late

    monkeypatch.setattr(media_open, "open_unwatched", slow)
    with pytest.raises(SourceOpenTimeout, match=r"^opening /x\.mp4 did not finish in 0.2 s"):
        open_watched("/x.mp4", seconds=0.2)
    release.set()
    _wait_gone()
    assert late.closed

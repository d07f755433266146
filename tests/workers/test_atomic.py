"""Atomic outputs (workers.atomic): umask modes, data synced before the rename, nothing left."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from common.errors import RenderError
from workers.atomic import PARTIAL_PREFIX, atomic_output, check_writable


def record_sync(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Log every fsync (of the path its descriptor names) and rename, in order, as they happen."""
    calls: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        calls.append(("replace", f"{os.path.basename(src)} -> {os.path.basename(dst)}"))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return calls


def assert_durable(calls: list[tuple[str, str]], output: Path) -> None:
    """The output's data was synced under its temp name, renamed, then its directory synced."""
    renames = [i for i, (kind, _) in enumerate(calls) if kind == "replace"]
    assert len(renames) == 1, calls
    at = renames[0]
    partial = calls[at][1].split(" -> ")[0]
    assert partial.startswith(PARTIAL_PREFIX) and calls[at][1].endswith(" -> " + output.name)
    assert ("fsync", str(output.parent / partial)) in calls[:at], calls
    assert ("fsync", str(output.parent)) in calls[at + 1 :], calls


@contextmanager
def umask(mask: int) -> Iterator[None]:
    """The process's umask set to ``mask`` for the block."""
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def test_the_file_appears_whole_with_synced_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = record_sync(monkeypatch)
    output = tmp_path / "movie.mp4"
    with atomic_output(str(output)) as partial:
        assert os.path.dirname(partial) == str(tmp_path) and not output.exists()
        Path(partial).write_bytes(b"frames")
    assert output.read_bytes() == b"frames"
    assert os.listdir(tmp_path) == ["movie.mp4"]
    assert_durable(calls, output)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_mode_follows_the_umask(tmp_path: Path, mask: int, mode: int) -> None:
    output = tmp_path / "movie.mkv"
    with umask(mask), atomic_output(str(output)) as partial:
        Path(partial).write_bytes(b"x")
    assert stat.S_IMODE(output.stat().st_mode) == mode


@pytest.mark.parametrize("error", [ValueError("bad"), KeyboardInterrupt(), SystemExit(143)])
def test_any_exception_removes_the_temp_file_and_keeps_the_old_output(
    tmp_path: Path, error: BaseException
) -> None:
    output = tmp_path / "movie.mp4"
    output.write_bytes(b"previous")
    with pytest.raises(type(error)), atomic_output(str(output)) as partial:
        Path(partial).write_bytes(b"half")
        raise error
    assert os.listdir(tmp_path) == ["movie.mp4"] and output.read_bytes() == b"previous"


def test_problems_are_one_line(tmp_path: Path) -> None:
    with (
        pytest.raises(RenderError, match="output directory does not exist"),
        atomic_output(str(tmp_path / "nowhere" / "x.mp4")),
    ):
        pass
    (tmp_path / "x.mp4").mkdir()  # the destination is a directory: refused before writing
    with (
        pytest.raises(RenderError, match=r"x\.mp4 exists and is not a regular file"),
        atomic_output(str(tmp_path / "x.mp4")) as partial,
    ):
        Path(partial).write_bytes(b"x")
    assert os.listdir(tmp_path) == ["x.mp4"]


def test_a_long_name_still_fits(tmp_path: Path) -> None:
    output = tmp_path / ("n" * 250 + ".mp4")
    with atomic_output(str(output)) as partial:
        Path(partial).write_bytes(b"x")
    assert output.read_bytes() == b"x"


def test_a_name_the_filesystem_cannot_hold_is_refused_before_writing(tmp_path: Path) -> None:
    # Given an output name longer than the filesystem's 255 bytes (the temp name is short)
    output = tmp_path / ("é" * 130 + ".mp4")
    # When a render (or a distributed render's first check) would write it
    for attempt in (
        lambda: atomic_output(str(output)).__enter__(),
        lambda: check_writable(str(output)),
    ):
        # Then it is refused at once, saying why, not after the whole render at the rename
        with pytest.raises(RenderError, match=r"is 264 bytes long; .* up to 255 bytes"):
            attempt()
    assert os.listdir(tmp_path) == []


def test_check_writable_leaves_nothing_and_names_a_directory_it_cannot_write(
    tmp_path: Path,
) -> None:
    assert check_writable(str(tmp_path / "x.mp4")) == str(tmp_path)
    assert os.listdir(tmp_path) == []
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):
        pytest.skip("root writes into any directory")
    with pytest.raises(RenderError, match=f"cannot write into {locked}: Permission denied"):
        check_writable(str(locked / "x.mp4"))


def test_a_killed_renders_temp_file_is_swept_by_the_next(tmp_path: Path) -> None:
    """Only temp files of this name whose process is gone on this machine are removed: not a
    running render's, not another machine's (shared storage), not another name's."""
    import subprocess

    from workers.atomic import _HOST

    gone = subprocess.Popen(["true"])
    gone.wait()
    running = subprocess.Popen(["sleep", "30"])
    try:
        names = {
            "dead": f"{PARTIAL_PREFIX}{_HOST}-{gone.pid}-{'a' * 16}-out.mp4",
            "running": f"{PARTIAL_PREFIX}{_HOST}-{running.pid}-{'b' * 16}-out.mp4",
            "elsewhere": f"{PARTIAL_PREFIX}otherhost-{gone.pid}-{'c' * 16}-out.mp4",
            "other name": f"{PARTIAL_PREFIX}{_HOST}-{gone.pid}-{'d' * 16}-other.mp4",
        }
        for name in names.values():
            (tmp_path / name).write_bytes(b"half")
        with atomic_output(str(tmp_path / "out.mp4")) as partial:
            Path(partial).write_bytes(b"whole")
        left = sorted(p.name for p in tmp_path.iterdir())
        assert names["dead"] not in left
        assert left == sorted([names["running"], names["elsewhere"], names["other name"],
                               "out.mp4"])  # fmt: skip
    finally:
        running.kill()
        running.wait()


def test_an_output_that_is_a_symlink_is_written_through(tmp_path: Path) -> None:
    """`-o latest.mp4` where latest.mp4 links to this week's file: the render lands in that file
    and the link stays, as ffmpeg, cp and the shell write through one (it replaced the link)."""
    week = tmp_path / "renders"
    week.mkdir()
    target = week / "week-49.mp4"
    target.write_bytes(b"last week")
    link = tmp_path / "latest.mp4"
    link.symlink_to(target)
    with atomic_output(str(link)) as partial:
        Path(partial).write_bytes(b"frames")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"frames"
    assert sorted(os.listdir(week)) == ["week-49.mp4"] and sorted(os.listdir(tmp_path)) == [
        "latest.mp4",
        "renders",
    ]
    # A link to nothing yet makes its target, as `ffmpeg -o` does.
    dangling = tmp_path / "next.mp4"
    dangling.symlink_to(week / "week-50.mp4")
    with atomic_output(str(dangling)) as partial:
        Path(partial).write_bytes(b"more")
    assert dangling.is_symlink() and (week / "week-50.mp4").read_bytes() == b"more"

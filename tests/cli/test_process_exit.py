"""A render run as the program ends its process at once after its own clean-up (no interpreter
teardown), with its output flushed and its ``atexit`` functions run; where that is not safe it
exits the usual way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cli.process_exit import end_process
from tests.helpers import file_clip
from tests.media import make_video, project, video_track, write_project

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]

#: ``cloudrender ARGS`` as its console script runs it, with an object whose finalizer would
#: speak only during the interpreter's teardown, and an atexit function that must still run.
PROGRAM = """
import atexit, os, sys

class Teardown:
    def __del__(self):
        os.write(2, b"TEARDOWN\\n")

sentinel = Teardown()
atexit.register(lambda: print("ATEXIT", flush=False))
from cli.main import main
sys.argv = ["cloudrender", *sys.argv[1:]]
sys.exit(main())
"""


def _program(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDRENDER_BROKER")}
    return subprocess.run(
        [sys.executable, "-c", PROGRAM, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
    )


def _project(tmp_path: Path) -> Path:
    clip = make_video(tmp_path / "a.mp4", frames=4, size=(64, 36))
    doc = project([video_track("v", [file_clip("a", clip, 0, 4 / 30)])], size=(64, 36))
    return write_project(tmp_path / "p.json", doc)


def test_a_render_ends_its_process_without_the_interpreters_teardown(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    run = _program("render", str(_project(tmp_path)), "-o", str(out), "--direct", "--json")
    assert run.returncode == 0, run.stderr
    assert "TEARDOWN" not in run.stderr
    # Standard output is whole (the summary, then what the atexit function printed).
    summary, atexit_line = run.stdout.rstrip("\n").rsplit("\n", 1)
    assert json.loads(summary)["frames"] == 4
    assert atexit_line == "ATEXIT"
    assert out.exists()


def test_a_failed_render_ends_with_its_status(tmp_path: Path) -> None:
    run = _program("render", str(tmp_path / "missing.json"), "-o", str(tmp_path / "o.mp4"))
    assert run.returncode == 2
    assert "TEARDOWN" not in run.stderr
    assert "missing.json" in run.stderr
    assert run.stdout.strip() == "ATEXIT"


def test_other_commands_exit_the_usual_way(tmp_path: Path) -> None:
    run = _program("validate", str(_project(tmp_path)))
    assert run.returncode == 0, run.stderr
    assert "TEARDOWN" in run.stderr


def test_a_running_non_daemon_thread_keeps_the_usual_exit() -> None:
    release = threading.Event()
    worker = threading.Thread(target=release.wait, daemon=False)
    worker.start()
    try:
        end_process(0)  # returns: Python must join the thread first
    finally:
        release.set()
        worker.join()


def test_not_from_another_thread() -> None:
    done: list[bool] = []
    thread = threading.Thread(target=lambda: (end_process(0), done.append(True)))
    thread.start()
    thread.join()
    assert done == [True]

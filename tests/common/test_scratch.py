"""Scratch folders a killed process left are removed by the next process of their kind."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from common.scratch import process_alive, scratch_prefix, sweep_scratch


def test_only_the_folders_of_gone_processes_of_that_kind_are_swept(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    running = subprocess.Popen(["sleep", "30"])
    try:
        names = {
            "dead": f"{scratch_prefix('chunk', gone.pid)}abc",
            "running": f"{scratch_prefix('chunk', running.pid)}def",
            "ours": f"{scratch_prefix('chunk')}ghi",
            "other kind": f"{scratch_prefix('workers', gone.pid)}jkl",
            "no pid": "cloudrender-chunk-xyz",
        }
        for name in names.values():
            (tmp_path / name).mkdir()
            (tmp_path / name / "request.pickle").write_bytes(b"x")
        assert not process_alive(gone.pid) and process_alive(running.pid)
        assert sweep_scratch("chunk", str(tmp_path)) == [names["dead"]]
        left = sorted(p.name for p in tmp_path.iterdir())
        assert left == sorted(v for k, v in names.items() if k != "dead")
    finally:
        running.kill()
        running.wait()


def test_a_killed_client_leaves_a_folder_the_next_one_removes(tmp_path: Path) -> None:
    """What a SIGKILLed render leaves (its workers' and Redis's folders) goes at the next start."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    code = "from common.scratch import make_scratch; print(make_scratch('workers'), flush=True)"
    made = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert os.path.isdir(made)  # its process is gone, as after a SIGKILL
    mine = tempfile.mkdtemp(prefix=scratch_prefix("workers"), dir=tmp_path)
    try:
        assert sweep_scratch("workers", str(tmp_path)) == [os.path.basename(made)]
        assert not os.path.exists(made) and os.path.isdir(mine)
    finally:
        os.rmdir(mine)


def test_a_temporary_directory_removed_under_a_process_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a long-lived process (a worker) whose TMPDIR was removed after it started
    root = tmp_path / "tmpdir"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    root.rmdir()
    # When its next chunk sweeps and makes its scratch folder
    sweep_scratch("chunk")
    with tempfile.TemporaryDirectory(prefix=scratch_prefix("chunk")) as tmp:
        # Then it gets one (every chunk failed "No such file or directory" on the node)
        assert os.path.isdir(tmp) and os.path.dirname(tmp) == str(root)
    assert oct(root.stat().st_mode & 0o777) == "0o700"

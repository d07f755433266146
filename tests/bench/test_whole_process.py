"""A command's tree that outlives the grace after the command exits is named and killed, not
left running behind the benchmark."""

from __future__ import annotations

import os
import sys

import pytest

from bench import whole_process

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc, uses PR_SET_CHILD_SUBREAPER"
)


def test_a_process_left_running_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(whole_process, "ORPHAN_GRACE", 0.3)
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    code = f"import subprocess\nprint(subprocess.Popen({sleeper!r}).pid)\n"
    run = whole_process.run_tree([sys.executable, "-c", code])
    assert run.returncode == 0, run.stderr
    pid = int(run.stdout)
    assert [entry.split()[0] for entry in run.left_running] == [str(pid)]
    assert not run.reaped
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # gone, and reaped: not even a zombie

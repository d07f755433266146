"""The whole-process measurement of bench/render_throughput.py --whole (bench.whole_process):
a command's children and grandchildren count, whether or not their parents reap them, and
the comparison rotates its commands and reports ratios against the targets."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from bench.support import make_video
from bench.whole_process import Contender, Invocation, Target, compare, run_tree

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc, uses PR_SET_CHILD_SUBREAPER"
)

#: A Python program that holds MIB MiB of touched memory while it burns SECONDS of CPU.
BURN = textwrap.dedent(
    """
    import sys, time
    held = b"x" * ({mib} << 20)
    began = time.process_time()
    while time.process_time() - began < {seconds}:
        pass
    """
)


def python(code: str) -> list[str]:
    """This interpreter running `code`."""
    return [sys.executable, "-c", code]


def test_a_grandchild_counts_in_cpu_and_memory() -> None:
    grandchild = python(BURN.format(mib=60, seconds=0.25))
    child = "import subprocess\n"
    child += f"grand = subprocess.Popen({grandchild!r})\n"
    child += BURN.format(mib=60, seconds=0.25) + "grand.wait()\n"
    run = run_tree(python(child))
    assert run.returncode == 0, run.stderr
    assert run.processes == 2
    # Both burnt 0.25 s of CPU and both held 60 MiB at the same time.
    assert run.cpu_rusage >= 0.5
    assert run.cpu_sampled >= 0.3
    assert run.peak_pss_mib >= 110
    assert 60 <= run.max_process_mib < 110  # the largest process alone
    assert run.reaped and run.orphans == 0 and not run.left_running


def test_an_orphaned_grandchild_is_adopted_and_counted() -> None:
    grandchild = python(BURN.format(mib=1, seconds=0.25))
    # The child exits at once without waiting: nobody in the tree reaps the grandchild.
    run = run_tree(python(f"import subprocess\nsubprocess.Popen({grandchild!r})\n"))
    assert run.returncode == 0, run.stderr
    assert run.cpu_orphans >= 0.25  # not in the child's rusage; reaped by run_tree instead
    assert run.cpu >= 0.25
    assert run.orphans == 1 and not run.reaped
    assert not run.left_running  # it ended within the grace period


def test_compare_rotates_the_commands_and_checks_the_targets(tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", frames=4, size=(64, 36))

    def contender(name: str, seconds: float) -> Contender:
        """A command that burns `seconds` of CPU and writes the clip as its output."""

        def build(run: Path) -> Invocation:
            """Copy the clip to the run's directory."""
            code = BURN.format(mib=1, seconds=seconds)
            code += f"import shutil\nshutil.copy({str(video)!r}, {str(run / 'out.mp4')!r})\n"
            return Invocation(python(code), run / "out.mp4")

        return Contender(name, name, build)

    targets = [
        Target("cpu_per_frame", "slow", 1.0),
        Target("cpu_per_frame", "slow", 50.0),
        Target("fps", "slow", 0.99, at_most=False),
    ]
    result = compare(
        [contender("base", 0.02), contender("slow", 0.25), contender("same", 0.02)],
        "base",
        4,
        2,
        tmp_path,
        targets,
    )
    assert [run["name"] for run in result["runs"]] == ["base", "slow", "same"] + [
        "slow",
        "same",
        "base",
    ]
    assert all(run["frames_written"] == 4 for run in result["runs"])
    assert not list(tmp_path.glob("whole-*"))  # every run's output removed
    assert result["ratios"]["slow"]["cpu_per_frame"] > 1.5
    assert [t["met"] for t in result["targets"]] == [False, True, False]
    assert set(result["median"]) == {"base", "slow", "same"}


def test_a_failing_command_stops_with_one_line(tmp_path: Path) -> None:
    def build(run: Path) -> Invocation:
        """A command that fails with a message on stderr."""
        return Invocation(python("import sys; sys.exit('no such project')"), run / "out.mp4")

    with pytest.raises(SystemExit, match="broken failed \\(1\\): no such project"):
        compare([Contender("broken", "broken", build)], "broken", 4, 1, tmp_path)
    assert not list(tmp_path.glob("whole-*"))

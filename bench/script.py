"""What the benchmark scripts share: progress on stderr, results on stdout, the cloudrender CLI.

Progress goes to stderr so that ``--json`` keeps stdout clean; ``emit`` prints the results
either as JSON or through the script's own report.
"""

from __future__ import annotations

import json
import shutil
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn


def log(message: str) -> None:
    """Progress to stderr, so --json keeps stdout clean."""
    print(message, file=sys.stderr, flush=True)


def emit(result: dict[str, Any], as_json: bool, show: Callable[[dict[str, Any]], None]) -> None:
    """Print the results: as JSON (anything not serialisable as its str) or through `show`."""
    if as_json:
        print(json.dumps(result, indent=2, default=str))
    else:
        show(result)


def exit_on_signals() -> None:
    """Turn SIGTERM and SIGHUP into SystemExit, so that a benchmark stopped by `timeout`, `kill`
    or a closed terminal still stops its children and removes its temporary directory."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit)


def _exit(signum: int, frame: FrameType | None) -> NoReturn:
    raise SystemExit(128 + signum)


def cloudrender_binary() -> list[str]:
    """The cloudrender entry point of this interpreter's environment."""
    beside = Path(sys.executable).parent / "cloudrender"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("cloudrender")
    if found:
        return [found]
    sys.exit("cloudrender is not installed in this environment (pip install -e .)")


def render_command(project: Path, output: Path, mode: Sequence[str]) -> list[str]:
    """``cloudrender render PROJECT -o OUTPUT MODE... --json`` (mode: --direct or --workers N)."""
    return [*cloudrender_binary(), "render", str(project), "-o", str(output), *mode, "--json"]

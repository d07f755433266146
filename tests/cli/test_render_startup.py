"""The start of a default render: the private cluster's workers (the slowest part to start) are
spawned before the client imports its own API stack, which then loads while they start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import file_clip
from tests.media import make_video, project, video_track, write_project

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]

#: In a fresh interpreter: a render whose workers' start is replaced by a note of what the
#: client had imported by then (and an interrupt, which stops the render there).
PROBE = """
import json, sys
from orchestrator import local_workers

seen = []

def start(self):
    seen.append(sorted(m for m in ("redis", "orchestrator.api") if m in sys.modules))
    raise KeyboardInterrupt

local_workers.LocalWorkers.start = start
from chunking.timeline.project import read_project
from cli.render_command import render_distributed

try:
    render_distributed(read_project(sys.argv[1]), sys.argv[2], workers=1)
except KeyboardInterrupt:
    pass
print(json.dumps(seen))
"""


def test_the_private_workers_are_spawned_before_the_client_imports_its_api(
    tmp_path: Path,
) -> None:
    clip = make_video(tmp_path / "a.mp4", frames=4, size=(64, 36))
    doc = project([video_track("v", [file_clip("a", clip, 0, 4 / 30)])], size=(64, 36))
    path = write_project(tmp_path / "p.json", doc)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDRENDER_BROKER")}
    run = subprocess.run(
        [sys.executable, "-c", PROBE, str(path), str(tmp_path / "out.mp4")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1]) == [[]]
    assert not (tmp_path / "out.mp4").exists()


#: The same through the command line: what media the client had opened when the workers were
#: spawned, and what it had vetted by the time it submitted.
CLI_PROBE = """
import json, sys
from cli import main
from orchestrator import local_workers
from workers import probe

opened, seen = [], []
real = probe.header_warnings

def header_warnings(timeline):
    opened.append("headers")
    return real(timeline)

def start(self):
    seen.append(list(opened))
    raise KeyboardInterrupt

probe.header_warnings = header_warnings
local_workers.LocalWorkers.start = start
main.main(sys.argv[1:])
print(json.dumps(seen))
"""


def test_the_private_workers_are_spawned_before_the_client_opens_the_media(
    tmp_path: Path,
) -> None:
    clip = make_video(tmp_path / "a.mp4", frames=4, size=(64, 36))
    doc = project([video_track("v", [file_clip("a", clip, 0, 4 / 30)])], size=(64, 36))
    path = write_project(tmp_path / "p.json", doc)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDRENDER_BROKER")}
    env["CLOUDRENDER_EMBEDDED_DIR"] = str(tmp_path / "embedded")
    argv = ["render", str(path), "-o", str(tmp_path / "out.mp4"), "--workers", "1", "--quiet"]
    run = subprocess.run(
        [sys.executable, "-c", CLI_PROBE, *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1]) == [[]]
    assert "interrupted" in run.stderr and not (tmp_path / "out.mp4").exists()


#: Through the command line: which of the codec stack's libraries the client had imported when
#: the workers were spawned.
CODEC_PROBE = """
import json, sys
from cli import main
from orchestrator import local_workers

seen = []

def start(self):
    seen.append(sorted(m for m in ("numpy", "av", "PIL") if m in sys.modules))
    raise KeyboardInterrupt

local_workers.LocalWorkers.start = start
main.main(sys.argv[1:])
print(json.dumps(seen))
"""


def test_the_private_workers_are_spawned_before_the_client_imports_the_codec_stack(
    tmp_path: Path,
) -> None:
    # NumPy, PyAV and Pillow took 0.2-0.3 s of a 2-core machine before the workers, the slowest
    # part of a render's start, were spawned; the client needs them only to vet the media.
    clip = make_video(tmp_path / "a.mp4", frames=4, size=(64, 36))
    doc = project([video_track("v", [file_clip("a", clip, 0, 4 / 30)])], size=(64, 36))
    path = write_project(tmp_path / "p.json", doc)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDRENDER_BROKER")}
    env["CLOUDRENDER_EMBEDDED_DIR"] = str(tmp_path / "embedded")
    argv = ["render", str(path), "-o", str(tmp_path / "out.mp4"), "--quiet"]
    run = subprocess.run(
        [sys.executable, "-c", CODEC_PROBE, *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1]) == [[]]
    assert not (tmp_path / "out.mp4").exists()

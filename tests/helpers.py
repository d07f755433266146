"""Plain helpers several test modules share: the repository root, the environment and runner
for subprocesses that import our packages, project builders and test images.

Fixtures (things with a set-up and a tear-down) live in the ``conftest.py`` files instead; media
generators in ``tests.media``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.support import CHAOS_ENV, blurred_project, decode_rgb
from orchestrator.job_record import ChunkRecord, JobRecord, JobState
from orchestrator.job_store import JobStore
from tests.media import project, solid, video_track
from workers.layer import Image

#: The repository: what a subprocess needs on PYTHONPATH to import our packages and ``tests``.
ROOT = Path(__file__).resolve().parents[1]


def subprocess_env(changes: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """This process's environment with the repository on PYTHONPATH, and ``changes`` applied
    (a value of None removes the variable)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name, value in (changes or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


_REFERENCE = """
import json, sys
from chunking.timeline.studio import load_project
from workers.fingerprint import render_fingerprint
from workers.render import render_to_file
with open(sys.argv[1]) as f:
    doc = json.load(f)
render_to_file(load_project(doc, sys.argv[2]), sys.argv[3])
print(render_fingerprint())
"""


def reference_render(doc: dict[str, Any], base_dir: Path, out: Path) -> str:
    """Render a project whole (``--direct``) in a fresh process started like a chaos cluster's
    render workers (one BLAS thread from the start), not in this long-lived test process;
    return that process's render fingerprint."""
    spec = base_dir / "reference.json"
    spec.write_text(json.dumps(doc))
    env = subprocess_env({**CHAOS_ENV, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    done = subprocess.run(
        [sys.executable, "-c", _REFERENCE, str(spec), str(base_dir), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()[-1]


def assert_same_frames(
    ours: Path, reference: Path, record: JobRecord, reference_renderer: str
) -> None:
    """Every frame of a chunked render equals the reference render's, none missing and none
    twice; a difference names the chunk that made the frame, its node and both renderers'
    fingerprints (a fingerprint apart means the installation differs, not the join)."""
    frames, expected = decode_rgb(ours), decode_rgb(reference)
    assert len(frames) == len(expected) == sum(c.frames for c in record.chunks)
    for t, (a, b) in enumerate(zip(frames, expected, strict=True)):
        if np.array_equal(a, b):
            continue
        chunk = next((c for c in record.chunks if c.start <= t < c.end), None)
        made = (
            f"chunk {chunk.index} (frames {chunk.start}-{chunk.end - 1}, {chunk.attempts} "
            f"attempts) on node {chunk.node}, renderer {chunk.renderer or 'unknown'}"
            if chunk is not None
            else "no chunk"
        )
        raise AssertionError(
            f"frame {t} differs from --direct: {frame_difference(a, b)}; made by {made}; the "
            f"job's renderer {record.renderer or 'unknown'}, the reference's {reference_renderer}"
        )


def frame_difference(ours: np.ndarray, reference: np.ndarray) -> str:
    """Where two frames differ, in words: how many pixels, by how much, and where."""
    diff = np.abs(ours.astype(np.int16) - reference.astype(np.int16)).max(axis=-1)
    ys, xs = np.nonzero(diff)
    if ys.size == 0:
        return "identical"
    return (
        f"{ys.size} pixels differ by up to {int(diff.max())}, "
        f"rows {ys.min()}-{ys.max()}, columns {xs.min()}-{xs.max()}"
    )


class CLI:
    """Runs ``python -m cli ARGS`` as a user would: a subprocess, its own exit code and output.

    ``env`` changes the environment the command sees (see ``subprocess_env``); ``with_env``
    returns a runner with more changes, e.g. the broker of a test cluster.
    """

    def __init__(self, env: Mapping[str, str | None] | None = None) -> None:
        self.env = dict(env or {})

    def with_env(self, **changes: str | None) -> CLI:
        """A runner whose commands also see these environment changes."""
        return CLI({**self.env, **changes})

    def __call__(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run the command to its end (at most two minutes)."""
        return subprocess.run(
            [sys.executable, "-m", "cli", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=subprocess_env(self.env),
            cwd=cwd,
        )

    def start(self, *args: str, **popen: Any) -> subprocess.Popen[str]:
        """Start the command and return at once; its output is piped unless ``popen`` says
        otherwise (any ``subprocess.Popen`` argument)."""
        options: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **popen}
        return subprocess.Popen(
            [sys.executable, "-m", "cli", *args],
            text=True,
            env=subprocess_env(self.env),
            **options,
        )


def end_with_signal(proc: subprocess.Popen[str], signum: int, timeout: float = 60) -> str:
    """Send ``signum`` to a started command and wait for it to end; its standard error. A
    command that does not end fails the test with its threads' stacks where it was started
    with ``PYTHONFAULTHANDLER=1`` (SIGABRT makes the fault handler print them), then is killed."""
    try:
        proc.send_signal(signum)
        try:
            _out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            try:
                _out, err = proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                err = "(its stacks did not come within 15 s)"
            raise AssertionError(
                f"still running {timeout:g} s after {signal.Signals(signum).name}; where:\n{err}"
            ) from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return err


# --- project builders ------------------------------------------------------------------------


def colour_project(seconds: float, colour: str = "#3366ff", **extra: Any) -> dict[str, Any]:
    """One flat-colour clip of ``seconds``, exported with the fastest x264 preset; ``extra``
    goes to ``tests.media.project``."""
    return project(
        [video_track("v", [{"id": "c", "start_time": 0, "end_time": seconds, **solid(colour)}])],
        settings={"export": {"preset": "ultrafast"}},
        **extra,
    )


def slow_project(tmp: Path, seconds: float) -> dict[str, Any]:
    """Frames that take a while each (a blurred 640x360 video generated in ``tmp``), so chunks
    last long enough to watch."""
    return blurred_project(tmp, seconds, radius=6, export={"preset": "medium"})


def clip(
    cid: str, start: float, end: float, color: str = "#ff0000", **extra: Any
) -> dict[str, Any]:
    """A flat-colour clip (``color``) on the timeline from ``start`` to ``end`` seconds."""
    return {"id": cid, "start_time": start, "end_time": end, **solid(color), **extra}


def file_clip(cid: str, path: Path, start: float, end: float, **extra: Any) -> dict[str, Any]:
    """A clip of the media file at ``path`` on the timeline from ``start`` to ``end`` seconds."""
    return {"id": cid, "start_time": start, "end_time": end, "source": {"File": str(path)}, **extra}


# --- images ----------------------------------------------------------------------------------


def flat_image(r: float, g: float, b: float, h: int = 32, w: int = 48) -> Image:
    """A flat float RGB image of one colour."""
    return np.broadcast_to(np.array([r, g, b], dtype=np.float32), (h, w, 3)).copy()


def noisy_image(seed: int = 1) -> Image:
    """A random 48x32 float RGB image, for properties that must hold at every pixel."""
    return np.random.default_rng(seed).random((32, 48, 3), dtype=np.float32)


def ten_seconds_into_rendering(store: JobStore, job_id: str = "skew") -> None:
    """A job 10 s into rendering by the cluster's clock, 60 of 600 frames done (6 fps, 90 s)."""
    now = store.now()
    store.create(JobRecord(id=job_id, frames=600, submitted_at=now - 20), {})
    store.set_chunks(job_id, [ChunkRecord(0, 0, 600)], {})
    store.transition(job_id, JobState.PLANNING)
    store.transition(job_id, JobState.RENDERING, started_at=now - 10)
    store.chunk_started(job_id, 0, "n1", "t1")
    store.chunk_progress(job_id, 0, 60)


def clock_ahead(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """This machine's clock runs ``seconds`` ahead of the cluster's (Redis's)."""
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + seconds)


def sealed_objects(root: Path) -> list[Path]:
    """Every object file under a file store's ``root`` that encryption must have sealed: all but
    the jobs' ownership markers, which the storage sweep reads without a key and which may hold
    nothing but the cluster's id and the job's (docs/security.md)."""
    from orchestrator.storage_sweep import OWNER_NAME

    objects = [p for p in root.rglob("*") if p.is_file()]
    for marker in (p for p in objects if p.name == OWNER_NAME):
        assert set(json.loads(marker.read_text())) == {"cluster", "job"}, marker
    return [p for p in objects if p.name != OWNER_NAME]

"""Delivering a finished video into a user's directory (workers.delivery)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from workers.atomic import _HOST, PARTIAL_PREFIX
from workers.delivery import deliver
from workers.job_policy import WorkerPolicy


def test_a_delivery_killed_outright_leaves_no_copy_behind_the_next(tmp_path: Path) -> None:
    """A merge killed while it copied the video in (SIGKILL, the OOM killer) left a whole copy
    under a temp name; the next delivery to that name removes it, not a live one's."""
    out = tmp_path / "out"
    out.mkdir()
    policy = WorkerPolicy(storage_url=(tmp_path / "s").as_uri(), output_roots=(str(out),))
    video = tmp_path / "video.mp4"
    video.write_bytes(b"the video")
    gone = subprocess.Popen(["true"])
    gone.wait()
    running = subprocess.Popen(["sleep", "30"])
    try:
        dead = f"{PARTIAL_PREFIX}{_HOST}-{gone.pid}-{'a' * 16}-film.mp4"
        live = f"{PARTIAL_PREFIX}{_HOST}-{running.pid}-{'b' * 16}-film.mp4"
        for name in (dead, live):
            (out / name).write_bytes(b"the vid")
        deliver(str(video), str(out / "film.mp4"), policy=policy)
        assert sorted(p.name for p in out.iterdir()) == sorted(["film.mp4", live])
        assert (out / "film.mp4").read_bytes() == b"the video"
    finally:
        running.kill()
        running.wait()

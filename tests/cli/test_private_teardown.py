"""A finished private render stops its idle cluster at once, and leaves nothing behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chunking.timeline.project import read_project
from cli import render_command
from cli.render_command import render_distributed
from orchestrator.embedded import EmbeddedCluster
from tests.helpers import file_clip
from tests.media import make_video, project, video_track

pytestmark = pytest.mark.timeout(180)


def test_a_finished_private_render_kills_its_idle_workers_without_a_grace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CLOUDRENDER_BROKER_URL", "CLOUDRENDER_STORAGE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDRENDER_EMBEDDED_DIR", str(tmp_path / "embedded"))
    clip = make_video(tmp_path / "a.mp4", frames=6, size=(64, 36))
    doc = project([video_track("v", [file_clip("a", clip, 0, 6 / 30)])], size=(64, 36))
    stops: list[tuple[float | None, list[int]]] = []
    stop = EmbeddedCluster.stop

    def recording(self: EmbeddedCluster, grace: float | None = None) -> None:
        members = self.workers.pids() if self.workers is not None else []
        stops.append((grace, members))
        stop(self, grace)

    monkeypatch.setattr(EmbeddedCluster, "stop", recording)
    out = tmp_path / "out.mp4"
    summary = render_distributed(read_project(doc, base_dir=str(tmp_path)), str(out), workers=1)
    assert summary["frames"] == 6 and out.exists()
    grace, members = stops[0]
    # No warm Celery shutdown waited out: its job is over, its Redis goes next.
    assert grace == render_command.QUICK_STOP_SECONDS == 0.0
    assert members
    for pid in members:
        assert not os.path.exists(f"/proc/{pid}"), f"worker process {pid} left running"

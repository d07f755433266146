"""A timeline whose sound is too long to mix in memory (over ``MAX_MIX_BYTES``: past about
three hours at 48 kHz) is refused by ``validate``, ``estimate`` and submit, in one line naming
the limit, as the render refuses it: validate said ok and a cluster's job failed in its audio
task, its video chunks rendered for nothing. Without sound the same timeline is no problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from common.errors import ValidationError
from orchestrator.submission import prepare_project
from tests.helpers import CLI
from tests.media import make_video, project, solid, video_track, write_project

pytestmark = pytest.mark.timeout(120)

#: Four hours: 5.1 GiB of float32 stereo at 48 kHz, over the 4 GiB the mix may take.
HOURS = 4 * 3600


def _doc(tmp_path: Path, sound: bool) -> dict[str, Any]:
    make_video(tmp_path / "voice.mp4", frames=10, fps=10, size=(64, 36), audio_hz=440.0)
    voice = {"id": "voice", "start_time": 0, "end_time": HOURS, "source": {"File": "voice.mp4"}}
    picture = {"id": "bg", "start_time": 0, "end_time": HOURS, **solid("#336699")}
    tracks = [video_track("v", [picture])]
    if sound:
        tracks.append({"id": "a", "track_type": "Audio", "clips": [voice]})
    return project(tracks, fps=10, size=(64, 36), settings={"export": {"preset": "ultrafast"}})


def test_validate_refuses_a_mix_the_render_cannot_hold(tmp_path: Path, cli: CLI) -> None:
    path = write_project(tmp_path / "long.json", _doc(tmp_path, sound=True))
    result = cli("validate", str(path))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stdout
    assert len(lines) == 1 and "audio mix at 48000 Hz would need" in lines[0], lines
    quiet = write_project(tmp_path / "silent.json", _doc(tmp_path, sound=False))
    assert cli("validate", str(quiet)).returncode == 0


def test_submit_and_estimate_refuse_it_before_queueing(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="audio mix at 48000 Hz would need"):
        prepare_project(_doc(tmp_path, sound=True), None, str(tmp_path), None, 2**30)
    prepare_project(_doc(tmp_path, sound=False), None, str(tmp_path), None, 2**30)

"""Each media file is probed once per process for an estimate's facts (``probe_once``): a submit
prices its job twice (the quote and the kept estimate), and ``cloudrender render`` probes while
its private cluster starts; a file changed since is probed again."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from orchestrator import estimate_inputs
from orchestrator.estimate_inputs import audio_work, source_sizes
from tests.helpers import file_clip
from tests.orchestrator.test_estimate_source_sizes import make_video, showing


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each file was opened by the estimate's probe, the memory emptied first."""
    counted: Counter[str] = Counter()
    real = estimate_inputs._probe

    def counting(path: str) -> tuple[bool, tuple[int, int] | None]:
        counted[path] += 1
        return real(path)

    monkeypatch.setattr(estimate_inputs, "_probe", counting)
    monkeypatch.setattr(estimate_inputs, "_PROBED", {})
    return counted


def test_two_pricings_of_one_job_open_each_file_once(tmp_path: Path, probes: Counter[str]) -> None:
    video = make_video(tmp_path / "v.mp4", 96, 54)
    tl = showing(tmp_path, file_clip("a", video, 0, 1))
    for _ in range(2):  # as planning.quote, then api_estimate.estimate_job, each its own facts
        assert source_sizes(tl) == {str(video): (96, 54)}
        audio_work(tl)
    assert probes == {str(video): 1}


def test_a_file_changed_since_is_probed_again(tmp_path: Path, probes: Counter[str]) -> None:
    video = make_video(tmp_path / "v.mp4", 96, 54)
    tl = showing(tmp_path, file_clip("a", video, 0, 1))
    assert source_sizes(tl) == {str(video): (96, 54)}
    make_video(video, 128, 72)  # replaced in place: another size, another inode or mtime
    assert source_sizes(tl) == {str(video): (128, 72)}
    assert probes == {str(video): 2}


def test_a_missing_file_is_not_remembered(tmp_path: Path, probes: Counter[str]) -> None:
    gone = str(tmp_path / "gone.mp4")
    assert estimate_inputs.probe_once(gone) == (False, None)
    assert estimate_inputs.probe_once(gone) == (False, None)
    assert probes == {gone: 2}
    assert estimate_inputs._PROBED == {}


def test_the_memory_is_bounded(
    tmp_path: Path, probes: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(estimate_inputs, "PROBE_MEMORY", 2)
    files = [make_video(tmp_path / f"{i}.mp4", 32, 18, frames=1) for i in range(3)]
    for path in files:
        estimate_inputs.probe_once(str(path))
    assert len(estimate_inputs._PROBED) == 2
    estimate_inputs.probe_once(str(files[0]))  # the oldest went first
    assert probes[str(files[0])] == 2

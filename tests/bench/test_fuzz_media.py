"""bench/fuzz_media.py: damaged files are the same for a seed, and a short run finds validate
and render agreeing (three files they disagreed on were found by it: a Matroska track with no
blocks, and garbage before a video's first keyframe, in two places)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import fuzz_media


def test_a_seed_damages_a_file_the_same_way_every_time(tmp_path: Path) -> None:
    made = fuzz_media.originals(tmp_path)
    first = [fuzz_media.damaged(seed, made) for seed in range(6)]
    assert first == [fuzz_media.damaged(seed, made) for seed in range(6)]
    assert len({body for _, body, _ in first}) == 6  # and each seed differently


def test_a_short_run_finds_validate_and_render_agreeing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert fuzz_media.main(["6"]) == 0, capsys.readouterr().out
    assert "validate / upload / render:" in capsys.readouterr().out

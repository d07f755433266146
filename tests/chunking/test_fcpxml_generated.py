"""An FCPXML a tool generates for Final Cut to import (tests/data/nle/fcpscene: fcpscene's
scene cuts, and the project Final Cut exported after importing them): it leaves out what Final
Cut finds in the media itself, such as an asset's ``hasVideo``."""

from __future__ import annotations

from pathlib import Path

import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import TrackKind

FILES = Path(__file__).parents[1] / "data" / "nle" / "fcpscene"


@pytest.mark.parametrize("name", ["2997 fps.fcpxml", "2997fps-rubric-clips.fcpxml"])
def test_an_asset_without_has_video_is_drawn_as_final_cut_reads_it(
    tmp_path: Path, name: str
) -> None:
    """The generated file's asset names a video format but no ``hasVideo``: the adapter took it
    for sound, so its six scenes rendered as sound over black. Final Cut read them as video
    (its re-export, the second file, says ``hasVideo="1"``); both now give the same cuts."""
    export = tmp_path / name
    export.write_bytes((FILES / name).read_bytes())
    (tmp_path / "2997 fps.mp4").touch()  # the loader checks media exist; it does not decode
    timeline = load(str(export))
    pictures = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips]
    sounds = [c for t in timeline.tracks if t.kind is TrackKind.AUDIO for c in t.clips]
    assert [(c.start, c.end) for c in pictures] == [(n * 150, n * 150 + 150) for n in range(6)]
    assert sounds == []  # neither file says the media has sound

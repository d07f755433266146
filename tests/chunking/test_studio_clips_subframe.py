"""An NLE places sound to the sample; the timeline places clips on frames. An audio clip cut
between two frames was moved onto the frame line with its source in point unchanged, so it
played up to half a frame early or late, and a sound split there (a level change, a razor cut)
skipped or repeated that much of itself at the split: a hiccup in music, a clipped syllable.
Now what a moved clip plays at its new first frame is what it would have played there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest

from chunking.timeline.otio import load_otio
from tests.media import write_wav
from workers.audio import mix_timeline

RATE = 48_000
#: A click every 0.1 s, from 0.1 s on: where each lands in the mix is what is measured.
CLICKS = [i / 10 for i in range(1, 30)]


def _metronome(path: Path) -> Path:
    data = np.zeros((2, 3 * RATE), dtype=np.float32)
    for at in CLICKS:
        data[:, round(at * RATE)] = 0.9
    return write_wav(path, data, RATE)


def _split_at(media: Path, cut: int, out: Path) -> Path:
    """A 24 fps OTIO timeline playing 2 s of the media as two clips split at sample ``cut``."""

    def at(samples: int) -> otio.opentime.RationalTime:
        return otio.opentime.RationalTime(samples, RATE)

    track = otio.schema.Track(kind="Audio")
    for name, lo, hi in (("A", 0, cut), ("B", cut, 2 * RATE)):
        ref = otio.schema.ExternalReference(
            target_url=str(media), available_range=otio.opentime.TimeRange(at(0), at(3 * RATE))
        )
        track.append(
            otio.schema.Clip(
                name=name,
                media_reference=ref,
                source_range=otio.opentime.TimeRange(at(lo), at(hi - lo)),
            )
        )
    timeline = otio.schema.Timeline(
        name="split", global_start_time=otio.opentime.RationalTime(0, 24)
    )
    timeline.tracks.append(track)
    otio.adapters.write_to_file(timeline, str(out))
    return out


def _clicks(mix: np.ndarray) -> list[int]:
    loud = np.flatnonzero(np.abs(mix).max(axis=0) > 0.3)
    return [int(i) for n, i in enumerate(loud) if n == 0 or i - loud[n - 1] > RATE // 100]


# 48 500 is 10.4 ms past frame 24 (snapped back onto it); 49 500 is 10.4 ms before frame 25.
@pytest.mark.parametrize("cut", [48_500, 49_500, 48_012])
def test_a_sound_split_between_frames_plays_on_unbroken_and_in_time(
    tmp_path: Path, cut: int
) -> None:
    timeline = load_otio(str(_split_at(_metronome(tmp_path / "m.wav"), cut, tmp_path / "s.otio")))
    heard = _clicks(mix_timeline(timeline))
    assert heard == [round(at * RATE) for at in CLICKS if at < 2]  # each to the sample

"""The merge's Opus sound on its own sample grid: Matroska keeps Opus's 312-sample pre-skip as
-7 ms (-336 samples), and the merge placed the sound 24 samples late and ended it 24 short."""

from __future__ import annotations

from contextlib import ExitStack
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from workers.audio_encode import write_audio_file
from workers.stitch_audio import AudioQueue

RATE = 48000


def test_opus_packets_keep_their_pre_skip_and_end_on_the_last_sample(tmp_path: Path) -> None:
    length = 65600  # 41 frames at 30 fps: not a whole number of 960-sample Opus frames
    t = np.arange(length) / RATE
    mix = np.stack([np.sin(2 * np.pi * 440 * t)] * 2).astype(np.float32) * 0.5
    audio = tmp_path / "audio.mka"
    write_audio_file(audio, mix, RATE, "mkv", 128_000, "libopus")
    with ExitStack() as stack:
        out = stack.enter_context(av.open(str(tmp_path / "out.ogg"), "w", format="ogg"))
        queue = AudioQueue(stack, out, str(audio), Fraction(length, RATE))
        out.start_encoding()
        queue.mux_until(None)
    first, last = queue.stamps[0], queue.stamps[-1]
    assert first[0] == -312  # OpusHead's pre-skip, not -336
    assert last[0] + last[1] == length
    with av.open(str(tmp_path / "out.ogg")) as result:
        played = sum(f.samples for f in result.decode(audio=0))
    assert played == length

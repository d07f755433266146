"""Sound placed by its timestamps: gaps in a source's audio, and trims that seek into it."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest
from av.audio.stream import AudioStream

from chunking.timeline.model import Clip, FileSource, Timeline, Track, TrackKind
from workers.audio import mix_timeline

RATE = 48_000
FPS = Fraction(25)
SECONDS = 3
#: Where the mixes stop: short of the file's end, whose last AAC frame decodes a little
#: differently from run to run (the codec's noise substitution draws random numbers).
UNTIL = 2.8
#: The red team's recorder: the AAC packets from 1.5 s to 1.7 s are lost, nothing else moves.
GAP = (Fraction(3, 2), Fraction(17, 10))
#: A splice whose second part's timestamps go back over the first's last 512 samples.
OVERLAP = 512
#: One packet dated 448 samples late, the next ones right again, as Ogg Vorbis dates the frame
#: where its block size changes: no gap, the sound goes on.
MISDATED = Fraction(1)
Signal = npt.NDArray[np.float32]


def sweep(seconds: float = SECONDS) -> Signal:
    """A stereo sweep from 200 Hz up: any shift of it shows in a cross-correlation. (Not
    noise: AAC codes noise as noise, which its decoder draws afresh after every seek.)"""
    t = np.arange(round(seconds * RATE)) / RATE
    phase = 2 * np.pi * (200 * t + 600 * t * t)
    return (0.3 * np.vstack([np.sin(phase), np.cos(phase)])).astype(np.float32)


def encode(path: Path, fmt: str, codec: str, signal: Signal, edit: str | None = None) -> Path:
    """The signal encoded in ``fmt``; ``edit`` "gap" leaves out the packets that start inside
    GAP, "overlap" moves the packets from GAP's start on back by OVERLAP samples, "misdate"
    dates the packet after MISDATED 448 samples late."""
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=RATE)
        assert isinstance(stream, AudioStream)
        stream.layout = "stereo"
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(signal), format="fltp",
                                           layout="stereo")  # fmt: skip
        frame.sample_rate, frame.pts, frame.time_base = RATE, 0, Fraction(1, RATE)
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            assert packet.pts is not None and packet.dts is not None
            at = packet.pts * packet.time_base
            if edit == "gap" and GAP[0] <= at < GAP[1]:
                continue
            if edit == "misdate" and MISDATED <= at < MISDATED + Fraction(1024, RATE):
                packet.pts, packet.dts = packet.pts + 448, packet.dts + 448  # in 1/RATE
            if edit == "overlap" and at >= GAP[0]:
                back = round(OVERLAP / RATE / packet.time_base)
                packet.pts, packet.dts = packet.pts - back, packet.dts - back
            container.mux(packet)
    return path


def mix(path: Path, source_start: float = 0.0) -> Signal:
    """The mix of a timeline that plays the file from ``source_start`` to its end."""
    frames = round((UNTIL - source_start) * FPS)
    clip = Clip(id="c", track_id="t", source=FileSource(str(path)), start=0, end=frames,
                source_start=source_start)  # fmt: skip
    track = Track(id="t", kind=TrackKind.AUDIO, clips=(clip,))
    timeline = Timeline(fps=FPS, width=64, height=48, frames=frames, sample_rate=RATE,
                        tracks=(track,))  # fmt: skip
    return mix_timeline(timeline)


def lag(mixed: Signal, reference: Signal, at: int, width: int = 2400, search: int = 12_000) -> int:
    """How late (in samples) the reference's stretch at ``at`` sounds in the mix."""
    piece = reference[0, at : at + width]
    lo = max(0, at - search)
    score = np.correlate(mixed[0, lo : at + width + search], piece, "valid")
    return lo + int(np.argmax(score)) - at


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("audio-gaps")
    signal = sweep()
    return {
        "gap.mp4": encode(root / "gap.mp4", "mp4", "aac", signal, "gap"),
        "gap.ts": encode(root / "gap.ts", "mpegts", "aac", signal, "gap"),
        "gap.mka": encode(root / "gap.mka", "matroska", "aac", signal, "gap"),
        "whole.webm": encode(root / "whole.webm", "webm", "libopus", signal),
        "gap.webm": encode(root / "gap.webm", "webm", "libopus", signal, "gap"),
        "overlap.mp4": encode(root / "overlap.mp4", "mp4", "aac", signal, "overlap"),
        "whole.mp4": encode(root / "whole.mp4", "mp4", "aac", signal),
        "misdated.mp4": encode(root / "misdated.mp4", "mp4", "aac", signal, "misdate"),
    }


@pytest.mark.parametrize("name", ["gap.mp4", "gap.ts", "gap.mka", "gap.webm"])
def test_sound_after_a_gap_stays_at_its_timestamps(sources: dict[str, Path], name: str) -> None:
    mixed, reference = mix(sources[name]), sweep()
    before = lag(mixed, reference, RATE)
    # Same offset after the gap as before it (0 but for a codec's own start, as ffmpeg has it),
    # where it used to come 9216 samples (192 ms, the dropped length) early.
    assert [lag(mixed, reference, round(t * RATE)) for t in (2.0, 2.5)] == [before, before]
    hole = mixed[:, round(1.52 * RATE) + before : round(1.68 * RATE) + before]
    assert not hole.any()  # the lost packets are silence, not the sound after them


@pytest.mark.parametrize("source_start", [0.0, 1.5121])  # 1.5121 s: the seek lands on it
def test_one_misdated_frame_is_no_gap(sources: dict[str, Path], source_start: float) -> None:
    misdated = mix(sources["misdated.mp4"], source_start)
    np.testing.assert_allclose(misdated, mix(sources["whole.mp4"], source_start), atol=1e-3)


def test_sound_whose_timestamps_go_back_plays_at_them_without_the_overlap(
    sources: dict[str, Path],
) -> None:
    mixed, reference = mix(sources["overlap.mp4"]), sweep()
    before = lag(mixed, reference, RATE)
    # At its timestamps (512 samples earlier than counting would put it), as ffmpeg has it.
    assert [lag(mixed, reference, round(t * RATE)) for t in (2.0, 2.5)] == [before - OVERLAP] * 2


@pytest.mark.parametrize(
    "name",
    ["gap.mp4", "gap.ts", "gap.mka", "whole.webm", "gap.webm", "overlap.mp4", "misdated.mp4"],
)
@pytest.mark.parametrize("source_start", [0.7, 1.2, 1.5, 1.5121, 1.6, 2.0, 2.36])
def test_a_trimmed_clip_lines_up_sample_exactly_with_the_untrimmed_one(
    sources: dict[str, Path], name: str, source_start: float
) -> None:
    whole = mix(sources[name])
    trimmed = mix(sources[name], source_start)
    shift = round(source_start * RATE)
    # From the in-point on (the seek's pre-roll has settled the decoder by then), sample for
    # sample, before and after the gap, whichever side of it the trim seeks to. AAC's decoder
    # differs by 1e-5 between runs (noise substitution); a sample's shift would be 0.01 or more.
    np.testing.assert_allclose(trimmed, whole[:, shift : shift + trimmed.shape[1]], atol=1e-3)

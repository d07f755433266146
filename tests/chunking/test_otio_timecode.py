"""Source times of exports that carry no media start count from the media's own timecode."""

from __future__ import annotations

import os
import time
from fractions import Fraction
from pathlib import Path

import pytest

from chunking.timeline.loader import load
from chunking.timeline.otio_timecode import media_start, timecode_frames, video_header
from tests.media import make_video

NTSC = Fraction(30000, 1001)


@pytest.mark.parametrize(
    ("text", "rate", "frame"),
    [
        ("01:00:00:00", Fraction(24), 86400),
        ("00:00:01:05", Fraction(25), 30),
        ("01:00:00:00", Fraction(24000, 1001), 86400),  # NDF at 23.976: labels count frames
        ("00:01:00;02", NTSC, 1800),  # drop-frame: ;00 and ;01 of minute 1 do not exist
        ("00:10:00;00", NTSC, 17982),  # every tenth minute keeps them
        ("01:00:00;00", NTSC, 107892),
        ("00:00:00:30", Fraction(30), None),  # no frame 30 at 30 fps
        ("1:2:3", Fraction(24), None),
    ],
)
def test_timecode_frames(text: str, rate: Fraction, frame: int | None) -> None:
    assert timecode_frames(text, rate) == frame


EVENT = (
    "001  AX       V     C        {src} {src_end} 01:00:00:00 01:00:01:00\n* {comment}: shot.mov\n"
)


def edl(folder: Path, src: str, src_end: str, comment: str = "FROM CLIP NAME") -> Path:
    """A one-event EDL of shot.mov at 24 fps."""
    path = folder / "cut.edl"
    event = EVENT.format(src=src, src_end=src_end, comment=comment)
    path.write_text(f"TITLE: cut\nFCM: NON-DROP FRAME\n\n{event}")
    return path


@pytest.mark.parametrize("comment", ["FROM CLIP NAME", "SOURCE FILE"])
def test_an_edl_event_plays_its_media_from_the_timecode_it_names(
    tmp_path: Path, comment: str
) -> None:
    make_video(tmp_path / "shot.mov", frames=72, fps=24, timecode="01:00:00:00")
    assert media_start(str(tmp_path / "shot.mov")) == (86400, 24)
    timeline = load(str(edl(tmp_path, "01:00:01:00", "01:00:02:00", comment)))
    (shot,) = [c for t in timeline.tracks for c in t.clips]
    assert (shot.start, shot.end, shot.source_start) == (0, 24, 1.0)  # not 3601 s in


def test_media_without_timecode_count_from_their_start(tmp_path: Path) -> None:
    make_video(tmp_path / "shot.mov", frames=72, fps=24)
    timeline = load(str(edl(tmp_path, "00:00:01:00", "00:00:02:00")))
    (shot,) = [c for t in timeline.tracks for c in t.clips]
    assert shot.source_start == 1.0


def test_a_source_time_before_the_media_timecode_counts_from_the_files_start(
    tmp_path: Path,
) -> None:
    make_video(tmp_path / "shot.mov", frames=72, fps=24, timecode="10:00:00:00")
    timeline = load(str(edl(tmp_path, "00:00:01:00", "00:00:02:00")))
    (shot,) = [c for t in timeline.tracks for c in t.clips]
    assert shot.source_start == 1.0


def make_bwf(path: Path, seconds: int, time_reference: int, rate: int = 48000) -> Path:
    """A broadcast WAV of a tone whose bext time reference is ``time_reference`` samples."""
    import av
    import numpy as np

    with av.open(str(path), "w", format="wav", options={"write_bext": "1"}) as out:
        out.metadata["time_reference"] = str(time_reference)
        stream = out.add_stream("pcm_s16le", rate=rate, layout="mono")
        tone = (np.sin(np.arange(rate * seconds) * 0.06) * 8000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(tone.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def test_production_sound_plays_from_its_broadcast_wav_time_reference(tmp_path: Path) -> None:
    make_bwf(tmp_path / "snd001.wav", seconds=10, time_reference=10 * 3600 * 48000)
    make_video(tmp_path / "cam001.mov", frames=240, fps=24, timecode="09:59:58:00")
    assert media_start(str(tmp_path / "snd001.wav")) == (1_728_000_000, 48000)
    cut = tmp_path / "cut.edl"
    cut.write_text(
        "TITLE: synced\nFCM: NON-DROP FRAME\n\n"
        "001  CAM001   V     C        10:00:02:00 10:00:04:00 01:00:00:00 01:00:02:00\n"
        "* FROM CLIP NAME: cam001.mov\n"
        "002  SND001   AA    C        10:00:02:00 10:00:04:00 01:00:00:00 01:00:02:00\n"
        "* FROM CLIP NAME: snd001.wav\n"
    )
    timeline = load(str(cut))
    starts = {c.source.path: c.source_start for t in timeline.tracks for c in t.clips}
    assert starts == {str(tmp_path / "cam001.mov"): 4.0, str(tmp_path / "snd001.wav"): 2.0}


@pytest.mark.timeout(30)
def test_a_playlist_named_as_media_is_not_followed_to_the_files_it_lists(tmp_path: Path) -> None:
    """An ``.m3u8`` an EDL or OTIO names is refused, not read through: FFmpeg's HLS demuxer
    opened what it listed (another file's rate and tags came back; a FIFO hung the import)."""
    make_video(tmp_path / "other.mp4", frames=10, fps=Fraction(50), size=(32, 18))
    playlist = tmp_path / "shot.m3u8"
    playlist.write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nother.mp4\n#EXT-X-ENDLIST\n"
    )
    assert video_header(str(tmp_path / "other.mp4")) is not None  # the listed file is readable
    assert video_header(str(playlist)) is None
    assert media_start(str(playlist)) is None


@pytest.mark.timeout(15)
def test_a_fifo_named_as_media_is_not_opened(tmp_path: Path) -> None:
    """A FIFO where a clip's file should be gives no header, at once (FFmpeg's open waits for
    a writer for ever: only the test's own alarm got it out)."""
    fifo = tmp_path / "shot.mov"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert video_header(str(fifo)) is None
    assert time.monotonic() - started < 5

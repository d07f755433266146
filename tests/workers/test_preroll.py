"""A chunk's pre-roll (the frames from the keyframe before its first frame up to it) decodes
only what its frames need: non-reference pictures shown before the first frame are skipped,
and every frame from the first on is the one a decode of the whole file gives
(workers.preroll, VideoSource)."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from workers.video_source import VideoSource

FPS = 30
FRAMES = 60
GOP = 30
#: (codec, container suffix, encoder options): B-frames that are references and ones that are
#: not (x264's pyramid), an open GOP; HEVC, whose pictures are never skipped.
_KEYS = f"keyint={GOP}:min-keyint={GOP}"
CASES = [
    ("libx264", ".mp4", {"x264-params": f"{_KEYS}:bframes=3:b-pyramid=normal:scenecut=0"}),
    ("libx264", ".mkv", {"x264-params": f"{_KEYS}:bframes=2:open-gop=1:scenecut=0"}),
    ("libx265", ".mkv", {"x265-params": f"{_KEYS}:bframes=4:log-level=error"}),
]


def _footage(path: Path, codec: str, options: dict[str, str]) -> Path:
    """320x180 moving noise and ramps: every frame differs, so encoders use B-frames."""
    rng = np.random.default_rng(11)
    ramp = np.tile(np.arange(320, dtype=np.uint8), (180, 1))
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=FPS)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.options = options
        for number in range(FRAMES):
            image = np.empty((180, 320, 3), np.uint8)
            image[..., 0] = np.roll(ramp, 5 * number, axis=1)
            image[..., 1] = np.roll(ramp, -3 * number, axis=0)[:180]
            image[..., 2] = rng.integers(0, 32, (180, 320), dtype=np.uint8) + 4 * number
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = number
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _case_id(case: tuple[str, str, dict[str, str]]) -> str:
    return f"{case[0]}{case[1]}"


def _made(case: tuple[str, str, dict[str, str]], tmp_path: Path) -> Path:
    codec, suffix, options = case
    if codec not in av.codecs_available:
        pytest.skip(f"{codec} is not in this FFmpeg")
    return _footage(tmp_path / f"clip{suffix}", codec, options)


@pytest.fixture(params=CASES, ids=_case_id)
def footage(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return _made(request.param, tmp_path)


@pytest.fixture(params=[case for case in CASES if case[0] == "libx264"], ids=_case_id)
def h264(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return _made(request.param, tmp_path)


def _pictures(path: Path, first: int, count: int, threads: int | None = 1) -> list[np.ndarray]:
    """Frames first..first+count-1 as a fresh source (a chunk starting at `first`) shows them."""
    source = VideoSource(str(path), "clip", threads=threads)
    try:
        return [source.picture_at(Fraction(n, FPS)).rgb.copy() for n in range(first, first + count)]
    finally:
        source.close()


def test_every_chunk_start_shows_the_frames_of_a_whole_decode(footage: Path) -> None:
    """From every first frame, the frames shown are bit for bit those decoded from the start,
    by one decoding thread or by FFmpeg's frame threads (which read the skip per packet)."""
    whole = _pictures(footage, 0, FRAMES)
    for threads in (1, None):
        for first in range(1, FRAMES - 1):
            shown = _pictures(footage, first, 2, threads)
            for offset, picture in enumerate(shown):
                at = f"frame {first + offset}, threads {threads}"
                assert np.array_equal(picture, whole[first + offset]), at


def test_a_chunk_late_in_a_gop_decodes_fewer_pictures_than_it_skips_past(
    h264: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk starting at the last frame of a GOP decoded every frame of that GOP (30) and
    threw all but one away; the non-reference pictures among them are no longer decoded."""
    footage = h264
    whole = _pictures(footage, 0, FRAMES)
    probe = VideoSource(str(footage), "clip")
    times = probe.pts
    probe.close()
    decoded: list[int] = []
    original = VideoSource._decoded

    def counting(self: VideoSource, *until: int | None) -> Iterator[av.VideoFrame]:
        for frame in original(self, *until):
            decoded.append(frame.pts)
            yield frame

    monkeypatch.setattr(VideoSource, "_decoded", counting)
    first = 2 * GOP - 1
    [picture] = _pictures(footage, first, 1)
    before = [pts for pts in decoded if pts is not None and times[GOP] <= pts < times[first]]
    assert len(before) < GOP * 3 // 4, f"{len(before)} of the GOP's {GOP - 1} pictures decoded"
    assert np.array_equal(picture, whole[first])

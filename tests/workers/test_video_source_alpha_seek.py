"""A WebM VP9 with alpha whose alpha stream has no keyframe where the picture has one decodes
from that keyframe as the whole file does.

libvpx's alpha plane is a VP9 stream of its own beside the picture's; a realtime encode
(ffmpeg 5's libvpx-vp9 at ``-deadline realtime``) puts scene-cut keyframes in the picture
only. A chunk starting after such a keyframe seeked to it and libvpx refused the alpha packet:
"corrupt video ... Invalid data found", where the direct render (decoding on from the start)
succeeded. The source now starts a keyframe further back, as for a seek that lands late.
"""

from __future__ import annotations

import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from workers.video_source import VideoSource

FPS = 30


def _rgba_source(path: Path, frames: int = 70) -> Path:
    """Lossless RGBA frames whose picture changes abruptly at frame 64 (bits of the frame
    number as blocks) and whose alpha never changes (a quarter of the width at 64)."""
    width, height = 320, 180
    with av.open(str(path), "w") as out:
        stream = out.add_stream("ffv1", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "bgra"
        for n in range(frames):
            img = np.zeros((height, width, 4), np.uint8)
            for bit in range(10):
                if n >> bit & 1:
                    img[: height // 2, bit * 32 : (bit + 1) * 32, :3] = 255
            img[height // 2 :, :, 1] = 128
            img[:, :, 3] = 255
            img[:, : width // 4, 3] = 64
            frame = av.VideoFrame.from_ndarray(img, format="rgba").reformat(format="bgra")
            frame.pts, frame.time_base = n, Fraction(1, FPS)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _misaligned_webm(tmp_path: Path) -> Path:
    """The realtime encode, checked to have the picture keyframe libvpx cannot start at."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("needs the ffmpeg command (scripts/test.sh installs it)")
    source = _rgba_source(tmp_path / "rgba.mkv")
    path = tmp_path / "alpha.webm"
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-i", str(source), "-c:v", "libvpx-vp9"]
        + ["-pix_fmt", "yuva420p", "-b:v", "500k", "-deadline", "realtime", "-cpu-used", "8"]
        + [str(path)],
        check=True,
        timeout=120,
    )
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        keys = [p.pts for p in container.demux(stream) if p.is_keyframe and p.pts]
        if not keys:
            pytest.skip("this ffmpeg put no second keyframe in the picture")
        container.seek(keys[0], stream=stream, backward=True, any_frame=False)
        decoder = av.CodecContext.create("libvpx-vp9", "r")
        try:
            for packet in container.demux(stream):
                decoder.decode(packet)
                break
        except av.error.InvalidDataError:
            return path  # the case at hand
    pytest.skip("this ffmpeg keeps the alpha's keyframes with the picture's")


def test_a_frame_after_a_picture_only_keyframe_decodes_as_in_a_whole_render(
    tmp_path: Path,
) -> None:
    path = _misaligned_webm(tmp_path)
    whole = VideoSource(str(path), "c")
    try:
        for n in range(68):  # frame by frame from the start, as a direct render decodes
            whole.picture_at(Fraction(n, FPS))
        expected = whole.picture_at(Fraction(68, FPS))
    finally:
        whole.close()
    chunk = VideoSource(str(path), "c")
    try:
        got = chunk.picture_at(Fraction(68, FPS))  # a chunk's first frame: a seek
    finally:
        chunk.close()
    assert np.array_equal(got.rgb, expected.rgb)
    assert got.alpha is not None and expected.alpha is not None
    assert np.array_equal(got.alpha, expected.alpha)
    assert abs(int(got.alpha[:, :60].mean()) - 64) < 4  # the alpha, not an opaque picture

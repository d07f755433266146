"""Segments encoded with other encoder thread counts stitch into one valid file of the same
quality: the segment cache and a job's render group leave the thread count out (nodes with
other core counts, or other slot counts, share chunks), so a merge may meet such a mixture.

x264 makes other bytes with other frame threads (same stream headers); x265 made the same
pictures but wrote its thread count into its stream headers (its informational SEI), so the
merge refused the mixture ("segments must be encoded with identical settings").
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from chunking.timeline.model import Timeline
from chunking.timeline.studio import load_project
from tests.helpers import file_clip
from tests.media import decode_rgb, project, video_track
from workers.encoder import segment_format
from workers.render import render_to_file
from workers.stitch import stitch

W, H, FPS, FRAMES = 256, 144, 25, 20
CHUNKS = [(0, 10), (10, FRAMES)]


def _textured_source(path: Path) -> Path:
    """A losslessly kept clip of smooth blotches sliding 3 px a frame (every frame needs motion
    search, and a lossy encode keeps most of it)."""
    wide = W + 3 * FRAMES
    coarse = np.random.default_rng(7).integers(0, 256, (H // 8, wide // 8, 3), np.uint8)
    texture = np.asarray(Image.fromarray(coarse).resize((wide, H), Image.Resampling.BICUBIC))
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("ffv1", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "bgr0"
        for i in range(FRAMES):
            rgb = np.ascontiguousarray(texture[:, 3 * i : 3 * i + W])
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, "rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def _psnr(frames: list[np.ndarray], reference: list[np.ndarray]) -> float:
    error = np.mean([(f.astype(float) - r) ** 2 for f, r in zip(frames, reference, strict=True)])
    return float(10 * np.log10(255**2 / error))


def _stitched(tl: Timeline, folder: Path, container: str, threads: list[int]) -> Path:
    """The timeline's chunks, each encoded with its own thread count, stitched."""
    folder.mkdir()
    segments = []
    for index, ((start, end), count) in enumerate(zip(CHUNKS, threads, strict=True)):
        path = str(folder / f"{index}.seg")
        fmt = segment_format(tl.export)
        render_to_file(tl, path, start=start, end=end, audio=False, file_format=fmt, threads=count)
        segments.append((path, start, end))
    output = folder / f"movie.{container}"
    stitch(segments, Fraction(FPS), str(output), container)
    return output


@pytest.mark.parametrize(
    ("codec", "container"), [("h264", "mp4"), ("hevc", "mp4"), ("vp9", "webm"), ("av1", "mkv")]
)
def test_segments_of_other_thread_counts_stitch_into_one_file_of_the_same_quality(
    tmp_path: Path, codec: str, container: str
) -> None:
    # Given a timeline whose picture moves everywhere, and its exact frames
    src = _textured_source(tmp_path / "src.mkv")
    doc = project([video_track("v", [file_clip("a", src, 0, FRAMES / FPS)])], fps=FPS, size=(W, H))
    tl = load_project(doc, str(tmp_path))
    reference = decode_rgb(src)
    tl = dataclasses.replace(
        tl, export=dataclasses.replace(tl.export, codec=codec, container=container, preset="fast")
    )
    # When its chunks are encoded with one thread each, and with 1 and 4 threads
    alike = _stitched(tl, tmp_path / "alike", container, [1, 1])
    mixed = _stitched(tl, tmp_path / "mixed", container, [1, 4])
    # Then the mixture stitches (the merge checks its frames and timestamps), every frame
    # decodes, and its quality is that of the segments encoded alike
    frames = decode_rgb(mixed)
    assert len(frames) == FRAMES
    assert abs(_psnr(frames, reference) - _psnr(decode_rgb(alike), reference)) < 0.5

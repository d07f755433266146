"""Sources priced at their own size: the probe (``estimate_inputs.source_sizes``) and that the
estimate and the submit quote (whose complexity a job record keeps and the rate is learned
against) both price a file larger than the canvas by its pixels."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import av
import numpy as np
import pytest
import redis

from chunking import weights as w
from chunking.timeline.model import Timeline
from chunking.timeline.studio import load_project
from common.settings import Settings
from orchestrator.api_estimate import estimate_job
from orchestrator.costing import NODE_CLASS, record_throughput
from orchestrator.estimate_inputs import source_sizes
from orchestrator.job_store import JobStore
from orchestrator.planning import quote
from tests.helpers import clip, file_clip
from tests.media import make_image, project, video_track
from tests.orchestrator.test_api_estimate import heartbeat

CANVAS = (64, 36)


def make_video(path: Path, width: int, height: int, frames: int = 6) -> Path:
    """A few frames of grey video at this size."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            picture = np.full((height, width, 3), 40 * i % 255, dtype=np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        out.mux(stream.encode(None))
    return path


def showing(tmp_path: Path, *clips: dict) -> Timeline:
    """A 64x36 timeline of one second with each clip on a track of its own."""
    tracks = [video_track(f"v{i}", [c]) for i, c in enumerate(clips)]
    return load_project(project(tracks, size=CANVAS, duration=1.0), str(tmp_path))


def test_video_files_are_probed_and_the_rest_left_to_the_canvas(tmp_path: Path) -> None:
    big = make_video(tmp_path / "big.mp4", 256, 144)
    logo = make_image(tmp_path / "logo.png", (256, 144), (255, 0, 0, 255))
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    tl = showing(
        tmp_path,
        file_clip("a", big, 0, 1),
        file_clip("b", big, 0, 1, source_start=0.1),  # the same file: probed once
        file_clip("c", logo, 0, 1),  # a still: drawn once, not probed
        file_clip("d", broken, 0, 1),  # cannot be opened: the render names it
        clip("e", 0, 1),  # generated
    )
    assert source_sizes(tl) == {str(big): (256, 144)}


@pytest.fixture
def client(redis_url: str) -> redis.Redis:
    """The test Redis, decoding as the job store does."""
    return JobStore.from_url(redis_url).redis


def test_the_estimate_and_the_quote_price_a_larger_file_alike(
    client: redis.Redis, tmp_path: Path
) -> None:
    heartbeat(client, "render@a", 2)
    record_throughput(client, NODE_CLASS, 1.0, 100, 1.0)
    settings = dataclasses.replace(Settings.from_env({}), hourly_rate=0.36)
    own = showing(tmp_path, file_clip("a", make_video(tmp_path / "own.mp4", *CANVAS), 0, 1))
    big = showing(tmp_path, file_clip("a", make_video(tmp_path / "big.mp4", 256, 144), 0, 1))

    def priced(tl: Timeline) -> tuple[float, float]:
        estimated = estimate_job(client, settings, tl, learn_features=False).complexity
        quoted = quote(tl, client, slots=2, chunk_frames=None, hourly_rate=0.36).complexity
        return estimated, quoted

    (own_estimate, own_quote), (big_estimate, big_quote) = priced(own), priced(big)
    assert own_estimate == pytest.approx(own_quote)
    assert big_estimate == pytest.approx(big_quote)
    # 256x144 is 16 canvases of pixels to decode and scale down, where the canvas's own file
    # is decoded at 64x36 and not scaled; both are composited over the canvas.
    reference = 1920 * 1080
    extra = (w.DECODE + w.RESIZE) * 256 * 144 / reference - w.DECODE * 64 * 36 / reference
    assert big_estimate - own_estimate == pytest.approx(extra)

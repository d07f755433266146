"""A frame composited band by band straight into yuv420p planes (workers.banded, issue 17): the
bytes of the 8-bit frame then kernels.rgb_to_yuv420p, whatever the band and picture sizes."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from bench.throughput_project import make_media, write_project
from chunking.timeline.loader import load
from chunking.timeline.model import Timeline
from workers import banded, kernels, render
from workers import compositor as compositor_module
from workers.color import saturation_matrix
from workers.compositor import Compositor
from workers.encoder import EncoderChoice, to_video_frame, writes_yuv420p, yuv420p_target
from workers.layer import Layer

RNG = np.random.default_rng(1709)


def _needs_c() -> None:
    if not kernels.compiled():
        pytest.skip("the C kernels are not built here")


def _planes(height: int, width: int, pad: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Y, U, V views with `pad` bytes past each row (as an AVFrame's aligned lines), filled
    with a byte no conversion of these pictures leaves, so a sample not written shows."""
    ch, cw = (height + 1) // 2, (width + 1) // 2
    y = np.full((height, width + pad), 7, dtype=np.uint8)[:, :width]
    u = np.full((ch, cw + pad), 7, dtype=np.uint8)[:, :cw]
    v = np.full((ch, cw + pad), 7, dtype=np.uint8)[:, :cw]
    return y, u, v


def _frame(height: int, width: int) -> tuple[banded.Pending, list[Layer | banded.Pending]]:
    rgb8 = RNG.integers(0, 256, (height, width, 3), dtype=np.uint8)
    gain = RNG.random((height, width), dtype=np.float32)
    base = banded.Pending(rgb8, (kernels.Affine(saturation_matrix(1.3), 0.02), kernels.Gain(gain)))
    lh, lw = height // 2 + 1, width // 2 + 1
    alpha = RNG.random((lh, lw), dtype=np.float32)
    alpha[alpha < 0.4] = 0
    logo = Layer(RNG.random((lh, lw, 3), dtype=np.float32), alpha, width // 3, height // 3, 0.8)
    return base, [logo]


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (5, 7), (37, 101), (90, 160)])
@pytest.mark.parametrize("band_rows", [1, 2, 3, 4, 64])
def test_the_fused_planes_are_those_of_the_frame(
    size: tuple[int, int], band_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bands of odd and even rows: a chroma row's four source rows span two bands."""
    _needs_c()
    height, width = size
    monkeypatch.setattr(banded, "BAND_FLOATS", 3 * width * band_rows)
    base, layers = _frame(height, width)
    rgb8 = banded.composite(base, layers)
    assert rgb8 is not None
    want = _planes(height, width, 0)
    assert kernels.rgb_to_yuv420p(rgb8, want)
    got = _planes(height, width, 5)
    assert banded.composite_yuv420p(base, layers, got)
    reference = kernels.numpy_rgb_to_yuv420p(rgb8)
    for ours, theirs, numpy in zip(got, want, reference, strict=True):
        assert ours.tobytes() == theirs.tobytes() == np.ascontiguousarray(numpy).tobytes()
    # The padding past each row is left alone.
    assert all((p.base[:, p.shape[1] :] == 7).all() for p in got)


def test_what_composite_refuses_writes_nothing() -> None:
    _needs_c()
    base, _ = _frame(8, 8)
    planes = _planes(8, 8, 0)
    assert not banded.composite_yuv420p(base, [Layer(RNG.random((4, 8, 3))[:, ::2])], planes)
    with kernels.numpy_only():
        assert not banded.composite_yuv420p(base, [], planes)
    assert all((p == 7).all() for p in planes)


def test_planes_of_the_wrong_size_are_refused() -> None:
    _needs_c()
    base, layers = _frame(8, 10)
    with pytest.raises(ValueError, match="yuv420p planes"):
        banded.composite_yuv420p(base, layers, _planes(8, 12, 0))


def _bench_timeline(tmp_path: Path) -> Timeline:
    make_media(tmp_path, 320, 180, 4)
    write_project(tmp_path / "p.json", 320, 180, 4 / 30, "veryfast", 0.0)
    return load(str(tmp_path / "p.json"))


def test_a_render_encodes_the_frames_the_rgb_path_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A default (x264) render of the benchmark project: every frame goes from the bands
    straight into the encoder's frame, whose planes and tags are what to_video_frame makes of
    the same layers' RGB frame (checked on the very layers, in the render)."""
    _needs_c()
    timeline = _bench_timeline(tmp_path)
    choice = EncoderChoice("libx264", "yuv420p", {})
    assert writes_yuv420p(choice)
    checked: list[bool] = []

    def checking(
        base: banded.Pending, layers: list[Layer | banded.Pending], planes: tuple[np.ndarray, ...]
    ) -> bool:
        done = banded.composite_yuv420p(base, layers, planes)  # type: ignore[arg-type]
        rgb8 = banded.composite(base, layers)
        assert done and rgb8 is not None
        want = to_video_frame(rgb8, choice)
        same = [p.tobytes() == bytes(w) for p, w in zip(planes, want.planes, strict=True)]
        checked.append(all(same))
        return done

    monkeypatch.setattr(compositor_module, "composite_yuv420p", checking)
    render.render_to_file(timeline, str(tmp_path / "out.mp4"), audio=False, threads=1)
    assert checked == [True] * 4
    frames = list(Compositor(timeline).frames(0, 4, yuv420p_target))
    assert all(isinstance(f, av.VideoFrame) for f in frames)
    want = to_video_frame(np.zeros((180, 320, 3), np.uint8), choice)
    assert all((f.colorspace, f.color_range) == (want.colorspace, want.color_range) for f in frames)

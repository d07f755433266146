"""A frame composited band by band (workers.banded, issue 17's CPU per frame): the same bits as
the plain way (the bottom layer's float canvas, each layer blended over it, then to 8 bits)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.throughput_project import make_media, write_project
from chunking.timeline.loader import load
from workers import banded, kernels
from workers import compositor as compositor_module
from workers.color import saturation_matrix
from workers.compositor import Compositor
from workers.effects import vignette_mask
from workers.layer import Layer, blend

RNG = np.random.default_rng(17)


def _needs_c() -> None:
    if not kernels.compiled():
        pytest.skip("the C kernels are not built here")


def _image(height: int, width: int, channels: int = 3) -> np.ndarray:
    shape = (height, width, channels) if channels else (height, width)
    return RNG.random(shape, dtype=np.float32)


def _plain(base: banded.Pending, layers: list[Layer | banded.Pending]) -> np.ndarray:
    canvas = base.image()
    for layer in layers:
        blend(canvas, layer.layer() if isinstance(layer, banded.Pending) else layer)
    return kernels.to_uint8(canvas)


def _pending(height: int, width: int, x: int, y: int, opacity: float) -> banded.Pending:
    """An 8-bit layer with a colour matrix and a vignette still to run."""
    rgb8 = RNG.integers(0, 256, (height, width, 3), dtype=np.uint8)
    steps = (kernels.Affine(saturation_matrix(1.2), 0.05), kernels.Gain(_image(height, width, 0)))
    return banded.Pending(rgb8, steps, x, y, opacity)


def _alpha(height: int, width: int) -> np.ndarray:
    alpha = _image(height, width, 0)
    alpha[alpha < 0.4] = 0  # transparent runs, which the C blend skips by the block
    return alpha


@pytest.mark.parametrize("size", [(1, 1), (37, 101), (90, 160)])
def test_banded_frame_has_the_plain_frames_bits(size: tuple[int, int]) -> None:
    _needs_c()
    height, width = size
    rgb8 = RNG.integers(0, 256, (height, width, 3), dtype=np.uint8)
    matrix = saturation_matrix(1.3)
    base = banded.Pending(
        rgb8, (kernels.Gain(vignette_mask(height, width, 0.5, 0.3)), kernels.Affine(matrix))
    )
    strip = Layer(_image(9, 40), _alpha(9, 40), 3, height - 4)  # partly below the canvas
    logo = Layer(_image(20, 30), _alpha(20, 30), -7, -5, 0.6)  # partly off the top left
    logo.more = (Layer(_image(4, 5), _alpha(4, 5), 11, 2),)  # a piece drawn at logo's opacity
    inner = RNG.integers(0, 256, (height, width + 9, 3), dtype=np.uint8)[:, 4 : 4 + width // 2]
    layers: list[Layer | banded.Pending] = [
        Layer(_image(height // 2 + 1, width // 2 + 1), None, width // 3, 2, 0.8),
        _pending(height // 2 + 1, width // 2 + 1, (width - 1) // 2, height // 3, 0.8),
        banded.Pending(inner, (kernels.Gain(_image(height, width // 2, 0)),), 0, 0, 1.0),
        Layer(_image(5, 6), None, 1, 1),  # opaque: copied
        strip,
        logo,
        Layer(_image(5, 6), None, width + 3, 0),  # wholly off the canvas
        Layer(_image(5, 6), None, 0, 0, 0.0),  # fully transparent
    ]
    got = banded.composite(base, layers)
    assert got is not None
    want = _plain(base, layers)
    assert got.tobytes() == want.tobytes()
    assert not np.array_equal(got, kernels.to_uint8(base.image()))  # the layers do show


def test_bands_cover_a_frame_of_many_bands(monkeypatch: pytest.MonkeyPatch) -> None:
    _needs_c()
    monkeypatch.setattr(banded, "BAND_FLOATS", 3 * 50 * 4)  # 4 rows a band: the last one short
    rgb8 = RNG.integers(0, 256, (31, 50, 3), dtype=np.uint8)
    base = banded.Pending(rgb8, (kernels.Affine(saturation_matrix(0.7), 0.02),))
    layers = [Layer(_image(13, 20), _alpha(13, 20), 5, 6, 0.9)]
    got = banded.composite(base, layers)
    assert got is not None and got.tobytes() == _plain(base, layers).tobytes()


def test_a_pending_layer_past_the_canvas_is_refused() -> None:
    """Its gain maps are the whole picture's: the kernel takes it only uncut."""
    _needs_c()
    base = banded.Pending(RNG.integers(0, 256, (20, 30, 3), dtype=np.uint8), ())
    assert banded.composite(base, [_pending(10, 10, 5, 5, 0.5)]) is not None
    for x, y in ((-1, 0), (0, -1), (21, 0), (0, 11)):
        assert banded.composite(base, [_pending(10, 10, x, y, 0.5)]) is None


def test_layers_the_c_blend_does_not_take_are_refused() -> None:
    _needs_c()
    rgb8 = RNG.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    base = banded.Pending(rgb8, ())
    float64 = Layer(_image(4, 4).astype(np.float64))  # type: ignore[arg-type]
    strided = Layer(_image(4, 8)[:, ::2])
    assert banded.composite(base, [float64]) is None
    assert banded.composite(base, [strided]) is None
    with kernels.numpy_only():
        assert banded.composite(base, []) is None


def test_the_benchmark_frames_are_those_of_the_plain_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bench/render_throughput.py's three layers, small: the compositor's banded frames equal
    those it makes with the band kernel refused (the plain way), bit for bit."""
    _needs_c()
    make_media(tmp_path, 320, 180, 4)
    write_project(tmp_path / "p.json", 320, 180, 4 / 30, "veryfast", 0.0)
    timeline = load(str(tmp_path / "p.json"))
    calls: list[bool] = []

    def counted(base: banded.Pending, layers: list[Layer | banded.Pending]) -> np.ndarray | None:
        done = banded.composite(base, layers)
        # The picture-in-picture goes to float band by band too; the logo (alpha) is kept.
        kinds = [type(layer) for layer in layers]
        calls.append(done is not None and kinds == [banded.Pending, Layer])
        return done

    monkeypatch.setattr(compositor_module, "composite", counted)
    ours = list(Compositor(timeline).frames(0, 4))
    assert calls == [True] * 4
    monkeypatch.setattr(compositor_module, "composite", lambda base, layers: None)
    plain = list(Compositor(timeline).frames(0, 4))
    # And as before the bands: no bottom layer left pending, its float canvas made up front.
    monkeypatch.setattr(compositor_module, "plan_steps", lambda cc, fx, t, h, w: ([], True, fx))
    before = list(Compositor(timeline).frames(0, 4))
    for got, want, old in zip(ours, plain, before, strict=True):
        assert got.tobytes() == want.tobytes() == old.tobytes()

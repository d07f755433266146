"""Per-pixel effects and colour correction written into the layer's own array (issue 17's
memory target): the same bits as a fresh result, one frame-sized array fewer at once."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from chunking.timeline.model import ColorCorrection, Effect
from workers import kernels
from workers.color import apply_color
from workers.effects import apply_effects

CHAIN = [
    Effect(id="v", kind="vignette", params={"strength": 0.5, "radius": 0.6}),
    Effect(id="s", kind="saturation", params={"amount": 1.3}),
]


def _frame(height: int = 360, width: int = 640) -> np.ndarray:
    return np.random.default_rng(3).random((height, width, 3), dtype=np.float32)


@pytest.mark.parametrize(
    "effects",
    [
        CHAIN,
        CHAIN[::-1],
        [Effect(id="v", kind="vignette", params={"strength": 0.5, "radius": 0.6}, intensity=0.5)],
        [Effect(id="p", kind="sepia", params={"amount": 1.0}), *CHAIN],
        [Effect(id="p", kind="sepia", params={"amount": 0.7})],
        [Effect(id="g", kind="grayscale", params={"amount": 0.4})],
        [Effect(id="h", kind="huerotate", params={"degrees": 40})],
        [Effect(id="b", kind="blur", params={"radius": 2}), *CHAIN],
    ],
)
def test_scratch_gives_the_same_bits(effects: list[Effect]) -> None:
    rgb = _frame()
    fresh, _ = apply_effects(rgb, None, effects, 7)
    scratch, _ = apply_effects(rgb.copy(), None, effects, 7, scratch=True)
    assert fresh.tobytes() != rgb.tobytes()  # the chain does change the picture
    assert scratch.tobytes() == fresh.tobytes()


def test_without_scratch_the_input_is_left_alone() -> None:
    rgb = _frame()
    before = rgb.copy()
    apply_effects(rgb, None, CHAIN, 7)
    assert rgb.tobytes() == before.tobytes()


def test_read_only_input_is_not_written() -> None:
    rgb = _frame()
    rgb.setflags(write=False)
    out, _ = apply_effects(rgb, None, CHAIN, 7, scratch=True)
    assert out is not rgb


def test_scratch_chain_allocates_no_second_frame() -> None:
    rgb = _frame(540, 960)
    frame_bytes = rgb.nbytes
    apply_effects(rgb.copy(), None, CHAIN, 7, scratch=True)  # warm the vignette mask cache
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        out, _ = apply_effects(rgb, None, CHAIN, 7, scratch=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out is rgb
    assert peak < frame_bytes / 4  # before: a new frame per effect


def test_colour_matrix_in_place_same_bits() -> None:
    rgb = _frame()
    cc = ColorCorrection(brightness=0.05, contrast=1.1, saturation=1.2)
    fresh = apply_color(rgb, cc)
    mine = rgb.copy()
    assert apply_color(mine, cc, scratch=True).tobytes() == fresh.tobytes()


@pytest.mark.parametrize("numpy_steps", [False, True])
def test_kernels_write_into_out(numpy_steps: bool) -> None:
    rgb = _frame()
    gain = np.linspace(0.2, 1.5, rgb.shape[0] * rgb.shape[1], dtype=np.float32)
    gain = gain.reshape(rgb.shape[0], rgb.shape[1], 1)
    matrix = np.array([[1.1, -0.05, -0.05], [0.0, 0.9, 0.1], [0.2, 0.2, 0.6]], np.float32)
    if numpy_steps:
        with kernels.numpy_only():
            want_g, want_a = kernels.gain_clip(rgb, gain), kernels.affine_clip(rgb, matrix, 0.1)
            got_g = kernels.gain_clip(rgb.copy(), gain, out=np.empty_like(rgb))
            mine = rgb.copy()
            got_a = kernels.affine_clip(mine, matrix, 0.1, out=mine)
    else:
        want_g, want_a = kernels.gain_clip(rgb, gain), kernels.affine_clip(rgb, matrix, 0.1)
        mine = rgb.copy()
        got_g = kernels.gain_clip(mine, gain, out=mine)
        assert got_g is mine
        mine = rgb.copy()
        got_a = kernels.affine_clip(mine, matrix, 0.1, out=mine)
        assert got_a is mine
    assert got_g.tobytes() == want_g.tobytes()
    assert got_a.tobytes() == want_a.tobytes()


def test_out_of_the_wrong_shape_is_refused() -> None:
    rgb = _frame()
    with pytest.raises(ValueError, match="out must be"):
        kernels.gain_clip(rgb, rgb[..., :1], out=np.empty((2, 2, 3), np.float32))

"""A layer's conversion to float with its colour matrix and leading per-pixel effects fused
into one pass (workers.layer_steps, issue 17's CPU per frame): the same bits as the steps one
after the other, with the C kernels and with the NumPy reference."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chunking.timeline.model import ColorCorrection, Effect
from chunking.timeline.studio import load_project
from tests.helpers import file_clip
from tests.media import make_video, project, video_track
from workers import compositor as compositor_module
from workers import kernels
from workers.color import apply_color, saturation_matrix
from workers.compositor import Compositor
from workers.effects import apply_effects, vignette_mask
from workers.layer_steps import float_layer

VIGNETTE = Effect(id="v", kind="vignette", params={"strength": 0.5, "radius": 0.6})
SATURATION = Effect(id="s", kind="saturation", params={"amount": 1.3})
PIP = ColorCorrection(brightness=0.05, contrast=1.1, saturation=1.2)

CASES = {
    # (correction, effects, how many effects are left to run after, whether the correction is)
    "the bench's base layer": (ColorCorrection(), [VIGNETTE, SATURATION], 0, False),
    "the bench's picture-in-picture": (PIP, [], 0, False),
    "matrix then effects": (PIP, [SATURATION, VIGNETTE], 0, False),
    "sepia and hue": (
        ColorCorrection(hue=30),
        [Effect(id="p", kind="sepia"), Effect(id="h", kind="huerotate", params={"degrees": 40})],
        0,
        False,
    ),
    "a blur stops the chain": (
        ColorCorrection(),
        [VIGNETTE, Effect(id="b", kind="blur", params={"radius": 2}), SATURATION],
        2,
        False,
    ),
    "part intensity stops it": (
        ColorCorrection(),
        [
            Effect(id="s", kind="saturation", params={"amount": 1.3}, intensity=0.5),
            VIGNETTE,
        ],
        2,
        False,
    ),
    "zero intensity is skipped": (
        ColorCorrection(),
        [Effect(id="x", kind="sepia", intensity=0.0), VIGNETTE],
        0,
        False,
    ),
    "no-op parameters are skipped": (
        ColorCorrection(),
        [Effect(id="s", kind="saturation", params={"amount": 1.0}), VIGNETTE],
        0,
        False,
    ),
    "gamma keeps the correction apart": (
        ColorCorrection(saturation=1.2, gamma=1.4),
        [VIGNETTE],
        1,
        True,
    ),
    "tones keep it apart": (ColorCorrection(contrast=1.2, shadows=0.3), [VIGNETTE], 1, True),
    "contrast alone is no matrix": (ColorCorrection(contrast=1.2), [VIGNETTE], 1, True),
}


@contextlib.contextmanager
def _backend(name: str) -> Iterator[None]:
    if name == "numpy":
        with kernels.numpy_only():
            yield
    else:
        if not kernels.compiled():
            pytest.skip("the C kernels are not built here")
        yield


def _picture(height: int, width: int) -> np.ndarray:
    return np.random.default_rng(5).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _separately(rgb8: np.ndarray, cc: ColorCorrection, effects: list[Effect]) -> np.ndarray:
    """What the compositor did before: convert, correct, then each effect, in turn."""
    rgb = kernels.to_float(rgb8)
    rgb = apply_color(rgb, cc, scratch=True)
    return apply_effects(rgb, None, effects, 9, scratch=True)[0]


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("size", [(90, 160), (7, 33)])
def test_fused_layer_has_the_bits_of_the_separate_steps(
    backend: str, name: str, size: tuple[int, int]
) -> None:
    cc, effects, rest_count, color_left = CASES[name]
    rgb8 = _picture(*size)
    with _backend(backend):
        want = _separately(rgb8, cc, effects)
        rgb, left, rest = float_layer(rgb8, cc, effects, 9)
        if left:
            rgb = apply_color(rgb, cc, scratch=True)
        got, _ = apply_effects(rgb, None, rest, 9, scratch=True)
    assert left is color_left
    assert len(rest) == rest_count
    assert got.dtype == np.float32
    assert got.tobytes() == want.tobytes()
    assert not np.array_equal(got, kernels.to_float(rgb8))  # the case does change the picture


def test_the_bench_chain_runs_whole_in_the_conversion() -> None:
    cc, effects, _, _ = CASES["the bench's base layer"]
    _, left, rest = float_layer(_picture(36, 64), cc, effects, 0)
    assert (left, rest) == (False, [])


@pytest.mark.parametrize("size", [(1, 1), (3, 1001), (61, 67)])
def test_to_float_steps_equals_the_kernels_one_by_one(size: tuple[int, int]) -> None:
    if not kernels.compiled():
        pytest.skip("the C kernels are not built here")
    rgb8 = _picture(*size)
    gain = vignette_mask(*size, 0.7, 0.1)
    matrix = saturation_matrix(1.7) * np.float32(1.1)
    steps = [kernels.Affine(matrix, -0.03), kernels.Gain(gain), kernels.Affine(matrix)]
    want = kernels.to_float(rgb8)
    want = kernels.affine_clip(want, matrix, -0.03)
    want = kernels.gain_clip(want, gain)
    want = kernels.affine_clip(want, matrix)
    assert kernels.to_float_steps(rgb8, steps).tobytes() == want.tobytes()
    with kernels.numpy_only():
        reference = kernels.to_float_steps(rgb8, steps)
    # The NumPy matrix product may order its three products differently (kernels.py): 2 ulp.
    np.testing.assert_allclose(reference, want, rtol=0, atol=4.8e-7)


@pytest.mark.parametrize("order", ["gain first", "gain last", "gain alone"])
def test_blocks_with_a_gain_of_one_come_out_as_the_separate_steps(order: str) -> None:
    """The fused pass skips a gain map's step where its gains are all 1 (the middle of a
    vignette): the samples must be those of the step done everywhere."""
    if not kernels.compiled():
        pytest.skip("the C kernels are not built here")
    size = (5, 1500)
    rgb8 = _picture(*size)
    gain = np.ones(size, np.float32)
    gain[2, 700:710] = 0.5  # one block of 512 pixels is darkened, the rest are all ones
    matrix = saturation_matrix(1.7) * np.float32(1.1)  # pushes samples past 1 before the clip
    steps = {
        "gain first": [kernels.Gain(gain), kernels.Affine(matrix, -0.02)],
        "gain last": [kernels.Affine(matrix, -0.02), kernels.Gain(gain)],
        "gain alone": [kernels.Gain(gain)],
    }[order]
    want = kernels.to_float(rgb8)
    for step in steps:
        if isinstance(step, kernels.Gain):
            want = kernels.gain_clip(want, step.gain)
        else:
            want = kernels.affine_clip(want, step.matrix, step.offset)
    got = kernels.to_float_steps(rgb8, steps)
    assert got.tobytes() == want.tobytes()
    assert not np.array_equal(got[2, 700:710], kernels.to_float(rgb8)[2, 700:710])


def test_to_float_steps_without_steps_is_to_float() -> None:
    rgb8 = _picture(5, 9)
    assert kernels.to_float_steps(rgb8, []).tobytes() == kernels.to_float(rgb8).tobytes()


def _bench_like(tmp_path: Path) -> dict[str, Any]:
    """The throughput benchmark's two video layers, small: a vignetted, saturated full-frame
    clip under a colour-corrected, half-size, 80 % opaque copy of it."""
    src = make_video(tmp_path / "src.mp4", frames=20, gop=7)
    corrected = {"brightness": 0.05, "contrast": 1.1, "saturation": 1.2}
    over = {"scale_x": 0.5, "scale_y": 0.5, "position_x": 0.1, "position_y": 0.1}
    return project(
        [
            video_track("bottom", [file_clip("base", src, 0, 0.6, effects=["vig", "sat"])]),
            video_track(
                "top",
                [
                    file_clip(
                        "pip", src, 0, 0.6, opacity=0.8, transform=over, color_correction=corrected
                    )
                ],
            ),
        ],
        effects=[
            {"id": "vig", "effect_type": "Vignette", "params": {"strength": 0.5, "radius": 0.6}},
            {"id": "sat", "effect_type": "Saturation", "params": {"amount": 1.3}},
        ],
    )


def _frames(doc: dict[str, Any], frames: list[int]) -> list[bytes]:
    compositor = Compositor(load_project(doc, "."))
    try:
        out = [compositor.frame(t).tobytes() for t in frames]
        # Neither layer goes to a whole float array (workers.banded: their steps run band by
        # band in the kernel), so none is kept from frame to frame.
        kept = compositor._buffers
        assert compositor_module.float_layer is not float_layer or sorted(kept) == []
        return out
    finally:
        compositor.close()


def test_compositor_frames_match_the_separate_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = _bench_like(tmp_path)
    fused = _frames(doc, list(range(12)))
    # A range that starts late (a chunk) renders its frames like the whole does, though the
    # layers' float arrays are kept from frame to frame.
    assert _frames(doc, [7, 8, 11]) == [fused[7], fused[8], fused[11]]

    def separately(
        rgb8: np.ndarray, cc: ColorCorrection, effects: list[Effect], frame: int, reuse: Any = None
    ) -> tuple[np.ndarray, bool, list[Effect]]:
        return kernels.to_float(rgb8), True, list(effects)

    monkeypatch.setattr(compositor_module, "float_layer", separately)
    monkeypatch.setattr(compositor_module, "plan_steps", lambda cc, fx, t, h, w: ([], True, fx))
    assert _frames(doc, list(range(12))) == fused
    assert len(set(fused)) > 6  # the frames differ: the test compares moving pictures

"""The GPU compositor's seam (workers.arrays): how a backend is chosen, and that the GPU code path
renders every effect and transition like the CPU path.

Where no GPU is usable the GPU path runs as CuPy would run it, with NumPy standing in for CuPy
(CLOUDRENDER_COMPOSITOR=gpu-numpy: the array-module code, the dense-matrix blur, the host round
trip of the effects not written for a GPU, no C kernels); where CuPy opens a CUDA device the
agreement tests run on it too. The stated tolerance of the GPU path against the CPU path: at
most one 8-bit level, on at most 2 % of the samples. The blur's dense float32 products sum in
another order than the CPU's banded blocks (a last-bit difference, which the BLAS build moves:
OpenBLAS 0.3.31 with NumPy 2.4 doubled it), and a fade's gain of 0.75 puts this test's flat
generated colours on exact rounding ties, where a last bit decides the level (1.3 % of the
samples of fade_black's first frame; real footage has few ties).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chunking.timeline.catalogue import TRANSITIONS, VIDEO_EFFECTS
from chunking.timeline.model import (
    Clip,
    ColorCorrection,
    Effect,
    FileSource,
    GeneratedSource,
    Subtitle,
    Timeline,
    Track,
    TrackKind,
    Transform,
    Transition,
)
from common.errors import RenderError
from common.settings import Settings
from tests.helpers import subprocess_env
from tests.media import make_video
from workers import arrays, kernels
from workers.arrays import ArrayBackend
from workers.compositor import Compositor

W, H = 320, 180
CUPY_INSTALLED = importlib.util.find_spec("cupy") is not None
#: The GPU path as NumPy runs it, and on a machine with a usable GPU as CuPy runs it.
GPU_MODES = [arrays.GPU_NUMPY] + (["gpu"] if arrays.open_cupy()[0] is not None else [])


@pytest.fixture(autouse=True)
def _fresh_probe() -> Iterator[None]:
    arrays.forget()
    yield
    arrays.forget()


@pytest.fixture(scope="module")
def clip_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("arrays") / "v.mp4", frames=12, size=(W, H))


def frames(
    timeline: Timeline, mode: str, monkeypatch: pytest.MonkeyPatch, at: list[int]
) -> list[np.ndarray]:
    """Frames of the timeline composited with the backend CLOUDRENDER_COMPOSITOR=mode gives."""
    monkeypatch.setenv("CLOUDRENDER_COMPOSITOR", mode)
    arrays.forget()
    comp = Compositor(timeline)
    try:
        if mode == arrays.GPU_NUMPY:  # as in a gpu-numpy process: no C kernels
            with kernels.numpy_only():
                return [comp.frame(t) for t in at]
        return [comp.frame(t) for t in at]
    finally:
        comp.close()


def assert_within_tolerance(gpu: np.ndarray, cpu: np.ndarray, what: str) -> None:
    diff = np.abs(gpu.astype(int) - cpu.astype(int))
    share = float((diff > 0).mean())
    assert diff.max() <= 1 and share <= 0.02, f"{what}: max {diff.max()}, {share:.2%} differ"


def two_layer_timeline(video: Path, effects: tuple[Effect, ...]) -> Timeline:
    """The clip with the effects, scaled and translucent over a colour wash, with a title."""
    base = Clip("wash", "t0", GeneratedSource(color=(40, 90, 160, 255)), 0, 12)
    top = Clip(
        "top",
        "t1",
        FileSource(str(video)),
        0,
        12,
        opacity=0.85,
        transform=Transform(scale_x=0.8, scale_y=0.8, position_x=12, position_y=-8),
        color=ColorCorrection(contrast=1.1, saturation=1.2, gamma=0.9),
        effects=effects,
    )
    tracks = (
        Track("t0", TrackKind.VIDEO, clips=(base,)),
        Track("t1", TrackKind.VIDEO, clips=(top,)),
    )
    title = Subtitle("s", "Cloud", 0, 12)
    return Timeline(Fraction(30), W, H, 12, tracks=tracks, subtitles=(title,))


# -- choosing a backend ---------------------------------------------------------------------------


def test_cpu_and_gpu_numpy_backends() -> None:
    cpu = arrays.select("cpu")
    assert cpu.xp is np and not cpu.gpu and not cpu.device_path
    stand_in = arrays.select("gpu-numpy")
    assert stand_in.xp is np and not stand_in.gpu and stand_in.device_path
    assert cpu.fingerprint() != stand_in.fingerprint()
    assert "GPU code path on the CPU" in stand_in.describe()


@pytest.mark.skipif(CUPY_INSTALLED, reason="this machine has CuPy")
def test_without_cupy_auto_composites_on_the_cpu_and_says_why() -> None:
    backend = arrays.select("auto")
    assert backend.name == "cpu" and "CuPy is not installed" in backend.note
    assert "cloudrender[gpu]" in backend.describe()


@pytest.mark.skipif(CUPY_INSTALLED, reason="this machine has CuPy")
def test_a_node_told_to_use_a_gpu_it_lacks_refuses_to_render(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(RenderError, match="CLOUDRENDER_COMPOSITOR=gpu, but CuPy"):
        arrays.select("gpu")
    monkeypatch.setenv("CLOUDRENDER_COMPOSITOR", "gpu")
    timeline = Timeline(Fraction(30), W, H, 2)
    with pytest.raises(RenderError, match="CLOUDRENDER_COMPOSITOR=gpu"):
        Compositor(timeline)


def test_an_unknown_compositor_setting_is_refused() -> None:
    with pytest.raises(RenderError, match="CLOUDRENDER_COMPOSITOR='tpu'"):
        Settings.from_env({"CLOUDRENDER_COMPOSITOR": "tpu"})


def test_planned_answers_without_an_array_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDRENDER_COMPOSITOR", "gpu-numpy")
    planned = arrays.planned()
    assert planned.xp is None and planned.name == "gpu-numpy"
    assert planned.fingerprint() == arrays.select("gpu-numpy").fingerprint()


def test_the_fresh_python_probe_prints_the_backend() -> None:
    env = subprocess_env({"CLOUDRENDER_COMPOSITOR": "cpu"})
    done = subprocess.run(
        [sys.executable, "-m", "workers.arrays"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["name"] == "cpu"


def test_the_backend_is_part_of_the_render_fingerprint() -> None:
    code = (
        "from workers.fingerprint import fingerprint_parts; "
        "print(fingerprint_parts()['compositor'])"
    )
    parts = {}
    for mode in ("cpu", "gpu-numpy"):
        env = subprocess_env({"CLOUDRENDER_COMPOSITOR": mode})
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        parts[mode] = done.stdout.strip()
    assert parts["cpu"].startswith("cpu/numpy ")
    assert parts["gpu-numpy"].startswith("gpu-numpy/numpy ")


# -- the GPU path renders like the CPU path -------------------------------------------------------


@pytest.mark.parametrize("mode", GPU_MODES)
@pytest.mark.parametrize("kind", sorted(VIDEO_EFFECTS))
def test_every_effect_agrees_across_backends(
    kind: str, mode: str, clip_video: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    effect = Effect(f"e-{kind}", kind, intensity=0.9)
    timeline = two_layer_timeline(clip_video, (effect,))
    at = [2, 7]
    cpu = frames(timeline, "cpu", monkeypatch, at)
    gpu = frames(timeline, mode, monkeypatch, at)
    for t, a, b in zip(at, gpu, cpu, strict=True):
        assert_within_tolerance(a, b, f"{kind}, frame {t}")


@pytest.mark.parametrize("mode", GPU_MODES)
@pytest.mark.parametrize("kind", sorted(TRANSITIONS))
def test_every_transition_agrees_across_backends(
    kind: str, mode: str, clip_video: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = Clip("a", "t0", FileSource(str(clip_video)), 0, 8, effects=(Effect("b", "blur"),))
    b = Clip(
        "b",
        "t1",
        GeneratedSource(color=(230, 200, 20, 255)),
        4,
        12,
        opacity=0.7,
        transform=Transform(scale_x=0.6, scale_y=0.6),
    )
    tracks = (Track("t0", TrackKind.VIDEO, clips=(a,)), Track("t1", TrackKind.VIDEO, clips=(b,)))
    timeline = Timeline(
        Fraction(30), W, H, 12, tracks=tracks, transitions=(Transition("x", kind, "a", "b", 4, 8),)
    )
    at = [4, 5, 7]
    for t, g, c in zip(
        at,
        frames(timeline, mode, monkeypatch, at),
        frames(timeline, "cpu", monkeypatch, at),
        strict=True,
    ):
        assert_within_tolerance(g, c, f"{kind}, frame {t}")


@pytest.mark.parametrize("mode", GPU_MODES)
def test_on_the_gpu_path_any_range_renders_like_the_whole(
    mode: str, clip_video: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    effects = (Effect("b", "blur"), Effect("g", "filmgrain"), Effect("v", "vignette"))
    timeline = two_layer_timeline(clip_video, effects)
    whole = frames(timeline, mode, monkeypatch, list(range(12)))
    tail = frames(timeline, mode, monkeypatch, list(range(7, 12)))
    for t, part in zip(range(7, 12), tail, strict=True):
        assert np.array_equal(part, whole[t]), f"frame {t}"


class CountingBackend(ArrayBackend):
    """NumPy standing in for CuPy, counting the copies between host and device memory."""

    copies: dict[str, int]

    def to_device(self, array: np.ndarray[Any, Any]) -> Any:
        self.copies["to_device"] += 1
        return super().to_device(array)

    def to_host(self, array: Any) -> np.ndarray[Any, Any]:
        self.copies["to_host"] += 1
        return super().to_host(array)


@pytest.mark.parametrize(
    ("effect", "to_host"),
    [
        ("blur", 1),  # written for the GPU: only the finished frame comes back
        ("curves", 2),  # not: the layer makes a round trip, then the frame comes back
    ],
)
def test_layers_stay_in_device_memory_until_the_frame_is_done(
    effect: str, to_host: int, clip_video: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = CountingBackend("gpu-numpy", np, version="numpy")
    object.__setattr__(backend, "copies", {"to_device": 0, "to_host": 0})
    monkeypatch.setattr(arrays, "current", lambda: backend)
    monkeypatch.setattr("workers.compositor.current", lambda: backend)
    monkeypatch.setattr("workers.effects.current", lambda: backend)
    clip = Clip("c", "t", FileSource(str(clip_video)), 0, 4, effects=(Effect("e", effect),))
    timeline = Timeline(Fraction(30), W, H, 4, tracks=(Track("t", TrackKind.VIDEO, clips=(clip,)),))
    comp = Compositor(timeline)
    try:
        comp.frame(1)
    finally:
        comp.close()
    assert backend.copies["to_host"] == to_host
    assert backend.copies["to_device"] == to_host  # the picture, and the layer's return

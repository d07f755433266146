"""The xfade-family transitions against the local ffmpeg's xfade filter (skipped without ffmpeg).

Tolerance: xfade on 8-bit planar RGB truncates each mixed value to an integer, so its level ``f``
and ours ``o`` (float, times 255) must satisfy ``f - 0.01 <= o < f + 1.01`` on every pixel of
every frame; the hard-edged corner wipes must agree exactly.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from workers.layer import Layer
from workers.transitions import apply_transition

FPS = 10
#: our kind -> xfade's transition name
XFADE_NAMES = {
    "iris": "circleclose",
    "radial_wipe": "radial",
    "pixelize": "pixelize",
    "wipe_tl": "wipetl",
    "wipe_tr": "wipetr",
    "wipe_bl": "wipebl",
    "wipe_br": "wipebr",
    "hblur": "hblur",
}


def _pictures(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return (
        rng.integers(0, 256, (height, width, 3), dtype=np.uint8),
        rng.integers(0, 256, (height, width, 3), dtype=np.uint8),
    )


def _ffmpeg_frames(name: str, a: np.ndarray, b: np.ndarray, tmp: Path) -> np.ndarray:
    """xfade over one second from 0.5 s, between two 2-second stills at 10 fps, as RGB frames."""
    height, width = a.shape[:2]
    raw = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(FPS)]
    paths = []
    for label, picture in (("a", a), ("b", b)):
        path = tmp / f"{label}.rgb"
        path.write_bytes(picture.tobytes() * (2 * FPS))
        paths.append(str(path))
    graph = (
        "[0]format=gbrp[a];[1]format=gbrp[b];"
        f"[a][b]xfade=transition={name}:duration=1:offset=0.5,format=rgb24"
    )
    cmd = ["ffmpeg", "-v", "error", *raw, "-i", paths[0], *raw, "-i", paths[1]]
    cmd += ["-filter_complex", graph, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    out = subprocess.run(cmd, capture_output=True, check=True, timeout=60).stdout
    return np.frombuffer(out, np.uint8).reshape(-1, height, width, 3)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the ffmpeg CLI")
@pytest.mark.parametrize("size", [(96, 54), (75, 43)])
@pytest.mark.parametrize("kind", sorted(XFADE_NAMES))
def test_matches_ffmpeg_xfade(kind: str, size: tuple[int, int], tmp_path: Path) -> None:
    a8, b8 = _pictures(*size)
    frames = _ffmpeg_frames(XFADE_NAMES[kind], a8, b8, tmp_path)
    a, b = Layer(a8.astype(np.float32) / 255), Layer(b8.astype(np.float32) / 255)
    start = FPS // 2  # the frame at 0.5 s has xfade's progress 1
    for k in range(1, FPS):
        ours = apply_transition(kind, k / FPS, a, b).rgb * 255
        theirs = frames[start + k].astype(np.float32)
        if kind.startswith("wipe_"):
            np.testing.assert_array_equal(np.rint(ours), theirs, err_msg=f"{kind} frame {k}")
            continue
        low, high = theirs - 0.01, theirs + 1.01
        bad = (ours < low) | (ours >= high)
        assert not bad.any(), (
            f"{kind} p={k / FPS}: {int(bad.sum())} values off, e.g. ours "
            f"{ours[bad][:4]} vs ffmpeg {theirs[bad][:4]}"
        )


W, H = 64, 36


def _random(seed: int, *shape: int) -> np.ndarray:
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def _weights(kind: str, p: float) -> np.ndarray:
    """b's per-pixel weight: the transition of black into white."""
    black, white = np.zeros((H, W, 3), np.float32), np.ones((H, W, 3), np.float32)
    return apply_transition(kind, p, Layer(black), Layer(white)).rgb[..., 0]


def _over(layer: Layer, background: np.ndarray) -> np.ndarray:
    alpha = np.ones((H, W), np.float32) if layer.alpha is None else layer.alpha
    return layer.rgb * alpha[..., None] + background * (1 - alpha[..., None])


@pytest.mark.parametrize("kind", ["iris", "radial_wipe", "wipe_tl", "wipe_br"])
@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_see_through_clips_mix_like_their_composites(kind: str, p: float) -> None:
    # Given two clips with transparent parts (one fully transparent strip with garbage colour)
    a_alpha, b_alpha = _random(3, H, W), _random(4, H, W)
    a_alpha[:, :8] = 0
    a = Layer(_random(1, H, W, 3), a_alpha)
    b = Layer(_random(2, H, W, 3), b_alpha, opacity=0.6)
    background = _random(5, H, W, 3)
    # When they are mixed
    out = apply_transition(kind, p, a, b)
    # Then the result over any background is each pixel's mix of the two clips over it
    w = _weights(kind, p)[..., None]
    b_seen = Layer(b.rgb, b_alpha * np.float32(0.6))
    expected = (1 - w) * _over(a, background) + w * _over(b_seen, background)
    np.testing.assert_allclose(_over(out, background), expected, atol=1e-5)


def test_the_iris_closes_on_the_centre() -> None:
    w = _weights("iris", 0.5)
    assert w[H // 2, W // 2] == 0 and w[0, 0] == 1  # a in the middle, b at the corners
    assert (_weights("iris", 0.2) <= _weights("iris", 0.4)).all()  # b only ever gains


def test_the_radial_wipe_sweeps_clockwise_from_straight_up() -> None:
    w = _weights("radial_wipe", 0.45)
    up, right, down, left = w[1, W // 2], w[H // 2, W - 2], w[H - 2, W // 2], w[H // 2, 1]
    assert up == 1 and right == 1 and left == 0 and down < 1


def test_pixelize_mixes_blocks_sampled_from_both_clips() -> None:
    a, b = Layer(_random(1, H, W, 3)), Layer(_random(2, H, W, 3))
    out = apply_transition("pixelize", 0.5, a, b).rgb
    # The midpoint's blocks are min(W, H)/20 = 1.8 pixels: the first covers columns 0 and 1
    np.testing.assert_array_equal(out[0, 0], out[0, 1])
    assert not np.array_equal(out[0, 1], out[0, 2])
    # Each shows its centre (int(0.9) = 0; the next int(2.7) = 2), dissolved half and half
    np.testing.assert_allclose(out[0, 0], (a.rgb[0, 0] + b.rgb[0, 0]) / 2, atol=1e-6)
    np.testing.assert_allclose(out[3, 2], (a.rgb[2, 2] + b.rgb[2, 2]) / 2, atol=1e-6)


def test_pixelize_of_a_transparent_clip_shows_only_the_other() -> None:
    a = Layer(_random(1, H, W, 3), np.zeros((H, W), np.float32))
    b = Layer(_random(2, H, W, 3))
    out = apply_transition("pixelize", 0.3, a, b)
    alone = apply_transition("pixelize", 0.3, b, b)  # b's own blocks
    assert out.alpha is not None
    np.testing.assert_allclose(out.alpha, 0.3, atol=1e-6)
    np.testing.assert_allclose(out.rgb, alone.rgb, atol=1e-6)


def test_a_frame_is_the_same_whatever_was_drawn_before() -> None:
    """Chunked renders draw a transition's frames in other orders and sizes than one render:
    the cached geometry must not carry anything from one call to the next."""
    a, b = Layer(_random(1, H, W, 3)), Layer(_random(2, H, W, 3))
    small = (Layer(_random(1, 20, 30, 3)), Layer(_random(2, 20, 30, 3)))
    for kind in ("iris", "radial_wipe", "pixelize", "wipe_tr"):
        first = apply_transition(kind, 0.4, a, b).rgb
        apply_transition(kind, 0.7, *small)
        apply_transition(kind, 0.1, a, b)
        np.testing.assert_array_equal(apply_transition(kind, 0.4, a, b).rgb, first)


def test_hblur_never_spreads_a_transparent_pixels_colour() -> None:
    # Given an outgoing clip whose invisible left strip holds a wild colour, over nothing
    rgb = np.full((H, W, 3), 0.5, np.float32)
    rgb[:, :8] = 5.0
    alpha = np.ones((H, W), np.float32)
    alpha[:, :8] = 0
    b = Layer(np.zeros((H, W, 3), np.float32), np.zeros((H, W), np.float32))
    # When it is blurred out
    out = apply_transition("hblur", 0.3, Layer(rgb, alpha), b)
    # Then wherever anything shows it is the visible colour, and the strip's edge is soft
    assert out.alpha is not None
    shown = out.alpha > 0
    np.testing.assert_allclose(out.rgb[shown], 0.5, atol=1e-5)
    assert 0 < out.alpha[0, 4] < 0.7


def test_hblur_of_an_invisible_clip_is_the_other_blurred_and_faded_in() -> None:
    a = Layer(_random(1, H, W, 3), np.zeros((H, W), np.float32))
    b = Layer(_random(2, H, W, 3))
    out = apply_transition("hblur", 0.3, a, b)
    assert out.alpha is not None
    np.testing.assert_allclose(out.alpha, 0.3, atol=1e-6)
    np.testing.assert_allclose(out.rgb, apply_transition("hblur", 0.3, b, b).rgb, atol=1e-5)

"""Chroma key: a green screen over another track shows that track, as ffmpeg's chromakey."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from chunking.timeline.model import Effect, ParamValue
from common.errors import TimelineError
from workers.effects import apply_effect, apply_effects
from workers.effects_key import CHROMA, key_alpha
from workers.layer import Image, Layer, blend

H, W = 36, 64
SCREEN = (0.12, 0.82, 0.2)  # a lit green screen, not pure 0x00ff00
SKIN = (0.85, 0.6, 0.45)
LOWER = (0.1, 0.2, 0.7)  # the track below: blue


def green_screen_shot() -> Image:
    """A presenter (a skin-coloured block) in front of a slightly noisy green screen."""
    rng = np.random.default_rng(3)
    img = np.broadcast_to(np.array(SCREEN, dtype=np.float32), (H, W, 3)).copy()
    img += rng.normal(0.0, 0.02, img.shape).astype(np.float32)
    img[8:30, 24:40] = SKIN
    return np.clip(img, 0.0, 1.0)


def key(**params: ParamValue) -> Effect:
    """A chroma key effect with the editor's defaults unless given."""
    return Effect(id="key", kind="chromakey", params=params)


def composite(top: Image, effects: list[Effect]) -> Image:
    """The compositor's path: a lower full-frame track, then the keyed layer blended over it."""
    canvas = np.broadcast_to(np.array(LOWER, dtype=np.float32), (H, W, 3)).copy()
    rgb, alpha = apply_effects(top, None, effects, 0)
    blend(canvas, Layer(rgb, alpha))
    return canvas


def test_green_screen_over_another_track_shows_that_track() -> None:
    out = composite(green_screen_shot(), [key()])  # the editor's 0x00ff00, similarity 0.3
    np.testing.assert_allclose(out[2, 2], LOWER, atol=1e-6)  # the screen is gone
    np.testing.assert_allclose(out[20, 60], LOWER, atol=1e-6)
    np.testing.assert_allclose(out[18, 32], SKIN, atol=1e-6)  # the presenter stays


def test_key_colour_can_be_chosen() -> None:
    blue_screen = np.broadcast_to(np.array((0.1, 0.15, 0.9), dtype=np.float32), (H, W, 3))
    kept = composite(blue_screen.copy(), [key()])
    np.testing.assert_allclose(kept, blue_screen, atol=1e-6)  # not green: nothing keyed
    keyed = composite(blue_screen.copy(), [key(color="#0000ff")])
    np.testing.assert_allclose(keyed[4, 4], LOWER, atol=1e-6)
    # The loader's spelling of the editor's Color(u32), RGBA.
    np.testing.assert_array_equal(composite(blue_screen.copy(), [key(color="#0000ffff")]), keyed)
    np.testing.assert_array_equal(composite(blue_screen.copy(), [key(color=0x0000FF)]), keyed)


def test_blend_makes_soft_edges() -> None:
    img = np.linspace(0.0, 1.0, W, dtype=np.float32)[None, :, None] * np.array(SKIN) + (
        1 - np.linspace(0.0, 1.0, W, dtype=np.float32)[None, :, None]
    ) * np.array(SCREEN)
    img = np.repeat(img.astype(np.float32), H, axis=0)
    _, hard = apply_effects(img, None, [key(similarity=0.2)], 0)
    _, soft = apply_effects(img, None, [key(similarity=0.2, blend=0.2)], 0)
    assert hard is not None and soft is not None
    assert set(np.unique(hard)) == {0.0, 1.0}
    partial = (soft > 0.05) & (soft < 0.95)
    assert partial[H // 2].sum() >= 5  # a ramp several pixels wide
    assert np.all(np.diff(soft[H // 2]) >= -1e-6)  # rising from screen to skin


def test_existing_alpha_is_multiplied_and_intensity_mixes() -> None:
    img = green_screen_shot()
    alpha = np.full((H, W), 0.8, dtype=np.float32)
    _, keyed = apply_effects(img, alpha, [key()], 0)
    assert keyed is not None
    assert keyed[2, 2] == 0.0 and keyed[18, 32] == pytest.approx(0.8)
    half = Effect(id="k", kind="chromakey", intensity=0.5)
    _, mixed = apply_effects(img, alpha, [half], 0)
    assert mixed is not None
    assert mixed[2, 2] == pytest.approx(0.4) and mixed[18, 32] == pytest.approx(0.8)


def test_on_a_picture_without_alpha_keyed_pixels_show_black() -> None:
    out = apply_effect(green_screen_shot(), key(), 0)
    np.testing.assert_array_equal(out[2, 2], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(out[18, 32], SKIN, atol=1e-6)


def test_rgba_picture_keeps_its_colour_and_loses_alpha() -> None:
    img = green_screen_shot()
    rgba = np.concatenate([img, np.ones((H, W, 1), dtype=np.float32)], axis=2)
    out = apply_effect(rgba, key(), 0)
    np.testing.assert_array_equal(out[..., :3], img)
    assert out[2, 2, 3] == 0.0 and out[18, 32, 3] == 1.0


def test_bad_key_colour_names_the_effect() -> None:
    with pytest.raises(TimelineError, match="'key'.*not a colour"):
        apply_effects(green_screen_shot(), None, [key(color="greenish")], 0)


@pytest.mark.parametrize(("similarity", "blend_"), [(0.3, 0.0), (0.1, 0.2), (0.2, 0.05)])
def test_alpha_matches_ffmpegs_chromakey(similarity: float, blend_: float) -> None:
    rng = np.random.default_rng(5)
    rgb = rng.random((H, W, 3)).astype(np.float32)
    rgb[:, :20] = SCREEN
    # ffmpeg keys YUV frames: hand it this picture's full-range BT.601 chroma.
    chroma = np.clip(np.round(128 + 255 * (rgb @ CHROMA.T)), 0, 255).astype(np.uint8)
    frame = av.VideoFrame(W, H, "yuva444p")
    planes = (np.full((H, W), 128), chroma[..., 0], chroma[..., 1], np.full((H, W), 255))
    for plane, values in zip(frame.planes, planes, strict=True):
        np.frombuffer(plane, dtype=np.uint8).reshape(H, plane.line_size)[:, :W] = values
    frame.pts, frame.time_base = 0, Fraction(1, 30)
    graph = av.filter.Graph()
    source = graph.add_buffer(width=W, height=H, format="yuva444p", time_base=Fraction(1, 30))
    args = f"color=0x00ff00:similarity={similarity}:blend={blend_}"
    chain = [source, graph.add("chromakey", args), graph.add("buffersink")]
    for a, b in zip(chain, chain[1:], strict=False):
        a.link_to(b)
    graph.configure()
    graph.push(frame)
    out = graph.pull().planes[3]
    reference = np.frombuffer(out, dtype=np.uint8).reshape(H, out.line_size)[:, :W] / 255.0
    # Nudge the picture and the key so their chroma is exactly the 8-bit chroma ffmpeg used
    # (it converts 0x00ff00 to U = 44, V = 21).
    inverse = np.linalg.pinv(CHROMA.astype(np.float64)).T.astype(np.float32)
    error = (chroma.astype(np.float32) - 128) / 255 - rgb @ CHROMA.T
    nudged = rgb + error @ inverse
    green = np.array([0.0, 1.0, 0.0], dtype=np.float32)
    key_chroma = np.array([44 - 128, 21 - 128], dtype=np.float32) / 255
    ffmpeg_green = green + (key_chroma - green @ CHROMA.T) @ inverse
    ours = key_alpha(nudged, tuple(float(c) for c in ffmpeg_green), similarity, blend_)
    # ffmpeg's border pixels reuse stale neighbours from the previous pixel; ours repeat the
    # edge, so compare the interior, to ffmpeg's 8-bit alpha steps.
    np.testing.assert_allclose(ours[1:-1, 1:-1], reference[1:-1, 1:-1], atol=1 / 255 + 1e-4)
    assert (reference[1:-1, 1:-1] < 0.5).mean() > 0.2  # the screen really was keyed

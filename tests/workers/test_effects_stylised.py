"""The editor's stylising effects (motion blur, glitch, pixelate, edge enhance, emboss, solarize,
zoom blur, hologram): what each draws, and, where ffmpeg is installed, that the ones the editor
exports through ffmpeg draw what ffmpeg draws (within the tolerances workers.effects_stylised
states)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image as PILImage

from chunking.timeline.catalogue import VIDEO_EFFECTS, effect_kind
from chunking.timeline.catalogue_stylised import STYLISED_EFFECTS
from chunking.timeline.loader import load_document
from chunking.timeline.model import Effect
from workers.compositor import Compositor
from workers.effects import IMPLEMENTATIONS, apply_effect, gaussian_blur
from workers.effects_stylised import block_samples, canny, chroma_turn

Array = npt.NDArray[np.float64]


def picture(height: int = 50, width: int = 70) -> Array:
    """Gradients, a wave, a flat patch and a noisy patch, in 8-bit steps."""
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:height, 0:width]
    img = np.stack(
        [x / (width - 1), y / (height - 1), 0.5 + 0.5 * np.sin(x / 5.0 + y / 7.0)], axis=2
    )
    img[10:30, 20:40] = rng.random(3)
    img[30:44, 5:25] = rng.random((14, 20, 3))
    out: Array = np.round(img * 255) / 255
    return out


def run(kind: str, img: Array, frame: int = 0, ident: str = "e", **params: float) -> Array:
    effect = Effect(id=ident, kind=kind, params=params)
    return apply_effect(img.astype(np.float32), effect, frame).astype(np.float64)


def test_every_stylising_effect_is_drawn() -> None:
    assert STYLISED_EFFECTS <= VIDEO_EFFECTS and STYLISED_EFFECTS <= set(IMPLEMENTATIONS)
    for name, kind in [("edge-enhance", "edgeenhance"), ("zoom-blur", "zoomblur"),
                       ("mosaic", "pixelate")]:  # fmt: skip
        assert effect_kind(name.replace("-", "")) == kind
    img = picture()
    for kind in STYLISED_EFFECTS:
        out = run(kind, img)
        assert out.shape == img.shape and np.abs(out - img).mean() > 2 / 255, kind


def test_pixelate_makes_blocks_of_the_pixel_near_each_centre() -> None:
    assert list(block_samples(8, 4)) == [2, 2, 2, 2, 6, 6, 6, 6]
    # 70 / 3 is 23 blocks of 3.04 source pixels; the last column repeats the last block.
    samples = block_samples(70, 3)
    assert list(samples[:6]) == [1, 1, 1, 4, 4, 4] and samples[-1] == samples[-2]
    img = picture()
    out = run("pixelate", img, pixelSize=5)
    np.testing.assert_allclose(out[0:5, 0:5], np.broadcast_to(img[2, 2], (5, 5, 3)), atol=1e-6)
    np.testing.assert_allclose(run("pixelate", img, pixelSize=1), img, atol=1e-6)


def test_edge_enhance_draws_grey_wires_on_black() -> None:
    grey = np.zeros((20, 20), dtype=np.int64)
    grey[:, 10], grey[:, 11:] = 100, 200  # one vertical edge, steepest at column 10
    wires = canny(grey, 64, 128)
    assert set(np.nonzero(wires)[1]) == {10} and wires[2:18, 10].min() == 255
    img = np.zeros((20, 20, 3))
    img[:, 10], img[:, 11:] = (0.45, 0.3, 0.15), (0.9, 0.6, 0.3)
    out = run("edgeenhance", img, intensity=0.2)
    assert np.array_equal(out[..., 0], out[..., 2]) and out[:, :9].max() == 0
    assert set(np.nonzero(out[..., 0])[1]) == {10}
    assert run("edgeenhance", img, intensity=100).max() == 0  # thresholds past 1: no edge


def test_glitch_noise_is_new_every_frame_and_the_same_anywhere() -> None:
    img = np.full((16, 16, 3), 0.5)
    first, again, second = run("glitch", img, 3), run("glitch", img, 3), run("glitch", img, 4)
    assert np.array_equal(first, again) and not np.array_equal(first, second)
    assert not np.array_equal(first, run("glitch", img, 3, ident="other"))


def test_the_css_previews_are_drawn_as_the_browser_draws_them() -> None:
    grey = np.full((9, 9, 3), 0.4)
    # solarize t = 0.5: invert(0.3) brightness(1.15) contrast(1.2), each clamped.
    x = 0.4 * (1 - 0.6) + 0.3
    x = min(x * 1.15, 1.0)
    assert run("solarize", grey)[4, 4, 0] == pytest.approx(1.2 * x + 0.5 - 0.6, abs=1e-6)
    # threshold 0 is JavaScript's falsy 0: the preview's 0.5 again.
    assert np.array_equal(run("solarize", grey, threshold=0), run("solarize", grey))
    # emboss 0.8: grayscale(0.3) contrast(1.4) brightness(1.16), on grey only the last two.
    assert run("emboss", grey)[4, 4, 0] == pytest.approx((1.4 * 0.4 - 0.2) * 1.16, abs=1e-6)
    img = picture()
    blurred = gaussian_blur(img.astype(np.float32), 1.5).astype(np.float64)
    np.testing.assert_allclose(run("motionblur", img, radius=3), blurred, atol=1e-6)
    np.testing.assert_allclose(
        run("zoomblur", img, intensity=3), np.clip(blurred * 1.3, 0, 1), atol=1e-6
    )


def test_hologram_at_no_opacity_is_the_picture() -> None:
    img = picture()
    np.testing.assert_allclose(run("hologram", img, intensity=0), img, atol=1e-6)
    assert np.array_equal(run("hologram", img, intensity=1), run("hologram", img, intensity=80))


# -- against ffmpeg ----------------------------------------------------------------------------

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")


def ffmpeg(
    img: Array, chain: str, size: tuple[int, int] | None = None, fmt: str = "yuv444p"
) -> Array:
    """``chain`` run by ffmpeg on the picture as BT.709 video-range planes (4:4:4), as RGB."""
    height, width = img.shape[:2]
    out_h, out_w = size or (height, width)
    vf = (
        f"scale=out_color_matrix=bt709:out_range=tv,format={fmt},{chain},"
        "scale=in_color_matrix=bt709:in_range=tv,format=rgb24"
    )
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s",
         f"{width}x{height}", "-i", "-", "-vf", vf, "-frames:v", "1", "-f", "rawvideo",
         "-pix_fmt", "rgb24", "-"],
        input=np.round(img * 255).astype(np.uint8).tobytes(), capture_output=True, check=True,
        timeout=60,
    ).stdout  # fmt: skip
    out: Array = np.frombuffer(raw, np.uint8).reshape(out_h, out_w, 3) / 255.0
    return out


@needs_ffmpeg
@pytest.mark.parametrize("size", [2, 3, 4, 7, 16])
def test_pixelate_is_ffmpegs_exactly(size: int) -> None:
    img = picture()
    source = ffmpeg(img, "null")  # the picture as ffmpeg's planes hold it
    kept = (50 // size * size, 70 // size * size)
    chain = f"scale=iw/{size}:ih/{size}:flags=neighbor,format=yuv444p,"
    chain += f"scale=iw*{size}:ih*{size}:flags=neighbor"
    theirs = ffmpeg(img, chain, kept)
    ours = run("pixelate", source, pixelSize=size)[: kept[0], : kept[1]]
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


@needs_ffmpeg
@pytest.mark.parametrize("high", [0.5, 0.2, 0.05])
def test_edge_enhance_is_ffmpegs_canny(high: float) -> None:
    img = picture()
    grey = np.round(img @ [0.2126, 0.7152, 0.0722] * 255).astype(np.uint8)
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "gray", "-s", "70x50", "-i",
         "-", "-vf", f"edgedetect=mode=wires:high={high}:low={high * 0.5}", "-f", "rawvideo",
         "-pix_fmt", "gray", "-"],
        input=grey.tobytes(), capture_output=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    theirs = np.frombuffer(raw, np.uint8).reshape(50, 70)
    low, top = int(high * 0.5 * 255 + 0.5), int(high * 255 + 0.5)
    assert np.array_equal(canny(grey.astype(np.int64), low, top), theirs)
    # From colour: ffmpeg's own 8-bit luma rounds a few pixels the other way.
    colour = ffmpeg(img, f"edgedetect=mode=wires:high={high}:low={high * 0.5}", fmt="yuv420p")
    differ = np.abs(run("edgeenhance", img, intensity=high) - colour).max(axis=2) > 1e-3
    assert differ.mean() < 0.015


@needs_ffmpeg
@pytest.mark.parametrize("degrees", [250.0, 180.0, 37.0])
def test_a_chroma_turn_is_ffmpegs_hue(degrees: float) -> None:
    img = picture()
    ours = np.clip(img @ chroma_turn(degrees).T.astype(np.float64), 0, 1)
    theirs = ffmpeg(img, f"hue=h={degrees}")
    assert np.abs(ours - theirs).max() <= 4 / 255 and np.abs(ours - theirs).mean() < 1 / 255


@needs_ffmpeg
@pytest.mark.parametrize("opacity", [0.5, 1.0])
def test_hologram_is_ffmpegs_blend(opacity: float) -> None:
    img = picture()
    theirs = ffmpeg(
        img,
        "split[main][hologram];[hologram]hue=h=180,colorbalance=rs=0.2:bs=0.3[holo];"
        f"[main][holo]blend=all_mode=screen:all_opacity={opacity}",
    )
    ours = run("hologram", img, intensity=opacity)
    assert np.abs(ours - theirs).mean() < 1.5 / 255  # the effect itself moves ~70-100 / 255
    assert np.abs(ours - theirs).max() < 16 / 255


@needs_ffmpeg
@pytest.mark.parametrize("intensity", [20.0, 50.0, 100.0])
def test_glitch_has_ffmpegs_colour_and_noise_strength(intensity: float) -> None:
    img = np.full((120, 160, 3), np.round(np.array([0.6, 0.4, 0.3]) * 255) / 255)
    theirs = ffmpeg(img, f"noise=alls={intensity * 0.1}:allf=t,hue=h={intensity * 5}")
    ours = run("glitch", img, intensity=intensity)
    np.testing.assert_allclose(ours.mean(axis=(0, 1)), theirs.mean(axis=(0, 1)), atol=2 / 255)
    ratio = ours.std(axis=(0, 1)) / theirs.std(axis=(0, 1))
    assert np.all((ratio > 0.9) & (ratio < 1.1))


def test_an_editor_project_draws_its_pixelate_and_edge_effects(tmp_path: Path) -> None:
    """A TimelineProject whose clips apply pixelate and edge enhance, their definitions lost
    (as a .tlsp saves them): drawn with the catalogue's values, through the compositor."""
    rng = np.random.default_rng(5)
    PILImage.fromarray(rng.integers(0, 256, (36, 64, 3), dtype=np.uint8)).save(tmp_path / "n.png")
    clips = [
        {"id": f"c{n}", "mediaFile": {"id": "m", "path": "n.png", "isImage": True},
         "startTime": float(n), "duration": 1.0, "effects": [{"effectId": effect}]}
        for n, effect in enumerate(["pixelate", "edge-enhance"])
    ]  # fmt: skip
    doc = {
        "id": "p",
        "name": "p",
        "sections": [{"id": "s", "tracks": [{"id": "t", "type": "video", "clips": clips}]}],
        "settings": {"resolution": {"width": 64, "height": 36}, "fps": 10},
    }
    timeline = load_document(doc, str(tmp_path))[1]
    assert timeline.warnings == ()
    comp = Compositor(timeline)
    try:
        blocks, wires = comp.frame(0)[..., :3], comp.frame(10)[..., :3]
    finally:
        comp.close()
    assert (blocks[:4, :4] == blocks[0, 0]).all() and (blocks[4:8, :4] != blocks[0, 0]).any()
    assert (wires[..., 0] == wires[..., 1]).all() and 0 < (wires > 0).mean() < 0.9

"""Where effects run in a clip's geometry: keys on the source, the others on the upright picture
at its drawn size, then the rotation; a clip scaled to nothing draws nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from chunking.timeline.studio import load_project
from tests.helpers import clip, file_clip
from tests.media import project, video_track
from workers.compositor import Compositor
from workers.effects import apply_effects
from workers.layer import to_float, to_uint8


def render(doc: dict[str, Any], frame: int = 0) -> np.ndarray:
    comp = Compositor(load_project(doc, "."))
    try:
        return comp.frame(frame).astype(int)
    finally:
        comp.close()


def still(path: Path, pixels: np.ndarray) -> Path:
    Image.fromarray(pixels.astype(np.uint8)).save(path)
    return path


def over(background: str, top: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return project(
        [video_track("bg", [clip("bg", 0, 1, background)]), video_track("fg", [top])], **extra
    )


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("Blur", {"radius": 8}),
        ("Sharpen", {"amount": 3, "radius": 4}),
        ("ChromaticAberration", {"intensity": 5}),
        ("NoiseReduction", {"intensity": 10}),
    ],
)
def test_neighbourhood_effects_on_a_rotated_flat_clip_leave_it_flat(
    kind: str, params: dict[str, float]
) -> None:
    # A flat grey clip over the same grey: the rotation's empty corners used to bleed in.
    effect = {"id": "e", "effect_type": kind, "parameters": params}
    top = clip("g", 0, 1, "#808080", effects=[effect], transform={"scale": 0.5, "rotation": 30})
    img = render(over("#808080", top))
    assert (img.min(), img.max()) == (128, 128)


def test_a_rotated_vignette_darkens_the_clip_not_its_bounding_box() -> None:
    def lit(rotation: float) -> int:
        effect = {"id": "v", "effect_type": "Vignette", "parameters": {"strength": 1, "radius": 0}}
        transform = {"scale": 0.5, "rotation": rotation}
        top = clip("w", 0, 1, "#ffffff", effects=[effect], transform=transform)
        return int(render(over("#000000", top))[..., 0].sum())

    upright = lit(0)
    assert abs(lit(45) - upright) < 0.01 * upright  # it was 41 % brighter


def test_effects_on_an_unrotated_clip_run_at_its_drawn_size(tmp_path: Path) -> None:
    # The same pixels as the effects applied to the clip as drawn without them (blur radii are
    # canvas pixels), so unrotated clips render as they always did.
    noise = np.random.default_rng(3).integers(0, 256, (90, 160, 3))
    src = still(tmp_path / "n.png", noise)
    effects = [
        {"id": "b", "effect_type": "Blur", "parameters": {"radius": 3}},
        {"id": "v", "effect_type": "Vignette", "parameters": {"strength": 0.8}},
        {"id": "s", "effect_type": "Sharpen", "parameters": {"amount": 2}},
    ]
    transform = {"scale": 0.5, "position_x": 13}
    plain = render(project([video_track("v", [file_clip("c", src, 0, 1, transform=transform)])]))
    rows, cols = np.nonzero(plain.any(axis=2))
    box = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
    drawn = plain[box].astype(np.uint8)
    expected, _ = apply_effects(to_float(drawn), None, [_effect(e) for e in effects], 0)
    with_fx = file_clip("c", src, 0, 1, transform=transform, effects=effects)
    img = render(project([video_track("v", [with_fx])]))
    assert np.array_equal(img[box], to_uint8(expected))


def _effect(raw: dict[str, Any]) -> Any:
    doc = project([video_track("v", [clip("c", 0, 1, effects=[raw])])])
    return load_project(doc, ".").clip("c").effects[0]


@pytest.mark.parametrize("transform", [{"scale": 0.53}, {"rotation": 17}])
def test_a_chroma_key_runs_before_the_clip_is_resized(
    tmp_path: Path, transform: dict[str, float]
) -> None:
    # Pure red on pure key green: resampled edges mixed the two, and the key left them opaque.
    pixels = np.zeros((180, 320, 3))
    pixels[..., 1] = 255
    pixels[40:140, 100:220] = [255, 0, 0]
    src = still(tmp_path / "gs.png", pixels)
    key = {"id": "k", "effect_type": "ChromaKey", "parameters": {"similarity": 0.3}}
    top = file_clip("k", src, 0, 1, effects=[key], transform=transform)
    img = render(over("#0000ff", top))
    opaque_green = (img[..., 1] > 8) & (img[..., 2] < 8)
    assert int(opaque_green.sum()) == 0
    assert (img[..., 0] > 200).sum() > 0  # the red square is still drawn


@pytest.mark.parametrize("transform", [{"scale": 0}, {"scale_x": 0}, {"scale_y": 0}])
def test_a_clip_scaled_to_nothing_draws_nothing(transform: dict[str, float]) -> None:
    top = clip("w", 0, 1, "#ffffff", transform=transform)
    assert not render(over("#000000", top)).any()


@pytest.mark.parametrize(("rotation", "turns"), [(90, -1), (180, 2), (270, 1), (-90, 1)])
def test_right_angle_turns_are_exact(tmp_path: Path, rotation: float, turns: int) -> None:
    noise = np.random.default_rng(5).integers(0, 256, (100, 100, 3))
    src = still(tmp_path / "n.png", noise)
    top = file_clip("n", src, 0, 1, transform={"rotation": rotation})
    img = render(project([video_track("v", [top])], size=(200, 100)))
    assert np.array_equal(img[:, 50:150], np.rot90(noise, turns))

"""Effects as the editor's current converter writes them into a ProjectSchema: typed by their
catalogue category (chatman-media/timeline-studio src/features/timeline/utils/
timeline-to-project.ts, convertAppliedEffects; catalogue src/features/effects/data/effects.json;
MIT with the Commons Clause, Copyright (c) 2023-2025 Alexander Kireyev (Chatman Media))."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.loader import load_document
from tests.media import make_image, project, video_track


def effects_of(tmp_path: Path, effects: list[dict[str, Any]]) -> tuple[list[Any], tuple[str, ...]]:
    """The effects one still clip applying all of ``effects`` renders, and the warnings."""
    make_image(tmp_path / "still.png", (32, 18), (200, 100, 50, 255))
    clip = {"id": "c", "source_path": "still.png", "start_time": 0.0, "end_time": 0.5,
            "effects": [e["id"] for e in effects]}  # fmt: skip
    doc = project([video_track("v", [clip])], fps=10, size=(32, 18), effects=effects)
    timeline = load_document(doc, str(tmp_path))[1]
    return [(e.kind, dict(e.params)) for e in timeline.tracks[0].clips[0].effects], (
        timeline.warnings
    )


def entry(ident: str, effect_type: str, parameters: dict[str, Any], command: str | None) -> Any:
    """An effects[] entry as convertAppliedEffects writes it."""
    return {"id": ident, "effect_type": effect_type, "name": "Эффект", "enabled": True,
            "parameters": parameters, "ffmpeg_command": command}  # fmt: skip


@pytest.mark.parametrize(
    ("effect", "rendered"),
    [
        # A catalogue effect: its id is its type; its category typed it, intensity became value.
        (entry("sepia", "Vintage", {"value": 0.8}, "colorize=color=brown:blend={intensity}"),
         ("sepia", {"intensity": 0.8})),
        (entry("blur", "Artistic", {"radius": 2}, "gblur=sigma={radius}"),
         ("blur", {"radius": 2})),
        (entry("film-grain", "Vintage", {"value": 0.02, "amount": 0.5},
               "noise=alls={intensity}:allf=t+u,eq=contrast={1 + amount}"),
         ("filmgrain", {"intensity": 0.02, "amount": 0.5})),
        (entry("brightness", "ColorCorrection", {"value": 1.2}, "eq=brightness={intensity}"),
         ("brightness", {"value": 1.2})),
        # An application (its own id), known by the catalogue's command it carries.
        (entry("applied-7", "Cinematic", {"value": 0.5, "radius": 0.6},
               "vignette=angle=PI/4:mode=backward:eval=frame:dither=1:aspect=16/9:x0=w/2:"
               "y0=h/2:r0={radius}*min(w\\,h)/2:r1={radius + intensity}*min(w\\,h)/2"),
         ("vignette", {"intensity": 0.5, "radius": 0.6})),
        (entry("applied-8", "ColorCorrection", {"angle": 45}, "hue=h={angle}"),
         ("huerotate", {"angle": 45})),
        # An application whose definition the converter lacked: Custom, its generated command.
        (entry("applied-9", "Custom", {"value": 1},
               "colorchannelmixer=.393:.769:.189:0:.349:.686:.168:0:.272:.534:.131"),
         ("sepia", {"intensity": 1})),
        (entry("applied-10", "Custom", {}, "hue=s=0"), ("grayscale", {})),
        # The catalogue's current stylising effects, by id and by the command they carry.
        (entry("pixelate", "Artistic", {"pixelSize": 8}, None), ("pixelate", {"pixelSize": 8})),
        (entry("applied-12", "Creative", {"value": 30},
               "noise=alls={intensity * 0.1}:allf=t,hue=h={intensity * 5}"),
         ("glitch", {"intensity": 30})),
        (entry("applied-13", "Technical", {"value": 0.4},
               "edgedetect=mode=wires:high=0.4:low={intensity * 0.5}"),
         ("edgeenhance", {"intensity": 0.4})),
        (entry("applied-14", "Creative", {"value": 0.7},
               "split[main][hologram];[hologram]hue=h=180,colorbalance=rs=0.2:bs=0.3[holo];"
               "[main][holo]blend=all_mode=screen:all_opacity=0.7"),
         ("hologram", {"intensity": 0.7})),
        (entry("applied-15", "Motion", {"radius": 3, "angle": 90},
               "mblur=radius=3:shutter_angle={angle * 10}"),
         ("motionblur", {"radius": 3, "angle": 90})),
        # Neon's catalogue strength, which its look does not read: no stray-key warning.
        (entry("neon", "Creative", {"value": 0.5}, "colorbalance=rs={intensity}:gs={intensity}:"
               "bs={intensity * 1.6},curves=increase_contrast"), ("neon", {"intensity": 0.5})),
        # A look's command is that look, not the hue rotation its first filter is.
        (entry("applied-16", "Creative", {}, "hue=h=180,eq=saturation=2:contrast=1.3:"
               "brightness=1.2"), ("cyberpunk", {})),
        (entry("applied-17", "Creative", {}, "hue=h=-30,eq=saturation=2:contrast=1.5:"
               "brightness=1.2"), ("infrared", {})),
        # Genuine kinds stay themselves.
        (entry("vintage", "Vintage", {}, None), ("vintage", {})),
        (entry("applied-11", "ColorCorrection", {"brightness": 0.1, "contrast": 1.2},
               "eq=brightness=0.1:contrast=1.2:saturation=1:gamma=1"),
         ("colorcorrection", {"brightness": 0.1, "contrast": 1.2})),
    ],
)  # fmt: skip
def test_an_effect_typed_by_its_category_renders_as_itself(
    tmp_path: Path, effect: dict[str, Any], rendered: tuple[str, dict[str, Any]]
) -> None:
    """Sepia rendered as the vintage look, blur and brightness not at all (with a warning)."""
    found, warnings = effects_of(tmp_path, [effect])
    assert found == [rendered]
    assert warnings == ()


def test_a_category_naming_no_effect_is_still_named(tmp_path: Path) -> None:
    found, warnings = effects_of(tmp_path, [entry("applied-1", "Motion", {}, "mblur=radius=2")])
    assert found == []
    assert warnings == (
        "clip 'c' effect 'applied-1': effect type 'Motion' is not an effect this renderer "
        "knows; ignored",
    )

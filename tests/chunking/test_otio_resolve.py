"""DaVinci Resolve's own effects in its OTIO export (chunking.timeline.otio_resolve): its clip
level is the clip's gain; its untouched inspector effects say nothing; others are named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest

from chunking.timeline.otio import load_otio
from chunking.timeline.otio_resolve import resolve_effect
from tests.chunking.test_otio import clip, media, save, video


def resolve(name: str, *params: dict[str, Any], enabled: bool = True) -> Any:
    """An effect as Resolve's OTIO export writes it."""
    meta = {"Effect Name": name, "Enabled": enabled, "Name": name, "Parameters": list(params),
            "Type": 62}  # fmt: skip
    return otio.schema.Effect(effect_name="Resolve Effect", metadata={"Resolve_OTIO": meta})


def param(ident: str, value: Any, default: Any = None, keys: Any = None) -> dict[str, Any]:
    found = {"Parameter ID": ident, "Parameter Value": value, "Key Frames": keys or {}}
    if default is not None:
        found["Default Parameter Value"] = default
    return found


VOLUME = "Fairlight Clip Volume and Fades"


@pytest.mark.parametrize(
    ("effect", "gain", "noted"),
    [
        (resolve(VOLUME, param("volume", -12.0, 0.0)), 10 ** (-12 / 20), False),
        (resolve(VOLUME), 1.0, False),  # every audio clip carries one, level or not
        (resolve(VOLUME, param("volume", -100.0)), 0.0, False),
        (resolve(VOLUME, param("volume", 30.0)), 10.0, True),  # past +20 dB: capped, said
        (resolve(VOLUME, param("volume", -6.0, keys={"0": -6.0, "24": 0.0})), 0.501, True),
        (resolve(VOLUME, param("volume", -12.0), enabled=False), 1.0, False),
        # the inspector's effects written at their defaults: nothing to render or say
        (resolve("Transform", param("transformationZoomX", 1.0, 1.0)), 1.0, False),
        (resolve("Transform", param("transformationZoomX", 1.5, 1.0)), 1.0, True),
    ],
    ids=["-12dB", "no-level", "silent", "+30dB", "keyframed", "disabled", "default", "zoomed"],
)
def test_what_a_resolve_effect_does(effect: Any, gain: float, noted: bool) -> None:
    found = resolve_effect(effect)
    assert found is not None
    assert found.gain == pytest.approx(gain, abs=1e-3)
    assert bool(found.notes) == noted


def test_other_effects_are_not_resolves() -> None:
    assert resolve_effect(otio.schema.Effect(effect_name="Blur", metadata={})) is None


def test_a_resolve_export_plays_its_levels_without_a_warning(tmp_path: Path) -> None:
    """A clip turned down 12 dB in Resolve played at full level, and each clip warned of the
    unknown effect "Resolve Effect"."""
    media(tmp_path)
    quiet = clip("quiet", "a.mov", 0, 24, effects=[resolve(VOLUME, param("volume", -12.0, 0.0))])
    picture = clip("shot", "a.mov", 0, 24, effects=[resolve("Transform", param("x", 0.0, 0.0))])
    sound = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio, children=[quiet])
    timeline = load_otio(save(tmp_path, video(picture), sound))
    assert timeline.clip("quiet").volume == pytest.approx(10 ** (-12 / 20))
    assert not timeline.warnings

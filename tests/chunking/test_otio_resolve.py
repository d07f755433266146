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


DATA = Path(__file__).parents[1] / "data" / "otio"


def test_a_resolve_titles_keyframed_composite_opacity_fades_it(tmp_path: Path) -> None:
    """The OTIO repository's effects.otio (its Video 2 track: tests/data/otio): a title Resolve
    fades in over frames 73-98 and out over 316-370 of its 444. It was drawn at full opacity
    over all 444 frames, with a "not rendered" warning."""
    text = (DATA / "resolve_title_fade.otio").read_text()
    (tmp_path / "A_title.png").write_bytes(b"")  # relinked by name, not decoded
    (tmp_path / "edit.otio").write_text(text)
    timeline = load_otio(str(tmp_path / "edit.otio"))
    (title,) = timeline.tracks[0].clips
    assert (title.start, title.end, title.opacity) == (0, 444, 1.0)
    keys = [(round(k.time * 24), k.opacity, k.easing) for k in title.opacity_keys]
    assert keys == [(73, 0.0, "linear"), (98, 1.0, "linear"), (316, 1.0, "linear"),
                    (370, 0.0, "linear")]  # fmt: skip
    assert not [w for w in timeline.warnings if "Composite" in w]


#: Keyframes as Resolve writes them: 0 % at frame 0, 100 % at frame 12.
RISE = {
    "0": {"Value": 0.0, "Variant Type": "Double"},
    "12": {"Value": 100.0, "Variant Type": "Double"},
}  # noqa: E501


@pytest.mark.parametrize(
    ("start", "keys", "opacity", "keyed", "noted"),
    [
        (0, None, 0.5, 0, False),  # a steady 50 %: the clip's opacity
        (0, RISE, 1.0, 2, False),
        # a clip starting inside its media: the keyframes' base is unverified, still a warning
        (10, RISE, 1.0, 0, True),
    ],
    ids=["steady", "keyed", "keyed-trimmed-head"],
)
def test_resolves_composite_opacity(
    start: int, keys: Any, opacity: float, keyed: int, noted: bool
) -> None:
    effect = resolve("Composite", param("opacity", 50.0 if keys is None else 0.0, 100.0, keys))
    item = clip("shot", "a.mov", start, 24)
    found = resolve_effect(effect, item)
    assert found is not None
    assert found.opacity == opacity
    assert len(found.fields.get("opacity_keyframes", [])) == keyed
    assert bool(found.notes) == noted

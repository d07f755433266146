"""Keys a ProjectSchema clip, track or document does not have: a typo (``opactiy``) is a warning
naming the clip and the key, with the closest key it may have meant; the editor's own keys are
not warned of."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.studio import load_project
from chunking.timeline.studio_keys import CLIP_KEYS
from common.errors import ValidationError
from tests.media import project, solid, video_track


def warnings(clip: dict[str, Any], **track: Any) -> tuple[str, ...]:
    full = {"id": "c", "start_time": 0, "end_time": 1, **solid("red"), **clip}
    return load_project(project([{**video_track("v", [full]), **track}]), ".").warnings


@pytest.mark.parametrize(
    ("key", "meant"),
    [("opactiy", "opacity"), ("blend_mod", None), ("colour_correction", "color_correction")],
)
def test_a_misspelt_clip_key_is_warned_of_with_what_it_may_mean(key: str, meant: str) -> None:
    """The value of a misspelt key was dropped without a word: the opacity stayed 1."""
    (warning,) = warnings({key: 0.5})
    assert warning.startswith(f"clip 'c': unknown key {key!r}")
    if meant:
        assert warning == f"clip 'c': unknown key {key!r} (did you mean {meant!r}?) ignored"
    else:
        # Nothing close: the clip's keys are listed instead.
        assert "ignored (a clip's keys: audio_channel, " in warning and "opacity" in warning


def test_a_huge_or_many_unknown_keys_make_one_short_warning() -> None:
    """A 5 MB key, or 100,000 of them, is quoted bounded: one warning of under 1000 chars."""
    (warning,) = warnings({"x" * 5_000_000: 1})
    assert "(5000000 characters)" in warning and len(warning) < 1000
    many = {f"bogus{i}": i for i in range(100_000)}
    (warning,) = warnings(many)
    assert warning.startswith("clip 'c': unknown keys 'bogus0', 'bogus1', ")
    assert "and 99995 more ignored" in warning and len(warning) <= 1000


def test_unknown_track_and_project_keys_are_warned_of_too() -> None:
    (warning,) = warnings({}, voulme=0.5)
    assert warning == "track 'v': unknown key 'voulme' (did you mean 'volume'?) ignored"
    doc = {
        **project([video_track("v", [{"id": "c", "start_time": 0, "end_time": 1, **solid("red")}])])
    }
    doc["subtitle"] = []
    (warning,) = load_project(doc, ".").warnings
    assert warning == "project: unknown key 'subtitle' (did you mean 'subtitles'?) ignored"


def test_strict_refuses_an_unknown_key() -> None:
    full = {"id": "c", "start_time": 0, "end_time": 1, **solid("red"), "opactiy": 0.5}
    with pytest.raises(ValidationError, match="clip 'c': unknown key 'opactiy'"):
        load_project(project([video_track("v", [full])]), ".", strict=True)


def test_keys_the_editor_writes_are_not_warned_of() -> None:
    """A clip as the frontend's convertClip writes one, and a track as serde writes one."""
    clip = {
        "source_path": "",
        "source_start": 0,
        "source_end": 1,
        "speed": 1.0,
        "volume": 1.0,
        "effects": [],
        "filters": [],
        "template_id": None,
        "template_cell": None,
        "style_template_id": None,
        "properties": {"notes": None, "tags": [], "custom_metadata": {}},
        "name": "from an OTIO clip",
    }
    assert warnings({**clip, **solid("red")}, name="Main", locked=False, enabled=True) == ()
    assert {"opacity", "transform", "crop", "audio_track_index"} <= CLIP_KEYS


#: serde's ProjectSchema sample (tests/data/README.md): its metadata and settings blocks hold
#: every key the editor writes there.
SERDE = Path(__file__).parents[1] / "data" / "timeline-studio" / "serde-project.json"


def settings_warnings(**changes: dict[str, Any]) -> tuple[str, ...]:
    """The warnings of a one-clip project carrying the serde sample's metadata and settings,
    each block updated with ``changes`` (``export={"qualty": 20}``)."""
    sample = json.loads(SERDE.read_text())
    doc = project([video_track("v", [{"id": "c", "start_time": 0, "end_time": 1, **solid("red")}])])
    doc["metadata"] = {**sample["metadata"], **changes.pop("metadata", {})}
    doc["settings"] = sample["settings"]
    for block, extra in changes.items():
        target = doc["settings"] if block == "settings" else doc["settings"][block]
        target.update(extra)
    return load_project(doc, ".").warnings


def test_the_editors_settings_and_metadata_keys_are_not_warned_of() -> None:
    assert settings_warnings() == ()
    # The export dialog's choices, and this format's own export keys.
    assert settings_warnings(export={"frameRate": "30", "codec": "h264", "lossless": False}) == ()


@pytest.mark.parametrize(
    ("block", "key", "warning"),
    [
        ("export", "qualty", "settings.export: unknown key 'qualty' (did you mean 'quality'?)"),
        ("output", "duraton", "settings.output: unknown key 'duraton' (did you mean 'duration'?)"),
        ("preview", "fsp", "settings.preview: unknown key 'fsp' (did you mean 'fps'?)"),
        ("settings", "exprt", "settings: unknown key 'exprt' (did you mean 'export'?)"),
        ("metadata", "nmae", "metadata: unknown key 'nmae' (did you mean 'name'?)"),
    ],
)
def test_a_misspelt_settings_or_metadata_key_is_warned_of(
    block: str, key: str, warning: str
) -> None:
    """``qualty: 20`` encoded at the default quality, and a misspelt ``nmae`` left the job
    unnamed, without a word."""
    assert settings_warnings(**{block: {key: 20}}) == (f"{warning} ignored",)


def test_an_export_dialogs_keys_are_named_as_ignored() -> None:
    """The frontend's camelCase ExportSettings copied whole: what is not read is named."""
    (warning,) = settings_warnings(export={"encodingPreset": "slow", "enableGPU": False})
    assert warning.startswith("settings.export: unknown keys 'encodingPreset'")
    assert "'enableGPU'" in warning

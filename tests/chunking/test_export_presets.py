"""Export presets as a project asks for them (chunking.timeline.export.export_problems): av1
takes SVT-AV1's own numbers as well as the x264 names, and the refusal says so."""

from __future__ import annotations

import pytest

from chunking.timeline.project import read_project
from common.errors import ValidationError
from tests.media import project, solid, video_track


def av1(preset: str) -> dict[str, object]:
    """A one-clip project exported as av1 with this preset."""
    clip = {"id": "c", "start_time": 0, "end_time": 1, **solid("#3366ff")}
    return project(
        [video_track("v", [clip])], settings={"export": {"codec": "av1", "preset": preset}}
    )


@pytest.mark.parametrize("preset", ["0", "8", "13", "veryfast"])
def test_av1_takes_svt_numbers_and_names(preset: str) -> None:
    assert read_project(av1(preset)).timeline.export.preset == preset


@pytest.mark.parametrize(
    "preset",
    [
        "14",
        # Digits to str.isdigit, not to SVT-AV1: '²' crashed validate with a ValueError
        # traceback, and Arabic-Indic three passed and failed in the encoder.
        "²",
        "\u0663",
        "-1",
    ],
)
def test_an_av1_preset_out_of_range_is_refused_naming_both_kinds(preset: str) -> None:
    with pytest.raises(ValidationError) as refused:
        read_project(av1(preset))
    message = str(refused.value)
    assert f"preset {preset!r}" in message
    assert "ultrafast" in message and "a number from 0 to 13" in message


def test_other_codecs_are_not_told_of_numbers() -> None:
    doc = av1("8")
    doc["settings"] = {"export": {"codec": "h264", "preset": "8"}}
    with pytest.raises(ValidationError, match="preset '8' is not one of ultrafast") as refused:
        read_project(doc)
    assert "number" not in str(refused.value)

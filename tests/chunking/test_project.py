"""A project's export settings meet the output's name: the extension picks the container, and a
codec the project leaves to its container follows the new one."""

from __future__ import annotations

from typing import Any

import pytest

from chunking.timeline.project import read_project
from common.errors import EncodeError, ValidationError
from tests.helpers import colour_project


def project_exporting(**export: Any) -> dict[str, Any]:
    doc = colour_project(0.5)
    doc["settings"]["export"] = export
    return doc


@pytest.mark.parametrize(
    ("export", "output", "container", "codec"),
    [
        ({}, "film.webm", "webm", "vp9"),  # was refused: h264 cannot be stored in webm
        ({}, "film.mkv", "mkv", "hevc"),  # the editor's choice for mkv, as documented
        ({}, "film.mov", "mov", "h264"),
        ({"format": "webm"}, "film.mp4", "mp4", "h264"),
        ({"codec": "h264"}, "film.mkv", "mkv", "h264"),  # a named codec stays
        ({"codec": "av1"}, "film.webm", "webm", "av1"),
    ],
)
def test_the_outputs_container_and_the_codec_it_implies(
    export: dict[str, Any], output: str, container: str, codec: str
) -> None:
    chosen = read_project(project_exporting(**export), output=output).timeline.export
    assert (chosen.container, chosen.codec) == (container, codec)


def test_a_quality_gives_the_crf_of_the_codec_the_container_implies() -> None:
    doc = project_exporting(quality=85)
    mp4 = read_project(doc, output="film.mp4").timeline.export
    webm = read_project(doc, output="film.webm").timeline.export
    assert (mp4.codec, webm.codec) == ("h264", "vp9")
    assert mp4.crf is not None and webm.crf == mp4.crf + 10  # vp9's scale, as the loader makes it


def test_an_override_of_the_codec_wins() -> None:
    chosen = read_project(project_exporting(), export={"codec": "av1"}, output="film.mkv")
    assert chosen.timeline.export.codec == "av1"


@pytest.mark.parametrize(
    ("export", "warning"),
    [
        (
            {"format": "mp4", "codec": "hevc", "quality": "lossless"},
            "settings.export: lossless output in mp4 is RGB H.264, not hevc: the codec is ignored",
        ),
        (
            {"format": "mkv", "codec": "vp9", "lossless": True},
            "settings.export: lossless output in mkv is FFV1, not vp9: the codec is ignored",
        ),
        ({"format": "mkv", "quality": "lossless"}, None),  # the container's own: FFV1
        ({"format": "mp4", "codec": "h264", "lossless": True}, None),
    ],
)
def test_a_project_asking_for_lossless_in_a_codec_it_cannot_be_says_so(
    export: dict[str, Any], warning: str | None
) -> None:
    """The codec was dropped for the lossless encoder without a word (and --strict passed)."""
    timeline = read_project(project_exporting(**export)).timeline
    assert timeline.export.lossless
    assert [w for w in timeline.warnings if "lossless" in w] == ([warning] if warning else [])
    if warning:
        with pytest.raises(ValidationError, match="not .*: the codec is ignored"):
            read_project(project_exporting(**export), strict=True)


@pytest.mark.parametrize(
    ("overrides", "output"),
    [
        ({"lossless": True, "codec": "hevc"}, "film.mp4"),
        ({"lossless": True, "codec": "h264"}, "film.mkv"),
    ],
)
def test_overrides_asking_for_lossless_and_another_codec_are_refused(
    overrides: dict[str, Any], output: str
) -> None:
    """An API submit's settings, or the command line: both asked for, one would be ignored."""
    with pytest.raises(EncodeError, match=f"not {overrides['codec']}: ask for lossless or for"):
        read_project(project_exporting(), export=overrides, output=output)


@pytest.mark.parametrize(
    ("export", "overrides", "output", "warning"),
    [
        (  # said "lossless output in mp4 is RGB H.264" of a render that wrote FFV1 in mkv
            {"format": "mp4", "codec": "hevc", "quality": "lossless"},
            None,
            "film.mkv",
            "settings.export: lossless output in mkv is FFV1, not hevc: the codec is ignored",
        ),
        (  # said nothing: h264 is mp4's lossless codec, not mkv's
            {"format": "mp4", "codec": "h264", "lossless": True},
            None,
            "film.mkv",
            "settings.export: lossless output in mkv is FFV1, not h264: the codec is ignored",
        ),
        (  # --lossless over a project naming hevc: the project's codec is the one ignored
            {"codec": "hevc"},
            {"lossless": True},
            "film.mp4",
            "settings.export: lossless output in mp4 is RGB H.264, not hevc: the codec is ignored",
        ),
        # said "lossless output in mkv is FFV1, not h264", of an mp4 that is RGB H.264
        ({"format": "mkv", "codec": "h264", "lossless": True}, None, "film.mp4", None),
        ({"format": "mkv", "quality": "lossless"}, None, "film.mp4", None),  # no codec named
    ],
)
def test_the_ignored_codec_warning_names_the_container_the_output_gets(
    export: dict[str, Any], overrides: dict[str, Any] | None, output: str, warning: str | None
) -> None:
    timeline = read_project(project_exporting(**export), export=overrides, output=output).timeline
    assert timeline.export.lossless
    expected = [warning] if warning else []
    assert [w for w in timeline.warnings if "the codec is ignored" in w] == expected


@pytest.mark.parametrize(
    ("export", "output", "refused"),
    [
        # rendered FFV1 with "the codec is ignored" although --strict makes warnings errors
        ({"format": "mp4", "codec": "h264", "lossless": True}, "film.mkv", True),
        # refused for mkv's conflict although the .mp4 output renders the h264 it names
        ({"format": "mkv", "codec": "h264", "lossless": True}, "film.mp4", False),
        ({"format": "mp4", "codec": "h264", "lossless": True}, "film.mp4", False),
    ],
)
def test_strict_judges_the_codec_conflict_of_the_container_the_output_gets(
    export: dict[str, Any], output: str, refused: bool
) -> None:
    doc = project_exporting(**export)
    if refused:
        with pytest.raises(ValidationError, match="the codec is ignored"):
            read_project(doc, strict=True, output=output)
    else:
        assert read_project(doc, strict=True, output=output).timeline.warnings == ()


def test_strict_with_an_output_still_refuses_the_projects_own_warnings() -> None:
    doc = project_exporting()
    doc["tracks"][0]["clips"][0]["effects"] = ["x"]
    doc["effects"] = [{"id": "x", "effect_type": "Kaleidoscope"}]
    assert read_project(doc, output="film.mp4").timeline.warnings
    with pytest.raises(ValidationError, match="Kaleidoscope"):
        read_project(doc, strict=True, output="film.mp4")

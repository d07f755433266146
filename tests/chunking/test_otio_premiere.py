"""Premiere's Essential Graphics titles (chunking.timeline.otio_premiere): what a malformed or
hostile Source Text gives (a title from the effect's name, or none), never an exception."""

from __future__ import annotations

import base64
import json
from typing import Any

import opentimelineio as otio
import pytest

from chunking.timeline.otio_premiere import premiere_title


def graphic(name: str, source_text: Any, position: Any = None) -> Any:
    """A clip shaped as the FCP 7 XML adapter reads a Premiere title."""
    params: list[dict[str, Any]] = [{"name": "Source Text", "value": source_text}]
    if position is not None:
        params.append({"name": "Position", "value": position})
    effect = {"effectid": "GraphicAndType", "name": name, "parameter": params}
    return otio.schema.Clip(name="Graphic", metadata={"fcp_xml": {"filter": {"effect": effect}}})


def encoded(param: dict[str, Any]) -> str:
    """A Source Text value: an 8-byte header, then UTF-16 JSON."""
    text = json.dumps({"mTextParam": param, "mVersion": 1})
    return base64.b64encode(b"\x00" * 8 + text.encode("utf-16-le")).decode()


def test_the_decoded_text_and_look() -> None:
    sheet = {
        "mText": "Hello\rWorld",
        "mFontName": {"mParamValues": [[0, "Arial-BoldMT"]]},
        "mFontSize": {"mParamValues": [[0, 64]]},
        "mFillColor": {"mParamValues": [[0, 0xFFCC00]]},
    }
    title = premiere_title(graphic("ignored", encoded({"mStyleSheet": sheet}), "0,0.5:0.9,0"))
    assert title is not None
    assert title["text"] == "Hello\nWorld"
    assert title["style"]["font_family"] == "Arial" and title["style"]["font_weight"] == "Bold"
    assert title["style"]["font_size"] == 64 and title["style"]["color"] == "#ffcc00"
    assert title["position"] == {"x": 0.5, "y": 0.9}


@pytest.mark.parametrize(
    "source_text",
    [
        "not base64 at all!",
        base64.b64encode(b"\x00" * 8 + "no json here".encode("utf-16-le")).decode(),
        encoded({"mStyleSheet": {"mText": 42, "mFontSize": {"mParamValues": [[0, 1e9]]}}}),
        None,
        ["a", "list"],
        "A" * (5 * 1024 * 1024),
    ],
)
def test_an_undecodable_source_text_falls_back_to_the_effect_name(source_text: Any) -> None:
    title = premiere_title(graphic("Lower\rthird", source_text, position="0,7:9,0"))
    assert title is not None
    assert title["text"] == "Lower\nthird" and title["position"] == "center"
    assert "font_size" not in title["style"]


def test_no_text_anywhere_is_no_title() -> None:
    assert premiere_title(graphic("", "garbage")) is None
    assert premiere_title(otio.schema.Clip(name="plain")) is None

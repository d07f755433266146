"""A submitted project that gives one key twice in a JSON object is answered 400 with one line
naming the key's path: the service's JSON parser kept the last value silently, so a job
rendered what the document did not read as."""

from __future__ import annotations

import json
from pathlib import Path

import opentimelineio as otio
import pytest
from fastapi.testclient import TestClient

from tests.helpers import colour_project
from tests.media import make_video
from tests.server.conftest import bearer

pytestmark = pytest.mark.timeout(120)

JSON = {"Content-Type": "application/json"}
_REPEAT = "is given more than once (a JSON object holds each key once; the last would silently win)"


def _body(old: str, new: str, **extra: object) -> bytes:
    """A submit body of a small colour project, ``old`` in its JSON text replaced by ``new``."""
    doc = colour_project(0.5, effects=[{"id": "b", "effect_type": "Blur", "params": {"radius": 2}}])
    doc["tracks"][0]["clips"][0]["effects"] = ["b"]
    doc["tracks"].append({**doc["tracks"][0], "id": "w", "clips": []})
    text = json.dumps({"project": doc, **extra})
    assert text.count(old) == 1, (old, text)
    return text.replace(old, new).encode()


def _otio_text(name: str) -> str:
    """An OpenTimelineIO document of one uploaded clip, its clip's name given as ``name``."""
    clip = otio.schema.Clip(
        name="take",
        media_reference=otio.schema.ExternalReference(
            target_url="asset:sha256:" + "ab" * 32 + ".mp4"
        ),
        source_range=otio.opentime.range_from_start_end_time(
            otio.opentime.RationalTime(0, 30), otio.opentime.RationalTime(15, 30)
        ),
    )
    timeline = otio.schema.Timeline(name="t", tracks=[otio.schema.Track(children=[clip])])
    text: str = otio.adapters.write_to_string(timeline, "otio_json")
    return text.replace('"name": "take"', name)


#: (name, body, the error it gets)
CASES = [
    (
        "the project's tracks",
        _body('"tracks": [', '"tracks": [], "tracks": ['),
        f"the request body: project.tracks {_REPEAT}",
    ),
    (
        "in a clip",
        _body('"start_time": 0,', '"start_time": 0, "start_time": 0.25,'),
        f"the request body: project.tracks[0].clips[0].start_time {_REPEAT}",
    ),
    (
        "in an effect's params",
        _body('"radius": 2}', '"radius": 2, "radius": 40}'),
        f"the request body: project.effects[0].params.radius {_REPEAT}",
    ),
    (
        "in an array of objects",
        _body('"id": "w"', '"id": "w", "id": "v"'),
        f"the request body: project.tracks[1].id {_REPEAT}",
    ),
    (
        "beside the project",
        _body('"project": {', '"priority": "low", "priority": "urgent", "project": {'),
        f"the request body: priority {_REPEAT}",
    ),
    (
        "in an OTIO document sent as a string",
        json.dumps({"project": _otio_text('"name": "hidden", "name": "take"')}).encode(),
        f"project: tracks.children[0].children[0].name {_REPEAT}",
    ),
]


@pytest.mark.parametrize("route", ["/v1/jobs", "/v1/estimate"])
@pytest.mark.parametrize(("body", "error"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_key_given_twice_is_refused_naming_it(
    client: TestClient, user_key: str, route: str, body: bytes, error: str
) -> None:
    answer = client.post(route, content=body, headers={**JSON, **bearer(user_key)})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == error + ": keep the one you mean"


def test_the_same_document_with_each_key_once_is_estimated(
    client: TestClient, user_key: str, storage_dir: Path, tmp_path: Path
) -> None:
    # Its OTIO document's clip names an uploaded asset: an estimate checks storage holds it.
    (storage_dir / "assets").mkdir(exist_ok=True)
    make_video(storage_dir / "assets" / ("ab" * 32 + ".mp4"), frames=15, size=(64, 36))
    for body in (
        _body('"tracks": [', '"tracks": ['),
        json.dumps({"project": _otio_text('"name": "take"')}).encode(),
    ):
        answer = client.post("/v1/estimate", content=body, headers={**JSON, **bearer(user_key)})
        assert answer.status_code == 200, answer.text

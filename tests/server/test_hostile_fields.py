"""Hostile values in the fields of the HTTP service's request bodies (not the project: see
test_hostile_projects): each is a 4xx with one line naming the field, never a 500, a
negative promise or a traceback."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import colour_project
from tests.media import project, video_track
from tests.security.test_media_formats import faststart
from tests.server.conftest import bearer

JSON = {"Content-Type": "application/json"}


def _post(client: TestClient, key: str, route: str, **fields: Any) -> Any:
    body = json.dumps({"project": colour_project(1.0), **fields}, allow_nan=True)
    return client.post(route, content=body, headers={**JSON, **bearer(key)})


def _refused(answer: Any, *words: str) -> str:
    """The one-line error of a 4xx answer, which must hold ``words``."""
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:500])
    error = answer.json()["error"]
    assert isinstance(error, str) and "\n" not in error and "Traceback" not in error
    for word in words:
        assert word in error, error
    return error


@pytest.mark.parametrize("route", ["/v1/estimate", "/v1/jobs"])
@pytest.mark.parametrize("deadline", ["2020-01-01T00:00:00Z", "+0s", 1.0e9])
def test_a_deadline_already_past_is_refused_not_priced_negative(
    client: TestClient, user_key: str, route: str, deadline: Any
) -> None:
    # POST /v1/estimate answered 200 with "deadline_seconds": -211000000.0.
    _refused(_post(client, user_key, route, deadline=deadline), "deadline", "has passed")


def test_an_upload_cut_after_its_first_frames_is_stored_as_validate_accepts_it(
    client: TestClient, user_key: str, tmp_path: Path
) -> None:
    """Upload refused it as "cut short" while validate and render accept a project whose clips
    use its intact head: the clips' ranges decide, where they are known (the job's render)."""
    data = faststart(tmp_path / "take.mp4").read_bytes()  # index first: a cut copy opens
    cut = data[: len(data) * 2 // 3]
    name = hashlib.sha256(cut).hexdigest() + ".mp4"
    answer = client.put(f"/v1/assets/{name}", content=cut, headers=bearer(user_key))
    assert answer.status_code == 201, answer.text
    text = b"this is not a video\n" * 20  # what is no media at all is still refused
    name = hashlib.sha256(text).hexdigest() + ".mp4"
    answer = client.put(f"/v1/assets/{name}", content=text, headers=bearer(user_key))
    _refused(answer, name, "not a media file")


@pytest.mark.parametrize("extra", [{"duration": 1e308}, {"nodes": 3}])
def test_slots_with_a_pools_fields_is_refused_not_half_taken(
    client: TestClient, operator_key: str, extra: dict[str, Any]
) -> None:
    # {"slots": 2, "duration": 1e308} answered 200 and dropped the duration without a word.
    body = json.dumps({"slots": 2, **extra})
    answer = client.post(
        "/v1/cluster/scale", content=body, headers={**JSON, **bearer(operator_key)}
    )
    _refused(answer, "nodes and duration go with a pool")


def test_an_estimate_naming_an_asset_nobody_uploaded_is_refused_as_the_submit_is(
    client: TestClient, user_key: str
) -> None:
    # The estimate answered 200; the submit that followed: "... is not in storage".
    ref = "asset:sha256:" + "a" * 64 + ".mp4"
    clip = {"id": "shot", "start_time": 0, "end_time": 1.0, "source": {"File": ref}}
    document = project([video_track("v", [clip])], size=(64, 36))
    errors = set()
    for route in ("/v1/estimate", "/v1/jobs"):
        answer = client.post(
            route, content=json.dumps({"project": document}), headers={**JSON, **bearer(user_key)}
        )
        errors.add(_refused(answer, "clip 'shot'", ref, "is not in storage; upload it first"))
    assert len(errors) == 1  # the same words both ways

"""The HTTP API's ``settings.profile`` and ``settings.audio_codec``: an impossible combination is
a 400 naming the setting and the values it takes at submit time, not a failed job."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import colour_project
from tests.server.conftest import bearer


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"container": "mov", "codec": "prores", "profile": "ultra"},
         ["settings.profile", "'ultra'", "proxy, lt, standard, hq, 4444"]),
        ({"container": "mkv", "codec": "dnxhr"}, ["codec dnxhr cannot be stored in mkv"]),
        ({"container": "mov", "audio_codec": "opus"},
         ["settings.audio_codec", "aac, alac, pcm_s16le, pcm_s24le"]),
        ({"container": "webm", "audio_codec": "flac"}, ["settings.audio_codec", "use one of opus"]),
        # Audio only: a silent project, and a codec the container does not hold.
        ({"container": "wav"}, ["audio only (wav)", "the timeline has no sound"]),
        ({"container": "flac", "audio_codec": "aac"}, ["settings.audio_codec", "use one of flac"]),
        ({"container": "aiff"}, ["settings.container", "flac, m4a, mkv, mov, mp3"]),
        # The mix's rate: one the codec encodes, a whole number.
        ({"container": "mkv", "sample_rate": 44100}, ["settings.sample_rate", "44100", "Opus"]),
        ({"sample_rate": "fast"}, ["settings.sample_rate", "'fast'", "whole number"]),
        ({"sample_rate": 100}, ["settings.sample_rate", "100", "8000 to 384000"]),
    ],
)  # fmt: skip
def test_an_impossible_export_is_refused_at_submit(
    client: TestClient, user_key: str, settings: dict[str, Any], words: list[str]
) -> None:
    answer = client.post(
        "/v1/jobs",
        json={"project": colour_project(0.2), "settings": settings},
        headers=bearer(user_key),
    )
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    for word in words:
        assert word in error, error

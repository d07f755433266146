"""A job document's export settings are checked on the worker like the project's own (security2
finding 6: an unknown container left the job in planning for ever with a KeyError, and a
negative, huge or text crf, bitrate or keyframe interval was taken as valid)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.model import ExportSettings
from tests.helpers import colour_project
from tests.security.redis_writer import job_document
from workers.job_policy import JobRefused
from workers.job_spec import JobSpec


def spec_exporting(tmp_path: Path, **export: Any) -> JobSpec:
    data = job_document(colour_project(0.2), tmp_path, f"file://{tmp_path / 'store'}")
    return JobSpec.from_dict({**data, "export": {**data["export"], **export}})


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        (
            "container",
            "xyz",
            "settings.container: 'xyz' is not one of flac, m4a, mkv, mov, mp3, mp4, ogg",
        ),
        ("codec", "mpeg2", "settings.codec: 'mpeg2' is not one of"),
        ("crf", -100, "settings.crf: -100 must be a whole number from 0 to 63"),
        ("crf", "23; touch /tmp/pwn", "settings.crf: '23; touch /tmp/pwn' must be a whole"),
        ("keyframe_interval", -5, "settings.keyframe_interval: -5 must be a whole number"),
        ("b_frames", 10**9, "settings.b_frames: 1000000000 must be a whole number from 0 to 16"),
        ("bitrate", -1, "settings.bitrate: -1 must be a whole number from 1000"),
        ("audio_bitrate", 10**15, "settings.audio_bitrate: 1000000000000000 must be a whole"),
        # int(nan) and int(inf) raised: a 500 over HTTP, a worker's traceback here
        ("crf", float("nan"), "settings.crf: nan must be a whole number from 0 to 63"),
        ("bitrate", float("inf"), "settings.bitrate: inf must be a whole number from 1000"),
        ("lossless", "yes", "settings.lossless: 'yes' must be true or false"),
        ("container", None, "settings.container: None is not one of"),
        ("colour", "red", "settings.colour: not an export setting"),
    ],
)
def test_an_export_setting_the_encoder_does_not_take_refuses_the_job_in_one_line(
    tmp_path: Path, field: str, value: Any, said: str
) -> None:
    spec = spec_exporting(tmp_path, **{field: value})
    with pytest.raises(JobRefused) as refused:
        spec.timeline()
    message = str(refused.value)
    assert message.startswith(f"job {spec.id}: export ") and said in message
    assert "\n" not in message


def test_every_setting_a_project_can_load_is_taken(tmp_path: Path) -> None:
    loaded = dataclasses.asdict(ExportSettings())
    assert spec_exporting(tmp_path, **loaded).timeline().export == ExportSettings()
    widest = {"bitrate": 10**10, "audio_bitrate": 10**7, "crf": 63, "keyframe_interval": 10000}
    assert spec_exporting(tmp_path, **widest).timeline().export.bitrate == 10**10

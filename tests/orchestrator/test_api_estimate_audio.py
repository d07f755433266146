"""An audio-only job (``render -o mix.wav``) estimated through the real estimate path against a
real Redis: its time and cost are its audio task's, priced by the sound it mixes, where both
used to be the merge's alone (no chunk, so nothing to render)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import redis

from chunking import weights as w
from chunking.timeline.project import read_project
from common.settings import Settings
from orchestrator.api_estimate import estimate_job
from orchestrator.costing import NODE_CLASS, record_throughput
from orchestrator.estimates import Overheads
from orchestrator.job_store import JobStore
from orchestrator.planning import quote
from tests.media import project, write_wav
from tests.orchestrator.test_api_estimate import heartbeat

RATE = 48000


@pytest.fixture
def client(redis_url: str) -> redis.Redis:
    """The test Redis, decoding as the job store does."""
    return JobStore.from_url(redis_url).redis


def mix(tmp: Path, seconds: float, export: str = "wav") -> object:
    """A timeline of `seconds` of a tone on an audio track, exported as `export`."""
    t = np.arange(round(seconds * RATE)) / RATE
    tone = (0.4 * np.stack([np.sin(2 * np.pi * 440 * t)] * 2)).astype(np.float32)
    write_wav(tmp / f"tone{seconds:g}.wav", tone, RATE)
    clip = {"id": "c", "start_time": 0, "end_time": seconds,
            "source": {"File": f"tone{seconds:g}.wav"}}  # fmt: skip
    doc = project([{"id": "a", "track_type": "Audio", "name": "a", "clips": [clip]}],
                  settings={"export": {"format": export}})  # fmt: skip
    return read_project(doc, base_dir=str(tmp)).timeline


def units(seconds: float) -> float:
    """The task's units for one clip over the whole timeline."""
    encode = w.AUDIO_ENCODE_SECOND["pcm_s16le"]  # a wav export's
    return w.AUDIO_TASK + (w.AUDIO_CLIP_SECOND + encode) * seconds


def test_an_audio_only_job_is_priced_by_its_mix(client: redis.Redis, tmp_path: Path) -> None:
    heartbeat(client, "render@a", 2)
    record_throughput(client, NODE_CLASS, 1.0, 100, 1.0)  # 0.01 s per unit
    settings = dataclasses.replace(Settings.from_env({}), hourly_rate=0.36)
    short, long = (estimate_job(client, settings, mix(tmp_path, s)) for s in (4.0, 16.0))
    assert short.chunks == long.chunks == 0
    (a,), (b,) = short.options, long.options
    overheads = Overheads()
    for got, seconds in ((a, 4.0), (b, 16.0)):
        task = units(seconds) * 0.01
        merge = overheads.merge(0)  # it writes the mix: no video frame to join
        assert got.seconds.p50 == pytest.approx(overheads.startup_seconds + task + merge)
        assert got.cost.p50 == pytest.approx((task + merge) * 0.36 / 3600)  # per slot-hour
    assert b.seconds.p50 > a.seconds.p50 and b.cost.p50 > a.cost.p50


def test_the_submit_quote_of_an_audio_only_job_is_not_free(
    client: redis.Redis, tmp_path: Path
) -> None:
    record_throughput(client, NODE_CLASS, 1.0, 100, 1.0)
    got = quote(mix(tmp_path, 10.0), client, slots=2, chunk_frames=None, hourly_rate=0.36)
    assert got.node_seconds == pytest.approx(units(10.0) * 0.01)
    assert got.cost > 0

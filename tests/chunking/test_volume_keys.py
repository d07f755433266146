"""A clip's volume envelope (``volume_keyframes``, chunking.timeline.volume_keys): the factor the
keys give at a time, and how the ProjectSchema reader reads them (strictly: a bad key is an
error naming the clip and the key, never a traceback nor a silent default)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.project import read_project
from chunking.timeline.volume_keys import VolumeKey, key_volume
from common.errors import ValidationError
from tests.media import project

DIP = (VolumeKey(1.0, 1.0), VolumeKey(1.5, 0.25), VolumeKey(2.5, 0.25), VolumeKey(3.0, 1.0))
DB = (VolumeKey(0.0, 1.0, "db"), VolumeKey(2.0, 0.01))


@pytest.mark.parametrize(
    ("keys", "seconds", "factor"),
    [
        (DIP, 0.0, 1.0),  # before the first key: the first's
        (DIP, 1.25, 0.625),  # halfway down, linear in the factor
        (DIP, 2.0, 0.25),  # held between two equal keys
        (DIP, 2.75, 0.625),
        (DIP, 9.0, 1.0),  # after the last: the last's
        ((VolumeKey(0.0, 0.5),), 3.0, 0.5),  # one key: that factor throughout
        (DB, 1.0, 0.1),  # halfway from 0 dB to -40 dB in dB is -20 dB
        (DB, 0.5, 10 ** (-10 / 20)),
        ((VolumeKey(0.0, 0.0, "db"), VolumeKey(1.0, 1.0)), 0.25, 0.25),  # silent end: linear
    ],
)
def test_the_keys_give_the_factor_at_a_time(
    keys: tuple[VolumeKey, ...], seconds: float, factor: float
) -> None:
    assert key_volume(keys, seconds) == pytest.approx(factor, rel=1e-12)


def _doc(tmp_path: Path, keys: Any) -> dict[str, Any]:
    clip = {"id": "c", "start_time": 0, "end_time": 2, "source": {"File": "tone.wav"},
            "volume_keyframes": keys}  # fmt: skip
    (tmp_path / "tone.wav").write_bytes(b"")
    return project([{"id": "a", "track_type": "Audio", "name": "a", "clips": [clip]}])


def test_volume_keyframes_are_read_into_the_clip(tmp_path: Path) -> None:
    keys = [{"time": 0.5, "volume": 1}, {"time": 1, "volume": 0.2, "interpolation": "db"}]
    timeline = read_project(_doc(tmp_path, keys), base_dir=str(tmp_path)).timeline
    assert timeline.clip("c").volume_keys == (VolumeKey(0.5, 1.0), VolumeKey(1.0, 0.2, "db"))


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"time": 0}, "volume_keyframes must be a list"),
        ([{"time": 0, "volume": 11}], "volume_keyframes[0]"),
        ([{"time": 0, "volume": -1}], "volume_keyframes[0]"),
        ([{"time": "x", "volume": 1}], "volume_keyframes[0]"),
        ([{"volume": 1}], "volume_keyframes[0]: needs a time and a volume"),
        ([{"time": 0, "gain": 1}], "volume_keyframes[0]: unknown field 'gain'"),
        ([{"time": 0, "volume": 1, "interpolation": "ease"}], "interpolation 'ease'"),
        ([{"time": 1, "volume": 1}, {"time": 0, "volume": 1}], "strictly increasing"),
        ([{"time": 1, "volume": 1}, {"time": 1, "volume": 0}], "strictly increasing"),
        (["loud"], "volume_keyframes[0]: must be an object"),
    ],
)
def test_bad_volume_keyframes_are_refused_naming_the_clip_and_key(
    tmp_path: Path, keys: Any, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        read_project(_doc(tmp_path, keys), base_dir=str(tmp_path))
    assert "clip 'c'" in str(caught.value) and message in str(caught.value)

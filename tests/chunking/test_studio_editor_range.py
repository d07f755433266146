"""A .tlsp render range over a music clip's sound fades: the range sounds as the sequence does
over the same seconds, however the range cuts the fades."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chunking.timeline.loader import load
from tests.chunking.test_studio_editor import DATA, make_media, make_wav
from workers.audio import mix_timeline

RATE = 48_000


def music_only(folder: Path, render: dict[str, Any]) -> Path:
    """The .tlsp sample's music track alone (a tone, 0 to 7 s, fading in and out over 2 s),
    rendered over ``render``."""
    doc = json.loads((DATA / "interview.tlsp").read_text(encoding="utf-8"))
    seq = doc["sequences"]["seq-main"]
    bed = seq["composition"]["tracks"][1]["clips"][0]
    bed["fadeIn"], bed["fadeOut"] = {"duration": 2}, {"duration": 2}
    seq["renderSettings"] = {"selectedTracks": ["music"], **render}
    path = folder / f"music-{len(list(folder.glob('*.tlsp')))}.tlsp"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(
    ("in_point", "out_point"),
    [
        (1.0, 6.0),  # both fades cut into
        (2.5, 4.5),  # both fades cut away
        (0.6, 7.0),  # the fade in cut into, the fade out whole
    ],
)
def test_a_range_sounds_as_the_sequence_does_over_its_seconds(
    tmp_path: Path, in_point: float, out_point: float
) -> None:
    (tmp_path / "media").mkdir()
    make_wav(tmp_path / "media" / "music.wav", seconds=8.0)
    shutil.copy(DATA / "interview.tlsp", tmp_path / "interview.tlsp")
    full = mix_timeline(load(str(music_only(tmp_path, {}))))
    ranged_timeline = load(str(music_only(tmp_path, {"inPoint": in_point, "outPoint": out_point})))
    ranged = mix_timeline(ranged_timeline)
    first, count = round(in_point * RATE), round((out_point - in_point) * RATE)
    assert ranged.shape[1] == count
    # Sample k of the range is sample in + k of the sequence, fades and all.
    assert np.abs(ranged - full[:, first : first + count]).max() < 1e-3
    assert ranged_timeline.warnings == ()


def faded_pictures(folder: Path, render: dict[str, Any]) -> Path:
    """The .tlsp sample's video track alone, its intro (0 to 3 s) fading in over 1.2 s and out
    over 0.8 s, rendered over ``render``."""
    doc = json.loads((DATA / "interview.tlsp").read_text(encoding="utf-8"))
    seq = doc["sequences"]["seq-main"]
    intro = seq["composition"]["tracks"][0]["clips"][0]
    intro["fadeIn"] = {"duration": 1.2, "type": "linear"}
    intro["fadeOut"] = {"duration": 0.8, "type": "linear"}
    seq["renderSettings"] = {"selectedTracks": ["v1"], **render}
    path = folder / f"video-{len(list(folder.glob('*.tlsp')))}.tlsp"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(
    ("in_point", "out_point"),
    [
        (0.4, 2.6),  # both fades cut into
        (1.6, 2.0),  # both fades cut away
        (0.0, 2.6),  # the fade in whole, the fade out cut into
    ],
)
def test_a_range_fades_the_picture_as_the_sequence_does_on_its_frames(
    tmp_path: Path, in_point: float, out_point: float
) -> None:
    make_media(tmp_path / "media", ["intro.mp4", "outro.mp4"])
    full = load(str(faded_pictures(tmp_path, {})))
    ranged = load(str(faded_pictures(tmp_path, {"inPoint": in_point, "outPoint": out_point})))
    first = round(in_point * full.fps)
    whole, cut = full.clip("intro"), ranged.clip("intro")
    levels = [cut.picture_fade(k, ranged.fps) for k in range(cut.start, cut.end)]
    # Frame k of the range is as faded as frame in + k of the sequence.
    assert levels == [whole.picture_fade(first + k, full.fps) for k in range(cut.start, cut.end)]
    assert any(level < 1 for level in levels) == (in_point < 1.2 or out_point > 2.2)


def test_a_range_hears_a_volume_dip_where_the_sequence_does(tmp_path: Path) -> None:
    """A dip (a Timeline Studio clip's volume keys, the clip's volume envelope) keeps its place
    in the sequence when a render range cuts the clip's head off."""
    (tmp_path / "media").mkdir()
    make_wav(tmp_path / "media" / "music.wav", seconds=8.0)
    shutil.copy(DATA / "interview.tlsp", tmp_path / "interview.tlsp")
    dip = [(0, 1.0), (2.5, 1.0), (3, 0.2), (3.5, 0.2), (4, 1.0)]
    keys = [{"id": f"k{n}", "time": t, "property": "volume", "value": v,
             "interpolation": "linear"} for n, (t, v) in enumerate(dip)]  # fmt: skip

    def keyed(render: dict[str, Any]) -> Path:
        path = music_only(tmp_path, render)
        doc = json.loads(path.read_text(encoding="utf-8"))
        bed = doc["sequences"]["seq-main"]["composition"]["tracks"][1]["clips"][0]
        bed["keyframes"] = keys
        path.write_text(json.dumps(doc))
        return path

    full = mix_timeline(load(str(keyed({}))))
    ranged = mix_timeline(load(str(keyed({"inPoint": 1.0, "outPoint": 6.0}))))
    first = round(1.0 * RATE)
    assert ranged.shape[1] == 5 * RATE
    assert np.abs(ranged - full[:, first : first + ranged.shape[1]]).max() < 1e-3
    dipped, open_ = full[:, 3 * RATE : round(3.5 * RATE)], full[:, 4 * RATE : 5 * RATE]
    assert np.abs(dipped).max() == pytest.approx(0.2 * np.abs(open_).max(), rel=0.02)

"""A project file that gives one key twice in a JSON object is refused by ``validate`` and
``render --direct`` with one line naming the key's path and the file: Python's json kept the
last value silently, so the render was not what the document reads as (or what a reviewer who
read the first value saw)."""

from __future__ import annotations

import json
from pathlib import Path

import opentimelineio as otio
import pytest

from tests.helpers import CLI, colour_project
from tests.media import make_video, write_project

pytestmark = pytest.mark.timeout(120)


def _native(tmp: Path, old: str, new: str) -> Path:
    """A small colour project with ``old`` in its JSON text replaced by ``new``."""
    doc = colour_project(0.5, "#ff8800", effects=[{"id": "b", "effect_type": "Blur"}])
    doc["tracks"][0]["clips"][0]["effects"] = ["b"]
    doc["effects"][0]["params"] = {"radius": 2}
    doc["tracks"].append({**doc["tracks"][0], "id": "w", "clips": []})
    text = json.dumps(doc)
    assert text.count(old) == 1, (old, text)
    path = tmp / "p.json"
    path.write_text(text.replace(old, new))
    return path


def _otio(tmp: Path, old: str, new: str) -> Path:
    """An OpenTimelineIO file of one clip of a small video, ``old`` in its text replaced."""
    make_video(tmp / "src.mp4", frames=15, size=(64, 36))
    clip = otio.schema.Clip(
        name="take",
        media_reference=otio.schema.ExternalReference(target_url="src.mp4"),
        source_range=otio.opentime.range_from_start_end_time(
            otio.opentime.RationalTime(0, 30), otio.opentime.RationalTime(15, 30)
        ),
    )
    timeline = otio.schema.Timeline(name="t", tracks=[otio.schema.Track(children=[clip])])
    text = otio.adapters.write_to_string(timeline, "otio_json")
    assert text.count(old) == 1, (old, text)
    path = tmp / "p.otio"
    path.write_text(text.replace(old, new))
    return path


#: (name, document maker, text replaced, its replacement, the path the error names)
CASES = [
    ("top level", _native, '"tracks": [', '"tracks": [], "tracks": [', "tracks"),
    (
        "in a clip",
        _native,
        '"start_time": 0,',
        '"start_time": 0, "start_time": 0.25,',
        "tracks[0].clips[0].start_time",
    ),
    (
        "in an effect's params",
        _native,
        '"radius": 2}',
        '"radius": 2, "radius": 40}',
        "effects[0].params.radius",
    ),
    ("in an array of objects", _native, '"id": "w"', '"id": "w", "id": "v"', "tracks[1].id"),
    (
        "a key that is no plain name",
        _native,
        '"name": "test"',
        '"name": "test", "a b": 1, "a b": 2',
        'metadata["a b"]',
    ),
    (
        "in an OTIO clip",
        _otio,
        '"name": "take"',
        '"name": "hidden", "name": "take"',
        "tracks.children[0].children[0].name",
    ),
]


@pytest.mark.parametrize(
    ("make", "old", "new", "where"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_key_given_twice_is_one_line_naming_it_in_validate_and_render(
    cli: CLI, tmp_path: Path, make: object, old: str, new: str, where: str
) -> None:
    assert callable(make)
    path = make(tmp_path, old, old)
    assert cli("validate", str(path)).returncode == 0  # the document as given once is good
    path = make(tmp_path, old, new)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    expected = (
        f"error: {path}: {where} is given more than once (a JSON object holds each key once; "
        "the last would silently win): keep the one you mean\n"
    )
    for args in (["validate"], ["render", "--direct", "-o", str(out_dir / "x.mp4")]):
        done = cli(*args, str(path))
        assert (done.returncode, done.stderr) == (2, expected), args
    assert list(out_dir.iterdir()) == []


def test_a_json_answer_carries_the_same_line(cli: CLI, tmp_path: Path) -> None:
    path = _native(tmp_path, '"start_time": 0,', '"start_time": 0, "start_time": 0.25,')
    done = cli("validate", str(path), "--json")
    assert done.returncode == 2
    assert (
        "tracks[0].clips[0].start_time is given more than once" in json.loads(done.stdout)["error"]
    )


def test_the_same_key_in_two_objects_is_not_a_repeat(cli: CLI, tmp_path: Path) -> None:
    doc = colour_project(0.5)
    doc["tracks"][0]["clips"].append({**doc["tracks"][0]["clips"][0], "id": "d", "start_time": 1})
    doc["tracks"][0]["clips"][1]["end_time"] = 1.5
    done = cli("validate", str(write_project(tmp_path / "p.json", doc)))
    assert done.returncode == 0, done.stderr

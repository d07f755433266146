"""OTIO files written by OpenTimelineIO's 0.19 development line (chunking.timeline
.otio_schema_versions): its ``Marker.3`` (a colour object) made the installed 0.18 refuse the
whole file ("unsupported schema version: near line 155").

The marker below is the first of ``tests/sample_data/premiere_example.otio`` in
https://github.com/AcademySoftwareFoundation/OpenTimelineIO at commit
bc5fe2d78dc3f8b2a8feb7e04483d85a12e80072 (written by that commit's "Marker RGB Colors", #2023),
copied unchanged onto a one-clip timeline. Licence: Apache-2.0, Copyright Contributors to the
OpenTimelineIO project (tests/data/otio/LICENSE).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest

from chunking.timeline.loader import load
from common.errors import TimelineError

RT = otio.opentime.RationalTime
#: The sample's marker, as OpenTimelineIO 0.19.0.dev1 writes it.
MARKER_3 = {
    "OTIO_SCHEMA": "Marker.3",
    "metadata": {"fcp_xml": {"comment": "fsfsfs"}},
    "name": "dsf",
    "color": {"OTIO_SCHEMA": "Color.1", "r": 1.0, "g": 0.0, "b": 0.0, "a": 1.0, "name": "RED"},
    "marked_range": {
        "OTIO_SCHEMA": "TimeRange.1",
        "duration": {"OTIO_SCHEMA": "RationalTime.1", "rate": 30.0, "value": 0.0},
        "start_time": {"OTIO_SCHEMA": "RationalTime.1", "rate": 30.0, "value": 492.0},
    },
}


def written(tmp_path: Path, marker: dict[str, Any]) -> Path:
    """A one-clip .otio (30 fps, 48 frames of a file beside it) whose clip holds ``marker``."""
    (tmp_path / "a.mov").write_bytes(b"")
    clip = otio.schema.Clip(
        name="shot",
        media_reference=otio.schema.ExternalReference(target_url="a.mov"),
        source_range=otio.opentime.TimeRange(RT(480, 30), RT(48, 30)),
    )
    tl = otio.schema.Timeline(tracks=[otio.schema.Track(children=[clip])])
    document = json.loads(otio.adapters.write_to_string(tl, "otio_json"))
    document["tracks"]["children"][0]["children"][0]["markers"] = [marker]
    path = tmp_path / "cut.otio"
    path.write_text(json.dumps(document, indent=4))
    return path


def test_a_marker_of_the_newer_schema_loads_as_the_older(tmp_path: Path) -> None:
    timeline = load(str(written(tmp_path, MARKER_3)))
    (track,) = timeline.tracks
    (clip,) = track.clips
    assert (clip.start, clip.end, timeline.frames) == (0, 48, 48)
    assert float(clip.source_start) == 16.0


@pytest.mark.parametrize(("given", "read"), [("RED", "RED"), ("Red", "RED"), ("teal", "teal")])
def test_the_colour_names_the_downgrade_writes(given: str, read: str, tmp_path: Path) -> None:
    """OpenTimelineIO's Marker 3 to 2 downgrade: a named colour upper-cased, another kept."""
    from chunking.timeline.otio_schema_versions import readable_text

    marker = json.loads(json.dumps(MARKER_3))
    marker["color"]["name"] = given
    path = written(tmp_path, marker)
    downgraded = json.loads(readable_text(str(path), path.read_text()))
    (out,) = downgraded["tracks"]["children"][0]["children"][0]["markers"]
    assert (out["OTIO_SCHEMA"], out["color"]) == ("Marker.2", read)


def test_a_newer_schema_without_a_downgrade_is_named(tmp_path: Path) -> None:
    path = written(tmp_path, MARKER_3)
    path.write_text(path.read_text().replace('"Clip.2"', '"Clip.7"'))
    with pytest.raises(TimelineError, match=r"newer OpenTimelineIO .*Clip\.7.*reads Clip\.2"):
        load(str(path))

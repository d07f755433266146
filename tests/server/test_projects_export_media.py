"""An EDL sent over HTTP is read as the CLI reads it beside its media: its source times count
from the start timecode and its rate from the frame rate each medium's entry declares."""

from __future__ import annotations

import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.loader import load
from common.errors import TimelineError
from server.export_media import read_media_map
from server.projects import load_remote_project
from tests.media import make_video

CAMERA = "asset:sha256:" + "ab" * 32 + ".mov"
SOUND = "asset:sha256:" + "cd" * 32 + ".wav"
#: Premiere's NDF EDL of 23.976 fps media starting at 01:00:00:00.
PREMIERE = """TITLE: Sequence 01
FCM: NON-DROP FRAME

001  AX       V     C        01:00:01:00 01:00:03:00 00:00:00:00 00:00:02:00
* FROM CLIP NAME: V1.mov

002  AX       V     C        01:00:05:00 01:00:06:12 00:00:02:00 00:00:03:12
* FROM CLIP NAME: V1.mov
"""
DECLARED = {"asset": CAMERA, "timecode": "01:00:00:00", "fps": "24000/1001"}


def starts(media: dict[str, Any], edl: str = PREMIERE) -> tuple[Fraction, list[float]]:
    """The frame rate and each clip's source start of ``edl`` read over HTTP."""
    timeline = load_remote_project(edl, media).timeline
    return timeline.fps, [c.source_start for t in timeline.tracks for c in t.clips]


def test_an_edl_over_http_reads_its_media_timecode_and_rate_as_the_cli_does(
    tmp_path: Path,
) -> None:
    make_video(tmp_path / "V1.mov", frames=240, fps=Fraction(24000, 1001), timecode="01:00:00:00")
    (tmp_path / "cut.edl").write_text(PREMIERE)
    local = load(str(tmp_path / "cut.edl"))
    expected = (local.fps, [c.source_start for t in local.tracks for c in t.clips])
    assert expected == (Fraction(24000, 1001), [1.001, 5.005])
    assert starts({"V1.mov": DECLARED}) == expected
    assert starts({"v1.MOV": {**DECLARED, "fps": 23.976}}) == expected  # as people write it


def test_media_declared_without_a_timecode_count_from_the_files_start() -> None:
    edl = PREMIERE.replace("01:00:0", "00:00:0")
    rate, found = starts({"V1.mov": {"asset": CAMERA, "timecode": None, "fps": 25}}, edl)
    assert (rate, found) == (25, [1.0, 5.0])


def test_production_sound_declared_with_its_timecode_plays_from_it() -> None:
    edl = (
        "TITLE: synced\nFCM: NON-DROP FRAME\n\n"
        "001  CAM001   V     C        10:00:02:00 10:00:04:00 01:00:00:00 01:00:02:00\n"
        "* FROM CLIP NAME: CAM001.mov\n"
        "002  SND001   AA    C        10:00:02:00 10:00:04:00 01:00:00:00 01:00:02:00\n"
        "* FROM CLIP NAME: SND001.wav\n"
    )
    media = {
        "CAM001.mov": {"asset": CAMERA, "timecode": "09:59:58:00", "fps": 25},
        "SND001.wav": {"asset": SOUND, "timecode": "10:00:00:00", "fps": 25},
    }
    assert starts(media, edl) == (25, [4.0, 2.0])


def test_an_edl_medium_named_by_a_bare_reference_reads_as_one_without_a_timecode() -> None:
    """The map's older form: accepted, its source times counted from the file's start."""
    project = load_remote_project(PREMIERE, {"V1.mov": CAMERA})
    assert project.timeline.frames > 0


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ({"asset": CAMERA, "timecode": "01:00:00:00"}, "names no 'fps'"),
        ({**DECLARED, "start": 0}, "unknown key 'start'"),
        ({**DECLARED, "fps": "fast"}, "'fast' is not a frame rate"),
        # It said "0 is not a frame rate from 0 to 240".
        ({**DECLARED, "fps": 0}, "fps must be a frame rate above 0 and at most 240, not 0"),
        ({**DECLARED, "fps": -0.0}, "fps must be a frame rate above 0 and at most 240, not -0.0"),
        # It quoted all 47 digits, and a 401-digit rate was "not a frame rate" at all.
        (
            {**DECLARED, "fps": 10**46},
            "fps must be a frame rate above 0 and at most 240, not 1e+46",
        ),
        ({**DECLARED, "fps": 10**400}, "at most 240, not a 401-digit number"),
        ({**DECLARED, "fps": "9" * 100_000}, "fps: '" + "9" * 36 + "... is not a frame rate"),
        ({**DECLARED, "timecode": "01:00:00:30"}, "is not a timecode at 23.976 fps"),
        ({**DECLARED, "fps": None}, "a timecode needs the fps"),
        ({**DECLARED, "asset": "/Volumes/V1.mov"}, "is not an asset reference"),
    ],
)
def test_a_malformed_declaration_is_refused_naming_its_entry(
    entry: dict[str, Any], says: str
) -> None:
    with pytest.raises(TimelineError) as refused:
        load_remote_project(PREMIERE, {"V1.mov": entry})
    assert "media['V1.mov']" in str(refused.value) and says in str(refused.value)


@pytest.mark.parametrize("fps", ["1e9999999", "1e-9999999", "24e0", "0x18", "24 fps"])
def test_a_frame_rate_written_with_an_exponent_is_refused_at_once(fps: str) -> None:
    """Fraction() reads "1e999999999" by building a billion-digit number (hours of the server's
    CPU for one request); a declared rate is a decimal or a ratio, anything else is refused."""
    started = time.monotonic()
    with pytest.raises(TimelineError) as refused:
        load_remote_project(PREMIERE, {"V1.mov": {**DECLARED, "fps": fps}})
    assert f"media['V1.mov'].fps: {fps!r} is not a frame rate" in str(refused.value)
    assert time.monotonic() - started < 2.0


def test_a_rate_under_one_hundredth_is_kept_as_declared() -> None:
    """0.004 fps was "snapped" to the NTSC twin of 0 fps: a medium declared at 0 fps, and a
    timecode refused as "not a timecode at 0 fps"."""
    entry = {"asset": CAMERA, "timecode": None, "fps": 0.004}
    assert read_media_map({"V1.mov": entry}).by_ref[CAMERA].rate == Fraction(1, 250)

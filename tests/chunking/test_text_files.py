"""Project files Windows tools save as UTF-16 or UTF-32 with a byte-order mark (Notepad's
"Unicode", PowerShell, Avid), or XML declaring another encoding, load as their UTF-8 selves;
they were refused as "not UTF-8" or "not a readable ... file"."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from chunking.timeline.loader import load
from common.errors import TimelineError
from tests.chunking.test_otio_fcpxml_checks import CUT
from tests.media import make_video

_EVENT = "001  AX       V     C        00:00:00:00 00:00:01:00 00:00:00:00 00:00:01:00\n"
_FCP7 = Path(__file__).parents[1] / "data" / "nle" / "premiere_example.xml"
_ENCODINGS = {
    "utf-16-le": codecs.BOM_UTF16_LE,
    "utf-16-be": codecs.BOM_UTF16_BE,
    "utf-32-le": codecs.BOM_UTF32_LE,
    "utf-32-be": codecs.BOM_UTF32_BE,
}


def _otio() -> str:
    clip = {
        "OTIO_SCHEMA": "Clip.2",
        "name": "Über",
        "source_range": _range(0, 25),
        "media_references": {
            "DEFAULT_MEDIA": {
                "OTIO_SCHEMA": "ExternalReference.1",
                "target_url": "a.mp4",
                "available_range": _range(0, 250),
            }
        },
        "active_media_reference_key": "DEFAULT_MEDIA",
    }
    track = {"OTIO_SCHEMA": "Track.1", "kind": "Video", "children": [clip]}
    stack = {"OTIO_SCHEMA": "Stack.1", "children": [track]}
    return json.dumps({"OTIO_SCHEMA": "Timeline.1", "name": "t", "tracks": stack})


def _range(start: int, duration: int) -> dict[str, object]:
    def time(value: int) -> dict[str, object]:
        return {"OTIO_SCHEMA": "RationalTime.1", "rate": 25.0, "value": float(value)}

    return {"OTIO_SCHEMA": "TimeRange.1", "start_time": time(start), "duration": time(duration)}


def _studio() -> str:
    return (Path(__file__).parents[2] / "examples" / "demo.json").read_text()


_SAMPLES = {
    "cut.fcpxml": lambda: CUT.replace('name="one"', 'name="Über"'),
    "cut.edl": lambda: f"TITLE: Über\nFCM: NON-DROP FRAME\n\n{_EVENT}* FROM CLIP NAME: a.mp4\n",
    "cut.otio": _otio,
    "cut.json": _studio,
}


def _outcome(path: Path) -> object:
    try:
        timeline = load(str(path))
    except TimelineError as exc:  # FCP 7's sample names media not here: its problems compare
        return str(exc).replace(str(path), "<file>")
    return (timeline.frames, [c.id for t in timeline.tracks for c in t.clips])


@pytest.mark.parametrize("encoding", list(_ENCODINGS))
@pytest.mark.parametrize("name", [*_SAMPLES, "cut.xml"])
def test_a_project_file_in_utf16_or_utf32_with_its_mark_loads_as_in_utf8(
    tmp_path: Path, name: str, encoding: str
) -> None:
    make_video(tmp_path / "a.mp4", frames=250, fps=25, size=(64, 36))
    text = _FCP7.read_text() if name == "cut.xml" else _SAMPLES[name]()
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    expected = _outcome(path)
    if name.endswith("xml"):  # as a tool writing UTF-16 declares it
        text = text.replace('encoding="UTF-8"', f'encoding="{encoding[:6].upper()}"', 1)
    path.write_bytes(_ENCODINGS[encoding] + text.encode(encoding))
    assert _outcome(path) == expected
    assert "not UTF-8" not in str(expected) and "readable" not in str(expected)


@pytest.mark.parametrize("encoding", list(_ENCODINGS))
@pytest.mark.parametrize("name", [*_SAMPLES, "cut.xml"])
def test_a_project_file_in_utf16_or_utf32_without_a_mark_loads_as_in_utf8(
    tmp_path: Path, name: str, encoding: str
) -> None:
    """Its zero bytes are valid UTF-8, so it was read with a NUL between letters: an EDL
    "holds no events", a Timeline Studio or OTIO file was "invalid JSON"."""
    make_video(tmp_path / "a.mp4", frames=250, fps=25, size=(64, 36))
    text = _FCP7.read_text() if name == "cut.xml" else _SAMPLES[name]()
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    expected = _outcome(path)
    if name.endswith("xml"):
        text = text.replace('encoding="UTF-8"', f'encoding="{encoding[:6].upper()}"', 1)
    path.write_bytes(text.encode(encoding))
    assert _outcome(path) == expected


def test_zero_bytes_that_are_not_utf16_are_named(tmp_path: Path) -> None:
    path = tmp_path / "cut.otio"
    # UTF-16-LE by its zero bytes, then a lone surrogate; a video is not "UTF-32 text"
    path.write_bytes(("{" + " " * 40).encode("utf-16-le") + b"\x00\xd8")
    with pytest.raises(TimelineError, match=rf"^{path}: looks like UTF-16 text without a"):
        load(str(path))
    video = make_video(tmp_path / "a.mp4", frames=1, size=(64, 36)).read_bytes()
    path.write_bytes(video)  # 00 00 00 20 ftyp: no text at all
    with pytest.raises(TimelineError, match=rf"^{path}: not a UTF-8 text file"):
        load(str(path))


@pytest.mark.parametrize("name", ["cut.fcpxml", "cut.xml"])
def test_an_xml_file_declaring_latin1_is_read_as_latin1(tmp_path: Path, name: str) -> None:
    """The FCP 7 XML reader read every file as UTF-8: a Latin-1 file's accented name failed
    with "'utf-8' codec can't decode"."""
    make_video(tmp_path / "a.mp4", frames=250, fps=25, size=(64, 36))
    if name == "cut.xml":
        text = _FCP7.read_text().replace("sc01_sh010_anim", "Über_sh010", 1)
    else:
        text = _SAMPLES[name]()
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    expected = _outcome(path)
    declared = text.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"', 1)
    assert declared != text
    path.write_bytes(declared.encode("latin-1"))
    assert _outcome(path) == expected and "Über" in str(expected)


def test_a_file_whose_mark_lies_or_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "cut.otio"
    path.write_bytes(codecs.BOM_UTF16_LE + b"{\x00\x00\xd8")  # a lone surrogate
    with pytest.raises(TimelineError, match=rf"^{path}: starts with a UTF-16 byte-order mark"):
        load(str(path))
    path.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(TimelineError, match=rf"^{path}: not a UTF-8 text file"):
        load(str(path))

"""Damaged media through validate and the render's pre-flight, property-based (bounded,
repeatable): whatever bytes a file holds, ``media_report`` answers one line per clip and
``header_warnings`` warns or raises our ValidationError, never another exception (a damaged
sample entry made both raise AttributeError, and an upload of it answered 500)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chunking.timeline.project import read_project
from common.errors import RenderError
from tests.media import make_video, project, video_track
from workers.probe import header_warnings, media_report

BOUNDED = settings(
    max_examples=100,
    derandomize=True,
    database=None,  # nothing written into the checkout
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies"
    ":hypothesis.errors.HypothesisDeprecationWarning"
)


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small whole files to damage: H.264 with sound in MP4 and Matroska, VP9 in WebM (paths:
    a failing example's report prints them)."""
    folder = tmp_path_factory.mktemp("originals")
    made = {
        ".mp4": make_video(folder / "a.mp4", frames=30, size=(64, 36), audio_hz=440.0),
        ".mkv": make_video(folder / "a.mkv", frames=30, size=(64, 36), audio_hz=440.0),
        ".webm": make_video(folder / "a.webm", frames=30, size=(64, 36), codec="libvpx-vp9"),
    }
    return made


#: Names of the MP4 boxes (and Matroska/WebM codec IDs) a file's structure hangs on: damage
#: near them finds what uniformly placed damage almost never does (a sample entry's fourcc).
_LANDMARKS = (b"moov", b"trak", b"mdhd", b"tkhd", b"hdlr", b"stsd", b"avc1", b"avcC", b"mp4a",
              b"esds", b"stts", b"stss", b"stsz", b"stco", b"ctts", b"V_MPEG4", b"V_VP9",
              b"A_AAC", b"A_OPUS")  # fmt: skip


def _landmarks(body: bytes) -> list[int]:
    """Where the structure's names are in a file."""
    found = []
    for name in _LANDMARKS:
        at = body.find(name)
        while at >= 0:
            found.append(at)
            at = body.find(name, at + 1)
    return found or [0]


#: One overwrite: near a landmark (else anywhere), which one or where (taken modulo), an offset
#: from the landmark, and the bytes written.
SPOTS = st.lists(
    st.tuples(
        st.booleans(),
        st.integers(min_value=0, max_value=2**31),
        st.integers(min_value=-8, max_value=24),
        st.binary(min_size=1, max_size=16),
    ),
    min_size=1,
    max_size=6,
)


@BOUNDED
@given(
    ext=st.sampled_from([".mp4", ".mkv", ".webm"]),
    spots=SPOTS,
    cut=st.one_of(st.none(), st.floats(min_value=0, max_value=1)),
)
def test_damaged_media_get_one_line_per_clip(
    tmp_path: Path,
    originals: dict[str, Path],
    ext: str,
    spots: list[tuple[bool, int, int, bytes]],
    cut: float | None,
) -> None:
    body = bytearray(originals[ext].read_bytes())
    marks = _landmarks(bytes(body))
    for near, where, offset, new in spots:
        at = marks[where % len(marks)] + offset if near else where % len(body)
        at = min(max(0, at), len(body) - 1)
        body[at : at + len(new)] = new
    if cut is not None:
        body = body[: int(len(body) * cut)]  # cut short as well
    name = f"damaged{ext}"
    (tmp_path / name).write_bytes(bytes(body))
    clip = {"id": "take", "start_time": 0, "end_time": 1, "source": {"File": name}}
    timeline = read_project(project([video_track("v", [clip])]), base_dir=str(tmp_path)).timeline
    problems, warnings = media_report(timeline, str(tmp_path))
    for line in problems + warnings:
        assert line.startswith("clip 'take': ") and "\n" not in line, line
    try:
        header_warnings(timeline)
    except RenderError as exc:
        assert "\n" not in str(exc)

"""Property-based fuzzing of the editors' exports (EDL, FCP 7 XML, FCPXML), bounded and
repeatable: whatever such a file holds, loading it ends in a Timeline or in one line of
TimelineError, never another exception, within seconds."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chunking.timeline.loader import load
from common.errors import TimelineError

BOUNDED = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies"
    ":hypothesis.errors.HypothesisDeprecationWarning"
)

#: Values a hostile or broken writer puts where a number or a time belongs.
HOSTILE = st.sampled_from(
    ["0", "-1", "-0", "nan", "inf", "1e308", "9" * 5000, "", "x", "1/0s", "0/0s", "-5s",
     "99999999999999999999/1s", "1e9", "99:99:99:99", "-00:00:01;00", "\x00", "\ufeff"]
)  # fmt: skip


def _timecode() -> st.SearchStrategy[str]:
    """A timecode, well formed or not."""
    part = st.integers(min_value=0, max_value=99).map(lambda n: f"{n:02d}")
    good = st.builds(lambda h, m, s, f, sep: f"{h}:{m}:{s}{sep}{f}", part, part, part, part,
                     st.sampled_from([":", ";", "."]))  # fmt: skip
    return st.one_of(good, HOSTILE)


#: Lines that follow an event: a speed, channels, a clip name, a split.
_AFTER = ["", "M2   AX  050.0  00:00:00:00", "M2   AX  nan  x", "AUD 3 4",
          "* FROM CLIP NAME: a.mov", "SPLIT: VIDEO"]  # fmt: skip


def _event(number: int, data: st.DataObject) -> str:
    """One EDL event line and what may follow it."""
    chan = data.draw(st.sampled_from(["V", "A", "AA", "B", "A/V", "NONE", "A9", "Q"]))
    kind = data.draw(st.sampled_from(["C", "D 030", "W001 010", "K", "Z"]))
    codes = " ".join(data.draw(_timecode()) for _ in range(4))
    line = f"{number:03d}  AX {chan} {kind} {codes}"
    extra = data.draw(st.sampled_from(_AFTER))
    return f"{line}\n{extra}"


def _load(text: str, suffix: str) -> None:
    """Write the text and load it: a Timeline or one line of TimelineError, within seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"cut{suffix}"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        began = time.monotonic()
        try:
            load(str(path))
        except TimelineError as exc:
            assert "\n" not in str(exc)
        assert time.monotonic() - began < 10


@BOUNDED
@given(st.data())
def test_edl_files_only_raise_timeline_errors(data: st.DataObject) -> None:
    fcm = data.draw(st.sampled_from(["FCM: NON-DROP FRAME", "FCM: DROP FRAME", "FCM: nonsense"]))
    count = data.draw(st.integers(min_value=0, max_value=6))
    events = [_event(n + 1, data) for n in range(count)]
    newline = data.draw(st.sampled_from(["\n", "\r\n"]))
    _load(newline.join(["TITLE: fuzz", fcm, "", *events]) + newline, ".edl")


FCPXML = (
    '<?xml version="1.0"?>\n<fcpxml version="{version}"><resources>'
    '<format id="r1" frameDuration="{frame}" width="{width}" height="180"/>'
    '<asset id="a1" start="{start}" duration="{duration}" hasVideo="1" format="r1">'
    '<media-rep kind="original-media" src="file:///etc/passwd"/></asset></resources>'
    '<library><event><project name="p"><sequence format="r1" duration="{duration}">'
    '<spine><asset-clip ref="a1" offset="{offset}" duration="{duration}" start="{start}"/>'
    '<gap offset="{offset}" duration="{gap}"/>'
    '<title offset="0s" duration="{duration}"><text><text-style>t</text-style></text></title>'
    "</spine></sequence></project></event></library></fcpxml>\n"
)
_TIME = st.one_of(HOSTILE, st.sampled_from(["0s", "1s", "25/25s", "3600s", "1001/30000s"]))


@BOUNDED
@given(
    version=st.sampled_from(["1.8", "1.10", "1.11", "x", ""]),
    frame=st.one_of(HOSTILE, st.just("1/25s")),
    width=HOSTILE,
    start=_TIME,
    duration=_TIME,
    offset=_TIME,
    gap=_TIME,
)
def test_fcpxml_files_only_raise_timeline_errors(**fields: str) -> None:
    _load(FCPXML.format(**fields), ".fcpxml")


FCP7 = (
    '<?xml version="1.0"?>\n<xmeml version="4"><sequence><name>s</name>'
    "<duration>{duration}</duration><rate><timebase>{timebase}</timebase><ntsc>{ntsc}</ntsc>"
    "</rate><media><video><track><clipitem id='c1'><name>c</name><duration>{duration}"
    "</duration><rate><timebase>{timebase}</timebase></rate><start>{start}</start>"
    "<end>{end}</end><in>{start}</in><out>{end}</out><file id='f1'><name>f</name>"
    "<pathurl>file:///etc/passwd</pathurl></file></clipitem></track></video></media>"
    "</sequence></xmeml>\n"
)


@BOUNDED
@given(
    duration=st.one_of(HOSTILE, st.just("50")),
    timebase=st.one_of(HOSTILE, st.just("25")),
    ntsc=st.sampled_from(["TRUE", "FALSE", "x", ""]),
    start=st.one_of(HOSTILE, st.just("0")),
    end=st.one_of(HOSTILE, st.just("50")),
)
def test_fcp7_xml_files_only_raise_timeline_errors(**fields: str) -> None:
    _load(FCP7.format(**fields), ".xml")

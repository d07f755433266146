"""An export's offline clip (no media, and no name a file could have): chunking.timeline.otio_nle.

Hiero's ``hiero_xml_export.xml`` (tests/data/nle, otio-fcp-adapter's sample; Apache-2.0) ends
with a clip item named ``/`` whose ``<file id="/">`` has no path: a shot with no media in the
editor. Its error told the user to put its media beside the export "under that name" ('/'),
which no file can have.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chunking.timeline.loader import load
from common.errors import TimelineError

DATA = Path(__file__).parents[1] / "data" / "nle"


def test_an_offline_clip_without_a_file_name_is_named_as_offline(tmp_path: Path) -> None:
    shutil.copy(DATA / "hiero_xml_export.xml", tmp_path / "hiero_xml_export.xml")
    (tmp_path / "A160C005_171213_R0MN.mxf").write_bytes(b"")  # the other clip's media
    with pytest.raises(TimelineError) as caught:
        load(str(tmp_path / "hiero_xml_export.xml"))
    message = str(caught.value)
    assert "clip '/'" in message and "offline" in message
    assert "under that name" not in message

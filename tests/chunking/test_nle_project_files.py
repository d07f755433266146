"""An editor's own project file given instead of an export (chunking.timeline.loader
``PROJECT_FILES``): it was read as JSON and refused as "invalid JSON at line 1"; the error now
names the editor and the export to make instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from chunking.timeline.loader import load
from common.errors import TimelineError

#: The head of a Kdenlive 24 project file (MLT XML), as Kdenlive writes it.
KDENLIVE = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<mlt LC_NUMERIC="C" producer="main_bin" version="7.22.0" root="/home/me/Videos">\n'
    ' <profile frame_rate_num="25" frame_rate_den="1" width="1920" height="1080"/>\n</mlt>\n'
)


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("edit.kdenlive", r"is a Kdenlive project: export its timeline as OpenTimelineIO"),
        ("edit.mlt", r"is an MLT project \(Shotcut, Kdenlive\)"),
        ("edit.prproj", r"is an Adobe Premiere Pro project: .* Final Cut Pro XML"),
        ("edit.drp", r"is a DaVinci Resolve project: .* File > Export > Timeline"),
    ],
)
def test_an_editors_project_file_names_the_export_to_make(
    tmp_path: Path, name: str, said: str
) -> None:
    path = tmp_path / name
    path.write_text(KDENLIVE)
    with pytest.raises(TimelineError, match=said):
        load(str(path))


def test_a_final_cut_library_folder_names_the_export_to_make(tmp_path: Path) -> None:
    """A library is a folder: it was refused as "a folder, not a timeline file"."""
    library = tmp_path / "Cut.fcpbundle"
    library.mkdir()
    with pytest.raises(TimelineError, match=r"is a Final Cut Pro library: .* File > Export XML"):
        load(str(library))

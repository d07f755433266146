"""What an EDL event asks of its picture beyond the cut (chunking.timeline.otio_edl
``note_unrendered``): the cmx3600 adapter's ``cdl.edl`` (ASC CDL grades) and
``no_spaces_test.edl`` (Avid's ``*AVX2 EFFECT, RESIZE``) from tests/data/otio/edl. Neither is
rendered; both were dropped without a word."""

from __future__ import annotations

import shutil
from pathlib import Path

from chunking.timeline.loader import load

EDLS = Path(__file__).parents[1] / "data" / "otio" / "edl"


def copied(tmp_path: Path, name: str, media: list[str]) -> Path:
    """A copy of an EDL with an empty file of each medium's name beside it (load relinks by
    name without opening the media)."""
    shutil.copy(EDLS / name, tmp_path / name)
    for medium in media:
        (tmp_path / medium).touch()
    return tmp_path / name


def test_an_events_cdl_grade_is_named_as_not_rendered(tmp_path: Path) -> None:
    timeline = load(str(copied(tmp_path, "cdl.edl", ["ZZ100_501 (LAY3).mov"])))
    graded = [w for w in timeline.warnings if "ASC CDL" in w]
    # Both events carry a grade, written two ways (*ASC_SOP and * ASC_SOP:).
    assert (
        graded
        == ["clip 'ZZ100_501 (LAY3)': its ASC CDL grade (ASC_SOP/ASC_SAT) is not rendered"] * 2
    )
    assert [c.end - c.start for c in timeline.tracks[0].clips] == [31, 31]


def test_an_avid_effect_comment_is_named_as_not_rendered(tmp_path: Path) -> None:
    names = ["501 (LAY3)", "502A (LAY3)", "503A (LAY1)", "504C (LAY1)", "504B (LAY1)"]
    names += ["507C (LAY2)", "508 (LAY2)", "510 (LAY1)", "510B (LAY1)"]
    timeline = load(str(copied(tmp_path, "no_spaces_test.edl", [f"ZZ100_{n}.mov" for n in names])))
    effects = [w for w in timeline.warnings if "effect" in w]
    assert effects == ["clip 'ZZ100_510B (LAY1)': its Avid effect 'RESIZE' is not rendered"]
    assert not [w for w in timeline.warnings if "ASC CDL" in w]
    assert timeline.frames == 1049  # 00:59:53:11 to 01:00:37:04 at 24 fps

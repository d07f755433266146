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
    # Both events carry a grade, written two ways (*ASC_SOP and * ASC_SOP:): one warning.
    assert graded == [
        "edl: 2 events carry an ASC CDL grade (ASC_SOP/ASC_SAT), which is not rendered "
        "(clip 'ZZ100_501 (LAY3)')"
    ]
    assert [c.end - c.start for c in timeline.tracks[0].clips] == [31, 31]


def _tc(frame: int) -> str:
    """A 24 fps non-drop-frame timecode."""
    return f"{frame // 86400:02d}:{frame // 1440 % 60:02d}:{frame // 24 % 60:02d}:{frame % 24:02d}"


def _graded_edl(tmp_path: Path, events: int, graded: set[int]) -> Path:
    """An EDL of half-second cuts c1, c2... (24 fps), the events numbered in ``graded`` with an
    ASC CDL grade, and each clip's medium beside it."""
    lines = ["TITLE: GRADED", "FCM: NON-DROP FRAME", ""]
    for n in range(1, events + 1):
        at = 86400 + (n - 1) * 12  # record frames: 01:00:00:00, then a cut every 12
        lines += [
            f"{n:03d}  AX       V     C        00:00:01:00 00:00:01:12 {_tc(at)} {_tc(at + 12)}",
            f"* FROM CLIP NAME: c{n}",
            "* SOURCE FILE: a.mov",
        ]
        if n in graded:
            lines += ["*ASC_SOP (1.1 1.0 0.9) (0.01 0.0 -0.01) (1.0 1.0 1.0)", "*ASC_SAT 0.8"]
        lines.append("")
    path = tmp_path / "graded.edl"
    path.write_text("\n".join(lines))
    for n in range(1, events + 1):
        (tmp_path / f"c{n}.mov").touch()
    return path


def test_many_graded_events_give_one_warning_that_counts_them(tmp_path: Path) -> None:
    """78 graded events gave 78 warnings, one per clip, all alike."""
    timeline = load(str(_graded_edl(tmp_path, 78, set(range(1, 79)))))
    graded = [w for w in timeline.warnings if "ASC CDL" in w]
    assert graded == [
        "edl: 78 events carry an ASC CDL grade (ASC_SOP/ASC_SAT), which is not rendered "
        "(clips 'c1', 'c2', 'c3' and 75 more)"
    ]
    assert len(timeline.tracks[0].clips) == 78


def test_some_graded_events_are_listed(tmp_path: Path) -> None:
    timeline = load(str(_graded_edl(tmp_path, 12, {2, 3, 4, 7, 11})))
    graded = [w for w in timeline.warnings if "ASC CDL" in w]
    assert graded == [
        "edl: 5 events carry an ASC CDL grade (ASC_SOP/ASC_SAT), which is not rendered "
        "(clips 'c2', 'c3', 'c4' and 2 more)"
    ]


def test_one_graded_event_is_named_by_its_clip(tmp_path: Path) -> None:
    timeline = load(str(_graded_edl(tmp_path, 3, {2})))
    graded = [w for w in timeline.warnings if "ASC CDL" in w]
    assert graded == ["clip 'c2': its ASC CDL grade (ASC_SOP/ASC_SAT) is not rendered"]


def test_an_avid_effect_comment_is_named_as_not_rendered(tmp_path: Path) -> None:
    names = ["501 (LAY3)", "502A (LAY3)", "503A (LAY1)", "504C (LAY1)", "504B (LAY1)"]
    names += ["507C (LAY2)", "508 (LAY2)", "510 (LAY1)", "510B (LAY1)"]
    timeline = load(str(copied(tmp_path, "no_spaces_test.edl", [f"ZZ100_{n}.mov" for n in names])))
    effects = [w for w in timeline.warnings if "effect" in w]
    assert effects == ["clip 'ZZ100_510B (LAY1)': its Avid effect 'RESIZE' is not rendered"]
    assert not [w for w in timeline.warnings if "ASC CDL" in w]
    assert timeline.frames == 1049  # 00:59:53:11 to 01:00:37:04 at 24 fps

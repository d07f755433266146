"""An EDL's frame rate where its timecodes leave it open: its media's (30, 48, 50, 60 fps)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from chunking.timeline.fields import Problems
from chunking.timeline.loader import load
from chunking.timeline.otio_edl_rate import edl_rate, other_rates
from common.errors import TimelineError
from tests.media import make_video


def events(*frames: int) -> str:
    """One event a frame number, each on its own second (distinct timecodes)."""
    return "".join(
        f"{n:03d} AX V C 00:00:{n:02d}:00 00:00:{n:02d}:{f:02d} "
        f"01:00:{n:02d}:00 01:00:{n:02d}:{f:02d}\n"
        for n, f in enumerate(frames, 1)
    )


@pytest.mark.parametrize(
    ("text", "media", "rate"),
    [
        (events(10, 20), [Fraction(30)], 30.0),  # too few frame numbers to doubt the media
        (events(10, 20), [Fraction(60)], 60.0),
        (events(10, 40), [Fraction(48)], 48.0),  # 50 is the least common rate above 40
        (events(10, 20), [Fraction(30), Fraction(25)], 24.0),  # mixed media settle nothing
        # Twenty cuts, none on a frame above 23: a 24 fps cut of 30 fps media.
        (events(*range(3, 23)), [Fraction(30)], 24.0),
        # A 30 fps cut of 60 fps media (games, sport): 4 cuts below frame 30 tell it.
        (events(11, 17, 22, 29), [Fraction(60)], 30.0),
    ],
)
def test_the_media_settle_an_edl_rate_its_frame_numbers_leave_open(
    text: str, media: list[Fraction], rate: float
) -> None:
    assert edl_rate(text, Problems(), media) == pytest.approx(rate)


def test_a_rate_the_media_give_is_warned_of_and_not_said_to_be_24_or_25() -> None:
    problems = Problems()
    edl_rate(events(10, 20), problems, [Fraction(30)])
    (warning,) = problems.warnings
    assert "read at 30 fps, the rate of all its media" in warning and "24 and 25" not in warning


def test_the_media_rate_is_tried_when_the_common_ones_do_not_add_up() -> None:
    assert 48.0 in other_rates(events(10, 40), [Fraction(48)])


def write(path: Path, *lines: str) -> Path:
    path.write_text("TITLE: t\nFCM: NON-DROP FRAME\n\n" + "\n".join(lines) + "\n")
    return path


def test_a_48_fps_edl_plays_at_48_instead_of_a_false_duration_mismatch(tmp_path: Path) -> None:
    """Frame numbers up to 40 made it a 50 fps EDL, whose durations then disagreed."""
    make_video(tmp_path / "H48.mov", frames=200, fps=48, size=(32, 18))
    path = write(
        tmp_path / "cut.edl",
        "001  H48      V     C        00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00",
        "* FROM CLIP NAME: H48.mov",
        "002  H48      V     C        00:00:02:40 00:00:03:10 01:00:01:00 01:00:01:18",
        "* FROM CLIP NAME: H48.mov",
    )
    timeline = load(str(path))
    assert timeline.fps == 48 and timeline.frames == 66


def test_a_short_edl_of_30_fps_media_plays_at_30(tmp_path: Path) -> None:
    make_video(tmp_path / "T30.mov", frames=300, fps=30, size=(32, 18))
    path = write(
        tmp_path / "cut.edl",
        "001  T30      V     C        00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00",
        "* FROM CLIP NAME: T30.mov",
        "002  T30      V     C        00:00:05:10 00:00:06:20 01:00:01:00 01:00:02:10",
        "* FROM CLIP NAME: T30.mov",
    )
    timeline = load(str(path))
    assert timeline.fps == 30 and timeline.frames == 70
    assert [c.source_start for c in timeline.tracks[0].clips] == pytest.approx([0, 16 / 3])


def test_an_edl_that_adds_up_at_no_rate_names_the_rates_tried(tmp_path: Path) -> None:
    make_video(tmp_path / "a.mov", frames=200, fps=25, size=(32, 18))
    path = write(
        tmp_path / "cut.edl",
        "001  A        V     C        00:00:00:00 00:00:01:01 01:00:00:00 01:00:01:00",
        "* FROM CLIP NAME: a.mov",
    )
    with pytest.raises(
        TimelineError,
        match=r"event 001 \(a.mov\) plays 26 source frames .* "
        r"no frame rate its timecodes allow makes its events add up: 25, ",
    ):
        load(str(path))


NTSC_30, NTSC_60 = Fraction(30000, 1001), Fraction(60000, 1001)


def drop_frame_events(*frames: int) -> str:
    """Drop-frame events (``;``), one a frame number, each on its own second."""
    return events(*frames).replace(":00 ", ";00 ").replace(":00\n", ";00\n")


@pytest.mark.parametrize(
    ("frames", "media", "rate"),
    [
        ((10, 20), [NTSC_60], NTSC_60),  # frame numbers below 30 fit 59.94 DF too
        ((10, 20), [NTSC_30], NTSC_30),
        ((10, 20), [], NTSC_30),
        ((10, 40), [NTSC_30], NTSC_60),  # a frame number of 40 is 59.94's alone
        ((10, 20), [NTSC_60, NTSC_30], NTSC_30),  # mixed media settle nothing
        # A 29.97 cut of 59.94 media: a dozen cuts below frame 30 tell it.
        ((3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25), [NTSC_60], NTSC_30),
    ],
)
def test_59_94_media_settle_a_drop_frame_edl_whose_frame_numbers_stay_below_30(
    frames: tuple[int, ...], media: list[Fraction], rate: Fraction
) -> None:
    text = drop_frame_events(*frames)
    assert ";" in text
    assert edl_rate(text, Problems(), media) == pytest.approx(float(rate))


def test_a_59_94_drop_frame_edl_plays_its_events_at_their_length(tmp_path: Path) -> None:
    """Read at 29.97, each event played twice as long: 1 s 10 frames became 40 frames."""
    for name in ("A001", "B001"):
        make_video(tmp_path / f"{name}.mov", frames=200, fps=NTSC_60, size=(32, 18))
    path = tmp_path / "cut.edl"
    path.write_text(
        "TITLE: cut\nFCM: DROP FRAME\n\n"
        "001  A001     V     C        00:00:00;00 00:00:01;10 01:00:00;00 01:00:01;10\n"
        "* FROM CLIP NAME: A001.mov\n\n"
        "002  B001     V     C        00:00:01;00 00:00:02;00 01:00:01;10 01:00:02;10\n"
        "* FROM CLIP NAME: B001.mov\n"
    )
    timeline = load(str(path))
    assert timeline.fps == NTSC_60
    assert [(c.start, c.end) for c in timeline.tracks[0].clips] == [(0, 70), (70, 130)]
    assert any("59.94 fps drop-frame" in w for w in timeline.warnings)


def test_both_drop_frame_rates_are_tried_where_both_fit() -> None:
    assert other_rates(drop_frame_events(10, 20), [NTSC_60]) == [
        pytest.approx(float(NTSC_30)),
        pytest.approx(float(NTSC_60)),
    ]
    assert other_rates(drop_frame_events(10, 40), [NTSC_60]) == []

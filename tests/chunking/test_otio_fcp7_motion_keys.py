"""Premiere's keyframed Motion (FCP 7 XML Basic Motion parameters with ``<keyframe>``s) animates
the clip's transform, where the first keyframe used to be played with a warning."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from chunking.timeline.model import TrackKind
from tests.chunking.test_otio_fcp7_motion import PREMIERE, load_sequence
from workers.compositor import Compositor


def keyed(pid: str, *keys: tuple[int, str]) -> str:
    """A Premiere Motion parameter with these (frame, value XML) keyframes."""
    frames = "".join(f"<keyframe><when>{w}</when><value>{v}</value></keyframe>" for w, v in keys)
    return f"<parameter{PREMIERE}><parameterid>{pid}</parameterid>{frames}</parameter>"


def motion(*params: str) -> str:
    return (
        "<filter><effect><name>Basic Motion</name><effectid>basic</effectid>"
        "<effectcategory>motion</effectcategory><effecttype>motion</effecttype>"
        f"<mediatype>video</mediatype>{''.join(params)}</effect></filter>"
    )


def test_a_keyed_zoom_and_move_animate_the_clip(tmp_path: Path) -> None:
    point = "<horiz>{}</horiz><vert>0</vert>"
    inner = motion(
        keyed("scale", (0, "50"), (20, "100")),
        keyed("center", (0, point.format(-0.25)), (10, point.format(0))),
    )
    timeline = load_sequence(tmp_path, inner)
    (clip,) = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips]
    assert not [w for w in timeline.warnings if "keyframes" in w]
    fps = Fraction(25)
    assert [k.time for k in clip.transform_keys] == pytest.approx([0, 0.4, 0.8])
    start, half, end = (clip.transform_at(t, fps) for t in (0, 5, 20))
    assert (start.scale_x, start.position_x) == pytest.approx((0.5, -40))
    assert (half.scale_x, half.position_x) == pytest.approx((0.625, -20))
    assert (end.scale_x, end.position_x) == pytest.approx((1.0, 0))
    comp = Compositor(timeline)
    try:
        first, last = np.asarray(comp.frame(0)), np.asarray(comp.frame(24))
    finally:
        comp.close()
    cols = np.nonzero(first[45, :, 0] > 200)[0]
    assert (cols.min(), cols.max()) == (0, 79)  # half size, a quarter of the media left
    assert last.min() > 240  # full frame


def test_keys_that_fit_no_part_of_the_clip_play_the_first_with_a_warning(tmp_path: Path) -> None:
    timeline = load_sequence(tmp_path, motion(keyed("scale", (500, "50"), (600, "100"))))
    (clip,) = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips]
    assert clip.transform_keys == () and clip.transform.scale_x == 0.5
    assert any("Scale keyframes are not rendered" in w for w in timeline.warnings)

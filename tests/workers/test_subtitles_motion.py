"""Animated subtitles: what each animation shows at a frame, and that a frame never depends on
which chunk drew it."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from chunking.timeline.model import (
    Clip,
    GeneratedSource,
    Subtitle,
    TextAnimation,
    Timeline,
    Track,
    TrackKind,
)
from common.errors import TimelineError
from workers import subtitles
from workers.compositor import Compositor
from workers.layer import Image, Layer, blank, blend
from workers.subtitle_motion import EASINGS, ease, motion_at, wave_lifts
from workers.subtitles import subtitle_layer

W, H = 320, 180
FPS = Fraction(30)


def _sub(text: str = "Animated", *anims: TextAnimation, **kwargs: object) -> Subtitle:
    return Subtitle("s1", text, 0, 60, animations=anims, **kwargs)  # type: ignore[arg-type]


def _at(sub: Subtitle, frame: int) -> Layer:
    return subtitle_layer(sub, W, H, frame, FPS)


def _on(layer: Layer) -> Image:
    canvas = blank(W, H)
    blend(canvas, layer)
    return canvas


def _brightness(layer: Layer) -> float:
    return float(_on(layer).sum())


def _ink_box(layer: Layer) -> tuple[int, int, int, int]:
    """Left, top, right, bottom (inclusive) of what changed on a black canvas."""
    changed = _on(layer).max(axis=2) > 0.05
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]), int(rows[-1])


def test_fade_in_is_dimmer_at_its_first_frame_than_at_its_last() -> None:
    sub = _sub("Fade", TextAnimation("fade_in", 10, 20), font_size=40)
    before, first, middle, last, after = (_at(sub, f) for f in (5, 10, 15, 19, 20))
    assert _brightness(before) == 0  # hidden until the fade begins, as in the editor
    assert _brightness(first) < _brightness(middle) < _brightness(last) < _brightness(after)
    # Linear: half way through, half the opacity; afterwards, the still look.
    assert middle.opacity == pytest.approx(0.5)
    still = subtitle_layer(sub, W, H)
    np.testing.assert_array_equal(_on(after), _on(still))


def test_fade_out_leaves_the_subtitle_hidden() -> None:
    sub = _sub("Fade", TextAnimation("fade_out", 10, 20), font_size=40)
    before, inside, after = (_at(sub, f) for f in (9, 15, 25))
    assert _brightness(before) > _brightness(inside) > 0 == _brightness(after)


def _timeline(sub: Subtitle, frames: int = 30) -> Timeline:
    bg = Clip("bg", "v", GeneratedSource(color=(20, 40, 60, 255)), 0, frames)
    track = Track("v", TrackKind.VIDEO, clips=(bg,))
    return Timeline(FPS, W, H, frames, tracks=(track,), subtitles=(sub,))


def _forget_subtitles() -> None:
    subtitles._render.cache_clear()
    subtitles._redrawn.cache_clear()


@pytest.mark.parametrize(
    "anim",
    [
        TextAnimation("fade_in", 4, 20, easing="ease_in_out"),
        TextAnimation("typewriter", 2, 22),
        TextAnimation("wave", 0, 30),
        TextAnimation("slide_in", 3, 18, direction="right", easing="elastic"),
        TextAnimation("shake", 0, 30),
    ],
    ids=lambda a: a.kind,
)
def test_a_frame_is_the_same_in_any_chunk(anim: TextAnimation) -> None:
    tl = _timeline(_sub("Same in every chunk", anim, font_size=24))
    frames: list[dict[int, np.ndarray]] = []
    for start, end in ((0, 16), (9, 30)):
        _forget_subtitles()  # another worker: nothing cached
        comp = Compositor(tl)
        try:
            frames.append(dict(zip(range(start, end), comp.frames(start, end), strict=True)))
        finally:
            comp.close()
    shared = sorted(set(frames[0]) & set(frames[1]))
    assert shared == list(range(9, 16))
    for t in shared:
        assert np.array_equal(frames[0][t], frames[1][t]), f"frame {t} depends on the chunk"
    assert not np.array_equal(frames[0][9], frames[0][15])  # the animation does move


def test_typewriter_shows_fewer_characters_early() -> None:
    sub = _sub("Typewriter text", TextAnimation("typewriter", 0, 30), font_size=30, outline=0)
    ink = [int((_on(_at(sub, f)).max(axis=2) > 0.5).sum()) for f in (0, 8, 16, 24, 30)]
    assert ink[0] == 0 and ink[0] < ink[1] < ink[2] < ink[3] < ink[4]
    # Revealed from the left: early ink lies only in the left part of the line.
    _, _, early_right, _ = _ink_box(_at(sub, 8))
    left, _, late_right, _ = _ink_box(_at(sub, 30))
    assert early_right < left + (late_right - left) / 2
    # Once typed, it is the still look.
    np.testing.assert_array_equal(_on(_at(sub, 40)), _on(subtitle_layer(sub, W, H)))


def test_typewriter_keeps_the_box_the_size_of_the_whole_text() -> None:
    sub = _sub(
        "Typed", TextAnimation("typewriter", 0, 20), font_size=30, background=(0, 0, 255, 255)
    )
    early, done = _at(sub, 3), _at(sub, 25)
    assert (early.x, early.y, early.rgb.shape) == (done.x, done.y, done.rgb.shape)


@pytest.mark.parametrize(
    ("direction", "axis", "sign"),
    [("left", 0, -1), ("right", 0, 1), ("top", 1, -1), ("bottom", 1, 1)],
)
def test_slide_in_comes_from_past_the_edge(direction: str, axis: int, sign: int) -> None:
    anim = TextAnimation("slide_in", 0, 10, direction=direction)
    sub = _sub("Slide", anim, font_size=30, position="center")
    rest = _at(sub, 10)
    assert _brightness(_at(sub, 0)) == 0  # wholly past the edge
    mid = _at(sub, 5)
    moved = (mid.x - rest.x, mid.y - rest.y)
    assert moved[axis] * sign > 10 and moved[1 - axis] == 0
    np.testing.assert_array_equal(_on(rest), _on(subtitle_layer(sub, W, H)))


def test_slide_out_leaves_towards_its_side() -> None:
    sub = _sub("Bye", TextAnimation("slide_out", 0, 10, direction="left"), font_size=30)
    xs = [_at(sub, f).x for f in (0, 3, 6, 9)]
    assert xs == sorted(xs, reverse=True) and xs[0] > xs[-1]
    assert _brightness(_at(sub, 10)) == 0


def test_scale_in_grows_about_the_box_centre() -> None:
    sub = _sub("Grow", TextAnimation("scale_in", 0, 10), font_size=40, position="center")
    boxes = [_ink_box(_at(sub, f)) for f in (3, 6, 10)]
    widths = [b[2] - b[0] for b in boxes]
    assert widths[0] < widths[1] < widths[2]
    layers = [_at(sub, f) for f in (3, 6, 10)]
    centres = [(la.x + la.rgb.shape[1] / 2, la.y + la.rgb.shape[0] / 2) for la in layers]
    for cx, cy in centres:
        assert abs(cx - centres[-1][0]) <= 1 and abs(cy - centres[-1][1]) <= 1
    assert _brightness(_at(sub, 0)) == 0


def test_blink_turns_the_subtitle_off_and_on() -> None:
    sub = _sub("Blink", TextAnimation("blink", 0, 30), font_size=40)
    # 2 Hz at 30 fps: on at 0, off at 7.5, on again at 15.
    on, off, again = _at(sub, 0), _at(sub, 7), _at(sub, 15)
    assert on.opacity == pytest.approx(1) and again.opacity == pytest.approx(1)
    assert off.opacity < 0.15
    assert _at(sub, 30).opacity == 1  # after the window it stays on


def test_shake_moves_sideways_only_and_by_a_few_pixels() -> None:
    sub = _sub("Shake", TextAnimation("shake", 0, 30), font_size=30)
    still = subtitle_layer(sub, W, H)
    offsets = {(_at(sub, f).x - still.x, _at(sub, f).y - still.y) for f in range(30)}
    assert {dy for _, dy in offsets} == {0}
    assert max(abs(dx) for dx, _ in offsets) == 5 and len(offsets) > 4


def test_bounce_hops_up_once() -> None:
    sub = _sub("Hop", TextAnimation("bounce", 0, 20), font_size=30)
    still = subtitle_layer(sub, W, H)
    rise = [still.y - _at(sub, f).y for f in range(21)]
    assert rise[0] == 0 and rise[10] == 20 and rise[20] == 0
    assert rise[:11] == sorted(rise[:11])


def test_wave_raises_letters_in_turn_and_keeps_the_box() -> None:
    sub = _sub("WAVEWAVE", TextAnimation("wave", 0, 30), font_size=30, outline=0)
    still = _on(subtitle_layer(sub, W, H))
    early, late = _on(_at(sub, 6)), _on(_at(sub, 24))
    assert not np.array_equal(early, still) and not np.array_equal(late, still)

    def top_row(canvas: Image, cols: slice) -> int:
        return int(np.flatnonzero((canvas[:, cols].max(axis=2) > 0.5).any(axis=1))[0])

    left, _, right, _ = _ink_box(subtitle_layer(sub, W, H))
    first, last = slice(left, left + 15), slice(right - 15, right)
    # Early the first letters are up and the last ones level; late it is the other way round.
    assert top_row(early, first) < top_row(still, first) == top_row(early, last)
    assert top_row(late, last) < top_row(still, last) == top_row(late, first)


def test_right_to_left_text_stays_whole_and_its_typewriter_fades() -> None:
    # Drawn a character at a time, Arabic would come out unjoined and in the wrong order: it
    # keeps its shaped lines, and typewriter falls back to the editor's own fade.
    text = "\u0645\u0631\u062d\u0628\u0627 \u0628\u0643\u0645"
    sub = _sub(text, TextAnimation("typewriter", 0, 10), font_size=30, letter_spacing=4)
    still = subtitle_layer(_sub(text, font_size=30), W, H)
    mid = _at(sub, 5)
    assert mid.opacity == pytest.approx(0.5)
    np.testing.assert_array_equal(mid.alpha, still.alpha)  # unspaced, every letter shown


def test_animations_combine() -> None:
    sub = _sub(
        "Both",
        TextAnimation("fade_in", 0, 10),
        TextAnimation("slide_in", 0, 10, direction="bottom"),
        font_size=30,
    )
    motion = motion_at(sub, 5, FPS)
    assert motion.opacity == pytest.approx(0.5) and motion.slides == (("bottom", 0.5),)


def test_moving_or_fading_reuses_the_still_raster() -> None:
    sub = _sub("Cheap", TextAnimation("fade_in", 0, 10), TextAnimation("shake", 0, 10))
    still = subtitle_layer(sub, W, H)
    moving = _at(sub, 5)
    assert moving.rgb is still.rgb and moving.alpha is still.alpha


@pytest.mark.parametrize("name", sorted(EASINGS))
def test_easings_run_from_0_to_1(name: str) -> None:
    assert ease(name, 0) == 0 and ease(name, 1) == 1
    values = [ease(name, i / 20) for i in range(21)]
    assert values == [ease(name, i / 20) for i in range(21)]  # pure
    assert all(-0.5 < v < 1.5 for v in values)


def test_easings_have_their_shapes() -> None:
    # CSS ease-in starts slowly, ease-out quickly; ease-in-out is symmetric.
    assert ease("ease_in", 0.25) < 0.25 < ease("ease_out", 0.25)
    assert ease("ease_in_out", 0.5) == pytest.approx(0.5, abs=1e-9)
    assert ease("ease", 0.5) == pytest.approx(0.8024, abs=1e-3)  # cubic-bezier(.25,.1,.25,1)
    assert max(ease("elastic", i / 100) for i in range(100)) > 1.05  # overshoots
    bounce = [ease("bounce", i / 100) for i in range(101)]
    assert all(0 <= v <= 1 for v in bounce)
    assert any(b < a for a, b in zip(bounce, bounce[1:], strict=False))  # comes back down


def test_wave_lifts_one_hop_per_letter_in_order() -> None:
    lifts = [wave_lifts(i / 40, 6) for i in range(41)]
    peaks = [max(range(41), key=lambda i, j=j: lifts[i][j]) for j in range(6)]  # type: ignore[misc]
    assert peaks == sorted(peaks) and len(set(peaks)) == 6
    assert max(max(frame) for frame in lifts) == pytest.approx(10, abs=0.5)
    assert lifts[0] == lifts[40] == (0.0,) * 6


@pytest.mark.parametrize(
    ("anim", "match"),
    [
        (TextAnimation("spin", 0, 5), "'spin' is not one of"),
        (TextAnimation("fade_in", 0, 5, easing="springy"), "easing"),
        (TextAnimation("slide_in", 0, 5, direction="sideways"), "direction"),
    ],
)
def test_unknown_animation_values_are_timeline_errors(anim: TextAnimation, match: str) -> None:
    with pytest.raises(TimelineError, match=f"subtitle s1: animation .*{match}"):
        subtitle_layer(_sub("x", anim), W, H, 0, FPS)

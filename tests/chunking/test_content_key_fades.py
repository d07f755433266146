"""Picture fades in content keys: a fade changes the key of exactly the chunks whose frames it
dims, and a fading colour hides nothing under it on those frames."""

from __future__ import annotations

import dataclasses

from chunking.content_key import video_form
from chunking.drawn_clips import drawn_clips
from chunking.timeline.model import Timeline, Transition
from tests.chunking.test_content_key import FP, MEDIA, akey, clip, key, timeline, video

# 30 fps: a 1 s fade-in dims frames [60, 90) of a clip at [60, 240), a 0.5 s fade-out [225, 240).
CHUNKS = [(0, 30), (30, 60), (60, 90), (90, 120), (120, 225), (225, 240), (240, 300)]


def faded(**fades: float) -> tuple[Timeline, Timeline]:
    """A clip at [60, 240) without fades, and with ``fades``."""
    plain = clip("a", 60, 240)
    return timeline(video("v1", plain)), timeline(video("v1", dataclasses.replace(plain, **fades)))


def test_a_fade_changes_the_keys_of_exactly_the_chunks_it_dims() -> None:
    plain, fading = faded(picture_fade_in=1.0, picture_fade_out=0.5)
    changed = [(s, e) for s, e in CHUNKS if key(plain, s, e) != key(fading, s, e)]
    assert changed == [(60, 90), (225, 240)]
    # A chunk ending one frame into a fade is dimmed; one starting at its end is not.
    assert key(plain, 0, 61) != key(fading, 0, 61)
    assert key(plain, 90, 225) == key(fading, 90, 225)


def test_a_longer_fade_changes_the_key_of_a_chunk_it_dims() -> None:
    _, short = faded(picture_fade_in=1.0)
    _, long = faded(picture_fade_in=1.5)
    assert key(short, 60, 90) != key(long, 60, 90)
    assert key(short, 90, 105) != key(long, 90, 105)  # only the longer fade reaches it
    assert key(short, 105, 120) == key(long, 105, 120)


def test_a_range_cut_fade_keys_as_the_same_fade_of_the_uncut_clip() -> None:
    # A fade counting from 0.5 s before the clip's start is a different picture from a new fade.
    _, whole = faded(picture_fade_in=1.0)
    _, cut = faded(picture_fade_in=1.0, picture_fade_head=0.5)
    assert key(whole, 60, 90) != key(cut, 60, 90)
    assert key(whole, 90, 120) == key(cut, 90, 120)


def test_a_fading_opaque_colour_hides_nothing_while_it_fades() -> None:
    under = clip("under", 0, 300)
    cover = clip("cover", 0, 300, path=None, picture_fade_in=1.0)
    tl = timeline(video("v1", under), video("v2", cover))
    index = drawn_clips(tl)
    assert [c.id for _, c in index.shown(0, 30)[1]] == ["under", "cover"]
    assert [c.id for _, c in index.shown(30, 60)[1]] == ["cover"]
    # The hidden clip's media counts only where it shows.
    form = video_form(tl, 0, 30, MEDIA, FP)
    assert len(form["clips"]) == 2
    assert len(video_form(tl, 30, 60, MEDIA, FP)["clips"]) == 1


def joined(**fades: float) -> Timeline:
    """A short clip at [60, 70) with ``fades``, joined to the one before it by a transition over
    [40, 80): the transition draws it on [40, 60) and [70, 80) too, outside its own frames."""
    before = clip("before", 0, 60)
    short = clip("short", 60, 70, path="/m/b.mp4", **fades)
    joins = Transition("x", "dissolve", "before", "short", 40, 80)
    return timeline(video("v1", before, short), transitions=(joins,))


def test_a_fade_keys_the_frames_a_transition_draws_outside_the_clip() -> None:
    # A frame drawn before the clip (inside the transition) takes the fade factor of the clip's
    # first frame, and a fade-out longer than the clip dims that frame. The chunk [40, 60) holds
    # none of the clip's own frames, yet a longer fade-out changes its pixels.
    short, long = joined(picture_fade_out=0.5), joined(picture_fade_out=1.0)
    assert key(short, 40, 60) != key(long, 40, 60)
    # And after it: a fade-in longer than the clip dims its last frame, which [70, 80) shows.
    short, long = joined(picture_fade_in=0.5), joined(picture_fade_in=1.0)
    assert key(short, 70, 80) != key(long, 70, 80)


def test_a_fade_that_dims_none_of_those_frames_keeps_their_keys() -> None:
    # A fade-out of the clip's last 5 frames leaves its first frame alone: [40, 60) keeps its key.
    plain, fading = joined(), joined(picture_fade_out=5 / 30)
    assert key(plain, 40, 60) == key(fading, 40, 60)
    assert key(plain, 70, 80) != key(fading, 70, 80)  # its last frame, which [70, 80) shows


def test_picture_fades_leave_the_sound_key_alone() -> None:
    plain, fading = faded(picture_fade_in=1.0, picture_fade_out=0.5)
    assert akey(plain) == akey(fading)

"""Clips played backwards in the model: the loader's ``reverse`` (a flag, or a whole-clip
Reverse effect), and everything that reads a clip's source times (content keys, cut signatures,
the source spans a render probes) seeing the mirrored times (Clip.mirrored)."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from typing import Any

import pytest

from chunking.content_audio_key import audio_form
from chunking.content_sources import clip_time
from chunking.plan import cut_signatures
from chunking.timeline.studio import load_project
from chunking.timeline.studio_editor_range import clip_to_range
from chunking.timeline.studio_editor_tracks import Parts
from common.errors import ValidationError
from tests.chunking.test_content_key import FP, MEDIA, akey, base, key, replace_clip
from tests.media import project, solid, video_track
from workers.probe_ranges import clip_spans, source_sample


def loaded(**extra: Any) -> Any:
    clip = {"id": "c", "start_time": 0, "end_time": 1, **solid("#808080"), **extra}
    return load_project(project([video_track("v", [clip])]), ".")


def test_the_reverse_flag_plays_the_clip_backwards_sound_and_all() -> None:
    tl = loaded(reverse=True)
    assert tl.clip("c").reverse and not tl.clip("c").muted and tl.warnings == ()
    assert not loaded().clip("c").reverse


def test_a_reverse_flag_that_is_no_boolean_is_an_error() -> None:
    with pytest.raises(ValidationError, match="clip 'c'.*reverse"):
        loaded(reverse="yes")


def test_mirrored_frames_and_source_samples() -> None:
    clip = replace_clip(base(), "b", reverse=True).clip("b")  # frames [120, 300), from 1.5 s
    assert [clip.mirrored(t) for t in (120, 121, 299)] == [299, 298, 120]
    fps = Fraction(30)
    assert source_sample(clip, 120, fps) == (Fraction(3, 2) + Fraction(179, 30), Fraction(1, 30))
    assert source_sample(clip, 299, fps) == (Fraction(3, 2), Fraction(1, 30))


def test_a_reversed_clip_has_other_keys_and_cuts_than_played_forwards() -> None:
    tl = base()
    back = replace_clip(tl, "b", reverse=True)
    assert key(back) != key(tl)
    assert key(back, 250, 300) != key(tl, 250, 300)
    assert cut_signatures(back)[120] != cut_signatures(tl)[120]
    # Its time runs back from the range's first frame, one frame's worth a frame.
    time = clip_time(back.clip("b"), 200, Fraction(30))
    assert time == {"first": str(Fraction(3, 2) + Fraction(99, 30)), "step": "-1/30",
                    "until": None}  # fmt: skip


def test_reverse_is_in_the_audio_key_only_where_it_is_on() -> None:
    """Forward clips' sound keys stay what they were before clips could play backwards."""
    tl = base()
    forms = [c for t in audio_form(tl, MEDIA, FP)["tracks"] for c in t["clips"]]
    assert forms and all("reverse" not in form for form in forms)
    assert akey(replace_clip(tl, "m", reverse=True)) != akey(tl)


def test_a_reversed_clips_source_span_is_the_mirror_of_its_frames() -> None:
    """The reversed b reads the span its forward frames do, and its samples are walked in
    source order as the forward clip's are (its last frame first: a probe stops at the file's
    end)."""
    tl = replace_clip(base(), "b", reverse=True)
    cut = dataclasses.replace(tl, transitions=())
    (span,) = [s for s in clip_spans(cut)["/m/b.mp4"] if s.clip.id == "b"]
    assert (span.start, span.end) == (Fraction(3, 2), Fraction(3, 2) + 6)
    forward = [source_sample(dataclasses.replace(span.clip, reverse=False), f, Fraction(30))
               for f in range(120, 300)]  # fmt: skip
    assert list(span.samples()) == forward


@pytest.mark.parametrize(("reverse", "source_start"), [(False, 2.0), (True, 3.0)])
def test_a_render_range_cut_keeps_every_frames_source_time(
    reverse: bool, source_start: float
) -> None:
    """A Timeline Studio render range [0.5 s, 3 s) of a 4 s clip at 2x from 1 s: played
    forwards its in point moves by the head cut (0.5 s), backwards by the tail cut (1 s)."""
    one = {"id": "c", "start_time": 0.0, "end_time": 4.0, "effects": [], "filters": [],
           "source_start": 1.0, "speed": 2.0, "reverse": reverse}  # fmt: skip
    parts = Parts(tracks=[{"id": "v", "effects": [], "filters": [], "clips": [one]}])
    (moved,) = clip_to_range(parts, 0.5, 3.0).tracks[0]["clips"]
    assert (moved["start_time"], moved["end_time"]) == (0.0, 2.5)
    assert moved["source_start"] == source_start

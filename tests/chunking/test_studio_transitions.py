"""Placing transitions that do not name their clips: serde's Transition (no clip ids, a
``duration`` of ``{value, min, max}``), the frontend's ``start_time`` and clip-attached ones."""

from __future__ import annotations

from typing import Any

import pytest

from chunking.timeline.model import Timeline
from chunking.timeline.studio import load_project
from common.errors import ValidationError
from tests.media import project, solid, video_track


def clip(cid: str, start: float, end: float, **extra: Any) -> dict[str, Any]:
    return {"id": cid, "start_time": start, "end_time": end, **solid("#ff0000"), **extra}


def serde_transition(tid: str = "t", seconds: float = 0.5, **extra: Any) -> dict[str, Any]:
    """A Transition as serde writes it: no clips, every field present."""
    return {
        "id": tid,
        "transition_type": "fade",
        "name": "Fade",
        "duration": {"value": seconds, "min": 0.1, "max": 3.0},
        "category": None,
        "tags": [],
        "complexity": None,
        "enabled": True,
        "parameters": {},
        "ffmpeg_command": None,
        "easing": None,
        "direction": None,
        **extra,
    }


def load(clips: list[dict[str, Any]], transitions: list[dict[str, Any]]) -> Timeline:
    return load_project(project([video_track("v", clips)], transitions=transitions), ".")


def placed(tl: Timeline) -> list[tuple[str, str, str, int, int]]:
    return [(t.id, t.from_clip, t.to_clip, t.start, t.end) for t in tl.transitions]


def test_a_serde_transition_goes_on_the_only_cut() -> None:
    tl = load([clip("a", 0, 1), clip("b", 1, 2)], [serde_transition()])
    assert placed(tl) == [("t", "a", "b", 23, 38)]
    assert tl.warnings == ()


def test_one_that_cannot_be_placed_is_one_warning_and_not_drawn() -> None:
    tl = load([clip("a", 0, 1), clip("b", 1, 2), clip("c", 2, 3)], [serde_transition()])
    assert tl.transitions == ()
    assert tl.warnings == (
        "transition 't': names no clips (from_clip_id/to_clip_id) and no start_time, and the "
        "project has 2 cuts; it cannot be placed and is not drawn",
    )


def test_start_time_picks_the_cut_inside_its_window() -> None:
    tr = serde_transition(
        start_time=1.8, duration={"min": 0.1, "max": 2, "default": 1, "current": 0.4}
    )
    tl = load([clip("a", 0, 1), clip("b", 1, 2), clip("c", 2, 3)], [tr])
    assert placed(tl) == [("t", "b", "c", 54, 66)]
    with pytest.raises(ValidationError, match="start_time frame 15 to 27 holds no cut"):
        load([clip("a", 0, 1), clip("b", 1, 2)], [serde_transition(start_time=0.5, duration=0.4)])


def test_clip_attached_transitions_join_the_neighbours() -> None:
    clips = [
        clip("a", 0, 1),
        clip(
            "b",
            1,
            2,
            transitions=[{"id": "x", "transitionId": "lib", "type": "in", "duration": 0.2}],
        ),
        clip("c", 2, 3),
        clip("d", 3, 4, transitions=["lib"]),  # "out": to the next clip, which is missing
    ]
    tl = load(clips, [serde_transition("lib", 0.4)])
    assert placed(tl) == [("lib@b", "a", "b", 27, 33)]
    assert tl.warnings == (
        "transition 'lib': attached to clip 'd' (out), which has no clip after it on its track; "
        "not drawn",
    )


def test_one_named_clip_means_its_neighbour() -> None:
    tl = load([clip("a", 0, 1), clip("b", 1, 2)], [serde_transition(from_clip_id="a")])
    assert placed(tl) == [("t", "a", "b", 23, 38)]
    tl = load(
        [clip("a", 0, 1), clip("b", 1, 2)], [serde_transition(to_clip_id="b", from_clip_id="")]
    )
    assert placed(tl) == [("t", "a", "b", 23, 38)]


def test_disabled_transitions_are_skipped_and_unknown_clips_still_refused() -> None:
    assert (
        load([clip("a", 0, 1), clip("b", 1, 2)], [serde_transition(enabled=False)]).transitions
        == ()
    )
    with pytest.raises(ValidationError, match=r"transition 't': refers to unknown clip\(s\) 'zz'"):
        load([clip("a", 0, 1)], [serde_transition(from_clip_id="a", to_clip_id="zz")])


def test_what_a_transition_cannot_show_is_reported() -> None:
    tl = load(
        [clip("a", 0, 1), clip("b", 1, 2)],
        [
            serde_transition(
                easing="springy",
                parameters={"softness": {"Float": 0.2}, "direction": "left"},
                transition_type="wipe",
            )
        ],
    )
    assert [(t.kind, t.easing) for t in tl.transitions] == [("wipe_left", "linear")]
    assert tl.warnings == (
        "transition 't': parameter 'softness' is not used by transitions; ignored",
        "transition 't': easing 'springy' is not one of linear, ease, easein, easeout, "
        "easeinout, bounce; linear is used",
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"easing": "ease-in"},
        {"easing": "EaseInOut"},
        {"parameters": {"easing": "ease-out"}},  # where the editor keeps it
        {"easing": "linear"},
        # The editor's catalogue easing for squeeze (transitions.json): it was a warning, so a
        # saved project using squeeze was refused under --strict.
        {"transition_type": "squeeze", "parameters": {"easing": "bounce"}},
        {},
    ],
)
def test_a_transitions_easing_runs_linearly_as_the_editor_runs_it(fields: dict[str, Any]) -> None:
    # The editor's export (xfade, gl, a linear blend) never reads a transition's easing and its
    # preview times every transition on one CSS curve whatever it says; it was drawn along its
    # easing, which no part of the editor does.
    tl = load([clip("a", 0, 1), clip("b", 1, 2)], [serde_transition(**fields)])
    assert [t.easing for t in tl.transitions] == ["linear"] and tl.warnings == ()


@pytest.mark.parametrize(
    ("name", "kind"),
    [("push-left", "slide_left"), ("PushRight", "slide_right"), ("push-up", "slide_up"),
     ("push_down", "slide_down")],
)  # fmt: skip
def test_the_editors_push_transitions_push_in_their_direction(name: str, kind: str) -> None:
    """They were rendered as a dissolve, with a warning."""
    tl = load([clip("a", 0, 1), clip("b", 1, 2)], [serde_transition(transition_type=name)])
    (transition,) = tl.transitions
    assert transition.kind == kind and tl.warnings == ()


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        # serde's Transition with its ``direction``; a push went left whatever it said.
        ({"transition_type": "push", "direction": "right"}, "slide_right"),
        # The catalogue's types (transitions.json), their direction where the editor keeps it.
        ({"transition_type": "wipe-vertical", "parameters": {"direction": "up"}}, "wipe_up"),
        # Its catalogue's "right", drawn as its export's xfade wipeleft (it was wipe_right).
        ({"transition_type": "wipe-horizontal"}, "wipe_left"),
        ({"transition_type": "wipe-vertical"}, "wipe_down"),
    ],
)
def test_a_directed_transition_goes_the_way_it_says(fields: dict[str, Any], kind: str) -> None:
    tl = load([clip("a", 0, 1), clip("b", 1, 2)], [serde_transition(**fields)])
    assert [t.kind for t in tl.transitions] == [kind] and tl.warnings == ()


def test_a_direction_a_wipe_cannot_take_keeps_the_wipe_and_names_it() -> None:
    """The catalogue's ``center``/``topleft``: it was a dissolve, the warning naming a
    transition type ('slidecenter') the document never held."""
    fields = {"transition_type": "slide", "direction": "center"}
    tl = load([clip("a", 0, 1), clip("b", 1, 2)], [serde_transition(**fields)])
    assert [t.kind for t in tl.transitions] == ["slide_left"]
    assert tl.warnings == (
        "transition 't': direction 'center' isn't left, right, up or down; slide_left drawn",
    )


def test_a_transition_attached_to_a_clip_runs_linearly_as_the_editor_runs_it() -> None:
    # Given a transition with an easing, attached through the incoming clip's transitions
    clips = [clip("a", 0, 1), clip("b", 1, 2, transitions=[{"transitionId": "t", "type": "in"}])]
    # When it loads
    tl = load(clips, [serde_transition(easing="ease-in")])
    # Then the attachment runs linearly, as the editor's export runs every transition
    assert [(t.id, t.easing) for t in tl.transitions] == [("t@b", "linear")]


def test_one_cut_joined_twice_is_drawn_once() -> None:
    # Given the same transition attached to both clips of a cut (out on one, in on the other)
    clips = [
        clip("a", 0, 1, opacity=0.5, transitions=[{"transitionId": "t", "type": "out"}]),
        clip("b", 1, 2, opacity=0.5, transitions=[{"transitionId": "t", "type": "in"}]),
    ]
    # Then it is one transition: drawing it twice composited the see-through clips twice
    tl = load(clips, [serde_transition()])
    assert placed(tl) == [("t@a", "a", "b", 23, 38)] and tl.warnings == ()
    # And a second, different transition on that cut is not drawn over the first, with a warning
    both = [serde_transition(from_clip_id="a", to_clip_id="b")]
    both.append(serde_transition("u", from_clip_id="a", to_clip_id="b", transition_type="wipe"))
    tl = load([clip("a", 0, 1), clip("b", 1, 2)], both)
    assert placed(tl) == [("t", "a", "b", 23, 38)]
    assert tl.warnings == (
        "transition 'u': clips 'a' and 'b' are already joined by transition 't'; this one is "
        "not drawn",
    )
    # And so is another transition of the same kind and length: it is not the same one
    same = [serde_transition(from_clip_id="a", to_clip_id="b"), both[0] | {"id": "v"}]
    tl = load([clip("a", 0, 1), clip("b", 1, 2)], same)
    assert placed(tl) == [("t", "a", "b", 23, 38)] and len(tl.warnings) == 1


def test_transitions_overlapping_on_a_short_clip_are_reported() -> None:
    # Given a clip shorter than the transitions into and out of it
    clips = [clip("a", 0, 1), clip("b", 1, 1.4), clip("c", 1.4, 2.4)]
    both = [
        serde_transition("in", 0.6, from_clip_id="a", to_clip_id="b"),
        serde_transition("out", 0.6, from_clip_id="b", to_clip_id="c"),
    ]
    # When it loads
    tl = load(clips, both)
    # Then both are placed and the frames where the second hides the first are named
    assert placed(tl) == [("in", "a", "b", 21, 39), ("out", "b", "c", 33, 51)]
    assert tl.warnings == (
        "transition 'out': overlaps transition 'in' on clip 'b' (frames 33 to 39), where it "
        "hides it; shorten one",
    )


def test_a_transition_of_countless_unread_parameters_is_named_in_six_lines() -> None:
    # A hostile entry may hold millions of them: five are named, the rest counted.
    junk = {f"junk{i}": {"Float": 0.2} for i in range(20_000)}
    tl = load([clip("a", 0, 1), clip("b", 1, 2)], [serde_transition(parameters=junk)])
    assert tl.warnings[:5] == tuple(
        f"transition 't': parameter 'junk{i}' is not used by transitions; ignored" for i in range(5)
    )
    assert tl.warnings[5:] == (
        "transition 't': 19995 more parameters not used by transitions; ignored",
    )

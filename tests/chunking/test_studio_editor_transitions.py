"""The editor's directional transitions between two clips are drawn in their direction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.loader import load_document
from chunking.timeline.model import Timeline
from tests.chunking.test_studio_editor_resources import timeline_project
from tests.media import make_image


@pytest.mark.parametrize(
    ("transition_id", "params", "kind"),
    [
        ("push", {"direction": "down"}, "slide_down"),
        # Its "right" (the catalogue's) is the side it comes from, as its preview and export
        # template draw it: it slid right, where a push whose definition was lost slid left.
        ("push", {"direction": "right"}, "slide_left"),
        ("push", {"direction": "left"}, "slide_right"),
        ("push", {}, "slide_left"),
        ("push-up", {}, "slide_up"),
    ],
)
def test_a_push_slides_the_way_it_names(
    tmp_path: Path, transition_id: str, params: dict[str, Any], kind: str
) -> None:
    joined = {"id": "t1", "transitionId": transition_id, "duration": 0.5, "type": "in",
              "customParams": params}  # fmt: skip
    timeline = timeline_project(tmp_path, [{}, {"transitions": [joined]}], {})
    (transition,) = timeline.transitions
    assert (transition.kind, transition.from_clip, transition.to_clip) == (kind, "c0", "c1")
    assert timeline.warnings == (
        "transition 't1': starts clip 'c1' 2 frames before its media (it begins 2 frames early, "
        "source_start 0s); the first frame is held",
    )


@pytest.mark.parametrize(
    ("duration", "said"),
    [
        (0, "duration 0s is a cut; not rendered"),
        (-1, "duration -1s is a cut; not rendered"),
        ("half", "duration 'half' is not a number of seconds; not rendered (a cut)"),
    ],
)
def test_a_transition_without_a_usable_duration_is_a_named_cut(
    tmp_path: Path, duration: Any, said: str
) -> None:
    # Before: 0 refused the whole project, -1 named 'duration.value' (a field the editor does not
    # write), and 'half' silently became the definition's default second.
    joined = {"id": "t1", "transitionId": "fade", "duration": duration, "type": "in"}
    timeline = timeline_project(tmp_path, [{}, {"transitions": [joined]}], {})
    assert timeline.transitions == ()
    assert timeline.warnings == (f"clip 'c1' transition 't1': {said}",)


def test_a_timeline_transition_of_no_length_is_a_named_cut(tmp_path: Path) -> None:
    cut = {"id": "tt", "type": "fade", "fromClipId": "c0", "toClipId": "c1", "duration": 0}
    timeline = timeline_project_on_track(tmp_path, cut)
    assert timeline.transitions == ()
    assert timeline.warnings == ("track 'v' transition 'tt': duration 0s is a cut; not rendered",)


def timeline_project_on_track(folder: Path, transition: dict[str, Any]) -> Timeline:
    """Two touching stills on track 'v' joined by ``transition`` (resources.timelineTransitions)."""
    make_image(folder / "still.png", (32, 18), (200, 100, 50, 255))
    media = {"id": "m", "path": "still.png", "isImage": True}
    clips = [{"id": f"c{n}", "mediaFile": media, "startTime": float(n), "duration": 1.0}
             for n in range(2)]  # fmt: skip
    track = {"id": "v", "type": "video", "clips": clips, "transitions": [transition["id"]]}
    doc = {"id": "p", "name": "p", "sections": [{"id": "s", "tracks": [track]}],
           "resources": {"timelineTransitions": [transition]},
           "settings": {"resolution": {"width": 32, "height": 18}, "fps": 10}}  # fmt: skip
    return load_document(doc, str(folder))[1]


def test_a_transition_under_one_frame_is_a_named_cut(tmp_path: Path) -> None:
    # 0.04 s at 10 fps rounds to no frame: it refused the whole project.
    joined = {"id": "t1", "transitionId": "fade", "duration": 0.04, "type": "in"}
    timeline = timeline_project(tmp_path, [{}, {"transitions": [joined]}], {})
    assert timeline.transitions == ()
    assert timeline.warnings == (
        "transition 't1': 0.04s between 'c0' and 'c1' is under one frame (0.1s): a cut; not "
        "rendered",
    )


@pytest.mark.parametrize(
    ("transition_id", "kind", "frames"),
    [
        # Its definition lost (a .tlsp saves resources as {}): the catalogue's direction and
        # default length (wipe-vertical wiped right); its catalogue easing, which the editor's
        # export never applies, is no warning (the user never chose it) and runs linearly.
        ("wipe-vertical", "wipe_down", 15),
        ("wipe-horizontal", "wipe_left", 15),
        ("slide", "slide_out_left", 12),
        ("push", "slide_left", 13),
        ("fade", "dissolve", 8),
    ],
)
def test_a_transition_whose_definition_was_lost_plays_as_the_catalogue_defines_it(
    tmp_path: Path, transition_id: str, kind: str, frames: int
) -> None:
    joined = {"id": "t1", "transitionId": transition_id, "type": "in"}
    make_image(tmp_path / "still.png", (32, 18), (200, 100, 50, 255))
    media = {"id": "m", "path": "still.png", "isImage": True}
    clips = [{"id": "c0", "mediaFile": media, "startTime": 0.0, "duration": 3.0},
             {"id": "c1", "mediaFile": media, "startTime": 3.0, "duration": 3.0,
              "offset": 2.0, "transitions": [joined]}]  # fmt: skip
    doc = {"id": "p", "name": "p",
           "sections": [{"id": "s", "tracks": [{"id": "v", "type": "video", "clips": clips}]}],
           "settings": {"resolution": {"width": 32, "height": 18}, "fps": 10}}  # fmt: skip
    timeline = load_document(doc, str(tmp_path))[1]
    (transition,) = timeline.transitions
    assert (transition.kind, transition.easing) == (kind, "linear")
    assert transition.end - transition.start == frames
    assert not any("easing" in w for w in timeline.warnings)


@pytest.mark.parametrize(
    ("transition_id", "direction", "kind"),
    [
        # The catalogue's definitions as a project saves them (resources.transitions): push and
        # wipe-horizontal say "right" and their ffmpeg templates enter from the right edge
        # (overlay x from W down to 0, xfade wipeleft); both were drawn moving right, and so
        # differently from the same transition whose definition was lost.
        ("push", "right", "slide_left"),
        ("wipe-horizontal", "right", "wipe_left"),
        ("wipe-vertical", "down", "wipe_down"),  # its template's wipedown: the way it moves
        ("slide", "left", "slide_out_left"),
    ],
)
def test_a_saved_catalogue_transition_moves_as_its_export_template_draws_it(
    tmp_path: Path, transition_id: str, direction: str, kind: str
) -> None:
    parameters = {"direction": direction, "easing": "ease-out", "intensity": 1.0}
    duration = {"min": 0.5, "max": 3.0, "default": 1.3}
    definition = {"id": transition_id, "type": transition_id, "duration": duration,
                  "parameters": parameters}  # fmt: skip
    joined = {"id": "t1", "transitionId": transition_id, "duration": 0.5, "type": "in"}
    saved = timeline_project(
        tmp_path, [{}, {"transitions": [joined]}], {"transitions": [definition]}
    )
    lost = timeline_project(tmp_path, [{}, {"transitions": [dict(joined)]}], {})
    assert [t.kind for t in saved.transitions] == [t.kind for t in lost.transitions] == [kind]


@pytest.mark.parametrize(
    ("direction", "kind"),
    [
        ({}, "slide_out_left"),
        ({"direction": "left"}, "slide_out_left"),
        ({"direction": "up"}, "slide_out_up"),
        ({"direction": "right"}, "slide_out_right"),
    ],
)
def test_the_editors_slide_moves_the_outgoing_clip_out_as_its_preview_does(
    tmp_path: Path, direction: dict[str, Any], kind: str
) -> None:
    # Its preview translates the outgoing clip out (translateX(-100%)) while the incoming one
    # fades in over it; it was drawn as the incoming clip sliding in over a still one.
    joined = {"id": "t1", "transitionId": "slide", "duration": 0.5, "type": "in",
              "customParams": direction}  # fmt: skip
    timeline = timeline_project(tmp_path, [{}, {"transitions": [joined]}], {})
    assert [t.kind for t in timeline.transitions] == [kind]

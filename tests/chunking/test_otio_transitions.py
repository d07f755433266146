"""Which model transition an OTIO transition is, whatever field the adapter put it in."""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio
import pytest
from PIL import Image

from chunking.timeline.catalogue import TRANSITION_ALIASES
from chunking.timeline.loader import load
from chunking.timeline.otio_transitions import kind
from tests.chunking.test_otio import clip, media, save, video

SMPTE = otio.schema.TransitionTypes.SMPTE_Dissolve
RT = otio.opentime.RationalTime


@pytest.mark.parametrize(
    ("transition_type", "name", "expected"),
    [
        # The FCP 7 XML adapter types every transition SMPTE_Dissolve, naming what it is.
        (SMPTE, "Dip to Black", "fade_black"),
        (SMPTE, "Dip to White", "fade_white"),
        (SMPTE, "Cross Dissolve", "dissolve"),
        (SMPTE, "Push", "slide_left"),
        (SMPTE, "SMPTE_Dissolve to 002", "dissolve"),  # the EDL adapter's names
        (SMPTE, "", "dissolve"),
        (SMPTE, "Transition", "dissolve"),  # Kdenlive's name for each of its dissolves
        (SMPTE, "Cross Zoom", "crosszoom"),  # unknown: the loader warns and dissolves
        ("SMPTE_Wipe_Left", "", "wipe_left"),
        (otio.schema.TransitionTypes.Custom, "Dip To Black", "fade_black"),
        # dips through a colour (black by default): they were cross dissolves
        (SMPTE, "Dip to Color Dissolve", "fade_black"),  # Final Cut 7's, Resolve's
        (SMPTE, "Fade To Color", "fade_black"),  # Final Cut's
        (SMPTE, "Fade In Fade Out Dissolve", "fade_black"),  # Final Cut 7's
    ],
)
def test_the_kind_comes_from_the_type_or_the_name(
    transition_type: str, name: str, expected: str
) -> None:
    transition = otio.schema.Transition(name=name, transition_type=transition_type)
    found = kind(transition)  # an alias the loader maps, or a name it warns of
    assert TRANSITION_ALIASES.get(found, found) == expected


def test_kdenlives_dissolves_load_without_an_unknown_type_warning(tmp_path: Path) -> None:
    """Kdenlive's .otio export (its tests/dataset/test-transitions.otio: three stills joined by
    two SMPTE_Dissolve transitions each named "Transition", image media of rate 0): each
    transition loaded as a dissolve with the warning "unknown transition type 'transition'"."""
    track = otio.schema.Track()
    for n, name in enumerate(["red.png", "yellow.png", "blue.png"]):
        if n:
            joint = otio.schema.Transition(name="Transition", transition_type=SMPTE)
            joint.in_offset, joint.out_offset = RT(12, 24), RT(4, 24)
            track.append(joint)
        Image.new("RGB", (32, 18), (255, 40 * n, 0)).save(tmp_path / name)
        track.append(
            otio.schema.Clip(
                name=name,
                media_reference=otio.schema.ExternalReference(
                    target_url=name, available_range=otio.opentime.TimeRange(RT(0, 0), RT(120, 0))
                ),
                source_range=otio.opentime.TimeRange(RT(12, 24), RT(24, 24)),
            )
        )
    path = tmp_path / "kdenlive.otio"
    otio.adapters.write_to_file(otio.schema.Timeline(tracks=[track]), str(path))
    timeline = load(str(path))
    assert [(c.start, c.end) for c in timeline.tracks[0].clips] == [(0, 28), (12, 52), (36, 72)]
    assert timeline.warnings == ()


def test_a_dip_whose_colour_is_not_read_says_it_dips_through_black(tmp_path: Path) -> None:
    """As the FCP 7 XML adapter reads Final Cut 7's or Resolve's "Dip to Color Dissolve": its
    name only, no colour. It was a cross dissolve without a word."""
    media(tmp_path)
    dip = otio.schema.Transition(
        name="Dip to Color Dissolve", transition_type=SMPTE, in_offset=RT(6, 24),
        out_offset=RT(6, 24),
    )  # fmt: skip
    track = video(clip("one", "a.mov", 0, 48), dip, clip("two", "a.mov", 48, 48))
    timeline = load(save(tmp_path, track))
    assert [(t.kind, t.start, t.end) for t in timeline.transitions] == [("fade_black", 42, 54)]
    assert timeline.warnings == (
        "track 'V1' transition 'Dip to Color Dissolve': its dip colour is not in the export as "
        "read: it dips through black",
    )


def test_a_dissolve_between_stills_warns_of_nothing_held(tmp_path: Path) -> None:
    """DaVinci Resolve gives a still's available range as one frame (its OTIO sample
    effects.otio): a dissolve between two stills warned that it ran the first "60 frames past
    the end of its media" and started the second "before its media", holding frames of
    pictures that never move."""
    for name in ("a.png", "b.png"):
        Image.new("RGB", (16, 9), (200, 10, 10)).save(tmp_path / name)
    one = otio.opentime.TimeRange(RT(0, 24), RT(1, 24))
    first = clip("A", "a.png", 0, 48, available=one)
    second = clip("B", "b.png", 0, 48, available=one)
    dissolve = otio.schema.Transition(
        transition_type=SMPTE, in_offset=RT(12, 24), out_offset=RT(12, 24)
    )
    timeline = load(save(tmp_path, video(first, dissolve, second)))
    a, b = timeline.tracks[0].clips
    assert (a.start, a.end, b.start, b.end) == (0, 60, 36, 96)
    assert (a.source_start, b.source_start) == (0, 0)
    assert timeline.warnings == ()

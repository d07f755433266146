"""Which model transition an OTIO transition is, whatever field the adapter put it in."""

from __future__ import annotations

import opentimelineio as otio
import pytest

from chunking.timeline.catalogue import TRANSITION_ALIASES
from chunking.timeline.otio_transitions import kind

SMPTE = otio.schema.TransitionTypes.SMPTE_Dissolve


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
        (SMPTE, "Cross Zoom", "crosszoom"),  # unknown: the loader warns and dissolves
        ("SMPTE_Wipe_Left", "", "wipe_left"),
        (otio.schema.TransitionTypes.Custom, "Dip To Black", "fade_black"),
    ],
)
def test_the_kind_comes_from_the_type_or_the_name(
    transition_type: str, name: str, expected: str
) -> None:
    transition = otio.schema.Transition(name=name, transition_type=transition_type)
    found = kind(transition)  # an alias the loader maps, or a name it warns of
    assert TRANSITION_ALIASES.get(found, found) == expected

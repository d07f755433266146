"""Corrections to the Final Cut Pro 7 XML reader of ``otio-fcp-adapter`` 1.0, applied before
it reads, and what it leaves in metadata put where the loader reads it.

- A nested sequence (Premiere's "Nest", a Final Cut 7 sequence used as a clip) was read as an
  empty stack: the reader looked for its tracks directly under ``<sequence>``, where only its
  top-level sequence's are looked for under ``<sequence><media>``. The nest showed black and
  was silent, without a word.
- A disabled clip or track (``<enabled>FALSE</enabled>``: Premiere's Clip > Enable, a track's
  eye or speaker off) was read as enabled: the flag only reached the item's metadata.
"""

from __future__ import annotations

import functools
from typing import Any

import opentimelineio as otio

from chunking.timeline.otio_read import is_release, plain

#: The adapter release these corrections are for.
CORRECTED_RELEASE = "1.0.0"


@functools.cache
def correct() -> bool:
    """Apply the corrections once; False when the installed release is not the one they are
    for (nothing is changed then)."""
    if not is_release("otio-fcp-adapter", CORRECTED_RELEASE):
        return False
    parser = otio.adapters.from_name("fcp_xml").module().FCP7XMLParser
    original = parser.stack_for_element

    def stack_for_element(self: Any, element: Any, context: Any) -> Any:
        """The adapter's method; a ``<sequence>`` (a nest) is read from its ``<media>``."""
        media = element.find("./media") if element.tag == "sequence" else None
        if media is None:
            return original(self, element, context)
        stack = original(
            self, self._derefed_element(media), context.context_pushing_element(element)
        )
        name = element.find("./name")
        stack.name = name.text or "" if name is not None else ""
        return stack

    parser.stack_for_element = stack_for_element
    return True


def apply_enabled(tl: Any) -> None:
    """Disable the clips, nests and tracks an FCP 7 XML export marks ``<enabled>FALSE``."""
    for item in tl.find_children():
        found = plain(item.metadata.get("fcp_xml"))
        flag = found.get("enabled") if isinstance(found, dict) else None
        if isinstance(flag, str) and flag.strip().upper() == "FALSE":
            item.enabled = False

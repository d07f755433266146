"""The numbers of a Final Cut Pro 7 XML file, checked before OpenTimelineIO's reader converts
them: it calls ``int()`` and ``float()`` on the text of ``<start>``, ``<end>``, ``<in>``,
``<out>``, ``<duration>`` and ``<timebase>``, so ``nan``, ``inf`` or a number of thousands of
digits failed with Python's own message ("invalid literal for int() with base 10: 'nan'", the
int() digit limit) naming neither the element nor the clip. Each is now a problem naming both.

A multicam clip (a ``<clipitem>`` holding a ``<multiclip>``, Premiere's and Final Cut 7's)
made the reader fail "on a line it does not expect there", naming neither the clip nor why:
it is refused naming the clip and how to flatten it.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree

from chunking.timeline.otio_fcpxml import MAX_NESTING, element_depth
from common.errors import TimelineError, ValidationError

#: Elements the reader reads with int(): a frame number (-1: beside a transition).
_WHOLE = ("start", "end")
#: Elements it reads with float(): frames and rates, perhaps with a fraction.
_DECIMAL = ("in", "out", "duration", "timebase")
#: Digits a frame number or rate may have: a day at 240 fps is 8; far more is no editor's.
MAX_DIGITS = 18
_WHOLE_NUMBER = re.compile(rf"\s*-?[0-9]{{1,{MAX_DIGITS}}}\s*")
_DECIMAL_NUMBER = re.compile(rf"\s*-?[0-9]{{1,{MAX_DIGITS}}}(?:\.[0-9]{{0,{MAX_DIGITS}}})?\s*")


def check_numbers(path: str, text: str | None = None) -> None:
    """Raise ValidationError naming each frame number or rate of an FCP 7 XML file (its
    ``text`` when read already) that is not a plain number of at most MAX_DIGITS digits, and
    each multicam clip (TimelineError for elements nested over MAX_NESTING deep); a file that
    does not parse is left to the reader to report."""
    try:
        root = ElementTree.parse(path).getroot() if text is None else ElementTree.fromstring(text)
    except (ElementTree.ParseError, OSError, ValueError, LookupError):
        return
    deepest = element_depth(root)
    if deepest > MAX_NESTING:  # its reader recursed into them and failed, vaguely, deep down
        raise TimelineError(
            f"{path}: its elements nest {deepest} levels deep (at most {MAX_NESTING} are read); "
            "not an FCP 7 XML an editor writes"
        )
    problems: list[str] = []
    owners = {child: parent for parent in root.iter() for child in parent}
    for parent in root.iter():
        for child in parent:
            if child.tag in _WHOLE:
                pattern, what = _WHOLE_NUMBER, "a whole number of frames"
            elif child.tag in _DECIMAL:
                pattern, what = _DECIMAL_NUMBER, "a number"
            else:
                continue
            text = child.text or ""
            if pattern.fullmatch(text) is None:
                shown = text.strip() if len(text.strip()) <= 24 else f"{text.strip()[:24]}..."
                problems.append(
                    f"{path}: {_label(parent, owners)}<{child.tag}> {shown!r} is not {what}"
                )
    problems += [f"{path}: {message}" for message in _multiclips(root)]
    if problems:
        raise ValidationError(problems)


def _multiclips(root: Any) -> list[str]:
    """One problem for each clip name holding a multicam clip (its picture and sound items
    are one clip in the editor)."""
    names = {
        (item.findtext("name") or "").strip() or str(item.get("id") or ""): None
        for item in root.iter("clipitem")
        if item.find("multiclip") is not None
    }
    return [
        f"clipitem {name!r} is a multicam clip, which is not read: flatten it in the editor "
        "before exporting (Premiere: Multi-Camera > Flatten) so that it names the angle it shows"
        for name in names
    ]


def _label(element: Any, owners: dict[Any, Any]) -> str:
    """Where an element is, as a message names it: the nearest element with a ``<name>`` (a
    clip, a sequence), then the elements down to it (``clipitem 'a.mov': <rate>``)."""
    below: list[str] = []
    while element is not None:
        name = (element.findtext("name") or "").strip()
        if name:
            return f"{element.tag} {name!r}: " + "".join(f"<{tag}>" for tag in reversed(below))
        below.append(element.tag)
        element = owners.get(element)
    return "".join(f"<{tag}>" for tag in reversed(below))

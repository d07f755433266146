"""An .otio written by a newer OpenTimelineIO than the one installed, read where it can be.

OpenTimelineIO refuses a whole file over one object of a schema version newer than it knows
("unsupported schema version: near line 155"), which says neither what nor what to do. Its
0.19 development line writes ``Marker.3``: a marker's colour as a ``Color.1`` object (red,
green, blue, alpha and a name) where ``Marker.2`` held a name. Such a file is read by
OpenTimelineIO's own downgrade (its ``Marker`` 3 to 2 function: the colour's name, upper-cased
where it is one of the named colours); markers are not drawn, so nothing rendered changes.
Any other newer schema is refused naming it and the version this service reads.
"""

from __future__ import annotations

import json
import re
from typing import Any

import opentimelineio as otio

from common.errors import TimelineError

_SCHEMA = re.compile(r'"OTIO_SCHEMA"\s*:\s*"([A-Za-z_][\w]*)\.(\d+)"')
#: The colour names ``Marker.2`` knows (OpenTimelineIO's ``Marker.Color``).
_NAMED_COLOURS = frozenset(
    ("PINK", "RED", "ORANGE", "YELLOW", "GREEN", "CYAN", "BLUE", "MAGENTA", "PURPLE", "BLACK",
     "WHITE", "TRANSPARENT")
)  # fmt: skip
#: Newer schema versions this module writes down to the installed ones: name -> version.
_DOWNGRADES = {"Marker": 3}


def readable_text(path: str, text: str) -> str:
    """An .otio's text as the installed OpenTimelineIO reads it: unchanged unless it holds
    objects of newer schema versions, whose downgrade is then applied (TimelineError naming a
    newer schema there is no downgrade for)."""
    known = otio.core.type_version_map()
    newer = {
        (name, int(version))
        for name, version in _SCHEMA.findall(text)
        if name in known and int(version) > known[name]
    }
    if not newer:
        return text
    for name, version in sorted(newer):
        if _DOWNGRADES.get(name) != version or known[name] != version - 1:
            raise TimelineError(
                f"{path}: written by a newer OpenTimelineIO (it holds {name}.{version} objects; "
                f"this service reads {name}.{known[name]}, OpenTimelineIO "
                f"{otio.__version__}): write it again for OpenTimelineIO {otio.__version__}"
            )
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise TimelineError(f"{path}: not a readable OpenTimelineIO file ({exc})") from None
    return json.dumps(_downgraded(document), indent=4)


def _downgraded(value: Any) -> Any:
    """A JSON value with each ``Marker.3`` object written as ``Marker.2``."""
    if isinstance(value, list):
        return [_downgraded(item) for item in value]
    if not isinstance(value, dict):
        return value
    result = {key: _downgraded(item) for key, item in value.items()}
    if result.get("OTIO_SCHEMA") == "Marker.3":
        result["OTIO_SCHEMA"] = "Marker.2"
        colour = result.get("color")
        if isinstance(colour, dict):
            result["color"] = _colour_name(colour)
    return result


def _colour_name(colour: dict[str, Any]) -> str:
    """A ``Color.1`` object's name as ``Marker.2`` holds it (OpenTimelineIO's downgrade)."""
    name = colour.get("name")
    name = name if isinstance(name, str) else ""
    return name.upper() if name.upper() in _NAMED_COLOURS else name

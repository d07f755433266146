"""ProjectSchema document shape shared by the importer's parts: range limits and list sections."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_SIDE = 16384  # pixels; larger frames cannot be allocated sensibly
MAX_SECONDS = 24 * 3600  # one day of output
MAX_FPS = 240
#: Lists and objects nest at most this deep in a project (a real one needs about ten levels).
MAX_DEPTH = 64


def entries(value: Any) -> list[Any]:
    """A list section's items; anything that is not a list or tuple counts as empty."""
    return list(value) if isinstance(value, list | tuple) else []


def settings_export(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The document's ``settings.export`` object, or an empty one."""
    export = settings(data).get("export")
    return export if isinstance(export, Mapping) else {}


def settings(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The document's ``settings`` object, or an empty one."""
    found = data.get("settings")
    return found if isinstance(found, Mapping) else {}


def settings_output(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """serde's older ``settings.output`` object (format, quality, bitrates, duration), or {}."""
    found = settings(data).get("output")
    return found if isinstance(found, Mapping) else {}

"""ProjectSchema document shape shared by the importer's parts: range limits and list sections."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_SIDE = 16384  # pixels; larger frames cannot be allocated sensibly
MAX_SECONDS = 24 * 3600  # one day of output
MAX_FPS = 240
#: Lists and objects nest at most this deep in a project (a real one needs about ten levels).
MAX_DEPTH = 64
#: Clips (over all tracks) or entries of one section a project holds at most: a feature film
#: is a few thousand; each takes the loader about a millisecond, so a generated document of
#: hundreds of thousands would keep ``validate`` busy for minutes.
MAX_ENTRIES = 10_000


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


#: The document's sections and the fields of its entries that hold a list or an object: a
#: string or a number there is an error, not an empty section (null is the editor's "none").
_TOP: dict[str, type] = {"tracks": list, "effects": list, "filters": list, "transitions": list,
        "subtitles": list, "style_templates": list, "templates": list, "settings": Mapping,
        "metadata": Mapping}  # fmt: skip
_ENTRY: dict[str, dict[str, type]] = {
    "tracks": {"clips": list},
    "subtitles": {"style": Mapping, "animations": list},
}
_CLIP: dict[str, type] = {"effects": list, "filters": list, "transform": Mapping, "crop": Mapping,
         "color_correction": Mapping, "properties": Mapping}  # fmt: skip


def shape_problems(data: Mapping[str, Any]) -> list[str]:
    """Where the document holds a value of the wrong kind for a section or an entry's field."""
    problems = _wrong(data, _TOP, "")
    too_many = _too_many(data)
    if too_many:
        return problems + too_many  # nothing reads the entries of such a document
    export = settings(data).get("export")
    if export is not None and not isinstance(export, Mapping):
        problems.append(f"settings.export: must be an object, not {_kind(export)}")
    for section, fields in _ENTRY.items():
        for i, entry in enumerate(entries(data.get(section))):
            if not isinstance(entry, Mapping):
                problems.append(f"{section}[{i}]: must be an object, not {_kind(entry)}")
                continue
            where = f"{section}[{i}] {entry.get('id')!r}" if entry.get("id") else f"{section}[{i}]"
            problems += _wrong(entry, fields, f"{where}: ")
            if section != "tracks":
                continue
            for j, clip in enumerate(entries(entry.get("clips"))):
                if isinstance(clip, Mapping):
                    name = f"clip {clip.get('id')!r}" if clip.get("id") else f"{where} clip {j}"
                    problems += _wrong(clip, _CLIP, f"{name}: ")
    return problems


def _too_many(data: Mapping[str, Any]) -> list[str]:
    """The sections holding more entries than a project has (clips counted over all tracks)."""
    counts = {section: len(entries(data.get(section))) for section, kind in _TOP.items()
              if kind is list}  # fmt: skip
    counts["clips"] = sum(
        len(entries(track.get("clips")))
        for track in entries(data.get("tracks"))
        if isinstance(track, Mapping)
    )
    return [
        f"{section}: {count} entries; at most {MAX_ENTRIES} are read (split the project)"
        for section, count in counts.items()
        if count > MAX_ENTRIES
    ]


def _wrong(obj: Mapping[str, Any], fields: Mapping[str, type], where: str) -> list[str]:
    found = []
    for name, kind in fields.items():
        value = obj.get(name)
        if value is None or isinstance(value, kind):
            continue
        wanted = "a list" if kind is list else "an object"
        found.append(f"{where}{name} must be {wanted}, not {_kind(value)}")
    return found


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return f"the text {value[:30]!r}"
    return {int: "a number", float: "a number", list: "a list"}.get(type(value), "an object")

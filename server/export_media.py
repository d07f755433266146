"""The media map of an editor's export sent over HTTP: each file or clip name's uploaded asset
and, for an EDL, what the service cannot read from the asset at submit.

An EDL's source in and out points are its media's own timecode (a camera file starting at
01:00:00:00) and its media's frame rate settles the rate its timecodes are read at
(``chunking.timeline.otio_nle``, ``chunking.timeline.otio_timecode``). The service loads the
export against empty placeholders of the uploaded assets (``server.projects``): it never reads
their bytes at submit, so the client says what the files' headers hold::

    {"A001.mov": {"asset": "asset:sha256:<hex>.mov", "timecode": "01:00:00:00",
                  "fps": "24000/1001"}}

``timecode`` is null for media without one; ``fps`` is the picture's frame rate (a number, or a
ratio such as ``"30000/1001"``), for sound only the rate its timecode counts at (null when it
has none). A medium named by a bare reference (the map's older form) is read as a file without
a timecode: its source times count from the file's start, right for media with none, an hour
late for a camera file at 01:00:00:00. (``cloudrender submit --api`` reads the EDL with its
media itself and sends what it read.) FCP 7 XML and FCPXML carry their media's start and rate
themselves.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from chunking.timeline.fields import shown
from chunking.timeline.otio_timecode import DeclaredMedia, timecode_frames
from chunking.timeline.schema import MAX_FPS
from common.errors import TimelineError
from common.numbers import number_text
from workers.assets import is_asset_ref

#: Extensions of assets that hold sound only: their ``fps`` is their timecode's rate only.
_SOUND_ONLY = frozenset(
    (".wav", ".aif", ".aiff", ".mp3", ".flac", ".aac", ".m4a", ".mka", ".oga", ".opus")
)
#: The keys a declared medium may have.
_KEYS = ("asset", "timecode", "fps")
#: A frame rate written as text: a decimal or a ratio of a few digits. Fraction() also reads
#: exponents, and "1e999999999" made it build a billion-digit number (hours of the server's CPU).
_RATE_TEXT = re.compile(r"\d{1,12}(?:\.\d{1,12})?(?:/\d{1,12})?")


@dataclass
class ExportMedia:
    """A request's media map read: references by name, and what is declared of each."""

    #: lower-case names, with and without their suffix -> asset reference (for the relink)
    refs: dict[str, str] = field(default_factory=dict)
    #: asset reference -> the first name the map gives it (for messages)
    names: dict[str, str] = field(default_factory=dict)
    #: name as given -> what is declared of it
    declared: dict[str, DeclaredMedia] = field(default_factory=dict)
    #: asset reference -> what is declared of it (the first declaration wins)
    by_ref: dict[str, DeclaredMedia] = field(default_factory=dict)


def read_media_map(media: Mapping[str, Any] | None) -> ExportMedia:
    """A request's ``media`` map read (see the module docstring); TimelineError naming the
    first entry that is neither a reference nor a declared medium."""
    found = ExportMedia()
    for name, entry in (media or {}).items():
        where = f"media[{name!r}]"
        if isinstance(entry, Mapping):
            ref, declared = _declared(where, entry)
        else:
            ref, declared = entry, None
        if not is_asset_ref(ref):
            raise TimelineError(f"{where}: {ref!r} is not an asset reference")
        found.refs.setdefault(name.lower(), ref)
        found.refs.setdefault(os.path.splitext(name)[0].lower(), ref)
        found.names.setdefault(ref, name)
        if declared is not None:
            found.declared[name] = declared
            found.by_ref.setdefault(ref, declared)
    return found


def _declared(where: str, entry: Mapping[str, Any]) -> tuple[Any, DeclaredMedia]:
    """An object entry's asset reference and what it declares."""
    unknown = sorted(str(k) for k in entry if k not in _KEYS)
    if unknown:
        raise TimelineError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(_KEYS)})")
    missing = [k for k in _KEYS if k not in entry]
    if missing:
        raise TimelineError(
            f"{where}: names no {missing[0]!r} (give each of asset, timecode and fps; "
            "null where the medium has no timecode or no frame rate)"
        )
    ref, timecode, fps = entry["asset"], entry["timecode"], entry["fps"]
    rate = None if fps is None else _rate(f"{where}.fps", fps)
    start = None
    if timecode is not None:
        if rate is None:
            raise TimelineError(f"{where}: a timecode needs the fps it counts at (fps is null)")
        frame = timecode_frames(timecode, rate) if isinstance(timecode, str) else None
        if frame is None:
            raise TimelineError(
                f"{where}.timecode: {timecode!r} is not a timecode at {float(rate):.5g} fps "
                "(HH:MM:SS:FF, ; before the frames for drop-frame), nor null"
            )
        start = (frame, rate)
    sound_only = os.path.splitext(str(ref))[1].lower() in _SOUND_ONLY
    return ref, DeclaredMedia(None if sound_only else rate, start)


def _rate(where: str, value: Any) -> Fraction:
    """A frame rate as a client writes it (25, 29.97, "30000/1001"): NTSC's exact ratio."""
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError
        if isinstance(value, str) and not _RATE_TEXT.fullmatch(value.strip()):
            raise ValueError
        rate = Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        raise TimelineError(
            f'{where}: {shown(value)} is not a frame rate (a number, or a ratio: "30000/1001")'
        ) from None
    if not 0 < rate <= MAX_FPS:
        # A 47-digit rate was quoted digit by digit ("1000...0 is not a frame rate above 0").
        written = number_text(value) if isinstance(value, int | float) else shown(value)
        raise TimelineError(
            f"{where} must be a frame rate above 0 and at most {MAX_FPS}, not {written}"
        )
    ntsc = Fraction(round(rate) * 1000, 1001)
    # 23.976 and 29.97 are how people write 24000/1001 and 30000/1001; a rate under 1/2 has no
    # NTSC twin (it was "snapped" to 0 fps).
    near = ntsc > 0 and abs(rate - ntsc) < Fraction(1, 100)
    return ntsc if rate != round(rate) and near else rate


def rate_placeholders(folder: str, media: ExportMedia) -> dict[str, DeclaredMedia]:
    """An empty file in ``folder`` for each declared medium whose name can be a file name,
    where an EDL's rate choice looks for its media by name (``declared_media`` says what they
    hold): path -> what is declared."""
    os.makedirs(folder, exist_ok=True)
    made: dict[str, DeclaredMedia] = {}
    for name, declared in media.declared.items():
        if not _file_name(name):
            continue
        path = os.path.join(folder, name)
        try:
            with open(path, "x"):
                pass
        except OSError:
            continue  # the same name differently cased, on a disk that ignores case
        made[path] = declared
    return made


def _file_name(name: str) -> bool:
    """Whether a client's name can be a file's name in a folder (and nothing else)."""
    bad = "/" in name or "\\" in name or "\0" in name or name in ("", ".", "..")
    return not bad and len(name.encode("utf-8", "replace")) <= 200

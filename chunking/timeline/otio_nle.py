"""Editors' exchange files read through OpenTimelineIO's adapters: what each format leaves out.

Besides OTIO's own files, the loader reads what editors export: CMX 3600 EDLs (``.edl``, any
editor), Final Cut Pro 7 XML (``.xml``: Premiere Pro, DaVinci Resolve, Hiero), FCPXML
(``.fcpxml``: Final Cut Pro, Resolve) and AAF (``.aaf``: Avid Media Composer, Premiere):
``chunking.timeline.loader.OTIO_SUFFIXES``. (Kdenlive 25.04 and later export ``.otio`` itself.)
What such files lack or get wrong here:

* **A frame rate (EDL).** An EDL holds timecodes only. The rate is taken from them and from its
  media: drop-frame timecodes (``;`` or ``.``) mean 29.97 (59.94 where a frame number reaches
  30); otherwise the smallest common rate above every frame number in them (24, 25, 30, 50, 60),
  unless the media its events name (found as a relink finds them, below) settle what the
  timecodes cannot: 25 fps media make an EDL whose frame numbers stay below 24 a 25 fps one, and
  23.976, 29.97 or 59.94 fps media make a non-drop-frame EDL of that base 23.976, 29.97 or 59.94
  (Premiere writes those without ``;``). Media that all share a higher rate the timecodes allow
  (30, 48, 50, 60 fps) make it that rate, with a warning, unless its frame numbers make a lower
  one far likelier (a cut may mix rates: twenty cuts none of which is on a frame above 23 are a
  24 fps cut of 30 fps media). Without such media, when no frame number reaches 24, 24 is used,
  with a warning. An EDL whose events' source and record durations disagree at that rate (the
  adapter refuses it) is read at the next rate its timecodes allow, with a warning
  (``chunking.timeline.otio_edl``, ``chunking.timeline.otio_edl_rate``).
* **The frame size.** OTIO keeps none; FCP 7 XML carries the sequence's in its metadata, which is
  used when ``metadata.cloudrender.resolution`` does not say otherwise (else 1920x1080).
* **Where the media are.** An export names media where they were on the editor's machine
  (``/Volumes/Media/a.mov``, ``D:/media/a.mov``) or, for an EDL's events, only by clip name.
  Like an editor's relink, a file that is not there is looked for by the end of its path
  inside the project's folder (``Day 2/A001.mov``), then by its name in the project's folder and
  its ``media`` subfolder (nothing else on the disk), and a clip without media by its clip name
  there; each relinked medium gets a warning naming both, and each clip whose media are found
  nowhere an error naming the file name a relink looks for and where.
* **FCPXML the adapter misreads** (media named in ``<media-rep>``, a sequence starting at a
  timecode such as Resolve's 01:00:00:00) is amended before it reads it
  (``chunking.timeline.otio_fcpxml``).
* **Titles (Premiere).** Premiere exports a title or graphic as a "Slug" with an alpha channel
  or a "GraphicAndType" generator (Essential Graphics), and none of its pixels; drawn as Final
  Cut's black Slug it would hide the picture, so it is left out, with a warning.
* **Motion (FCP 7 XML).** The adapter keeps a clip's Basic Motion filter (Premiere's Motion:
  scale, position, rotation) as bare metadata; it becomes the clip's transform
  (``chunking.timeline.otio_fcp7_motion``).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import unquote, urlsplit

import opentimelineio as otio

from chunking.timeline.fields import Problems
from chunking.timeline.otio_aaf import check_aaf, reverse_spans
from chunking.timeline.otio_edl import read_edl
from chunking.timeline.otio_edl_names import edl_media_names, reel_too
from chunking.timeline.otio_edl_rate import edl_rate as edl_rate
from chunking.timeline.otio_fcp7_adapter import apply_enabled, apply_time_remaps, place_overlaps
from chunking.timeline.otio_fcp7_adapter import correct as correct_fcp7_reader
from chunking.timeline.otio_fcp7_checks import check_numbers as check_fcp7_numbers
from chunking.timeline.otio_fcp7_motion import apply_basic_motion
from chunking.timeline.otio_fcpxml import fcpxml_amended
from chunking.timeline.otio_fcpxml_adapter import correct as correct_fcpxml_reader
from chunking.timeline.otio_fcpxml_adjust import apply_adjustments
from chunking.timeline.otio_fcpxml_checks import check_not_empty
from chunking.timeline.otio_fcpxml_compound import hear_compound_clips
from chunking.timeline.otio_fcpxml_extras import ProjectExtras, fcpxml_extras
from chunking.timeline.otio_fcpxml_retime import apply_retimes
from chunking.timeline.otio_fcpxml_solids import apply_solids
from chunking.timeline.otio_fcpxml_transitions import apply_transitions
from chunking.timeline.otio_file_kinds import check_kind
from chunking.timeline.otio_media import UNLINKED, media_path
from chunking.timeline.otio_premiere import drop_graphics as drop_graphics
from chunking.timeline.otio_read import check_has_bytes, plain, read_timeline
from chunking.timeline.studio_sources import MAX_PATH
from chunking.timeline.text_files import read_xml
from common.errors import TimelineError

#: Folders (relative to the project's) a relinked medium may come from.
MEDIA_FOLDERS = ("", "media", "Media")
#: How many folders deep inside the project's folder a relink follows an exported path's end.
_MAX_FOLDERS = 4


def read_export(path: str, p: Problems) -> Any:
    """The OTIO timeline in an export file. An FCPXML is amended and its adapter's reader
    corrected first (``otio_fcpxml``, ``otio_fcpxml_adapter``), what the adapter leaves out
    kept in its metadata (``_keep_extras``); an EDL is read by ``otio_edl`` at its likeliest
    frame rate (see the module docstring), its media looked for as a relink looks for them."""
    check_has_bytes(path)
    check_kind(path)  # an export named with another format's suffix
    if path.lower().endswith(".fcpxml"):
        correct_fcpxml_reader()
        text = read_xml(path, "FCPXML")  # as its byte-order mark or declaration says
        tl = read_timeline(path, text=fcpxml_amended(path, text) or text)
        extras = fcpxml_extras(path, text)
        if len(extras.projects) > 1:  # the adapter reads a library's first event only
            names = ", ".join(repr(n) for n in extras.projects[:8])
            raise TimelineError(
                f"{path}: holds {len(extras.projects)} projects ({names}); export the one "
                "project to render on its own"
            )
        check_not_empty(path, tl, extras.projects, bool(extras.titles or extras.duration))
        apply_retimes(tl)
        apply_adjustments(tl)
        apply_transitions(tl)
        apply_solids(tl)
        hear_compound_clips(tl)
        _keep_extras(tl, extras, p)
        return tl
    if path.lower().endswith(".xml"):
        correct_fcp7_reader()
        text = read_xml(path, "Final Cut Pro 7 XML")  # its reader takes UTF-8 only
        check_fcp7_numbers(path, text)
        tl = read_timeline(path, text=text)
        apply_enabled(tl)
        apply_basic_motion(tl, sequence_format(tl).get("resolution"))
        apply_time_remaps(tl, p)
        place_overlaps(tl, p)
        return tl
    if path.lower().endswith(".aaf"):
        check_aaf(path)
        tl = read_timeline(path)
        reverse_spans(tl)
        return tl
    if not path.lower().endswith(".edl"):
        return read_timeline(path)
    base_dir = os.path.dirname(os.path.abspath(path))
    beside = {name_key(name): target for name, target in _files_beside(base_dir).items()}

    def find(name: str) -> str | None:
        return beside.get(name_key(name)) or beside.get(name_key(os.path.splitext(name)[0]))

    return read_edl(path, p, find)


def _keep_extras(tl: Any, extras: ProjectExtras, p: Problems) -> None:
    """Put an FCPXML project's frame size, length and titles where an OTIO file's
    ``metadata.cloudrender`` holds them, so that an export sent over HTTP (read here, passed
    on as OTIO JSON) keeps them too; warn of what is not rendered."""
    meta = tl.metadata.setdefault("cloudrender", {})
    if not isinstance(meta, MutableMapping):
        return
    if extras.resolution is not None and "resolution" not in meta:
        meta["resolution"] = list(extras.resolution)
    if extras.duration is not None and "duration" not in meta:
        meta["duration"] = extras.duration
    for message in extras.unrendered:
        p.warn("fcpxml", message)
    if extras.titles and "subtitles" not in meta:
        meta["subtitles"] = extras.titles
        p.warn(
            "fcpxml",
            f"{len(extras.titles)} title(s) drawn as subtitles: their text, font, size, colour "
            "and position, not their template's look or animation",
        )


def sequence_format(tl: Any) -> dict[str, Any]:
    """The frame size and sample rate an FCP 7 XML export keeps in the timeline's metadata."""
    found: dict[str, Any] = {}
    media = _get(plain(tl.metadata.get("fcp_xml")), "media")
    video = _get(_get(_get(media, "video"), "format"), "samplecharacteristics")
    width, height = _whole(_get(video, "width")), _whole(_get(video, "height"))
    if width and height:
        found["resolution"] = [width, height]
    audio = _get(_get(_get(media, "audio"), "format"), "samplecharacteristics")
    sample_rate = _whole(_get(audio, "samplerate"))
    if sample_rate:
        found["sample_rate"] = sample_rate
    return found


def relink(tl: Any, base_dir: str, p: Problems) -> None:
    """Point clips whose media are not where the export says at same-named files in the
    project's folder (see the module docstring); warn for each."""
    _decode_relative_urls(tl, base_dir)
    _relink_by_folders(tl, base_dir, p)
    beside = _files_beside(base_dir)
    if beside:
        relink_by_name(tl, beside, lambda path: os.path.isfile(os.path.join(base_dir, path)), p)
    _note_unlinked(tl, base_dir)


def _decode_relative_urls(tl: Any, base_dir: str) -> None:
    """Point each relative, percent-encoded target URL (``My%20Media/take%201.mov``, as a URL
    is written) that names no file at the decoded path where that file is: the path was
    looked for with its ``%20`` left in, the clip refused as missing media. A file named with
    the % signs themselves, where there is one, stays first."""
    for clip in tl.find_clips():
        ref = clip.media_reference
        if not isinstance(ref, otio.schema.ExternalReference):
            continue
        url = str(ref.target_url or "")
        if "%" not in url or urlsplit(url).scheme or os.path.isabs(url):
            continue  # file:// URLs are decoded already (otio_media.media_path)
        decoded = unquote(url)
        if not os.path.lexists(os.path.join(base_dir, url)) and os.path.isfile(
            os.path.join(base_dir, decoded)
        ):
            ref.target_url = decoded


def _note_unlinked(tl: Any, base_dir: str) -> None:
    """Note on each media reference no relink found a file for where a file would be found:
    the clip's error then says how to relink it, not only that its media are absent (an EDL's
    event was told to relink "in the editor", which an EDL never carries media from)."""
    where = "is in the export's folder or its media/ folder"
    for clip in tl.find_clips():
        ref = clip.media_reference
        if isinstance(ref, otio.schema.MissingReference) and _no_file_name(clip):
            # Hiero writes a shot without media as a clip (and file) named "/": no file can
            # be put beside the export under that name.
            ref.metadata[UNLINKED] = (
                "the export names no media file for it (an OTIO MissingReference), and its "
                f"name {str(clip.name)!r} is no file name to relink it by: an offline clip in "
                "the editor; relink or remove it there and export again"
            )
        elif isinstance(ref, otio.schema.MissingReference):
            ref.metadata[UNLINKED] = (
                "the export names no media file for it (an OTIO MissingReference), and no file "
                f"named like the clip ({str(clip.name)!r}, any suffix{reel_too(clip)}) {where}: "
                "put its media "
                "there under that name to relink it"
            )
        elif isinstance(ref, otio.schema.ExternalReference):
            path = media_path(str(ref.target_url or ""), "", Problems())
            absent = _absent(path, base_dir) if path is not None else None
            if absent is not None:
                name = re.split(r"[\\/]", path or "")[-1]
                ref.metadata[UNLINKED] = (
                    f"{absent}: {path}; no file named {name!r} {where} either: put it there to "
                    "relink it by name"
                )


def _absent(path: str, base_dir: str) -> str | None:
    """Why the file a media path names cannot be used, when it is not there; None when it is
    (or when the project loader names a subtler fault: a NUL, an endless path, a folder)."""
    if "\x00" in path or len(path) > MAX_PATH:
        return None
    full = path if os.path.isabs(path) else os.path.normpath(os.path.join(base_dir, path))
    base = os.path.realpath(base_dir)
    if os.path.commonpath([base, os.path.realpath(full)]) != base:
        # One wording whatever is wrong, as the loader's: nothing says what exists outside.
        readable = os.path.isfile(full) and os.access(full, os.R_OK)
        return None if readable else "media cannot be opened on this machine"
    return None if os.path.lexists(full) else "media file not found"


def _relink_by_folders(tl: Any, base_dir: str, p: Problems) -> None:
    """Point clips whose media are not where the export says at the file the end of that path
    names inside the project's folder (``/Volumes/Shoot/Day 2/A001.mov`` -> ``Day 2/A001.mov``),
    its longest such end first: a project folder copied with its footage folders keeps them,
    and camera cards reuse file names (each day's ``A001.mov``), which a relink by name alone
    would all point at one file. One warning per relinked medium."""
    moved: dict[tuple[str, str], int] = {}
    for clip in tl.find_clips():
        ref = clip.media_reference
        if not isinstance(ref, otio.schema.ExternalReference):
            continue
        path = media_path(str(ref.target_url or ""), "", Problems())
        if path is None or os.path.isfile(os.path.join(base_dir, path)):
            continue  # not a local file (reported later), or there
        parts = [part for part in re.split(r"[\\/]", path) if part]
        # At least one folder with the name (a bare name is relink_by_name's), never one that
        # climbs out of the project's folder or names a drive.
        for count in range(min(len(parts) - 1, _MAX_FOLDERS + 1), 1, -1):
            tail = parts[-count:]
            if any(part in (".", "..") or ":" in part for part in tail):
                continue
            found = "/".join(tail)
            if os.path.isfile(os.path.join(base_dir, *tail)):
                ref.target_url = found
                moved[(path, found)] = moved.get((path, found), 0) + 1
                break
    for (path, found), clips in moved.items():
        used = f"{clips} clips use it" if clips > 1 else "1 clip uses it"
        p.warn(f"media {path}", f"is not on this machine; using {found} ({used})")


def relink_by_name(
    tl: Any, files: Mapping[str, str], present: Callable[[str], bool], p: Problems
) -> None:
    """Point clips whose media are not ``present`` at ``files[name]``: by the file name their
    reference ends in, or (a clip without media) by the clip's name; ``files`` is keyed by
    lower-case names, with and without their suffix. One warning per relinked medium."""
    moved: dict[tuple[str, str], int] = {}  # (exported path, file used) -> clips
    beside = {name_key(name): target for name, target in files.items()}
    for clip in tl.find_clips():
        ref = clip.media_reference
        where = f"clip {str(clip.name)!r}"
        if isinstance(ref, otio.schema.ExternalReference):
            path = media_path(str(ref.target_url or ""), where, Problems())
            if path is None or present(path):
                continue  # not a local file (reported later), or there
            name = re.split(r"[\\/]", path)[-1]
            found = beside.get(name_key(name))
            if found:
                ref.target_url = found
                moved[(path, found)] = moved.get((path, found), 0) + 1
        elif ref is None or isinstance(ref, otio.schema.MissingReference):
            names = [str(clip.name), str(getattr(ref, "name", "") or ""), *edl_media_names(clip)]
            found = next((beside[name_key(n)] for n in names if n and name_key(n) in beside), "")
            if found:
                available = getattr(ref, "available_range", None)
                clip.media_reference = otio.schema.ExternalReference(
                    target_url=found, available_range=available
                )
                p.warn(where, f"has no media in the export; using {found}, found by its name")
    for (path, found), clips in moved.items():
        used = f"{clips} clips use it" if clips > 1 else "1 clip uses it"
        p.warn(f"media {path}", f"is not on this machine; using {found} ({used})")


def _files_beside(base_dir: str) -> dict[str, str]:
    """Media files a relink may use, by lower-case name and by name without its suffix
    (relative paths; the first folder of MEDIA_FOLDERS wins)."""
    found: dict[str, str] = {}
    for folder in MEDIA_FOLDERS:
        try:
            names = sorted(os.listdir(os.path.join(base_dir, folder)))
        except OSError:
            continue
        for name in names:
            relative = os.path.join(folder, name) if folder else name
            if not os.path.isfile(os.path.join(base_dir, relative)):
                continue
            for key in (name_key(name), name_key(os.path.splitext(name)[0])):
                found.setdefault(key, relative)
    return found


def _no_file_name(clip: Any) -> bool:
    """Whether neither a missing clip's name nor its reel could be a file's name ("/")."""
    name = re.split(r"[\\/]", str(clip.name or ""))[-1].strip()
    return name in ("", ".", "..") and not reel_too(clip)


def name_key(name: str) -> str:
    """How relinks compare file names: case-blind, and with accents composed alike (a Mac's
    HFS+ disk stores "Café" decomposed, the export may spell it composed, or the other way)."""
    return unicodedata.normalize("NFC", name).lower()


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def _whole(value: Any) -> int | None:
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if 0 < number <= 16384 else None

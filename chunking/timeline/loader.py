"""Open a timeline file of any supported format: Timeline Studio ProjectSchema JSON, the Timeline
Studio editor's own documents (.tlsp, .tls, its camelCase project JSON; see studio_editor) and
OpenTimelineIO."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
from typing import Any

from chunking.timeline.fields import lone_surrogate
from chunking.timeline.media_paths import resolve_media
from chunking.timeline.model import Timeline
from chunking.timeline.otio_bundle import CONTENT, links_out
from chunking.timeline.studio import load_project
from chunking.timeline.studio_editor import convert, job_name
from chunking.timeline.text_files import read_text
from common.errors import TimelineError, ValidationError
from common.json_keys import loads_unique

#: Files read through OpenTimelineIO's adapters: its own, and editors' exports
#: (chunking.timeline.otio_nle).
OTIO_SUFFIXES = (".otio", ".edl", ".xml", ".fcpxml", ".aaf")
#: Final Cut Pro's export bundle (a folder holding ``Info.fcpxml``).
FCPXML_BUNDLE = ".fcpxmld"
#: OpenTimelineIO's bundles: a folder, and the same zipped (chunking.timeline.otio_bundle).
OTIO_BUNDLES = (".otiod", ".otioz")

#: Editors' own project files, which only their editor reads, and what to export instead: they
#: were read as JSON ("invalid JSON at line 1").
PROJECT_FILES = {
    ".kdenlive": "a Kdenlive project: export its timeline as OpenTimelineIO (.otio, which "
    "Kdenlive 25.04 and later write) or as a CMX 3600 EDL",
    ".mlt": "an MLT project (Shotcut, Kdenlive): export its timeline as OpenTimelineIO (.otio) "
    "or as a CMX 3600 EDL",
    ".prproj": "an Adobe Premiere Pro project: export the sequence with File > Export > Final "
    "Cut Pro XML (.xml)",
    ".drp": "a DaVinci Resolve project: export the timeline with File > Export > Timeline as "
    "FCPXML, OpenTimelineIO or EDL",
    ".fcpbundle": "a Final Cut Pro library: export the project with File > Export XML (.fcpxml)",
}
MAX_PROJECT_BYTES = 64 * 1024 * 1024  # a project file larger than this is not a project


def load(path: str, *, strict: bool = False) -> Timeline:
    """Load a Timeline Studio (.json, .tlsp, .tls) or OpenTimelineIO file; raise TimelineError
    on problems."""
    return read_file(path, strict=strict)[2]


def read_file(path: str, *, strict: bool = False) -> tuple[dict[str, Any], str, Timeline]:
    """A timeline file read once: its ProjectSchema document (an OTIO file, an editor's export
    read through OTIO (chunking.timeline.otio_nle: EDL, FCP XML, FCPXML, AAF) or an
    editor document
    translated: that document is what workers receive), the directory its media paths resolve
    in, and the validated Timeline."""
    base_dir = os.path.dirname(os.path.abspath(path))
    _refuse_special(path)
    given = path  # what the user named: errors about an unpacked .otioz's content name it
    suffix = os.path.splitext(path.rstrip("/"))[1].lower()
    if suffix in PROJECT_FILES:
        raise TimelineError(f"{path} is {PROJECT_FILES[suffix]}")
    bundle = path.rstrip("/")  # an .otiod folder's media are checked for links out of it
    if os.path.isdir(path) and path.rstrip("/").lower().endswith(FCPXML_BUNDLE):
        # Final Cut Pro 10.6's export: a folder holding Info.fcpxml; the media and the
        # project folder a relink searches are beside the bundle, not in it.
        base_dir = os.path.dirname(os.path.abspath(path.rstrip("/")))
        path = os.path.join(path, "Info.fcpxml")
    elif os.path.basename(base_dir).lower().endswith(FCPXML_BUNDLE):
        base_dir = os.path.dirname(base_dir)  # its Info.fcpxml named: the media are beside it
    if path.rstrip("/").lower().endswith(OTIO_BUNDLES) and os.path.exists(path):
        from chunking.timeline.otio_bundle import bundle_content
        from common.settings import Settings

        path = bundle_content(path.rstrip("/"), Settings.from_env().bundle_dir)
        base_dir = os.path.dirname(path)  # the media are in the bundle, relative to it
    if os.path.isdir(path):
        raise TimelineError(f"{path} is a folder, not a timeline file")
    _refuse_special(path)  # a bundle's content, Info.fcpxml in an .fcpxmld
    if not os.path.isfile(path):
        raise TimelineError(f"timeline file not found: {path}{_why_missing(path)}")
    if os.path.getsize(path) > MAX_PROJECT_BYTES:
        raise TimelineError(f"timeline file is too large to be a project: {path}")
    if path.lower().endswith(OTIO_SUFFIXES):
        from chunking.timeline.otio import read_otio  # OTIO's import is slow: only when needed

        if path.lower().endswith(".otio"):
            _refuse_repeated_keys(path)

        try:
            document, timeline = read_otio(path, strict=strict, base_dir=base_dir)
        except TimelineError as exc:
            if path == given or type(exc) is not TimelineError:
                raise
            raise TimelineError(str(exc).replace(path, f"{given} (its {CONTENT})")) from None
        _check_characters(document, path)
        if os.path.basename(path) == CONTENT and os.path.isdir(bundle):
            timeline = _warn_links_out(timeline, bundle, strict)
        return document, base_dir, timeline
    text = read_text(path)  # UTF-8, or UTF-16/32 with a byte-order mark, as Windows tools write
    try:
        data = loads_unique(text, path)
    except json.JSONDecodeError as exc:
        raise TimelineError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    except RecursionError:
        raise TimelineError(f"{path}: lists and objects nest too deeply to be a project") from None
    except ValueError as exc:  # an integer of thousands of digits
        raise TimelineError(f"{path}: invalid JSON ({str(exc)[:80]})") from None
    if not isinstance(data, dict):
        raise TimelineError(f"{path}: the top level must be a JSON object")
    document, timeline = load_document(
        data, base_dir, source=path, name=job_name(path), strict=strict
    )
    return document, base_dir, timeline


def _warn_links_out(timeline: Timeline, bundle: str, strict: bool) -> Timeline:
    """The timeline of an .otiod with a warning (strict: a problem) naming each media file in
    the bundle that is a symbolic link to outside it: such a bundle is not self-contained."""
    links = links_out(timeline, bundle)
    if strict and links:
        raise ValidationError(links)
    return dataclasses.replace(timeline, warnings=(*timeline.warnings, *links))


def _refuse_special(path: str) -> None:
    """Refuse a path that is there but is no file or folder: "not found" misled, and a FIFO
    (an .otioz one) hung the reader waiting for a writer."""
    if os.path.exists(path) and not (os.path.isfile(path) or os.path.isdir(path)):
        raise TimelineError(
            f"{path} is not a regular file (a device, FIFO or socket), not a timeline file"
        )


#: Why a path names no file, beyond its not being there (os.stat's error).
_MISSING = {
    errno.ELOOP: "its symbolic links lead round in a loop",
    errno.ENOTDIR: "a part of the path before its last name is a file, not a folder",
    errno.ENAMETOOLONG: "the path or one of its names is too long for the file system",
    errno.EACCES: "permission denied on a folder of the path",
}


def _why_missing(path: str) -> str:
    """What a "not found" leaves out: a symbolic link to nothing, a loop of links, a file used
    as a folder ("project.json/"); "" when the path is simply not there."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno in _MISSING:
            return f" ({_MISSING[exc.errno]})"
        if exc.errno == errno.ENOENT and os.path.islink(path):
            return f" (a symbolic link to {os.readlink(path)}, which does not exist)"
    return ""


def load_document(
    data: dict[str, Any],
    base_dir: str,
    *,
    source: str = "project",
    name: str = "",
    strict: bool = False,
) -> tuple[dict[str, Any], Timeline]:
    """A parsed ProjectSchema or Timeline Studio editor document (media paths relative to
    `base_dir`) as the ProjectSchema document workers receive and its validated Timeline;
    `source` names it in messages."""
    _check_characters(data, source)
    editor = convert(data, base_dir, source=source, name=name)
    if editor is None:
        data, moved = resolve_media(data, base_dir)
        if strict and moved:
            raise ValidationError(moved)
        timeline = load_project(data, base_dir, strict=strict)
        return data, dataclasses.replace(timeline, warnings=(*moved, *timeline.warnings))
    timeline = load_project(editor.document, base_dir, strict=strict)
    if strict and editor.warnings:
        raise ValidationError(list(editor.warnings))
    warnings = editor.warnings + timeline.warnings
    return editor.document, dataclasses.replace(timeline, warnings=warnings)


def _refuse_repeated_keys(path: str) -> None:
    """Refuse an OTIO JSON file with a key given twice in one object (OTIO's reader keeps one
    silently); anything else wrong with it is OTIO's reader's to report."""
    try:
        text = read_text(path)
    except TimelineError:  # not text: as OTIO's reader says
        return
    try:
        loads_unique(text, path)
    except (ValueError, RecursionError):  # not JSON: as OTIO's reader says
        pass


def _check_characters(document: Any, source: str) -> None:
    """Refuse a document with a lone UTF-16 surrogate: JSON's \\ud800 escapes parse to one, but
    no output, answer or record can hold it."""
    where = lone_surrogate(document)
    if where is not None:
        raise TimelineError(
            f"{source}: {where} holds a lone UTF-16 surrogate (a \\ud800-\\udfff escape), "
            "which is no character: correct the text"
        )

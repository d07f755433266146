"""A project as the HTTP service receives it: a Timeline Studio document (a JSON object), an
OpenTimelineIO document (a JSON string, or an object with ``OTIO_SCHEMA``) or an editor's
export sent as text (FCP 7 XML, FCPXML, a CMX 3600 EDL; its media, and an OTIO document's,
relinked by name through the request's ``media`` map), read and vetted without ever touching
the service's own disk.

Media must already be uploaded: every media path is an asset reference
``asset:sha256:<hex><ext>`` (``POST /v1/assets/missing``, ``PUT /v1/assets/...``); a local path
is refused naming its clip, before the project is loaded, so a request cannot learn which files
exist on the server. An EDL's media are declared with their start timecode and frame rate,
which the service cannot read from the uploaded bytes at submit (``server.export_media``).

The project loader checks that each media file exists and is readable. For an uploaded asset
that check is the storage's (``submit_job`` confirms each reference is held), so the project is
loaded in a private empty directory where each reference is an empty placeholder file, removed
again before anything else runs. The segment cache's content ids know an asset by the hash its
reference names (``orchestrator.planning.media_ids``), so an estimate over HTTP leaves out the
chunks the cache holds, as the render will.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any

from chunking.timeline.project import Project, read_project
from chunking.timeline.studio_editor import convert
from chunking.timeline.text_files import declared_utf8
from common.errors import TimelineError, ValidationError
from common.json_keys import loads_unique
from server.export_media import rate_placeholders, read_media_map
from workers.assets import is_asset_ref, media_fields

#: How a placeholder reference is written for the OTIO reader, which refuses URL-like paths.
_OTIO_LOCAL = "./"
#: Deepest nesting of lists and objects a project may have (the loader's own limit is lower).
_MAX_DEPTH = 200
#: A CMX 3600 event line: number, reel, track, transition, then timecodes. Its blanks are
#: spaces and tabs only: ``\s`` also takes line ends, and a text of blank lines then tried
#: every line start against all the lines after it (40 KB of them took 20 s of CPU).
_EDL_EVENT = re.compile(
    r"^[ \t]*\d{3,6}[ \t]+\S+[ \t]+\S+[ \t]+\S+.*\d\d[:;]\d\d[:;]\d\d[:;]\d\d", re.M
)


def load_remote_project(
    source: str | Mapping[str, Any], media: Mapping[str, Any] | None = None
) -> Project:
    """The project a client sent, read with its media as asset references only. ``media``
    relinks an editor's export (FCP 7 XML, FCPXML or EDL text): file or clip names, with or
    without their suffix, to asset references, or (an EDL's media) to what is known of each
    (``server.export_media``)."""
    if isinstance(source, str):
        # A file a Windows tool saved starts with a byte-order mark; a client that reads it as
        # UTF-8 text sends it on, and no JSON, XML or EDL reader takes it.
        source = source.removeprefix("\ufeff")
        suffix = _export_kind(source)
        if suffix is not None:
            return _load_otio(_editor_export(source, suffix, media))
        return _load_otio(_relinked_otio(_parse_otio(source), media))
    if "OTIO_SCHEMA" in source:
        return _load_otio(_relinked_otio(dict(source), media))
    if media:
        # Silently ignored before: the caller believed its clips relinked.
        raise TimelineError(
            "media relinks an editor's export or an OpenTimelineIO document by file name; a "
            "Timeline Studio project names each clip's asset reference in its source "
            '({"File": "asset:sha256:<hex><ext>"}): leave media out'
        )
    document = dict(source)
    with tempfile.TemporaryDirectory(prefix="cloudrender-api-") as folder:
        # Media are checked before the loader looks at the disk: in a ProjectSchema as sent,
        # in an editor's document (.tlsp, sections, a ProjectFile) as converted to one.
        editor = convert(document, folder, disk=False)
        _refuse_local_media(document if editor is None else editor.document)
        _placeholders(folder, asset_refs(document))
        project = read_project(document, base_dir=folder)
    _refuse_local_media(project.document)
    return project


def _export_kind(text: str) -> str | None:
    """The file suffix of an editor's export sent as text (None: OTIO JSON, or not known)."""
    head = text.lstrip()[:2000]
    if head.startswith(("{", "[")):
        return None
    if head.startswith("<"):
        if "<fcpxml" in head:
            return ".fcpxml"
        if "<xmeml" in head:
            return ".xml"
        return None
    if _EDL_EVENT.search(text) or head.upper().startswith("TITLE:"):
        return ".edl"
    return None


#: The most events (EDL lines, XML clip items) an editor's export sent over HTTP may hold:
#: OTIO's adapters read one at a rate of a few thousand a second and hold it whole in memory
#: (a 14 MB EDL took 40 s of the server's CPU and a gigabyte); a feature film has a few thousand.
MAX_EXPORT_EVENTS = 10_000
_XML_ITEM = re.compile(r"<(?:clipitem|asset-clip|clip|ref-clip|sync-clip|mc-clip|audio|video)\b")


def _editor_export(text: str, suffix: str, media: Mapping[str, Any] | None) -> dict[str, Any]:
    """An editor's export read through OpenTimelineIO, its media relinked by name to the
    client's asset references: the OTIO JSON document the OTIO path then vets."""
    pattern = _EDL_EVENT if suffix == ".edl" else _XML_ITEM
    events = sum(1 for _ in itertools.islice(pattern.finditer(text), MAX_EXPORT_EVENTS + 1))
    if events > MAX_EXPORT_EVENTS:
        kind = {".edl": "EDL", ".xml": "FCP 7 XML", ".fcpxml": "FCPXML"}[suffix]
        raise TimelineError(
            f"project: the {kind} holds more than {MAX_EXPORT_EVENTS} events or clips; at "
            "most that many are read over HTTP (split the edit, or render it with the CLI)"
        )
    import opentimelineio as otio  # slow to import: only for this kind of request

    from chunking.timeline.fields import Problems
    from chunking.timeline.otio_nle import read_export, relink_by_name
    from chunking.timeline.otio_timecode import apply_declared_timecodes, declared_media

    found = read_media_map(media)
    with tempfile.TemporaryDirectory(prefix="cloudrender-api-") as folder:
        path = os.path.join(folder, "project" + suffix)
        with open(path, "w", encoding="utf-8") as handle:
            # Stored as UTF-8 whatever the file it came from said it was (UTF-16, Latin-1):
            # read by its declaration, its text was garbled or refused.
            handle.write(declared_utf8(text) if suffix != ".edl" else text)
        # The declared media stand where an EDL's rate choice looks for its media by name.
        media_dir = os.path.join(folder, "media")
        beside = rate_placeholders(media_dir, found) if suffix == ".edl" else {}
        try:
            with declared_media(beside):
                tl = read_export(path, Problems())
        except TimelineError as exc:  # its message names the file: not this server's path
            raise TimelineError(str(exc).replace(path, "project")) from None
    relink_by_name(tl, found.refs, is_asset_ref, Problems())
    if suffix == ".edl":
        apply_declared_timecodes(tl, found.by_ref)
    document: dict[str, Any] = json.loads(otio.adapters.write_to_string(tl, "otio_json"))
    return document


def _relinked_otio(document: dict[str, Any], media: Mapping[str, Any] | None) -> dict[str, Any]:
    """An OTIO document (Resolve's, Premiere's .otio) with the media it names on the editor's
    machine relinked by file name to the request's asset references, as an export's are."""
    if not media:
        return document
    import opentimelineio as otio  # slow to import: only for this kind of request

    from chunking.timeline.fields import Problems
    from chunking.timeline.otio_nle import relink_by_name

    found = read_media_map(media)
    try:
        tl = otio.adapters.read_from_string(json.dumps(document), "otio_json")
    except Exception as exc:  # OTIO raises its own and builtin errors for a bad document
        raise TimelineError(f"project: not a readable OpenTimelineIO document ({exc})") from None
    relink_by_name(tl, found.refs, is_asset_ref, Problems())
    relinked: dict[str, Any] = json.loads(otio.adapters.write_to_string(tl, "otio_json"))
    return relinked


def _parse_otio(text: str) -> dict[str, Any]:
    try:
        data = loads_unique(text, "project")
    except json.JSONDecodeError as exc:
        raise TimelineError(
            "project: a string must be an OpenTimelineIO JSON document or an editor's FCP 7 "
            "XML, FCPXML or EDL; this one is none of them "
            f"({exc.msg} at character {exc.pos})"
        ) from None
    except RecursionError:
        raise TimelineError("project: lists and objects nest too deeply") from None
    if not isinstance(data, dict) or "OTIO_SCHEMA" not in data:
        raise TimelineError(
            "project: a string must be an OpenTimelineIO JSON document (with OTIO_SCHEMA); send "
            "a Timeline Studio project as a JSON object"
        )
    return data


def _load_otio(document: dict[str, Any]) -> Project:
    problems = []
    for where, url in _otio_targets(document):
        if not is_asset_ref(url):
            problems.append(_local_problem(where, url))
    if problems:
        raise ValidationError(problems)
    refs = sorted({url for _, url in _otio_targets(document)})
    _rewrite_targets(document, lambda url: _OTIO_LOCAL + url)
    with tempfile.TemporaryDirectory(prefix="cloudrender-api-") as folder:
        _placeholders(folder, refs)
        path = os.path.join(folder, "project.otio")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(document, handle)
        try:
            project = read_project(path)
        except ValidationError as exc:  # its messages name the file: not this server's path
            raise ValidationError([p.replace(path, "project") for p in exc.problems]) from None
        except TimelineError as exc:
            raise TimelineError(str(exc).replace(path, "project")) from None
    for field in media_fields(project.document):
        value = field.value
        if isinstance(value, str) and value.startswith(_OTIO_LOCAL + "asset:"):
            field.holder[field.key] = value.removeprefix(_OTIO_LOCAL)
    _refuse_local_media(project.document)
    return project


def _refuse_local_media(document: dict[str, Any]) -> None:
    problems = [
        _local_problem(f"clip {field.clip_id!r}", field.value)
        for field in media_fields(document)
        if not is_asset_ref(field.value)
    ]
    if problems:
        raise ValidationError(problems)


def _local_problem(where: str, value: object) -> str:
    return (
        f"{where}: media {value!r} is not an uploaded asset; upload the file first (POST "
        "/v1/assets/missing, then PUT /v1/assets/<sha256><ext>) and name it "
        "asset:sha256:<sha256><ext>"
    )


def asset_refs(document: Any) -> list[str]:
    """Every string in the document that is an asset reference."""
    found: set[str] = set()
    for value in _strings(document, 0):
        if is_asset_ref(value):
            found.add(value)
    return sorted(found)


def _strings(value: Any, depth: int) -> Iterator[str]:
    if depth > _MAX_DEPTH:
        raise TimelineError(f"project: lists and objects nest over {_MAX_DEPTH} levels deep")
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)


def _placeholders(folder: str, refs: list[str]) -> None:
    """An empty file per reference, named as the reference (the loader's existence check)."""
    for ref in refs:
        with open(os.path.join(folder, ref), "x"):
            pass


def _otio_targets(document: Any, clip: str = "", depth: int = 0) -> Iterator[tuple[str, str]]:
    """(clip, target URL) of every OTIO media reference, with the clip it belongs to."""
    if depth > _MAX_DEPTH:
        raise TimelineError(f"project: lists and objects nest over {_MAX_DEPTH} levels deep")
    if isinstance(document, Mapping):
        schema = str(document.get("OTIO_SCHEMA", ""))
        if schema.startswith("Clip."):
            clip = f"clip {str(document.get('name') or '?')!r}"
        for key in ("target_url", "target_url_base"):
            if key in document:
                yield clip or "media reference", str(document[key])
        for value in document.values():
            yield from _otio_targets(value, clip, depth + 1)
    elif isinstance(document, list):
        for value in document:
            yield from _otio_targets(value, clip, depth + 1)


def _rewrite_targets(document: Any, change: Any, depth: int = 0) -> None:
    if isinstance(document, dict):
        if isinstance(document.get("target_url"), str):
            document["target_url"] = change(document["target_url"])
        for value in document.values():
            _rewrite_targets(value, change, depth + 1)
    elif isinstance(document, list):
        for value in document:
            _rewrite_targets(value, change, depth + 1)

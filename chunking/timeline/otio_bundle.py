"""OpenTimelineIO bundles and the guard every ``.otio`` passes before OTIO's reader sees it.

A bundle holds the timeline as ``content.otio`` with its media in ``media/``, the references
relative to the bundle (OTIO's own otiod and otioz adapters write them so): an ``.otiod`` is
that folder, an ``.otioz`` that folder zipped. An ``.otioz`` is unpacked, once per content, into
a folder of its own under the user's cache (``CLOUDRENDER_BUNDLE_DIR``), so the media are files
every local worker can open; only plain files named inside the bundle are written, within size
and count limits, so a zip bomb or a name like ``../../.bashrc`` is refused, not written. OTIO
stores a bundle's media as they are (already compressed video, audio and pictures); a member
that deflates to a hundred times its packed size (megabytes of zeros), or members that together
unpack to far more than the archive could hold (a bomb whose entries share their data), are
refused before anything is written.

OTIO's JSON reader recurses without a limit (a document nested 30,000 deep ran for minutes, one
100,000 deep crashed the process), so the nesting of an ``.otio``'s text is measured first.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import tempfile
import zipfile

from chunking.timeline.model import FileSource, Timeline
from common.errors import TimelineError

#: The timeline inside a bundle, and the folder of its media.
CONTENT = "content.otio"
MEDIA = "media/"
#: Deeper than any real OTIO document (a few dozen levels) and far below what crashes OTIO.
MAX_JSON_DEPTH = 256
#: What an .otioz may unpack to: files, and bytes in all.
MAX_MEMBERS = 100_000
MAX_UNPACKED_BYTES = 64 * 1024**3
#: How much larger than its packed bytes a member may unpack to, once past a size at which a
#: text or a raw picture compressing well is no threat (real media hardly compress at all).
MAX_RATIO = 100
RATIO_FREE_BYTES = 16 * 1024**2

#: A JSON string (escapes included): brackets inside one do not nest anything.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_depth(text: str) -> int:
    """How deeply the lists and objects of a JSON text nest (0 for a scalar)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = deepest = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def check_json_depth(path: str, text: str) -> None:
    """Raise TimelineError when an .otio's text nests deeper than any real timeline does."""
    if json_depth(text) > MAX_JSON_DEPTH:
        raise TimelineError(
            f"{path}: lists and objects nest more than {MAX_JSON_DEPTH} deep; not a timeline"
        )


def bundle_content(path: str, cache_dir: str) -> str:
    """The ``content.otio`` of an ``.otiod`` folder or of an ``.otioz`` (unpacked under
    ``cache_dir``); its media paths resolve in the folder it is in."""
    if os.path.isdir(path):
        content = os.path.join(path, CONTENT)
        if not os.path.isfile(content):
            raise TimelineError(f"{path}: an OTIO bundle folder without its {CONTENT}")
        return content
    return os.path.join(_unpacked(path, cache_dir), CONTENT)


def links_out(timeline: Timeline, bundle: str) -> list[str]:
    """Warnings naming each media file of an ``.otiod`` folder that is a symbolic link (in the
    folder) to a file outside it: read where the link points, which the bundle does not hold
    when it is moved or sent (and which an .otioz's unpacking refuses)."""
    inside, root = os.path.abspath(bundle), os.path.realpath(bundle)
    found: dict[str, str] = {}
    for track in timeline.tracks:
        for clip in track.clips:
            source = clip.source
            if not isinstance(source, FileSource) or source.path in found:
                continue
            where = os.path.abspath(source.path)
            real = os.path.realpath(where)
            if os.path.commonpath([inside, where]) == inside and (
                os.path.commonpath([root, real]) != root
            ):
                found[source.path] = (
                    f"clip {clip.id!r}: media {os.path.relpath(where, inside)} in {bundle} is a "
                    f"symbolic link to {real}, outside the bundle; it is read there, but the "
                    "bundle is not self-contained (copy the file in to move or send it)"
                )
    return list(found.values())


def _unpacked(path: str, cache_dir: str) -> str:
    """The folder an .otioz is unpacked in (once per content: the same bundle again is free)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as source:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise TimelineError(f"{path}: cannot be read ({exc.strerror})") from None
    folder = os.path.join(os.path.expanduser(cache_dir), digest.hexdigest()[:32])
    if os.path.isfile(os.path.join(folder, CONTENT)):
        return folder
    os.makedirs(os.path.dirname(folder), mode=0o700, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".unpacking-", dir=os.path.dirname(folder))
    try:
        _unpack(path, staging)
        try:
            os.rename(staging, folder)
        except OSError:
            if not os.path.isfile(os.path.join(folder, CONTENT)):
                raise  # not another process that unpacked it first
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _unpack(path: str, into: str) -> None:
    """Write an .otioz's timeline and media into ``into``; TimelineError naming what is wrong."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise TimelineError(
            f"{path}: not a readable OTIO bundle (.otioz is a zip: {exc})"
        ) from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise TimelineError(f"{path}: holds {len(members)} files; at most {MAX_MEMBERS}")
        wanted = [m for m in members if m.filename == CONTENT or m.filename.startswith(MEDIA)]
        if not any(m.filename == CONTENT for m in wanted):
            raise TimelineError(f"{path}: an OTIO bundle without its {CONTENT}")
        _check_sizes(path, wanted)
        for member in wanted:
            if member.is_dir():
                continue
            _copy(archive, member, _member_path(path, member, into), path)


def _check_sizes(path: str, wanted: list[zipfile.ZipInfo]) -> None:
    """Refuse a bundle whose members declare more than a bundle of media unpacks to: in all,
    one by one against its packed size, and together against the archive's own size."""
    declared = sum(m.file_size for m in wanted)
    if declared > MAX_UNPACKED_BYTES:
        raise TimelineError(f"{path}: unpacks to {declared} bytes; at most {MAX_UNPACKED_BYTES}")
    for member in wanted:
        if member.file_size > max(RATIO_FREE_BYTES, MAX_RATIO * member.compress_size):
            raise TimelineError(
                f"{path}: {member.filename!r} unpacks to {member.file_size} bytes from "
                f"{member.compress_size}, more than {MAX_RATIO} times its packed size; "
                "not media (a zip bomb?)"
            )
    try:
        packed = os.path.getsize(path)
    except OSError as exc:
        raise TimelineError(f"{path}: cannot be read ({exc.strerror})") from None
    # Entries may share one run of packed data: each passes alone, the sum does not.
    if declared > RATIO_FREE_BYTES + MAX_RATIO * packed:
        raise TimelineError(
            f"{path}: its files unpack to {declared} bytes from a {packed}-byte archive, more "
            f"than {MAX_RATIO} times its size; not a bundle of media (a zip bomb?)"
        )


def _member_path(path: str, member: zipfile.ZipInfo, into: str) -> str:
    """Where a bundle member goes; a link or a name that leaves the bundle is refused."""
    name = member.filename
    mode = member.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise TimelineError(f"{path}: {name!r} is a symbolic link; a bundle holds plain files")
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts):
        raise TimelineError(f"{path}: {name!r} is not a plain name inside the bundle")
    return os.path.join(into, *parts)


def _copy(archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: str, path: str) -> None:
    """Copy one member, never writing more than it declares (a lying header is refused)."""
    written = 0
    try:
        # Inside the try: a member named under another member's file ("media/a", then
        # "media/a/b") cannot have its folder made.
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with archive.open(member) as source, open(target, "xb") as out:
            for block in iter(lambda: source.read(1 << 20), b""):
                written += len(block)
                if written > member.file_size:
                    raise TimelineError(
                        f"{path}: {member.filename!r} unpacks to more than it declares"
                    )
                out.write(block)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        # An OSError's text names the staging folder: a path of this machine, not the bundle's.
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise TimelineError(f"{path}: {member.filename!r} cannot be unpacked: {why}") from None

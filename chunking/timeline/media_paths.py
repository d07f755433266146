"""Where a Timeline Studio project's media are when the project names them otherwise: ``file://``
URLs, and media moved with the project to another machine.

The editor opens a project whose media are not at their saved paths by looking for each file by
name inside the project's folder (``generateAlternativePaths`` in
``src/features/media/utils/saved-media-utils.ts``, called by ``media-restoration-service.ts``):
the project's folder itself, its ``media``, ``assets`` and ``files`` folders, then anywhere at
most three folders down. A project saved on Windows (``C:\\Users\\anna\\Videos\\a.mp4``) and
copied with its media to a render machine is found the same way here.
"""

from __future__ import annotations

import copy
import os
import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from chunking.timeline.studio_sources import MAX_PATH

#: How an uploaded asset's reference starts (workers.assets: ``asset:sha256:<hex><ext>``).
ASSET_PREFIX = "asset:sha256:"
#: Folders of the project's folder searched first, in the editor's order.
RESTORE_FOLDERS = ("", "media", "assets", "files")
#: How many folders below the project's folder the editor's search_files_by_name goes.
SEARCH_DEPTH = 3
#: The most folders one search lists: a project saved at the top of a large disk must not make
#: loading it walk the whole disk.
MAX_FOLDERS = 2_000


def local_path(path: str) -> str:
    """A ``file://`` URL as the local path it names (percent-decoded; ``file:///C:/a.mov`` is
    ``C:/a.mov``, ``file://server/share/a.mov`` is ``//server/share/a.mov``); other text as is."""
    if not path[:7].lower() == "file://":
        return path
    parts = urlsplit(path)
    named = unquote(parts.path)
    if parts.netloc not in ("", "localhost"):
        return f"//{parts.netloc}{named}"
    if re.match(r"^/[A-Za-z]:[\\/]", named):
        return named[1:]
    return named


def file_name(path: str) -> str:
    """The last part of a path written with either separator (a Windows path read elsewhere)."""
    return re.split(r"[\\/]", local_path(path).rstrip("\\/"))[-1]


def relocated(path: str, base_dir: str) -> str | None:
    """The file a medium that is not at ``path`` was moved to inside the project's folder, as
    the editor's media restoration finds it; a path relative to ``base_dir``, or None."""
    name = file_name(path)
    if not name or name in (".", ".."):
        return None
    for folder in RESTORE_FOLDERS:
        found = _named(base_dir, folder, name)
        if found is not None:
            return found
    return _search(base_dir, name)


def moved_note(saved: str, moved: str) -> tuple[str, str]:
    """Where and what the warning about a medium found by its name says."""
    return f"media {saved}", (
        f"is not there; using {moved}, found by its name inside the project's folder "
        "as the editor finds moved media"
    )


def _key(name: str) -> str:
    # Windows and macOS file names are case-blind, and a Mac may store accents decomposed.
    return unicodedata.normalize("NFC", name).casefold()


def _named(base_dir: str, folder: str, name: str) -> str | None:
    """``folder/name`` when that file exists, else a file of the folder whose name differs
    only in letter case or accent composition."""
    exact = os.path.join(folder, name) if folder else name
    if os.path.isfile(os.path.join(base_dir, exact)):
        return exact
    try:
        names = sorted(os.listdir(os.path.join(base_dir, folder)))
    except OSError:
        return None
    for other in names:
        relative = os.path.join(folder, other) if folder else other
        if _key(other) == _key(name) and os.path.isfile(os.path.join(base_dir, relative)):
            return relative
    return None


def _search(base_dir: str, name: str) -> str | None:
    """The first file of that name at most SEARCH_DEPTH folders below the project's folder,
    shallowest first, in name order (hidden folders skipped)."""
    level = [""]
    listed = 0
    for _ in range(SEARCH_DEPTH):
        deeper = []
        for folder in level:
            try:
                subfolders = sorted(os.listdir(os.path.join(base_dir, folder)))
            except OSError:
                continue
            for sub in subfolders:
                relative = os.path.join(folder, sub) if folder else sub
                if sub.startswith(".") or not os.path.isdir(os.path.join(base_dir, relative)):
                    continue
                if os.path.islink(os.path.join(base_dir, relative)):
                    continue  # a link may lead out of the project's folder, or in a circle
                listed += 1
                if listed > MAX_FOLDERS:
                    return None
                deeper.append(relative)
                found = _named(base_dir, relative, name)
                if found is not None:
                    return found
        level = deeper
    return None


def resolve_media(document: dict[str, Any], base_dir: str) -> tuple[dict[str, Any], list[str]]:
    """A ProjectSchema document whose clips' media paths name files here: ``file://`` URLs as
    the paths they name (the editor's renderer hands them to ffmpeg, which opens them), and a
    file that is not where the document says as the file of that name inside the project's
    folder, as the editor finds moved media (one warning each). The document itself when
    nothing changes, else a copy: the rewritten paths are what workers and uploads then use."""
    changes: dict[tuple[int, int], tuple[str, str]] = {}
    notes: dict[str, str] = {}
    for t, c, key, path in _media_fields(document):
        wanted = local_path(path)
        if _usable(wanted, base_dir):
            if wanted != path:
                changes[(t, c)] = (key, wanted)
            continue
        moved = relocated(wanted, base_dir)
        if moved is not None:
            changes[(t, c)] = (key, moved)
            notes.setdefault(wanted, moved)
    if not changes:
        return document, []
    tracks = copy.deepcopy(document["tracks"])
    for (t, c), (key, path) in changes.items():
        clip = tracks[t]["clips"][c]
        if key == "File":
            clip["source"] = {**clip["source"], "File": path}
        else:
            clip[key] = path
    warnings = [": ".join(moved_note(saved, moved)) for saved, moved in notes.items()]
    return {**document, "tracks": tracks}, warnings


def _media_fields(document: Mapping[str, Any]) -> list[tuple[int, int, str, str]]:
    """(track index, clip index, key, path) of each clip's media path as the loader reads it:
    ``source: {"File": path}``, else (no ``source``) ``source_path``, ``path`` or ``file``."""
    found = []
    tracks = document.get("tracks")
    for t, track in enumerate(tracks if isinstance(tracks, list) else []):
        clips = track.get("clips") if isinstance(track, Mapping) else None
        for c, clip in enumerate(clips if isinstance(clips, list) else []):
            if not isinstance(clip, Mapping) or clip.get("image_sequence") is not None:
                continue  # a sequence's images are named beside its first: never moved alone
            source = clip.get("source")
            if isinstance(source, Mapping) and isinstance(source.get("File"), str):
                found.append((t, c, "File", source["File"]))
            elif source is None:
                key = next((k for k in ("source_path", "path", "file") if k in clip), None)
                if key is not None and isinstance(clip[key], str):
                    found.append((t, c, key, clip[key]))
    return found


def _usable(path: str, base_dir: str) -> bool:
    """Whether the path is one the loader takes as it is: empty, an uploaded asset, not one a
    file system opens (checked later), or a readable file."""
    if not path.strip() or path.startswith(ASSET_PREFIX) or "\x00" in path or len(path) > MAX_PATH:
        return True
    full = path if os.path.isabs(path) else os.path.join(base_dir, path)
    return os.path.isfile(full) and os.access(full, os.R_OK)

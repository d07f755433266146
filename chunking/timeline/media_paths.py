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


class Relocator:
    """Finds media moved inside one project's folder by name, as the editor's media
    restoration does; the folder is listed once, the first time a medium is missing."""

    def __init__(self, base_dir: str) -> None:
        self.base_dir = base_dir
        self._exact: dict[str, str] | None = None
        self._blind: dict[str, str] = {}
        self._named: dict[str, int] = {}  # files per case-blind name

    def find(self, path: str) -> str | None:
        """The file a medium that is not at ``path`` was moved to inside the project's folder;
        a path relative to it, or None."""
        name = file_name(path)
        if not name or name in (".", ".."):
            return None
        if self._exact is None:
            self._exact = {}
            # A restore folder is met again in the walk: each file counted once.
            for relative in dict.fromkeys(_files_in_order(self.base_dir)):
                found = os.path.basename(relative)
                self._exact.setdefault(found, relative)
                self._blind.setdefault(_key(found), relative)
                self._named[_key(found)] = self._named.get(_key(found), 0) + 1
        return self._exact.get(name) or self._blind.get(_key(name))

    def passed_over(self, path: str) -> int:
        """How many other files of the name of ``path`` a ``find`` passed over."""
        return max(0, self._named.get(_key(file_name(path)), 0) - 1)


def moved_note(saved: str, moved: str, others: int = 0) -> tuple[str, str]:
    """Where and what the warning about a medium found by its name says (``others``: files
    of the same name passed over)."""
    what = (
        f"is not there; using {moved}, found by its name inside the project's folder "
        "as the editor finds moved media"
    )
    if others:
        # Any file of that name may be the one: an earlier render's output in a subfolder too.
        what += (
            f" ({others} other file{'s' if others > 1 else ''} of that name passed over: "
            "relink the clip if this is not its medium)"
        )
    return f"media {saved}", what


def _key(name: str) -> str:
    # Windows and macOS file names are case-blind, and a Mac may store accents decomposed.
    return unicodedata.normalize("NFC", name).casefold()


def _files_in_order(base_dir: str) -> list[str]:
    """The files a relink may use, relative to the project's folder, in the editor's order:
    the folder itself, its media, assets and files folders, then every folder at most
    SEARCH_DEPTH down, shallowest first, in name order (hidden folders and links skipped).
    Each folder is listed once."""
    listings: dict[str, list[tuple[str, str | None]]] = {}

    def listing(folder: str) -> list[tuple[str, str | None]]:
        if folder not in listings:
            listings[folder] = _listing(base_dir, folder)
        return listings[folder]

    found: list[str] = []
    for folder in RESTORE_FOLDERS:
        found += [f for f, _ in listing(folder) if f]
    level = [""]
    for _ in range(SEARCH_DEPTH):
        deeper = [sub for folder in level for _, sub in listing(folder) if sub is not None]
        if len(listings) + len(deeper) > MAX_FOLDERS:
            break
        for sub in deeper:
            found += [f for f, _ in listing(sub) if f]
        level = deeper
    return found


def _listing(base_dir: str, folder: str) -> list[tuple[str, str | None]]:
    """(file, None) for each file and ("", subfolder) for each plain subfolder of a folder,
    relative to the project's folder, in name order."""
    try:
        names = sorted(os.listdir(os.path.join(base_dir, folder)))
    except OSError:
        return []
    entries: list[tuple[str, str | None]] = []
    for name in names:
        relative = os.path.join(folder, name) if folder else name
        full = os.path.join(base_dir, relative)
        if os.path.isfile(full):
            entries.append((relative, None))
        elif not name.startswith(".") and os.path.isdir(full) and not os.path.islink(full):
            entries.append(("", relative))
    return entries


def resolve_media(document: dict[str, Any], base_dir: str) -> tuple[dict[str, Any], list[str]]:
    """A ProjectSchema document whose clips' media paths name files here: ``file://`` URLs as
    the paths they name (the editor's renderer hands them to ffmpeg, which opens them), and a
    file that is not where the document says as the file of that name inside the project's
    folder, as the editor finds moved media (one warning each). The document itself when
    nothing changes, else a copy: the rewritten paths are what workers and uploads then use."""
    changes: dict[tuple[int, int], tuple[str, str]] = {}
    notes: dict[str, str] = {}
    relocator = Relocator(base_dir)
    for t, c, key, path in _media_fields(document):
        wanted = local_path(path)
        if _usable(wanted, base_dir):
            if wanted != path:
                changes[(t, c)] = (key, wanted)
            continue
        moved = relocator.find(wanted)
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
    warnings = [
        ": ".join(moved_note(saved, moved, relocator.passed_over(saved)))
        for saved, moved in notes.items()
    ]
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

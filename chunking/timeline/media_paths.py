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

import os
import re
import unicodedata
from urllib.parse import unquote, urlsplit

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

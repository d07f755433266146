"""Content ids of media files ("sha256:<hex>"): what the segment cache's keys name a file by.

The orchestrator works them out to key a job's chunks (orchestrator.planning.media_ids, with a
memo in Redis that only its and the workers' Redis users may write); a worker works them out
again from the files themselves before it keeps a segment in the cache (workers.cache_use), so
a key in a job document, which any Redis writer can change, never decides what the cache holds.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from typing import Protocol

from chunking.content_key import image_media_key
from chunking.timeline.model import FileSource, Timeline
from workers.assets import is_asset_ref, parse_asset_ref, sha256_file
from workers.job_spec import asset_cache_dir

#: A file of the asset cache: named by its sha256, which was verified when it was fetched.
_ASSET_FILE = re.compile(r"^([0-9a-f]{64})(?:\.[a-z0-9]{1,16})?$")
#: What identifies one version of a file without reading it: (real path, size, mtime_ns, inode,
#: ctime_ns). The inode and change time matter: a file replaced by one of the same size with its
#: mtime set back (``touch -d``, ``cp -p``, ``rsync -t``) keeps neither, so its old id is never
#: reused.
Stamp = tuple[str, int, int, int, int]
#: Content ids this process hashed itself, by stamp; bounded.
_KNOWN: dict[Stamp, str] = {}
_KNOWN_LIMIT = 4096


class Memo(Protocol):
    """Where content ids are remembered between processes (Redis), by a digest of the stamp."""

    def recall(self, name: str) -> str | None:
        """The id remembered under ``name``, or None."""

    def remember(self, name: str, content_id: str) -> None:
        """Remember an id this process hashed; never fails."""


def source_id(
    media: FileSource,
    memo: Memo | None = None,
    seen: list[tuple[str, Stamp]] | None = None,
    images: dict[str, str] | None = None,
) -> str | None:
    """A file source's content id; an image sequence's covers every image's name and content.
    ``seen`` collects each file's path and the stamp of the version the id is of; ``images``
    each image's own id, under content_key.image_media_key of its path (what a chunk's key
    names the images it shows by)."""
    if media.sequence is None:
        return file_id(media.path, memo, seen)
    folder = os.path.dirname(media.path)
    digest = hashlib.sha256()
    for index in range(media.sequence.count):
        name = media.sequence.name(index)
        path = os.path.join(folder, name)
        found = file_id(path, memo, seen)
        if found is None:
            return None
        if images is not None:
            images[image_media_key(path)] = found
        digest.update(f"{name}\0{found}\n".encode())
    return f"sequence:{digest.hexdigest()}"


def file_id(
    path: str, memo: Memo | None = None, seen: list[tuple[str, Stamp]] | None = None
) -> str | None:
    """``sha256:<hex>`` of one file, or None when it cannot be read (or changes while read)."""
    try:
        real = os.path.realpath(path)
        st = os.stat(real)
    except OSError:
        # An uploaded asset not fetched here (the HTTP service reads a project with an empty
        # placeholder per reference, gone by now) is known by the hash its reference names:
        # the id its synced copy gets below, and a worker renders nothing else (it checks the
        # hash of what it fetches).
        reference = os.path.basename(path)
        return f"sha256:{parse_asset_ref(reference)[0]}" if is_asset_ref(reference) else None
    stamp = _stamp(real, st)
    found = _known_id(real, stamp, memo)
    if found is None:
        return None
    if seen is not None:
        seen.append((path, stamp))
    return found


def _known_id(real: str, stamp: Stamp, memo: Memo | None) -> str | None:
    """The id of the file version ``stamp``: from its asset cache name, a memo, or its bytes."""
    asset = _ASSET_FILE.match(os.path.basename(real))
    if asset and os.path.dirname(real) == os.path.realpath(asset_cache_dir()):
        return f"sha256:{asset.group(1)}"
    if stamp in _KNOWN:
        return _KNOWN[stamp]
    shared = hashlib.sha256(repr(stamp).encode()).hexdigest()
    recalled = memo.recall(shared) if memo is not None else None
    if recalled is not None and recalled.startswith("sha256:"):
        # Not kept in _KNOWN: what this process remembers is what it hashed itself, and
        # LocalIds trusts nothing else.
        return recalled
    try:
        found = f"sha256:{sha256_file(real)}"
        after = os.stat(real)
    except OSError:
        return None
    if _stamp(real, after) != stamp:
        return None  # written while hashed: the hash may be of neither version
    if memo is not None:
        memo.remember(shared, found)
    if len(_KNOWN) >= _KNOWN_LIMIT:
        _KNOWN.pop(next(iter(_KNOWN)))
    _KNOWN[stamp] = found
    return found


def _stamp(real: str, st: os.stat_result) -> Stamp:
    """What identifies one version of a file without reading it."""
    return (real, st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


class LocalIds(Mapping[str, str]):
    """The content ids of a timeline's media as this process finds them on its own disk (no
    memo anyone else wrote), worked out only for the paths asked for; ``unchanged`` tells
    whether every file they were worked out from is still the version that was read."""

    def __init__(self, timeline: Timeline) -> None:
        self._sources = {
            clip.source.path: clip.source
            for track in timeline.tracks
            for clip in track.clips
            if isinstance(clip.source, FileSource)
        }
        # Each image of a sequence, under the name a chunk's key asks for it by, to its sequence.
        self._owners = {
            image_media_key(os.path.join(os.path.dirname(path), source.sequence.name(n))): path
            for path, source in self._sources.items()
            if source.sequence is not None
            for n in range(source.sequence.count)
        }
        self._ids: dict[str, str | None] = {}
        self._images: dict[str, str] = {}
        self._seen: list[tuple[str, Stamp]] = []

    def __getitem__(self, path: str) -> str:
        """The content id of the timeline's file ``path`` (or of an image of a sequence, under
        content_key.image_media_key); KeyError when it has none."""
        owner = self._owners.get(path)
        if owner is not None:
            _ = self[owner]  # hashes the sequence (KeyError when it cannot), its images with it
            return self._images[path]
        if path not in self._ids:
            source = self._sources.get(path)
            self._ids[path] = (
                None if source is None else source_id(source, None, self._seen, self._images)
            )
        found = self._ids[path]
        if found is None:
            raise KeyError(path)
        return found

    def __iter__(self) -> Iterator[str]:
        """The timeline's file paths."""
        return iter(self._sources)

    def __len__(self) -> int:
        """How many files the timeline reads."""
        return len(self._sources)

    def unchanged(self) -> bool:
        """Whether every path an id was worked out from still leads to the same version of
        the same file (a symbolic link pointed elsewhere, or a file written, moved or replaced
        meanwhile, say no)."""
        for path, stamp in self._seen:
            try:
                real = os.path.realpath(path)
                if _stamp(real, os.stat(real)) != stamp:
                    return False
            except OSError:
                return False
        return True

"""Media assets by content hash: the reference format and the worker's local cache.

A synced project (see ``orchestrator.assets``) names each media file ``asset:sha256:<hex><ext>``
instead of a path on the editor's disk; the bytes live in storage under ``assets/<hex><ext>``.
A worker turns each reference back into a local file with ``resolve_assets`` before loading the
project. The extension is kept because decoding chooses between image and video by suffix.

``AssetCache`` keeps fetched files in one directory shared by every worker process of a host:

* files are named ``<hex><ext>``; a download goes to a private temp name in the same directory
  and is renamed into place only after its sha256 matches, so a name always holds good bytes;
* least-recently-used files (by access time, set on every hit) are evicted after each download
  until the cache holds at most ``max_bytes``. The file just fetched is never evicted, so an
  asset larger than ``max_bytes`` on its own is still served, but it evicts everything else;
* another process may evict a file at any time: a hit that finds the file gone fetches it again.
  A path handed out can still vanish before it is opened (an open file survives eviction), so a
  caller that opens much later should ask again, and ``max_bytes`` should hold what all of a
  host's workers use at once. Below that the workers evict each other's fresh downloads; after
  a few lost races ``path`` raises AssetCacheBusy (transient) rather than download forever.
  Concurrent evictions may each remove a file, so the cache can briefly end up below the limit.

An image sequence (a clip with ``image_sequence``: numbered images beside its first one) is
synced image by image: the document keeps the first image's reference as the clip's file and
lists every image's reference in ``image_sequence["assets"]``. A worker fetches them all and
links them, under their sequence names, into a folder ``sequences/<hash>/`` of the cache, so the
decoder finds image ``n`` beside the first as it would on the editor's disk. Those folders hold
only links: evicting an image breaks its links, and the folder is removed with the next eviction.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from common.errors import AssetNotFound, MediaError, RenderError
from providers.storage.base import ObjectNotFound, Storage

__all__ = [
    "ASSET_KEY_PREFIX",
    "ASSET_REF_PREFIX",
    "AssetCache",
    "AssetCacheBusy",
    "AssetCorrupt",
    "MediaField",
    "asset_key",
    "asset_name",
    "copy_document",
    "is_asset_ref",
    "media_fields",
    "parse_asset_ref",
    "resolve_assets",
    "sha256_file",
]

#: Prefix of an asset reference in a synced document ("asset:sha256:<hex><ext>").
ASSET_REF_PREFIX = "asset:"
#: Storage folder holding assets by content hash.
ASSET_KEY_PREFIX = "assets/"
#: Read size for hashing; large enough that hashing a big file is bound by the disk.
HASH_BLOCK = 1 << 20

_REF = re.compile(r"^asset:sha256:([0-9a-f]{64})((?:\.[a-z0-9]{1,16})?)$")
_CACHED = re.compile(r"^[0-9a-f]{64}(?:\.[a-z0-9]{1,16})?$")
_EXT = re.compile(r"^\.[a-z0-9]{1,16}$")
_TMP_PREFIX = ".fetch-"
# A temp file this old belongs to a process that died mid-download; no download takes this long.
_STALE_TMP_SECONDS = 6 * 3600
# Each lost race against another process's eviction costs a download; give up after a few.
_FETCH_ATTEMPTS = 3
#: The cache folder holding image sequences' folders of links (workers.asset_sequences).
SEQUENCES = "sequences"


class AssetCorrupt(MediaError):
    """A downloaded asset's bytes do not match the sha256 its name promises."""


class AssetCacheBusy(RenderError):
    """Other workers kept evicting an asset before it could be used: the cache is too small."""

    #: Clears up once the other workers' renders finish, so a retry may succeed.
    transient = True


# -- reference format -------------------------------------------------------------------------


def is_asset_ref(value: object) -> bool:
    """Whether ``value`` is a well-formed ``asset:sha256:<hex><ext>`` reference."""
    return isinstance(value, str) and _REF.match(value) is not None


def parse_asset_ref(ref: str) -> tuple[str, str]:
    """The (hex digest, extension) of an asset reference; MediaError if it is not one."""
    match = _REF.match(ref)
    if match is None:
        raise MediaError(
            f"{ref!r} is not an asset reference (expected asset:sha256:<64 hex digits><.ext>)"
        )
    return match.group(1), match.group(2)


def clean_ext(path: str) -> str:
    """The lowercased extension of ``path``, or "" when it is not safe in a storage key."""
    ext = os.path.splitext(path)[1].lower()
    return ext if _EXT.match(ext) else ""


def asset_name(digest: str, ext: str) -> str:
    """The content name ``sha256:<hex><ext>`` of an asset."""
    return f"sha256:{digest}{ext}"


def asset_key(digest: str, ext: str) -> str:
    """The storage key ``assets/<hex><ext>`` of an asset."""
    return f"{ASSET_KEY_PREFIX}{digest}{ext}"


def sha256_file(path: str) -> str:
    """The hex sha256 of a file, read in 1 MiB blocks so memory stays flat for any size."""
    digest = hashlib.sha256()
    buffer = bytearray(HASH_BLOCK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buffer):
            digest.update(view[:n])
    return digest.hexdigest()


# -- where a document names media -------------------------------------------------------------


@dataclass(frozen=True)
class MediaField:
    """One place in a project document that names a media file: ``holder[key]``.

    For an image sequence the file is its first image and ``sequence`` the clip's
    ``image_sequence`` object, which names the others (``asset_sequences.sequence_names``).
    """

    clip_id: str
    holder: dict[str, Any]
    key: str
    sequence: dict[str, Any] | None = None

    @property
    def value(self) -> object:
        """The path or reference stored there."""
        return self.holder[self.key]


def copy_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of a JSON-like document with every mapping a dict and every sequence a list."""
    return {str(k): _copy(v) for k, v in document.items()}


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(v) for v in value]
    return value


def media_fields(document: dict[str, Any]) -> list[MediaField]:
    """Every field the project loader reads a media path from, in document order.

    Mirrors ``chunking.timeline.studio``: a clip's ``source: {"File": path}``, or when
    ``source`` is absent the first of ``source_path``, ``path``, ``file``. Fields the loader
    ignores are left alone so a stale leftover cannot fail a project that renders locally.
    """
    found: list[MediaField] = []
    tracks = document.get("tracks")
    for t, track in enumerate(tracks if isinstance(tracks, list) else []):
        if not isinstance(track, dict):
            continue
        track_id = str(track.get("id", f"#{t}"))
        clips = track.get("clips")
        for c, clip in enumerate(clips if isinstance(clips, list) else []):
            if not isinstance(clip, dict):
                continue
            clip_id = str(clip.get("id", f"{track_id}#{c}"))
            source = clip.get("source")
            sequence = clip.get("image_sequence")
            if isinstance(source, dict) and "File" in source:
                found.append(
                    MediaField(
                        clip_id, source, "File", sequence if isinstance(sequence, dict) else None
                    )
                )
            elif source is None:
                for key in ("source_path", "path", "file"):
                    if clip.get(key) is not None:
                        found.append(MediaField(clip_id, clip, key))
                        break
    return found


# -- the worker's cache -----------------------------------------------------------------------


class AssetCache:
    """A directory of assets by content hash, shared by a host's worker processes, LRU-bounded."""

    def __init__(self, root: str, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"asset cache max_bytes must not be negative, got {max_bytes}")
        self.root = os.path.abspath(os.path.expanduser(root))
        self.max_bytes = max_bytes
        os.makedirs(self.root, exist_ok=True)

    def __repr__(self) -> str:
        return f"AssetCache({self.root!r}, max_bytes={self.max_bytes})"

    def path(self, storage: Storage, ref: str, *, evict: bool = True) -> str:
        """A local file holding the asset ``ref`` names, downloaded and verified if not cached.

        ``evict=False`` leaves eviction to the caller: one pass after fetching many assets
        instead of a scan of the whole cache per download.
        """
        digest, ext = parse_asset_ref(ref)
        final = os.path.join(self.root, digest + ext)
        if _touch(final):
            return final
        for _ in range(_FETCH_ATTEMPTS):
            self._fetch(storage, digest, ext, final)
            if evict:
                self.evict(keep=final)
            # Touching also checks it is still there: another process may have evicted it.
            if _touch(final):
                return final
        raise AssetCacheBusy(
            f"asset {asset_name(digest, ext)} was evicted from the cache {self.root} by other "
            f"workers {_FETCH_ATTEMPTS} times before it could be used; raise the cache size"
        )

    def size(self) -> int:
        """Bytes held by cached assets now."""
        return sum(size for _, _, size in self._entries())

    def evict(self, keep: str | None = None) -> int:
        """Remove least-recently-used assets until at most ``max_bytes`` remain; bytes freed."""
        entries = self._entries()
        total = sum(size for _, _, size in entries)
        freed = 0
        # Oldest access first; the name breaks ties so every process picks the same victims.
        for _, path, size in sorted(entries):
            if total <= self.max_bytes:
                break
            if path == keep:
                continue
            try:
                os.unlink(path)
                freed += size
            except FileNotFoundError:
                pass  # another process evicted it first; it is gone all the same
            total -= size
        if freed:
            self._prune_sequences()
        return freed

    def _prune_sequences(self) -> None:
        """Remove sequence folders with a broken link (an image evicted) and stale temp ones."""
        parent = os.path.join(self.root, SEQUENCES)
        try:
            with os.scandir(parent) as it:
                entries = list(it)
        except FileNotFoundError:
            return
        now = time.time()
        for entry in entries:
            try:
                if entry.name.startswith(_TMP_PREFIX):
                    gone = now - entry.stat(follow_symlinks=False).st_mtime > _STALE_TMP_SECONDS
                else:
                    with os.scandir(entry.path) as links:
                        gone = any(not os.path.exists(link.path) for link in links)
            except FileNotFoundError:
                continue  # removed by another process while we looked
            if gone:
                shutil.rmtree(entry.path, ignore_errors=True)

    def _fetch(self, storage: Storage, digest: str, ext: str, final: str) -> None:
        """Download an asset to a temp file, verify its hash and rename it to ``final``."""
        name = asset_name(digest, ext)
        key = asset_key(digest, ext)
        tmp = os.path.join(self.root, f"{_TMP_PREFIX}{secrets.token_hex(8)}-{digest}{ext}")
        try:
            try:
                storage.get_file(key, tmp)
            except ObjectNotFound as exc:
                raise AssetNotFound(
                    f"asset {name} is not in storage ({key} missing from {storage.url}); "
                    "submit the project again to upload its media"
                ) from exc
            actual = sha256_file(tmp)
            if actual != digest:
                raise AssetCorrupt(
                    f"asset {name} downloaded from {storage.url} has sha256 {actual}: the stored "
                    f"object is corrupt; delete {key} from storage and submit the project again"
                )
            os.replace(tmp, final)
        finally:
            # Whatever went wrong, an unverified download must never stay where it could be used.
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        _touch(final)

    def _entries(self) -> list[tuple[int, str, int]]:
        """(access time ns, path, size) of every cached asset; clears stale temp files."""
        entries: list[tuple[int, str, int]] = []
        now = time.time()
        with os.scandir(self.root) as it:
            for entry in it:
                try:
                    if _CACHED.match(entry.name):
                        st = entry.stat(follow_symlinks=False)
                        entries.append((st.st_atime_ns, entry.path, st.st_size))
                    elif entry.name.startswith(_TMP_PREFIX):
                        if now - entry.stat(follow_symlinks=False).st_mtime > _STALE_TMP_SECONDS:
                            os.unlink(entry.path)
                except FileNotFoundError:
                    continue  # removed by another process while we looked
        return entries


def _touch(path: str) -> bool:
    """Mark a cached file as just used; False when it is not there."""
    # An explicit fine-grained time: the kernel's own "now" is coarse (one tick), which would
    # make files used in quick succession tie, and noatime mounts never update atime on reads.
    now = time.time_ns()
    try:
        os.utime(path, ns=(now, now))
    except FileNotFoundError:
        return False
    return True


def resolve_assets(
    document: Mapping[str, Any], storage: Storage, cache: AssetCache
) -> dict[str, Any]:
    """A copy of ``document`` with every asset reference replaced by its local cached path (an
    image sequence's by its folder of linked images in the cache)."""
    doc = copy_document(document)
    for field in media_fields(doc):
        ref = field.value
        if not isinstance(ref, str) or not ref.startswith(ASSET_REF_PREFIX):
            continue  # a plain path: a document rendered where its media already is
        try:
            if field.sequence is None:
                field.holder[field.key] = cache.path(storage, ref)
                continue
            # Imported here: the sequence helpers build on this module's cache.
            from workers.asset_sequences import sequence_folder, sequence_names

            names = sequence_names(field.sequence)
            refs = field.sequence.pop("assets", None)
            if not isinstance(refs, list) or not refs or refs[0] != ref:
                raise MediaError("image_sequence has no assets list starting with its file")
            field.holder[field.key] = sequence_folder(cache, storage, names, refs)
        except MediaError as exc:
            raise type(exc)(f"clip {field.clip_id!r}: {exc}") from exc
    return doc

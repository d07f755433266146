"""Server side of asset transfer: media arriving over HTTP, stored by content hash.

A client without storage or Redis credentials names its media by content, ``<hex><ext>`` (the
sha256 of the bytes and the file's extension), exactly as asset sync does. The service answers
which names storage lacks (``missing_assets``), hands out pre-signed PUT URLs where the storage
can sign uploads it checks itself (``upload_targets``), and otherwise takes the bytes itself
(``receive_asset``): streamed into a temp file while hashing, refused as soon as they pass the
size limit, refused unless they hash to the name and decode like the media the extension says
(the checks asset sync makes before uploading), then put under ``assets/<hex><ext>`` in one
atomic write, so what storage shows there is always whole and always what its name promises.

Every refusal is an ``AssetUploadError`` whose ``http_status`` is the answer the HTTP service
gives (400 bad name or hash, 413 too large, 415 not an allowed media format, 507 no room on the
service's disk for the upload).
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chunking.timeline.model import IMAGE_EXTENSIONS
from common.errors import MediaError, summarize
from common.units import format_size
from orchestrator.asset_probes import CHECKS_AT_ONCE, probe_file, save_probe, upload_problem
from providers.storage.base import Storage, StorageError
from providers.storage.signed import DEFAULT_UPLOAD_SECONDS, signed_upload
from workers.assets import asset_key
from workers.media_open import open_media

__all__ = [
    "ASSET_EXTENSIONS",
    "CHECKS_AT_ONCE",
    "MAX_NAMES",
    "AssetHashMismatch",
    "AssetNameError",
    "AssetNotMedia",
    "AssetTooLarge",
    "AssetUploadError",
    "UnsupportedAsset",
    "check_sizes",
    "missing_assets",
    "parse_asset_name",
    "receive_asset",
    "upload_targets",
]

#: FFmpeg demuxer each container extension must turn out to be (``workers.media_open`` allows
#: these); an extension maps to the one container it names.
CONTAINER_EXTENSIONS: dict[str, str] = {
    **dict.fromkeys((".mp4", ".m4v", ".mov", ".qt", ".3gp", ".3g2", ".mj2", ".m4a"), "mov"),
    **dict.fromkeys((".mkv", ".webm", ".mka"), "matroska"),
    ".avi": "avi",
    **dict.fromkeys((".ts", ".mts", ".m2ts"), "mpegts"),
    **dict.fromkeys((".mpg", ".mpeg", ".vob"), "mpeg"),
    ".mxf": "mxf",
    ".flv": "flv",
    **dict.fromkeys((".ogg", ".ogv", ".oga", ".opus"), "ogg"),
    ".wav": "wav",
    **dict.fromkeys((".aif", ".aiff"), "aiff"),
    ".mp3": "mp3",
    ".flac": "flac",
    ".aac": "aac",
}
#: Extensions an uploaded asset may have: the containers above and the stills Pillow reads.
ASSET_EXTENSIONS: frozenset[str] = frozenset(CONTAINER_EXTENSIONS) | frozenset(IMAGE_EXTENSIONS)
#: Names one request may ask about (a long image sequence is a few thousand).
MAX_NAMES = 10_000
#: HEAD requests in flight while asking storage which assets it holds.
_PARALLEL_LOOKUPS = 16

#: Matched whole: "$" also matches before a final newline ("<hex>.png\n" was taken, and
#: answered under that name).
_NAME = re.compile(r"([0-9a-f]{64})(\.[a-z0-9]{1,16})")


class AssetUploadError(MediaError):
    """An asset name or upload the service refuses; ``http_status`` is its HTTP answer."""

    http_status = 400


class AssetNameError(AssetUploadError):
    """Not ``<64 lowercase hex digits><.ext>``."""


class UnsupportedAsset(AssetUploadError):
    """An extension, or content, that is not an allowed media format."""

    http_status = 415


class AssetNotMedia(UnsupportedAsset):
    """The bytes do not decode as the media the name's extension says."""


class AssetTooLarge(AssetUploadError):
    """Above the size limit for one asset."""

    http_status = 413


class AssetHashMismatch(AssetUploadError):
    """The bytes do not hash to the sha256 the name promises."""


class AssetNoRoom(AssetUploadError):
    """The service's disk filled up while the upload was spooled to it (not the client's fault:
    it was answered 500 "internal error" with nothing to go on)."""

    http_status = 507


#: What a write answers when the disk (or the process's quota or file size limit) is full.
_FULL = frozenset((errno.ENOSPC, errno.EDQUOT, errno.EFBIG))


def parse_asset_name(name: str) -> tuple[str, str]:
    """The (hex digest, extension) of an asset name ``<hex><ext>``; AssetUploadError if not."""
    match = _NAME.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        shown = name if isinstance(name, str) and len(name) <= 100 else f"{str(name)[:100]}..."
        raise AssetNameError(
            f"{shown!r} is not an asset name: expected the file's sha256 as 64 lowercase hex "
            "digits followed by its extension, e.g. <hex>.mp4"
        )
    digest, ext = match.groups()
    if ext not in ASSET_EXTENSIONS:
        raise UnsupportedAsset(
            f"asset {name}: {ext} is not an allowed media format; allowed: "
            + " ".join(sorted(ASSET_EXTENSIONS))
        )
    return digest, ext


def _parse_all(names: Sequence[str]) -> list[tuple[str, str, str]]:
    """(name, digest, ext) of each distinct name in order; every bad one reported together."""
    if len(names) > MAX_NAMES:
        raise AssetUploadError(f"{len(names)} asset names in one request; at most {MAX_NAMES}")
    parsed: dict[str, tuple[str, str, str]] = {}
    errors: list[AssetUploadError] = []
    for name in names:
        try:
            parsed.setdefault(name, (name, *parse_asset_name(name)))
        except AssetUploadError as exc:
            errors.append(exc)
    if errors:
        # A malformed name is the worse mistake: it decides the status when both occur.
        worst = next((e for e in errors if type(e) is AssetNameError), errors[0])
        raise type(worst)(summarize([str(e) for e in errors]))
    return list(parsed.values())


def missing_assets(storage: Storage, names: Sequence[str]) -> list[str]:
    """The names (distinct, in order) whose ``assets/<hex><ext>`` storage does not hold."""
    parsed = _parse_all(names)
    if not parsed:
        return []
    keys = [asset_key(digest, ext) for _, digest, ext in parsed]
    # One HEAD request each on cloud storage: in parallel, a long image sequence stays quick.
    with ThreadPoolExecutor(min(_PARALLEL_LOOKUPS, len(keys))) as pool:
        held = list(pool.map(storage.exists, keys))
    return [name for (name, _, _), present in zip(parsed, held, strict=True) if not present]


def check_sizes(sizes: Mapping[str, int], max_bytes: int) -> None:
    """Refuse at once (AssetTooLarge, naming each) assets the client says are over the limit."""
    over = [
        f"asset {name} is {_sizes(size, max_bytes)}"
        for name, size in sizes.items()
        if size > max_bytes
    ]
    if over:
        raise AssetTooLarge(summarize(over))


def _sizes(size: int, limit: int) -> str:
    """ "<size>, above the limit of <limit>", in exact bytes where rounding would hide it."""
    shown, cap = format_size(size), format_size(limit)
    if shown == cap:
        shown, cap = f"{size} bytes", f"{limit} bytes"
    return f"{shown}, above the limit of {cap}"


def upload_targets(
    storage: Storage,
    names: Sequence[str],
    expires: float = DEFAULT_UPLOAD_SECONDS,
    *,
    sizes: Mapping[str, int],
    allow_unverified: bool = False,
) -> dict[str, dict[str, Any]]:
    """Pre-signed PUTs ({"method", "url", "headers"}) for those of ``names`` with a known size
    that storage can sign; the others are to be PUT to the service itself.

    Only URLs for which the store itself refuses bytes of another sha256 or size are handed
    out (S3), unless ``allow_unverified``: such a URL lets its holder store anything under the
    name, which every other user of the cluster would then get for that hash.
    """
    targets: dict[str, dict[str, Any]] = {}
    for name, digest, ext in _parse_all(names):
        size = sizes.get(name)
        if size is None:
            continue
        upload = signed_upload(
            storage, asset_key(digest, ext), sha256_hex=digest, size=size, expires=expires
        )
        if upload is None or not (upload.verified or allow_unverified):
            continue
        targets[name] = {"method": upload.method, "url": upload.url, "headers": upload.headers}
    return targets


async def receive_asset(
    storage: Storage,
    name: str,
    chunks: AsyncIterable[bytes] | Iterable[bytes],
    max_bytes: int,
    tmp_dir: str | None = None,
) -> tuple[int, bool]:
    """Check and store an asset arriving as ``chunks``: (its bytes, whether it was stored now;
    False when storage already held it whole). AssetUploadError for every refusal."""
    digest, ext = parse_asset_name(name)
    fd, tmp = tempfile.mkstemp(prefix=".asset-upload-", suffix=ext, dir=tmp_dir)
    try:
        hasher = hashlib.sha256()
        size = 0
        try:
            async for chunk in _each(chunks):
                size += len(chunk)
                if size > max_bytes:
                    # Stop reading now: the rest of an oversized body is never taken in.
                    raise AssetTooLarge(
                        f"asset {name} is larger than the limit of {format_size(max_bytes)}; "
                        "nothing was stored"
                    )
                hasher.update(chunk)
                _spool(fd, chunk, name, size)
        finally:
            os.close(fd)
        actual = hasher.hexdigest()
        if actual != digest:
            raise AssetHashMismatch(
                f"asset {name}: the {format_size(size)} received hash to sha256 {actual}, not "
                "the hash the name promises; nothing was stored"
            )
        # Decoding and the upload to cloud storage block: off the event loop.
        created = await asyncio.to_thread(_check_and_store, storage, name, tmp, size)
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
    return size, created


def _spool(fd: int, chunk: bytes, name: str, size: int) -> None:
    """Write all of ``chunk`` to the upload's temp file (unbuffered: a buffer's flush at close
    would fail again and hide why); AssetNoRoom when the service's disk is full (any other
    failure is the service's own)."""
    view = memoryview(chunk)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except OSError as exc:
        if exc.errno not in _FULL:
            raise
        raise AssetNoRoom(
            f"asset {name}: the service has no room to receive it ({exc.strerror} after "
            f"{format_size(size)}); nothing was stored; send it again later, or ask the "
            "service's operator to free disk space"
        ) from None


async def _each(chunks: AsyncIterable[bytes] | Iterable[bytes]) -> AsyncIterator[bytes]:
    """Iterate a sync or async stream of byte chunks alike, skipping empty ones."""
    if isinstance(chunks, AsyncIterable):
        async for chunk in chunks:
            if chunk:
                yield bytes(chunk)
    else:
        for chunk in chunks:
            if chunk:
                yield bytes(chunk)


def _check_and_store(storage: Storage, name: str, path: str, size: int) -> bool:
    """Refuse ``path`` unless it is the media its extension says; then store it unless
    storage holds it whole already, with what its probe showed (``orchestrator.asset_probes``:
    what a submit checks its clips against). True when stored now."""
    digest, ext = parse_asset_name(name)
    facts = probe_file(path, name)  # at most CHECKS_AT_ONCE at once, with submits' probes
    problem = upload_problem(facts)
    if problem is None and ext in CONTAINER_EXTENSIONS:
        problem = _container_problem(path, ext)
    if problem is not None:
        raise AssetNotMedia(f"asset {name} {problem.replace(path, name)}; nothing was stored")
    key = asset_key(digest, ext)
    # The record first, also for an asset held already (stored before records were kept):
    # an asset is never without one for lack of a second write.
    save_probe(storage, name, facts)
    # Same hash and size: the very bytes (the key is their hash); a different size is an old
    # truncated object, which the new whole one replaces.
    if storage.exists(key) and _stored_size(storage, key) == size:
        return False
    storage.put_file(key, path)  # atomic in every backend: readers never see part of it
    return True


def _container_problem(path: str, ext: str) -> str | None:
    """Why a decodable file is not the container its extension names (e.g. a PNG as .mp4)."""
    try:
        with open_media(path) as container:
            found = container.format.name
            long_name = container.format.long_name or found
    except MediaError as exc:
        return str(exc)
    if CONTAINER_EXTENSIONS[ext] in found.split(","):
        return None
    return f"holds {long_name} data, not the format its extension {ext} names"


def _stored_size(storage: Storage, key: str) -> int | None:
    """The stored object's size, or None when storage cannot tell."""
    try:
        return storage.size(key)
    except StorageError:
        # e.g. encrypted storage unsure of a remote object's framing: storing again is safe.
        return None

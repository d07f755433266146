"""What the cloud object stores (S3, GCS, Azure Blob) share: retryable failures, prefixes, keys."""

from __future__ import annotations

import http.client
import mimetypes
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Self

import requests
import urllib3

from providers.storage.base import ObjectNotFound, StorageError, is_valid_key, validate_key

#: Statuses a retry may cure: timeouts, throttling, server errors, and 412 (the object was
#: replaced mid-read, when the download pins its version: reading again gets the new whole one).
TRANSIENT_STATUS = frozenset({408, 412, 429, 500, 502, 503, 504})

#: The network failed (connect, reset, a truncated response) below the SDK: retrying may help.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    ConnectionError,
    TimeoutError,
)

#: Media types of the files the service stores, by extension: the same on every machine
#: (``mimetypes`` reads the host's own tables, which may lack .mkv). Others: mimetypes, else
#: application/octet-stream.
CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
    ".avi": "video/x-msvideo",
    ".m4a": "audio/mp4",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".mp3": "audio/mpeg",
    ".opus": "audio/ogg",
    ".json": "application/json",
}
OCTET_STREAM = "application/octet-stream"

#: Seconds to wait for a TCP connection to a storage endpoint: the services answer in well
#: under one; an endpoint behind a firewall that drops packets otherwise held each attempt for
#: the whole read timeout, and a call for minutes over its retries.
CONNECT_TIMEOUT = 5.0

#: S3 SigV4 and GCS V4 signed URLs live at most seven days.
MAX_SIGNED_URL_SECONDS = 7 * 24 * 3600


def content_type(key: str) -> str:
    """The media type an object is stored with, from its key's extension, so a browser given
    its URL plays a video instead of downloading an unknown blob."""
    extension = "." + key.rpartition(".")[2].lower() if "." in key.rpartition("/")[2] else ""
    if extension in CONTENT_TYPES:
        return CONTENT_TYPES[extension]
    guessed, encoding = mimetypes.guess_type(key, strict=True)
    return guessed if guessed and not encoding else OCTET_STREAM


def check_root(prefix: str, url: str, check: Callable[[str], object] = validate_key) -> str:
    """The store's prefix without surrounding '/', validated like a key (by ``check``)."""
    prefix = prefix.strip("/")
    if prefix:
        try:
            check(prefix)
        except StorageError as exc:
            raise StorageError(f"invalid prefix in storage URL {url!r}: {exc}") from None
    return prefix


class RemoteStorage(ABC):
    """Objects named ``prefix/key`` in one bucket or container of a cloud object store.

    The part of the Storage interface that is the same for every cloud: where keys live, the
    listing's key filter, ``exists`` through ``size``, no local paths, closing on ``with`` exit.
    """

    #: A URL that opens this same storage again (``s3://bucket/prefix``, ...).
    url: str
    #: The prefix without surrounding '/', or "" for the whole bucket.
    prefix: str
    #: What every object name starts with: ``prefix/``, or "".
    _root: str

    def _place(self, bucket_url: str, prefix: str) -> None:
        """Set ``prefix``, ``url`` and the object-name root for a checked prefix."""
        self.prefix = prefix
        self.url = bucket_url + (f"/{prefix}" if prefix else "")
        self._root = f"{prefix}/" if prefix else ""

    @abstractmethod
    def size(self, key: str) -> int:
        """Size of the object in bytes; ObjectNotFound when missing."""

    @abstractmethod
    def close(self) -> None:
        """Release the client's connections."""

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        try:
            self.size(key)
        except ObjectNotFound:
            return False
        return True

    def local_path(self, key: str) -> str | None:
        """None: objects in a cloud store have no local file to read in place."""
        validate_key(key)
        return None

    def __enter__(self) -> Self:
        """Use as a context manager that closes the client on exit."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the client."""
        self.close()

    def _name(self, key: str) -> str:
        """The object name of a validated key."""
        return self._root + validate_key(key)

    def _keys(self, names: Iterable[str]) -> list[str]:
        """Sorted keys of listed object names, leaving out names no key can address.

        Folder placeholders ("dir/") and the like are not objects of this storage.
        """
        strip = len(self._root)
        return sorted(key for key in (name[strip:] for name in names) if is_valid_key(key))

"""Object storage behind one small interface: ``open_storage(url)`` picks the backend.

``file:///abs/path`` URLs and plain local paths (LocalStorage), ``s3://bucket/prefix``
(S3Storage), ``gs://bucket/prefix`` (GCSStorage) and ``az://container/prefix``
(AzureBlobStorage); each backend's module documents the environment it reads.

Layout: ``base`` holds the Storage interface, key rules and the StorageError tree; one module
per backend (``local``, ``s3``, ``gcs``, ``azure``), each cloud one with a ``*_errors`` module
that translates its SDK's exceptions (and ``azure_client`` building Azure's client from the
environment); ``remote`` holds what the cloud backends share; ``signed`` the pre-signed upload
URLs the cloud backends hand out (``signed_upload``); ``encrypted`` wraps any backend
in the CRENC2 format of ``encrypted_format`` (each object bound to its storage key). Like all
of ``providers``, this package imports only ``common``, never chunking, workers, orchestrator,
monitoring or cli.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from common.urls import redact_url
from providers.storage.base import (
    ObjectNotFound,
    Storage,
    StorageError,
    map_storage_errors,
    validate_key,
    validate_prefix,
)
from providers.storage.local import LocalStorage

__all__ = [
    "LocalStorage",
    "ObjectNotFound",
    "Storage",
    "StorageError",
    "map_storage_errors",
    "open_object_url",
    "open_storage",
    "split_object_url",
    "validate_key",
    "validate_prefix",
]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def _s3(url: str) -> Storage:
    from providers.storage.s3 import S3Storage

    return S3Storage.from_url(url)


def _gcs(url: str) -> Storage:
    from providers.storage.gcs import GCSStorage

    return GCSStorage.from_url(url)


def _azure(url: str) -> Storage:
    from providers.storage.azure import AzureBlobStorage

    return AzureBlobStorage.from_url(url)


#: Cloud backends by URL scheme; their SDKs are imported only when used.
_CLOUD: dict[str, Callable[[str], Storage]] = {"s3": _s3, "gs": _gcs, "az": _azure}


def open_storage(url: str) -> Storage:
    """Open the storage a URL or local path names; StorageError for unsupported schemes."""
    text = url.strip()
    if not text:
        raise StorageError("storage URL is empty; give a directory or a file:// URL")
    if "\x00" in text:
        raise StorageError(f"storage URL {url!r} contains a NUL character")
    match = _SCHEME.match(text)
    if match is None:
        return LocalStorage(text)
    scheme = match.group(1).lower()
    _refuse_credentials(url, text)
    if scheme in _CLOUD:
        return _CLOUD[scheme](text)
    if scheme != "file":
        raise StorageError(
            f"storage scheme {scheme} is not supported in {redact_url(url)!r}; use file://, "
            "s3://, gs:// or az://"
        )
    path = _local_path(
        url, text, "file URL", "file:///absolute/path (three slashes) for a local directory"
    )
    if not path.startswith("/"):
        raise StorageError(f"file URL {url!r} needs an absolute path: file:///absolute/path")
    return LocalStorage(os.path.normpath(path))


def _refuse_credentials(url: str, text: str) -> None:
    """Refuse a URL with user information before its host: every later message would echo
    the secret, and no backend reads credentials from the URL."""
    if "@" in text.partition("://")[2].partition("/")[0]:
        raise StorageError(
            f"storage URL {redact_url(url)!r} carries credentials before '@'; give them in the "
            "environment instead (AWS_* / AWS_PROFILE, GOOGLE_APPLICATION_CREDENTIALS, "
            "AZURE_STORAGE_*)"
        )


def split_object_url(url: str, *, names: bool = True) -> tuple[str, str]:
    """Split an object's URL into its storage's URL and its key (``s3://b/d/f.mp4``: ``f.mp4``).

    Checks the form only (no network): a supported scheme, a bucket or container, a file name;
    with ``names``, also the bucket's name and the path as the backend checks them.
    A ``file://`` URL is percent-decoded first, as ``open_storage`` and the delivery read it,
    so the key names the very file the URL does (``my%20film.mp4`` is ``my film.mp4``).
    """
    text = url.strip()
    match = _SCHEME.match(text)
    scheme = match.group(1).lower() if match else ""
    if scheme not in (*_CLOUD, "file"):
        raise StorageError(
            f"output URL {redact_url(url)!r} must be file://, s3://, gs:// or az:// (or a local "
            "path)"
        )
    _refuse_credentials(url, text)
    if scheme == "file":
        return _split_file_url(url, text)
    parent, _, name = text.rpartition("/")
    _check_file_name(url, name)
    parts = urlsplit(text)
    if not parts.netloc:
        raise StorageError(f"output URL {url!r} names no bucket or container")
    if not parts.path.strip("/"):
        raise StorageError(f"output URL {url!r} names a bucket but no object in it")
    if names:
        # Checked as the backend checks them: a bad one fails the submit, not the merge
        # after the whole render.
        _parse_cloud_url(scheme, text)
    return parent, name


def _parse_cloud_url(scheme: str, url: str) -> None:
    """Check a cloud URL's bucket or container and path the way its backend does."""
    if scheme == "s3":
        from providers.storage.cloud_urls import parse_s3_url

        parse_s3_url(url)
    elif scheme == "gs":
        from providers.storage.cloud_urls import parse_gcs_url

        parse_gcs_url(url)
    else:
        from providers.storage.cloud_urls import parse_azure_url

        parse_azure_url(url)


def _split_file_url(url: str, text: str) -> tuple[str, str]:
    """A ``file://`` object URL as (the directory's URL, the file's name), both decoded."""
    path = _local_path(url, text, "output URL", "file:///absolute/path/film.mp4 (three slashes)")
    _check_file_name(url, text.rpartition("/")[2])
    if "\x00" in path:
        raise StorageError(f"output URL {url!r} contains a NUL character")
    directory, name = os.path.split(os.path.normpath(path))
    _check_file_name(url, name)
    validate_key(name)
    return Path(directory).as_uri(), name


def _local_path(url: str, text: str, what: str, use: str) -> str:
    """A ``file://`` URL's decoded path; StorageError for a host other than this one, a query
    or a fragment (``what`` names the URL in the message, ``use`` the form to give instead)."""
    parts = urlsplit(text)
    if parts.netloc not in ("", "localhost"):
        raise StorageError(f"{what} {url!r} names host {parts.netloc!r}; use {use}")
    if parts.query or parts.fragment:
        raise StorageError(f"{what} {url!r} must not have a query or fragment")
    return unquote(parts.path)


def _check_file_name(url: str, name: str) -> None:
    """Refuse an object URL whose last part is not a file name with an extension."""
    if not name or "." not in name.strip("."):
        raise StorageError(
            f"output URL {url!r} must end in a file name with an extension, e.g. film.mp4"
        )


def open_object_url(url: str) -> tuple[Storage, str]:
    """The storage holding the object ``url`` names, and the object's key there."""
    parent, name = split_object_url(url)
    return open_storage(parent), name

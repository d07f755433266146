"""Object storage behind one small interface: ``open_storage(url)`` picks the backend.

Supported today: ``file:///abs/path`` URLs and plain local paths. ``s3://``, ``gs://`` and
``az://`` are recognised but not implemented yet.
"""

from __future__ import annotations

import os
import re
from urllib.parse import unquote, urlsplit

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
    "open_storage",
    "validate_key",
    "validate_prefix",
]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


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
    if scheme != "file":
        raise StorageError(
            f"storage scheme {scheme} is not supported yet in {url!r}; "
            "use a local directory or a file:// URL"
        )
    parts = urlsplit(text)
    if parts.netloc not in ("", "localhost"):
        raise StorageError(
            f"file URL {url!r} names host {parts.netloc!r}; use file:///absolute/path "
            "(three slashes) for a local directory"
        )
    if parts.query or parts.fragment:
        raise StorageError(f"file URL {url!r} must not have a query or fragment")
    path = unquote(parts.path)
    if not path.startswith("/"):
        raise StorageError(f"file URL {url!r} needs an absolute path: file:///absolute/path")
    return LocalStorage(os.path.normpath(path))

"""Client-side AES-256-GCM encryption around any storage backend, streamed in frames.

The stored bytes never leave this process in plaintext, and no object is ever held in memory
whole: ``EncryptedStorage`` stages one object's ciphertext in a private temp directory and
seals or opens it frame by frame in the CRENC1 format that ``encrypted_format`` defines.
"""

from __future__ import annotations

import builtins
import os
import tempfile
from typing import TYPE_CHECKING

from providers.storage.base import (
    Storage,
    StorageError,
    map_storage_errors,
    open_source,
    validate_key,
)
from providers.storage.encrypted_format import (
    DEFAULT_FRAME_SIZE,
    FRAME_OVERHEAD,
    HEADER_SIZE,
    MAGIC,
    VERSION,
    check_frame_size,
    check_key,
    decrypt_file,
    encrypt_file,
    encrypt_stream,
    key_from_text,
    parse_header,
    plaintext_size,
    read_full,
)

__all__ = [
    "DEFAULT_FRAME_SIZE",
    "FRAME_OVERHEAD",
    "HEADER_SIZE",
    "MAGIC",
    "VERSION",
    "EncryptedStorage",
    "decrypt_file",
    "encrypt_file",
    "key_from_text",
    "plaintext_size",
]


class EncryptedStorage:
    """Wraps a storage so that every object is AES-256-GCM encrypted before it leaves the host.

    Keys, listing and deletion pass through unchanged; object names and sizes are not secret.
    ``url`` is the inner storage's: opening it again yields the ciphertext, not this wrapper.
    """

    def __init__(
        self,
        inner: Storage,
        key: bytes,
        *,
        frame_size: int = DEFAULT_FRAME_SIZE,
        tmp_dir: str | None = None,
    ) -> None:
        self._key = check_key(key)
        check_frame_size(frame_size)
        self.inner = inner
        self.url = inner.url
        self.frame_size = frame_size
        #: Where whole ciphertext copies are staged; None uses the system temp directory.
        self.tmp_dir = tmp_dir

    def __repr__(self) -> str:
        """The inner storage, never the key."""
        # Never the key: reprs end up in logs and tracebacks.
        return f"EncryptedStorage({self.inner!r})"

    def put_file(self, key: str, path: str) -> None:
        """Encrypt a local file and store it as ``key``, atomically replacing any old object."""
        validate_key(key)  # before encrypting gigabytes only to have the key refused
        source = open_source(key, path)  # closed by the with below
        with source, self._staging(key) as staging:
            sealed = os.path.join(staging, "object.crenc")
            with map_storage_errors(key), open(sealed, "wb") as out:
                encrypt_stream(source, out, self._key, self.frame_size)
            self.inner.put_file(key, sealed)

    def get_file(self, key: str, path: str) -> None:
        """Fetch and decrypt ``key`` to ``path``; nothing is written unless it all verifies."""
        with self._staging(key) as staging:
            sealed = os.path.join(staging, "object.crenc")
            self.inner.get_file(key, sealed)
            with map_storage_errors(key):
                decrypt_file(sealed, path, self._key, name=key)

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        return self.inner.exists(key)

    def size(self, key: str) -> int:
        """Plaintext size of the object, worked out from the stored size and the framing.

        The frame size comes from the object's header when the inner storage has a local path;
        otherwise this wrapper's ``frame_size`` is assumed, since reading the header of a remote
        object would cost a download. Objects written with another frame size then report a
        wrong size or a StorageError.
        """
        stored = self.inner.size(key)
        frame_size = self._stored_frame_size(key)
        try:
            return plaintext_size(stored, frame_size)
        except ValueError:
            raise StorageError(
                f"object {key!r} is {stored} bytes, which fits no cloudrender encrypted object "
                f"with frames of {frame_size} bytes: not encrypted by cloudrender, truncated, "
                "or written with another frame size",
                key=key,
            ) from None

    def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error."""
        self.inner.delete(key)

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with ``prefix``; returns how many."""
        return self.inner.delete_prefix(prefix)

    def list(self, prefix: str) -> builtins.list[str]:
        """Sorted keys starting with ``prefix``."""
        return self.inner.list(prefix)

    def local_path(self, key: str) -> str | None:
        """Always None: the stored bytes are ciphertext, so workers must use get_file."""
        validate_key(key)
        return None

    def _staging(self, key: str) -> tempfile.TemporaryDirectory[str]:
        """A private temp directory for one object's ciphertext, removed afterwards."""
        with map_storage_errors(key):
            return tempfile.TemporaryDirectory(
                prefix="cloudrender-enc-", dir=self.tmp_dir, ignore_cleanup_errors=True
            )

    def _stored_frame_size(self, key: str) -> int:
        """The frame size in the object's header if it can be read locally, else ours."""
        path = self.inner.local_path(key)
        if path is None:
            return self.frame_size
        try:
            with open(path, "rb") as source:
                header = read_full(source, HEADER_SIZE)
        except OSError:
            return self.frame_size
        return parse_header(header, key)


if TYPE_CHECKING:
    _conforms: type[Storage] = EncryptedStorage

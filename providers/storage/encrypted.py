"""Client-side AES-256-GCM encryption around any storage backend, streamed in frames.

The stored bytes never leave this process in plaintext, and no object is ever held in memory
whole: ``EncryptedStorage`` stages one object's ciphertext in a private temp directory and
seals or opens it frame by frame in the CRENC2 format that ``encrypted_format`` defines. Each
object is bound to the key it is stored under, so an object copied over another key fails to
decrypt. ``PlaintextStorage`` is what a process without a key uses instead: it refuses to hand
out cloudrender ciphertext as if it were the object.
"""

from __future__ import annotations

import builtins
import os
import secrets
import tempfile
import time
from typing import TYPE_CHECKING

from common.scratch import scratch_prefix, sweep_scratch
from providers.storage.base import (
    TMP_PREFIX,
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
    RETIRED_MAGIC,
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
from providers.storage.signed import DEFAULT_UPLOAD_SECONDS, SignedUpload, signed_upload

__all__ = [
    "DEFAULT_FRAME_SIZE",
    "FRAME_OVERHEAD",
    "HEADER_SIZE",
    "MAGIC",
    "RETIRED_MAGIC",
    "VERSION",
    "EncryptedStorage",
    "PlaintextStorage",
    "decrypt_file",
    "encrypt_file",
    "key_from_text",
    "plaintext_size",
]


class EncryptedStorage:
    """Wraps a storage so that every object is AES-256-GCM encrypted before it leaves the host.

    Keys, listing and deletion pass through unchanged; object names and sizes are not secret.
    Every object is sealed together with its key, so one renamed or copied to another key (by
    anyone who can write to the inner storage) fails to decrypt; an older version of the same
    key still does. ``url`` is the inner storage's: opening it again yields the ciphertext.
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
                encrypt_stream(source, out, self._key, self.frame_size, object_key=key)
            self.inner.put_file(key, sealed)

    def get_file(self, key: str, path: str) -> None:
        """Fetch and decrypt ``key`` to ``path``; nothing is written unless it all verifies.

        An object sealed under another key (copied or moved here) fails like a tampered one.
        """
        with self._staging(key) as staging:
            sealed = os.path.join(staging, "object.crenc")
            self.inner.get_file(key, sealed)
            with map_storage_errors(key):
                decrypt_file(sealed, path, self._key, object_key=key)

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
        """A private temp directory for one object's ciphertext, removed afterwards; named
        after this process, so that a later one removes it if this one is killed meanwhile."""
        _sweep_staging(self.tmp_dir)
        with map_storage_errors(key):
            return tempfile.TemporaryDirectory(
                prefix=scratch_prefix(STAGING), dir=self.tmp_dir, ignore_cleanup_errors=True
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


#: How every cloudrender-encrypted object starts, whatever its format version.
_CIPHERTEXT_MARK = MAGIC[:5]


class PlaintextStorage:
    """The storage of a process without an encryption key: it refuses to pass on ciphertext.

    Once a cluster's workers hold a key they encrypt every object, whatever a job asked; a
    client or worker left without the key must then fail, naming the object, rather than hand
    out ciphertext as a video or try to decode it as a segment.
    """

    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.url = inner.url

    def __repr__(self) -> str:
        """The inner storage."""
        return f"PlaintextStorage({self.inner!r})"

    def put_file(self, key: str, path: str) -> None:
        """Store a local file as ``key``, unencrypted."""
        self.inner.put_file(key, path)

    def get_file(self, key: str, path: str) -> None:
        """Download ``key`` to ``path``, unless the object is cloudrender ciphertext."""
        # Staged beside ``path`` so that a refused object never replaces what was there.
        staged = os.path.join(
            os.path.dirname(os.path.abspath(path)), TMP_PREFIX + secrets.token_hex(8)
        )
        self.inner.get_file(key, staged)
        try:
            with map_storage_errors(key):
                if _is_ciphertext(staged):
                    raise _needs_key(key)
                os.replace(staged, path)
        finally:
            if os.path.lexists(staged):
                os.unlink(staged)

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        return self.inner.exists(key)

    def size(self, key: str) -> int:
        """Size of the stored object in bytes."""
        return self.inner.size(key)

    def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error."""
        self.inner.delete(key)

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with ``prefix``; returns how many."""
        return self.inner.delete_prefix(prefix)

    def list(self, prefix: str) -> builtins.list[str]:
        """Sorted keys starting with ``prefix``."""
        return self.inner.list(prefix)

    def presigned_put(
        self, key: str, *, sha256_hex: str, size: int, expires: float = DEFAULT_UPLOAD_SECONDS
    ) -> SignedUpload | None:
        """The inner storage's signed PUT, if it signs: plaintext may go straight to it."""
        return signed_upload(self.inner, key, sha256_hex=sha256_hex, size=size, expires=expires)

    def local_path(self, key: str) -> str | None:
        """The inner storage's path for ``key``; StorageError if the file there is ciphertext."""
        path = self.inner.local_path(key)
        if path is not None and _is_ciphertext(path):
            raise _needs_key(key)
        return path


#: The kind (``common.scratch``) of the folders that stage ciphertext copies.
STAGING = "enc"
#: Seconds between two sweeps by one process of one directory's staging folders left by
#: killed processes (each a whole object's ciphertext, kept for ever before).
SWEEP_SECONDS = 60.0
_swept: dict[str | None, float] = {}


def _sweep_staging(root: str | None) -> None:
    """Remove the staging folders in ``root`` (None: the temp directory) whose process is
    gone, at most every SWEEP_SECONDS."""
    now = time.monotonic()
    if root in _swept and now - _swept[root] < SWEEP_SECONDS:
        return
    _swept[root] = now
    sweep_scratch(STAGING, root)


def _is_ciphertext(path: str) -> bool:
    """Whether the file at ``path`` starts like a cloudrender-encrypted object."""
    try:
        with open(path, "rb") as source:
            return read_full(source, len(_CIPHERTEXT_MARK)) == _CIPHERTEXT_MARK
    except OSError:
        return False  # missing or unreadable: the caller's own access reports it


def _needs_key(key: str) -> StorageError:
    """The error for ciphertext met by a process that has no key."""
    return StorageError(
        f"object {key!r} is encrypted, but this process has no encryption key: set "
        "CLOUDRENDER_ENCRYPTION_KEY to the cluster's key",
        key=key,
    )


if TYPE_CHECKING:
    _conforms: type[Storage] = EncryptedStorage
    _conforms_too: type[Storage] = PlaintextStorage

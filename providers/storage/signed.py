"""Pre-signed uploads: a URL that lets a client without credentials PUT one object into storage.

A cloud store (S3, GCS, Azure Blob) can sign a PUT for one key, valid for a short time, so the
bytes go from the client straight to the store. What each store can hold the client to differs,
and ``SignedUpload.checks`` says what this one enforces on arrival:

- ``"sha256"``: the body must hash to the sha256 the URL was signed for (S3: the signed
  ``x-amz-checksum-sha256`` header, which S3 checks against the body; a mismatch is refused);
- ``"size"``: the body must be exactly the signed length (S3: a signed ``Content-Length``;
  GCS: a signed ``x-goog-content-length-range``);
- ``"no-overwrite"``: an existing object is never replaced (GCS: a signed
  ``x-goog-if-generation-match: 0``; Azure: a create-only SAS).

A URL without ``"sha256"`` lets whoever holds it store any bytes under the key, so callers hand
such URLs out only where they trust the client. Local directories sign nothing, and neither
does ``EncryptedStorage`` (the bytes must be encrypted on the way in); ``PlaintextStorage``
signs what its inner store signs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from providers.storage.base import Storage, StorageError

__all__ = [
    "DEFAULT_UPLOAD_SECONDS",
    "SignedUpload",
    "SignsUploads",
    "check_upload_request",
    "signed_upload",
]

#: How long a pre-signed upload URL stays valid when the caller does not say: short, since
#: the client uses it at once (a transfer already under way is not cut off at expiry).
DEFAULT_UPLOAD_SECONDS = 900

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class SignedUpload:
    """How to PUT one object: the URL, the headers to send exactly, what the store enforces."""

    url: str
    #: headers the request must carry with exactly these values (they are part of the signature)
    headers: dict[str, str] = field(default_factory=dict)
    #: what the store refuses on arrival: "sha256", "size", "no-overwrite"
    checks: frozenset[str] = frozenset()
    method: str = "PUT"

    @property
    def verified(self) -> bool:
        """Whether the store itself refuses a body of another hash or size."""
        return {"sha256", "size"} <= self.checks


@runtime_checkable
class SignsUploads(Protocol):
    """A storage that can pre-sign a PUT of one object."""

    def presigned_put(
        self, key: str, *, sha256_hex: str, size: int, expires: float = DEFAULT_UPLOAD_SECONDS
    ) -> SignedUpload | None:
        """A signed PUT of ``size`` bytes hashing to ``sha256_hex`` as ``key``; None when these
        credentials cannot sign or the object is too large for a single request."""
        ...


def signed_upload(
    storage: Storage,
    key: str,
    *,
    sha256_hex: str,
    size: int,
    expires: float = DEFAULT_UPLOAD_SECONDS,
) -> SignedUpload | None:
    """A pre-signed PUT for ``key`` where ``storage`` can sign one, else None."""
    if not isinstance(storage, SignsUploads):
        return None
    return storage.presigned_put(key, sha256_hex=sha256_hex, size=size, expires=expires)


def check_upload_request(key: str, sha256_hex: str, size: int, expires: float) -> None:
    """Refuse a malformed signing request (StorageError naming the key) before any signing."""
    if not _SHA256.match(sha256_hex):
        raise StorageError(
            f"cannot sign an upload of {key!r}: sha256 must be 64 lowercase hex digits, "
            f"not {sha256_hex!r}",
            key=key,
        )
    if size < 0:
        raise StorageError(f"cannot sign an upload of {key!r}: size {size} is negative", key=key)
    if expires <= 0:
        raise StorageError(f"signed URL lifetime must be positive, not {expires}s", key=key)

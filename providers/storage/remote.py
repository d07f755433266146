"""What the HTTP-based object stores (GCS, Azure Blob) share: retryable failures, prefix checks."""

from __future__ import annotations

import http.client
from collections.abc import Callable

import requests
import urllib3

from providers.storage.base import StorageError, validate_key

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


def check_root(prefix: str, url: str, check: Callable[[str], object] = validate_key) -> str:
    """The store's prefix without surrounding '/', validated like a key (by ``check``)."""
    prefix = prefix.strip("/")
    if prefix:
        try:
            check(prefix)
        except StorageError as exc:
            raise StorageError(f"invalid prefix in storage URL {url!r}: {exc}") from None
    return prefix

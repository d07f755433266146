"""Translation of azure-core and HTTP exceptions into the StorageError tree."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import requests
from azure.core import exceptions as azure_exceptions

from providers.storage.base import ObjectNotFound, StorageError
from providers.storage.remote import NETWORK_ERRORS, TRANSIENT_STATUS

__all__ = ["map_azure_errors"]

_NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    azure_exceptions.ServiceRequestError,
    azure_exceptions.ServiceResponseError,
    azure_exceptions.IncompleteReadError,
    *NETWORK_ERRORS,
)

_AUTH_HINT = (
    "check AZURE_STORAGE_CONNECTION_STRING (or AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY): "
    "the account key or SAS token is wrong, expired or lacks permission"
)


@contextmanager
def map_azure_errors(key: str | None, *, container: str | None = None) -> Iterator[None]:
    """Translate azure-core and HTTP errors into StorageError for ``key``.

    A missing blob becomes ObjectNotFound, a missing container a StorageError that says to create
    it, rejected credentials one that says what to fix; throttling, 5xx, timeouts and connection
    failures a StorageError with ``transient`` set.
    """
    what = f"{key!r}" if key is not None else "Azure Blob Storage"
    if container is not None:
        what += f" in az://{container}"
    try:
        yield
    except StorageError:
        raise
    except azure_exceptions.ResourceNotFoundError as exc:
        if _error_code(exc) == "ContainerNotFound":
            _raise_missing_container(container, key, exc)
        raise ObjectNotFound(f"storage object {key!r} not found", key=key) from exc
    except azure_exceptions.ClientAuthenticationError as exc:
        raise StorageError(
            f"Azure rejected the credentials for {what}: {_summary(exc)}; {_AUTH_HINT}", key=key
        ) from exc
    except _NETWORK_ERRORS as exc:
        raise StorageError(
            f"Azure request for {what} failed: {type(exc).__name__}: {_summary(exc)}; the "
            "storage endpoint is unreachable or slow (check the network, and the BlobEndpoint "
            "or account of AZURE_STORAGE_CONNECTION_STRING / AZURE_STORAGE_ACCOUNT)",
            key=key,
            transient=True,
        ) from exc
    except azure_exceptions.HttpResponseError as exc:
        status = exc.status_code
        if status in (401, 403):
            raise StorageError(
                f"Azure denied access to {what} (HTTP {status} {_error_code(exc)}): "
                f"{_summary(exc)}; {_AUTH_HINT}",
                key=key,
            ) from exc
        raise StorageError(
            f"Azure request for {what} failed: HTTP {status} {_error_code(exc)}: {_summary(exc)}",
            key=key,
            transient=status in TRANSIENT_STATUS,
        ) from exc
    except azure_exceptions.AzureError as exc:
        raise StorageError(f"Azure request for {what} failed: {_summary(exc)}", key=key) from exc
    except requests.exceptions.RequestException as exc:
        raise StorageError(f"Azure request for {what} failed: {exc}", key=key) from exc


def _error_code(exc: BaseException) -> str | None:
    """Azure's error code ("BlobNotFound", ...), which the storage SDK attaches to its errors."""
    code = getattr(exc, "error_code", None)
    # StorageErrorCode is a str enum: str() would give its member name, not the code.
    return str(getattr(code, "value", code)) if code is not None else None


def _summary(exc: BaseException) -> str:
    """The first line of an SDK error (Azure appends request ids and the whole XML body)."""
    message = getattr(exc, "message", None) or str(exc)
    return str(message).strip().splitlines()[0] if str(message).strip() else type(exc).__name__


def _raise_missing_container(container: str | None, key: str | None, cause: Exception) -> NoReturn:
    """Raise the StorageError that says to create the container."""
    name = container or "?"
    raise StorageError(
        f"Azure container {name!r} does not exist; create the container "
        f"(az storage container create --name {name}) or fix the storage URL",
        key=key,
    ) from cause

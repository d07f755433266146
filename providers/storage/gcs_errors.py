"""Translation of google-cloud-storage, google-auth and HTTP exceptions into StorageError."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import requests
from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions
from google.cloud.storage import exceptions as gcs_exceptions

from providers.storage.base import ObjectNotFound, StorageError
from providers.storage.remote import NETWORK_ERRORS, TRANSIENT_STATUS

__all__ = ["map_gcs_errors", "raise_missing_bucket"]

_AUTH_HINT = (
    "check GOOGLE_APPLICATION_CREDENTIALS (or `gcloud auth application-default login`) and that "
    "the account may read and write objects in the bucket (roles/storage.objectAdmin)"
)

_NETWORK_HINT = (
    "the GCS endpoint is unreachable or slow (check the network, and STORAGE_EMULATOR_HOST "
    "when using an emulator)"
)


@contextmanager
def map_gcs_errors(key: str | None, *, bucket: str | None = None) -> Iterator[None]:
    """Translate google-cloud-storage, google-auth and HTTP errors into StorageError for ``key``.

    404 becomes ObjectNotFound (or a missing-bucket StorageError when GCS says so); 401/403 and
    rejected credentials a StorageError that says what to fix; throttling, 5xx, timeouts and
    connection failures a StorageError with ``transient`` set.
    """
    what = f"{key!r}" if key is not None else "GCS"
    if bucket is not None:
        what += f" in gs://{bucket}"
    try:
        yield
    except StorageError:
        raise
    except api_exceptions.NotFound as exc:
        if bucket is not None and "bucket does not exist" in str(exc.message).lower():
            raise_missing_bucket(bucket, key, exc)
        raise ObjectNotFound(f"storage object {key!r} not found", key=key) from exc
    except (api_exceptions.Unauthorized, api_exceptions.Forbidden) as exc:
        raise StorageError(
            f"GCS denied access to {what} (HTTP {exc.code}: {exc.message}); {_AUTH_HINT}", key=key
        ) from exc
    except api_exceptions.RetryError as exc:
        # Retries only continue on transient errors, so running out of time is transient too.
        unreachable = isinstance(exc.cause, NETWORK_ERRORS)
        raise StorageError(
            f"GCS request for {what} kept failing: {exc.cause or exc.message}"
            + (f"; {_NETWORK_HINT}" if unreachable else ""),
            key=key,
            transient=True,
        ) from exc
    except api_exceptions.GoogleAPICallError as exc:
        code = exc.code if isinstance(exc.code, int) else None
        raise StorageError(
            f"GCS request for {what} failed: HTTP {code}: {exc.message}",
            key=key,
            transient=code in TRANSIENT_STATUS,
        ) from exc
    except api_exceptions.GoogleAPIError as exc:
        raise StorageError(f"GCS request for {what} failed: {exc}", key=key) from exc
    except auth_exceptions.DefaultCredentialsError as exc:
        raise StorageError(
            f"no usable Google Cloud credentials: {exc}; set GOOGLE_APPLICATION_CREDENTIALS to a "
            "service-account key file, run `gcloud auth application-default login`, or set "
            "STORAGE_EMULATOR_HOST to use an emulator",
            key=key,
        ) from exc
    except auth_exceptions.RefreshError as exc:
        raise StorageError(
            f"Google Cloud rejected the credentials while accessing {what}: {exc}; {_AUTH_HINT}",
            key=key,
            transient=bool(exc.retryable),
        ) from exc
    except (auth_exceptions.TransportError, auth_exceptions.TimeoutError) as exc:
        raise StorageError(
            f"could not reach Google's token service for {what}: {exc}", key=key, transient=True
        ) from exc
    except auth_exceptions.GoogleAuthError as exc:
        raise StorageError(
            f"Google Cloud authentication failed for {what}: {exc}",
            key=key,
            transient=bool(exc.retryable),
        ) from exc
    except gcs_exceptions.DataCorruption as exc:
        raise StorageError(
            f"checksum mismatch transferring {what}; the data was damaged in transit",
            key=key,
            transient=True,
        ) from exc
    except gcs_exceptions.InvalidResponse as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        raise StorageError(
            f"GCS request for {what} failed: unexpected response (HTTP {status}): {exc}",
            key=key,
            transient=status in TRANSIENT_STATUS,
        ) from exc
    except NETWORK_ERRORS as exc:
        raise StorageError(
            f"GCS request for {what} failed: {type(exc).__name__}: {exc}; {_NETWORK_HINT}",
            key=key,
            transient=True,
        ) from exc
    except requests.exceptions.RequestException as exc:
        raise StorageError(f"GCS request for {what} failed: {exc}", key=key) from exc


def raise_missing_bucket(bucket: str, key: str | None, cause: BaseException) -> NoReturn:
    """Raise the StorageError that says to create the bucket."""
    raise StorageError(
        f"GCS bucket {bucket!r} does not exist; create it "
        f"(gcloud storage buckets create gs://{bucket}) or fix the storage URL",
        key=key,
    ) from cause

"""Translation of google-api-core, google-auth and HTTP exceptions from the Compute API into
ComputeError, and of a finished operation's error list."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions

from providers.compute.base import ComputeError

__all__ = ["PERMISSIONS", "gcp_errors", "operation_error", "translate"]

#: HTTP statuses worth retrying on a later tick: throttling, server faults, timeouts.
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
#: Operation error codes that a later attempt may not meet (capacity comes and goes).
TRANSIENT_CODES = frozenset(
    {"ZONE_RESOURCE_POOL_EXHAUSTED", "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS", "RATE_LIMIT"}
)
#: What the engine's identity must be allowed (docs/capacity.md repeats it).
PERMISSIONS = (
    "compute.instanceTemplates.get/create/useReadOnly, compute.instanceGroupManagers.get/create/"
    "update, compute.instances.create/delete/setMetadata, compute.zoneOperations.get (or "
    "roles/compute.instanceAdmin.v1) and iam.serviceAccounts.actAs on the nodes' account"
)
_REQUEST_PREFIX = re.compile(r"^(?:GET|POST|PUT|PATCH|DELETE) \S+: ")
_CREDENTIALS_HINT = (
    "set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, run "
    "`gcloud auth application-default login`, or run on Google Cloud with a service account"
)


@contextmanager
def gcp_errors(where: str, action: str) -> Iterator[None]:
    """Translate the SDK's exceptions raised inside the block into ComputeError.

    ``where`` names the pool and group (``pool 'gpu' (MIG 'cloudrender-gpu')``), ``action`` what
    was being done (``resize the group to 3``).
    """
    try:
        yield
    except ComputeError:
        raise
    except (
        api_exceptions.GoogleAPIError,
        auth_exceptions.GoogleAuthError,
        requests.RequestException,
    ) as exc:
        raise translate(exc, where, action) from exc


def translate(exc: BaseException, where: str, action: str) -> ComputeError:
    """The one-line ComputeError that says what an SDK exception means for the pool."""
    failed = f"{where}: cannot {action}"
    if isinstance(exc, api_exceptions.RetryError):
        # Retries only continue on transient errors, so running out of time is transient too.
        return ComputeError(
            f"{failed}: kept failing: {_one_line(exc.cause or exc)}", transient=True
        )
    if isinstance(exc, api_exceptions.GoogleAPICallError):
        code = exc.code if isinstance(exc.code, int) else 0
        # api-core prefixes the method and URL (with the request id): noise in a one-line error
        message = _REQUEST_PREFIX.sub("", str(exc.message))
        detail = f"{failed}: GCP HTTP {code}: {_one_line(message)}"
        if code in (401, 403):
            return ComputeError(f"{detail}; the account in use needs {PERMISSIONS}")
        return ComputeError(detail, transient=code in TRANSIENT_STATUS)
    if isinstance(exc, auth_exceptions.DefaultCredentialsError):
        return ComputeError(f"{failed}: no Google Cloud credentials; {_CREDENTIALS_HINT}")
    if isinstance(exc, auth_exceptions.RefreshError):
        return ComputeError(
            f"{failed}: Google refused the credentials: {_one_line(exc)}; {_CREDENTIALS_HINT}",
            transient=bool(getattr(exc, "retryable", False)),
        )
    if isinstance(exc, requests.RequestException | auth_exceptions.TransportError):
        return ComputeError(
            f"{failed}: the Compute API is unreachable ({_one_line(exc)}); check the network, "
            "and options.endpoint when set",
            transient=True,
        )
    return ComputeError(f"{failed}: {type(exc).__name__}: {_one_line(exc)}", transient=True)


def operation_error(operation: Any, where: str, action: str) -> ComputeError | None:
    """The ComputeError a finished ``compute_v1.Operation`` reports, None when it succeeded."""
    errors = list(operation.error.errors) if operation.error else []
    if not errors and not operation.http_error_status_code:
        return None
    codes = [str(e.code) for e in errors if e.code]
    reasons = "; ".join(f"{e.code}: {e.message}" for e in errors) or _one_line(
        operation.http_error_message or "failed"
    )
    transient = any(c in TRANSIENT_CODES for c in codes) or (
        operation.http_error_status_code in TRANSIENT_STATUS
    )
    return ComputeError(f"{where}: cannot {action}: {_one_line(reasons)}", transient=transient)


def _one_line(text: object, limit: int = 300) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"

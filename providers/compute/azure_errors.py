"""Translation of azure-core exceptions from Azure Resource Manager into ComputeError."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from azure.core import exceptions as azure_exceptions

from providers.compute.base import ComputeError

__all__ = ["PERMISSIONS", "azure_errors", "translate"]

#: HTTP statuses worth retrying on a later tick: throttling, server faults, timeouts.
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
#: ARM error codes a later attempt may not meet: capacity, and another operation in progress.
TRANSIENT_CODES = frozenset(
    {
        "AllocationFailed",
        "ZonalAllocationFailed",
        "OverconstrainedAllocationRequest",
        "OverconstrainedZonalAllocationRequest",
        "SkuNotAvailable",
        "Conflict",
        "RetryableError",
        "OperationPreempted",
        "TooManyRequests",
    }
)
#: What the engine's identity must be allowed (docs/capacity.md repeats it).
PERMISSIONS = (
    "Microsoft.Compute/virtualMachineScaleSets/read, write, delete/action, virtualMachines/read "
    "and virtualMachines/write on the resource group, and Microsoft.Network/virtualNetworks/"
    "subnets/join/action on the subnet (the Virtual Machine Contributor role has them)"
)
_CREDENTIALS_HINT = (
    "sign in with `az login`, set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET, or "
    "run with a managed identity"
)


@contextmanager
def azure_errors(where: str, action: str) -> Iterator[None]:
    """Translate azure-core exceptions raised inside the block into ComputeError.

    ``where`` names the pool and scale set, ``action`` what was being done.
    """
    try:
        yield
    except ComputeError:
        raise
    except azure_exceptions.AzureError as exc:
        raise translate(exc, where, action) from exc


def translate(exc: BaseException, where: str, action: str) -> ComputeError:
    """The one-line ComputeError that says what an SDK exception means for the pool."""
    failed = f"{where}: cannot {action}"
    if isinstance(exc, azure_exceptions.ClientAuthenticationError) and not exc.status_code:
        # azure-identity found no usable credential (no status: nothing reached ARM)
        return ComputeError(
            f"{failed}: no Azure credentials: {_one_line(exc)}; {_CREDENTIALS_HINT}"
        )
    if isinstance(exc, azure_exceptions.HttpResponseError):
        status = exc.status_code or 0
        error = getattr(exc, "error", None)
        code = str(getattr(error, "code", "") or "")
        message = str(getattr(error, "message", "") or exc.reason or exc.message)
        detail = f"{failed}: Azure HTTP {status} {code}: {_one_line(message)}".replace("  ", " ")
        if status == 401:
            return ComputeError(f"{detail}; {_CREDENTIALS_HINT}")
        if status == 403:
            return ComputeError(f"{detail}; the identity in use needs {PERMISSIONS}")
        return ComputeError(detail, transient=status in TRANSIENT_STATUS or code in TRANSIENT_CODES)
    if isinstance(
        exc, azure_exceptions.ServiceRequestError | azure_exceptions.ServiceResponseError
    ):
        return ComputeError(
            f"{failed}: Azure Resource Manager is unreachable ({_one_line(exc)}); check the "
            "network, and options.endpoint when set",
            transient=True,
        )
    return ComputeError(f"{failed}: {type(exc).__name__}: {_one_line(exc)}", transient=True)


def _one_line(text: object, limit: int = 300) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"

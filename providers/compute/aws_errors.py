"""Translation of botocore exceptions from the Auto Scaling and EC2 APIs into ComputeError."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterator
from contextlib import contextmanager

import botocore.exceptions
import botocore.session

from providers.compute.base import ComputeError
from providers.compute.pools import Pool

__all__ = ["aws_code", "aws_errors", "error_code", "instance_gone", "translate"]

_TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalError",
        "InsufficientInstanceCapacity",
        # another scaling activity or request holds the group: the next tick may pass
        "ScalingActivityInProgress",
        "ResourceContention",
    }
)
_CREDENTIAL_CODES = frozenset(
    {
        "AuthFailure",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "IncompleteSignature",
        "MissingAuthenticationToken",
    }
)
_ACCESS_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
_CREDENTIAL_ERRORS = (
    botocore.exceptions.NoCredentialsError,
    botocore.exceptions.PartialCredentialsError,
    botocore.exceptions.CredentialRetrievalError,
    botocore.exceptions.ProfileNotFound,
    botocore.exceptions.UnknownCredentialError,
    botocore.exceptions.TokenRetrievalError,
)
_NETWORK_ERRORS = (
    botocore.exceptions.ConnectionError,  # EndpointConnectionError, timeouts, proxy errors
    botocore.exceptions.HTTPClientError,
    botocore.exceptions.IncompleteReadError,
)
#: What the engine's role must allow (docs/capacity.md repeats it).
PERMISSIONS = (
    "autoscaling:DescribeAutoScalingGroups, autoscaling:CreateAutoScalingGroup, "
    "autoscaling:UpdateAutoScalingGroup, autoscaling:SetDesiredCapacity, "
    "autoscaling:SetInstanceProtection, autoscaling:TerminateInstanceInAutoScalingGroup, "
    "autoscaling:SuspendProcesses, autoscaling:CreateOrUpdateTags, ec2:DescribeInstances, "
    "ec2:DescribeLaunchTemplates, ec2:CreateLaunchTemplate, ec2:CreateTags, ec2:RunInstances "
    "and iam:PassRole for the instance profile"
)


@contextmanager
def aws_errors(where: str, action: str) -> Iterator[None]:
    """Translate botocore exceptions raised inside the block into ComputeError.

    ``where`` names the pool and group (``pool 'gpu' (Auto Scaling group 'cloudrender-gpu')``),
    ``action`` what was being done (``set the desired capacity``).
    """
    try:
        yield
    except ComputeError:
        raise
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise translate(exc, where, action) from exc


def translate(exc: BaseException, where: str, action: str) -> ComputeError:
    """The ComputeError that says in one line what an SDK exception means for the pool."""
    failed = f"{where}: cannot {action}"
    if isinstance(exc, botocore.exceptions.ClientError):
        code = error_code(exc)
        message = _one_line(str(exc.response.get("Error", {}).get("Message") or exc))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        detail = f"{failed}: AWS {code or status}: {message}"
        if code in _CREDENTIAL_CODES:
            return ComputeError(
                f"{detail}; check the AWS credentials (AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the instance role)"
            )
        if code in _ACCESS_CODES:
            return ComputeError(f"{detail}; the AWS identity in use needs {PERMISSIONS}")
        transient = code in _TRANSIENT_CODES or (isinstance(status, int) and status >= 500)
        return ComputeError(detail, transient=transient)
    reason = _one_line(str(exc))
    if isinstance(exc, _CREDENTIAL_ERRORS):
        return ComputeError(
            f"{failed}: {reason}; provide AWS credentials (AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an instance role)"
        )
    if isinstance(exc, botocore.exceptions.NoRegionError):
        return ComputeError(f"{failed}: {reason}; set the pool's region")
    if isinstance(exc, _NETWORK_ERRORS):
        return ComputeError(
            f"{failed}: {reason}; the AWS endpoint is unreachable (check the network, and "
            "options.endpoint when set)",
            transient=True,
        )
    # ResponseParserError and kin: a garbled or non-AWS reply, often a proxy or an emulator fault.
    return ComputeError(f"{failed}: {type(exc).__name__}: {reason}", transient=True)


def error_code(exc: botocore.exceptions.ClientError) -> str:
    """AWS's error code of a reply, "" when it has none."""
    return str(exc.response.get("Error", {}).get("Code") or "")


def aws_code(error: ComputeError) -> str:
    """AWS's error code behind a translated error, "" when it came from no AWS reply."""
    cause = error.__cause__
    return error_code(cause) if isinstance(cause, botocore.exceptions.ClientError) else ""


def instance_gone(error: ComputeError) -> bool:
    """Whether AWS refused because the instance is in no group any more."""
    cause = error.__cause__
    if not isinstance(cause, botocore.exceptions.ClientError):
        return False
    message = str(cause.response.get("Error", {}).get("Message", "")).lower()
    code = error_code(cause)
    return code.startswith("InvalidInstanceID") or (
        code == "ValidationError" and ("not found" in message or "no managed instance" in message)
    )


def below_min_size(error: ComputeError) -> bool:
    """Whether AWS refused to lower a group's desired capacity below its MinSize (a terminate
    with ShouldDecrementDesiredCapacity at the group's minimum)."""
    cause = error.__cause__
    if not isinstance(cause, botocore.exceptions.ClientError):
        return False
    message = str(cause.response.get("Error", {}).get("Message", "")).lower()
    return error_code(cause) == "ValidationError" and "min size" in message


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@functools.lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Every region botocore's endpoint data names for Auto Scaling, in every partition."""
    session = botocore.session.get_session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("autoscaling", partition)
    )


def check_region(pool: Pool) -> None:
    """Refuse a region AWS does not have, naming the one meant: the SDK makes a host name of
    any region, so a typo only surfaced as an unreachable endpoint ("check the network")."""
    known = known_regions()
    if not known or pool.region in known:
        return
    close = difflib.get_close_matches(pool.region, sorted(known), n=2)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    raise ComputeError(
        f"pool {pool.name!r}: region {pool.region!r} is not an AWS region ({hint}one newer than "
        "this botocore needs an upgrade of boto3; an emulator needs options.endpoint)"
    )

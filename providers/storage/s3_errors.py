"""Translation of botocore, boto3 and s3transfer exceptions into the StorageError tree."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import boto3.exceptions
import botocore.exceptions
import s3transfer.exceptions  # type: ignore[import-untyped]  # no stubs, not in the mypy overrides

from providers.storage.base import ObjectNotFound, StorageError

__all__ = ["http_status", "map_s3_errors", "missing_bucket_error", "translate_s3_error"]

_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NotFound", "404"})
_CREDENTIAL_HINTS = {
    "InvalidAccessKeyId": (
        "the AWS access key ID is not recognised; check AWS_ACCESS_KEY_ID or the credentials "
        "of AWS_PROFILE, and that they belong to the account and endpoint in use"
    ),
    "SignatureDoesNotMatch": (
        "the request signature does not match; check AWS_SECRET_ACCESS_KEY (or the profile's "
        "secret) belongs to the access key ID"
    ),
    "ExpiredToken": "the AWS session token has expired; refresh the credentials",
    "TokenRefreshRequired": "the AWS session token has expired; refresh the credentials",
    "InvalidToken": "the AWS session token is invalid; check AWS_SESSION_TOKEN",
    "RequestTimeTooSkewed": "the local clock is too far off; synchronise it (NTP)",
}
_ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "403", "Forbidden", "AllAccessDisabled", "AccountProblem"}
)
_TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "ServiceUnavailable",
        "OperationAborted",  # a conflicting operation on the bucket is still in progress
    }
)

_CREDENTIAL_ERRORS = (
    botocore.exceptions.NoCredentialsError,
    botocore.exceptions.PartialCredentialsError,
    botocore.exceptions.CredentialRetrievalError,
    botocore.exceptions.ProfileNotFound,
    botocore.exceptions.UnknownCredentialError,
    botocore.exceptions.TokenRetrievalError,
)
# The network side failed (connect, TLS handshake aside, or mid-response): retrying may help.
_NETWORK_ERRORS = (
    botocore.exceptions.ConnectionError,
    botocore.exceptions.HTTPClientError,
    botocore.exceptions.IncompleteReadError,
    botocore.exceptions.ChecksumError,
    boto3.exceptions.RetriesExceededError,
    s3transfer.exceptions.RetriesExceededError,
)
_SDK_ERRORS = (
    botocore.exceptions.BotoCoreError,
    botocore.exceptions.ClientError,
    boto3.exceptions.Boto3Error,
    s3transfer.exceptions.S3UploadFailedError,
    s3transfer.exceptions.S3DownloadFailedError,
    # A download whose responses kept being cut short: it escaped as a traceback.
    s3transfer.exceptions.RetriesExceededError,
    s3transfer.exceptions.S3CopyFailedError,
    s3transfer.exceptions.TransferNotDoneError,
    s3transfer.exceptions.FatalError,
    s3transfer.exceptions.S3ValidationError,
)


@contextmanager
def map_s3_errors(key: str, *, bucket: str | None = None) -> Iterator[None]:
    """Translate SDK exceptions raised inside the block into StorageError or ObjectNotFound.

    ``key`` is the storage key (or prefix) named in messages; ``bucket`` lets messages about a
    missing bucket or denied access name it. OSError and other exceptions pass through.
    """
    try:
        yield
    except StorageError:
        raise
    except _SDK_ERRORS as exc:
        raise translate_s3_error(exc, key, bucket) from exc


def translate_s3_error(exc: BaseException, key: str, bucket: str | None) -> StorageError:
    """The StorageError that describes an SDK exception."""
    subject = (repr(key) if key else "the bucket root") + (f" in s3://{bucket}" if bucket else "")
    # boto3 wraps upload ClientErrors in S3UploadFailedError without chaining them explicitly.
    if isinstance(
        exc, boto3.exceptions.S3UploadFailedError | s3transfer.exceptions.S3UploadFailedError
    ):
        inner = exc.__cause__ or exc.__context__
        if isinstance(inner, _SDK_ERRORS):
            return translate_s3_error(inner, key, bucket)
    if isinstance(exc, botocore.exceptions.ClientError):
        return _translate_client_error(exc, key, bucket, subject)
    failed = f"S3 operation on {subject} failed: {exc}"
    if isinstance(exc, botocore.exceptions.SSLError):
        return StorageError(
            f"{failed}; check the endpoint URL and its TLS certificate (AWS_CA_BUNDLE)", key=key
        )
    if isinstance(exc, _CREDENTIAL_ERRORS):
        return StorageError(
            f"{failed}; provide AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "AWS_PROFILE, or an instance role)",
            key=key,
        )
    if isinstance(exc, _NETWORK_ERRORS):
        return StorageError(
            f"{failed}; the S3 endpoint is unreachable or slow (check the network and "
            "CLOUDRENDER_S3_ENDPOINT_URL / AWS_ENDPOINT_URL)",
            key=key,
            transient=True,
        )
    if isinstance(exc, botocore.exceptions.NoRegionError):
        return StorageError(f"{failed}; set AWS_REGION or AWS_DEFAULT_REGION", key=key)
    return StorageError(failed, key=key)


def _translate_client_error(
    exc: botocore.exceptions.ClientError, key: str, bucket: str | None, subject: str
) -> StorageError:
    """The StorageError for an error reply from the S3 service."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = http_status(exc)
    detail = f"{code or status}: {error.get('Message') or exc}"
    if code in _NOT_FOUND_CODES:
        return ObjectNotFound(f"storage object {key!r} not found", key=key)
    if code == "NoSuchBucket":
        return missing_bucket_error(bucket, key)
    if code in _CREDENTIAL_HINTS:
        return StorageError(
            f"S3 refused the request for {subject} ({detail}); {_CREDENTIAL_HINTS[code]}",
            key=key,
        )
    if code in _ACCESS_DENIED_CODES:
        # A HEAD reply has no body, so a bare 403 may also mean wrong credentials.
        return StorageError(
            f"access denied to {subject} ({detail}); check the AWS credentials "
            "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or AWS_PROFILE) are right and that their "
            "policy allows s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket on the "
            "bucket",
            key=key,
        )
    if code == "InvalidBucketName":
        return StorageError(
            f"S3 rejected the bucket name for {subject} ({detail}); fix the bucket in the "
            "storage URL",
            key=key,
        )
    transient = code in _TRANSIENT_CODES or status in (408, 429) or status >= 500
    return StorageError(
        f"S3 operation on {subject} failed ({detail})", key=key, transient=transient
    )


def http_status(exc: botocore.exceptions.ClientError) -> int:
    """HTTP status of an error reply, 0 when unknown."""
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return status if isinstance(status, int) else 0


def missing_bucket_error(bucket: str | None, key: str) -> StorageError:
    """The error for a bucket that does not exist."""
    name = repr(bucket) if bucket else "of the storage URL"
    return StorageError(
        f"S3 bucket {name} does not exist; create it first or fix the bucket name in the "
        "storage URL",
        key=key,
    )

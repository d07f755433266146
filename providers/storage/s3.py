"""Storage in an Amazon S3 bucket (or any S3-compatible service) under ``s3://bucket/prefix``.

Configuration, read only by ``S3Storage.from_url`` (the constructor reads no environment itself):

- ``CLOUDRENDER_S3_ENDPOINT_URL``: endpoint of an S3-compatible service (MinIO, Ceph, moto);
  when unset, boto's own ``AWS_ENDPOINT_URL_S3`` and then ``AWS_ENDPOINT_URL`` are used. With
  any custom endpoint requests use path-style addressing (``http://host/bucket/key``), which
  every S3-compatible service understands. Without one the client talks to AWS.
- Credentials and region come from boto3's usual chain: ``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN``; ``AWS_PROFILE`` with
  ``~/.aws/credentials`` and ``~/.aws/config`` (or ``AWS_SHARED_CREDENTIALS_FILE`` and
  ``AWS_CONFIG_FILE``); SSO, web identity and container or instance roles.
  ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` pick the region (us-east-1 when unset).

The bucket must exist: a missing bucket is an error naming it, never created behind the user's
back (``ensure_bucket`` exists for tests and setup scripts). Every botocore, boto3 and s3transfer
exception is translated by ``map_s3_errors`` into ``StorageError`` (``transient`` for throttling,
5xx replies, timeouts and unreachable endpoints) or ``ObjectNotFound``.
"""

from __future__ import annotations

import builtins
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

import boto3
import boto3.exceptions
import botocore.exceptions
import s3transfer.exceptions  # type: ignore[import-untyped]  # no stubs, not in the mypy overrides
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from providers.storage.base import (
    ObjectNotFound,
    Storage,
    StorageError,
    is_valid_key,
    map_storage_errors,
    validate_key,
    validate_prefix,
    write_atomic,
)

__all__ = ["S3Storage", "map_s3_errors"]

MiB = 1024 * 1024
DEFAULT_MULTIPART_THRESHOLD = 64 * MiB
DEFAULT_MULTIPART_CHUNKSIZE = 16 * MiB
#: One DeleteObjects request takes at most this many keys (an S3 limit).
_DELETE_BATCH = 1000
#: Keys per ListObjectsV2 page (the S3 maximum); a constant so tests can force many pages.
_LIST_PAGE_SIZE = 1000
#: SigV4 presigned URLs live at most seven days.
_MAX_PRESIGN_SECONDS = 7 * 24 * 3600

# The current AWS naming rule; S3-compatible services enforce the same one.
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SCHEME = re.compile(r"^s3://", re.IGNORECASE)

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
        raise _translate(exc, key, bucket) from exc


def _translate(exc: BaseException, key: str, bucket: str | None) -> StorageError:
    """The StorageError that describes an SDK exception."""
    subject = (repr(key) if key else "the bucket root") + (f" in s3://{bucket}" if bucket else "")
    # boto3 wraps upload ClientErrors in S3UploadFailedError without chaining them explicitly.
    if isinstance(
        exc, boto3.exceptions.S3UploadFailedError | s3transfer.exceptions.S3UploadFailedError
    ):
        inner = exc.__cause__ or exc.__context__
        if isinstance(inner, _SDK_ERRORS):
            return _translate(inner, key, bucket)
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
    status = _status(exc)
    detail = f"{code or status}: {error.get('Message') or exc}"
    if code in _NOT_FOUND_CODES:
        return ObjectNotFound(f"storage object {key!r} not found", key=key)
    if code == "NoSuchBucket":
        return _missing_bucket(bucket, key)
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


def _status(exc: botocore.exceptions.ClientError) -> int:
    """HTTP status of an error reply, 0 when unknown."""
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return status if isinstance(status, int) else 0


def _missing_bucket(bucket: str | None, key: str) -> StorageError:
    """The error for a bucket that does not exist."""
    name = repr(bucket) if bucket else "of the storage URL"
    return StorageError(
        f"S3 bucket {name} does not exist; create it first or fix the bucket name in the "
        "storage URL",
        key=key,
    )


class S3Storage:
    """Objects under ``prefix/`` in an S3 bucket; each PUT is atomic, so no partial objects.

    ``client`` injects a ready boto3 S3 client (its own endpoint, credentials and retries);
    otherwise one is made on first use from ``endpoint_url``, ``region`` and boto3's credential
    chain, retrying each request up to ``max_attempts`` times. Uploads at or above
    ``multipart_threshold`` bytes go in ``multipart_chunksize`` parts.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        client: Any | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
        multipart_chunksize: int = DEFAULT_MULTIPART_CHUNKSIZE,
        max_attempts: int = 5,
    ) -> None:
        if not _BUCKET_NAME.match(bucket) or ".." in bucket:
            raise StorageError(
                f"invalid S3 bucket name {bucket!r}: use 3-63 lowercase letters, digits, '.' "
                "and '-', starting and ending with a letter or digit"
            )
        # "jobs/" and "jobs" name the same prefix; a leading "/" is rejected like in keys.
        prefix = prefix.rstrip("/")
        if prefix:
            try:
                validate_key(prefix)
            except StorageError as exc:
                raise StorageError(
                    f"invalid S3 prefix {prefix!r} for bucket {bucket!r}: "
                    + str(exc).removeprefix(f"invalid storage key {prefix!r}: "),
                    key=prefix,
                ) from None
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        self.bucket = bucket
        self.prefix = prefix
        self.url = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
        self.endpoint_url = endpoint_url
        self.region = region
        self.max_attempts = max_attempts
        self.transfer_config = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=multipart_chunksize,
            # The CRT transfer client raises awscrt exceptions map_s3_errors does not know.
            preferred_transfer_client="classic",
        )
        self._client = client
        self._lock = threading.Lock()
        # A HEAD on a missing bucket answers a bare 404, like a missing key; the bucket is
        # checked once so that does not pass for "no such object".
        self._bucket_seen = False

    @classmethod
    def from_url(cls, url: str) -> S3Storage:
        """Open ``s3://bucket/optional/prefix``; endpoint and credentials come from the env."""
        text = url.strip()
        if not _SCHEME.match(text):
            raise StorageError(f"not an S3 URL: {url!r}; use s3://bucket/optional/prefix")
        rest = text[len("s3://") :]
        if "?" in rest or "#" in rest:
            raise StorageError(f"S3 URL {url!r} must not have a query or fragment")
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise StorageError(f"S3 URL {url!r} names no bucket; use s3://bucket/optional/prefix")
        endpoint = (
            os.environ.get("CLOUDRENDER_S3_ENDPOINT_URL")
            or os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL")
            or None
        )
        return cls(bucket, prefix, endpoint_url=endpoint)

    def __repr__(self) -> str:
        """The URL and any custom endpoint."""
        endpoint = f", endpoint_url={self.endpoint_url!r}" if self.endpoint_url else ""
        return f"S3Storage({self.url!r}{endpoint})"

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the settings only; the copy makes its own client on first use."""
        # boto3 clients cannot be pickled (nor shared across fork). An injected client is
        # replaced by one built from endpoint_url and region.
        state = self.__dict__.copy()
        state["_client"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore the settings, without a client yet."""
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """The boto3 S3 client, created on first use."""
        with self._lock:
            if self._client is None:
                with map_s3_errors("", bucket=self.bucket):
                    self._client = self._make_client()
            return self._client

    def _make_client(self) -> Any:
        """A client with bounded retries and timeouts; path-style for custom endpoints."""
        config = Config(
            connect_timeout=10,
            read_timeout=60,
            retries={"mode": "standard", "max_attempts": self.max_attempts},
            s3={"addressing_style": "path"} if self.endpoint_url else None,
        )
        # A private session: the default one is shared and not thread-safe.
        session = boto3.session.Session(region_name=self.region)
        return session.client("s3", endpoint_url=self.endpoint_url, config=config)

    def close(self) -> None:
        """Close the client's connections; the storage reconnects if used again."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def __enter__(self) -> S3Storage:
        """Use as a context manager that closes the client on exit."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the client."""
        self.close()

    def put_file(self, key: str, path: str) -> None:
        """Upload a local file as ``key`` (multipart above the threshold); atomic in S3."""
        name = self._name(key)
        try:
            # Checked here so a bad source reads as such, not as a failed transfer.
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise StorageError(
                f"cannot store {key!r}: local file {path!r} cannot be read: {exc.strerror or exc}",
                key=key,
            ) from exc
        client = self.client
        with map_storage_errors(key), map_s3_errors(key, bucket=self.bucket):
            client.upload_file(path, self.bucket, name, Config=self.transfer_config)
        self._bucket_seen = True

    def get_file(self, key: str, path: str) -> None:
        """Download ``key`` to a temp file beside ``path``, then rename it into place."""
        name = self._name(key)
        client = self.client

        def fetch(out: IO[bytes]) -> None:
            client.download_fileobj(self.bucket, name, out, Config=self.transfer_config)

        try:
            with map_storage_errors(key), map_s3_errors(key, bucket=self.bucket):
                write_atomic(path, fetch)
        except ObjectNotFound:
            self._check_bucket(key)
            raise
        self._bucket_seen = True

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        try:
            self._head(key)
        except ObjectNotFound:
            return False
        return True

    def size(self, key: str) -> int:
        """Size of the object in bytes; ObjectNotFound when missing."""
        return int(self._head(key)["ContentLength"])

    def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error."""
        name = self._name(key)
        client = self.client
        with map_s3_errors(key, bucket=self.bucket):
            client.delete_object(Bucket=self.bucket, Key=name)

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with ``prefix``; returns how many were removed."""
        validate_prefix(prefix)
        client = self.client
        removed = 0
        batch: builtins.list[str] = []
        with map_s3_errors(prefix, bucket=self.bucket):
            # Deleting while listing is safe: a continuation token marks a key, not a position.
            for name in self._iter_names(prefix):
                batch.append(name)
                if len(batch) == _DELETE_BATCH:
                    removed += self._delete_batch(client, prefix, batch)
                    batch = []
            if batch:
                removed += self._delete_batch(client, prefix, batch)
        return removed

    def list(self, prefix: str) -> builtins.list[str]:
        """Sorted keys starting with ``prefix`` as a plain string ("jobs/4" finds "jobs/42/a")."""
        validate_prefix(prefix)
        strip = len(self._root())
        with map_s3_errors(prefix, bucket=self.bucket):
            names = [name[strip:] for name in self._iter_names(prefix)]
        # Folder placeholders ("dir/") and other names no key can address are not objects here.
        return sorted(key for key in names if is_valid_key(key))

    def local_path(self, key: str) -> str | None:
        """Always None: S3 objects have no local file to read in place."""
        validate_key(key)
        return None

    def presigned_url(self, key: str, expires: int = 3600) -> str:
        """A GET URL for ``key`` that works without credentials for ``expires`` seconds."""
        name = self._name(key)
        if not 1 <= expires <= _MAX_PRESIGN_SECONDS:
            raise ValueError(f"expires must be 1..{_MAX_PRESIGN_SECONDS} seconds, not {expires}")
        client = self.client
        with map_s3_errors(key, bucket=self.bucket):
            url: str = client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": name}, ExpiresIn=expires
            )
        return url

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist yet (for tests and setup scripts)."""
        client = self.client
        with map_s3_errors("", bucket=self.bucket):
            region = client.meta.region_name
            params: dict[str, Any] = {"Bucket": self.bucket}
            # us-east-1 is the default location and rejects being named explicitly.
            if region and region not in ("us-east-1", "aws-global"):
                params["CreateBucketConfiguration"] = {"LocationConstraint": region}
            try:
                client.create_bucket(**params)
            except botocore.exceptions.ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code != "BucketAlreadyOwnedByYou":
                    raise
        self._bucket_seen = True

    def _root(self) -> str:
        """The S3 key prefix every object of this storage lives under."""
        return self.prefix + "/" if self.prefix else ""

    def _name(self, key: str) -> str:
        """The S3 object key of a validated storage key."""
        return self._root() + validate_key(key)

    def _head(self, key: str) -> dict[str, Any]:
        """HeadObject for ``key``; ObjectNotFound when missing (after checking the bucket)."""
        name = self._name(key)
        client = self.client
        try:
            with map_s3_errors(key, bucket=self.bucket):
                head: dict[str, Any] = client.head_object(Bucket=self.bucket, Key=name)
        except ObjectNotFound:
            self._check_bucket(key)
            raise
        self._bucket_seen = True
        return head

    def _check_bucket(self, key: str) -> None:
        """Raise a clear error if the bucket is missing; checked once per storage."""
        if self._bucket_seen:
            return
        client = self.client
        with map_s3_errors(key, bucket=self.bucket):
            try:
                client.head_bucket(Bucket=self.bucket)
            except botocore.exceptions.ClientError as exc:
                if _status(exc) == 404:
                    raise _missing_bucket(self.bucket, key) from exc
                raise
        self._bucket_seen = True

    def _iter_names(self, prefix: str) -> Iterator[str]:
        """Full S3 keys under the storage root that start with ``prefix``, in S3's order."""
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.bucket,
            Prefix=self._root() + prefix,
            PaginationConfig={"PageSize": _LIST_PAGE_SIZE},
        )
        for page in pages:
            for item in page.get("Contents", ()):
                yield str(item["Key"])

    def _delete_batch(self, client: Any, prefix: str, names: builtins.list[str]) -> int:
        """Delete up to 1000 S3 keys in one request; StorageError naming the first failure."""
        reply = client.delete_objects(
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": name} for name in names], "Quiet": True},
        )
        errors = reply.get("Errors") or []
        if errors:
            first = errors[0]
            key = str(first.get("Key", ""))[len(self._root()) :]
            code = str(first.get("Code", ""))
            fake = botocore.exceptions.ClientError(
                {"Error": {"Code": code, "Message": first.get("Message", "")}}, "DeleteObjects"
            )
            error = _translate(fake, key, self.bucket)
            raise StorageError(
                f"deleting prefix {prefix!r}: {len(errors)} of {len(names)} objects could not be "
                f"deleted; first: {error}",
                key=key,
                transient=error.transient,
            )
        return len(names)


if TYPE_CHECKING:
    _conforms: type[Storage] = S3Storage

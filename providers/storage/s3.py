"""Storage in an Amazon S3 bucket (or any S3-compatible service) under ``s3://bucket/prefix``.

Configuration, read only by ``S3Storage.from_url`` (the constructor reads no environment itself):

- ``CLOUDRENDER_S3_ENDPOINT_URL``, read through ``common.settings.Settings.s3_endpoint_url``:
  endpoint of an S3-compatible service (MinIO, Ceph, moto); when unset, boto's own
  ``AWS_ENDPOINT_URL_S3`` and then ``AWS_ENDPOINT_URL`` are used. With any custom endpoint
  requests use path-style addressing (``http://host/bucket/key``), which every S3-compatible
  service understands. Without one the client talks to AWS.
- Credentials and region come from boto3's usual chain: ``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN``; ``AWS_PROFILE`` with
  ``~/.aws/credentials`` and ``~/.aws/config`` (or ``AWS_SHARED_CREDENTIALS_FILE`` and
  ``AWS_CONFIG_FILE``); SSO, web identity and container or instance roles.
  ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` pick the region (us-east-1 when unset).

The bucket must exist: a missing bucket is an error naming it, never created behind the user's
back (``ensure_bucket`` exists for tests and setup scripts). Every botocore, boto3 and s3transfer
exception is translated by ``map_s3_errors`` (in ``s3_errors``) into ``StorageError``
(``transient`` for throttling, 5xx replies, timeouts and unreachable endpoints) or
``ObjectNotFound``.
"""

from __future__ import annotations

import base64
import builtins
import logging
import threading
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.exceptions
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from common.settings import Settings
from providers.storage.base import (
    ObjectNotFound,
    Storage,
    StorageError,
    map_storage_errors,
    open_source,
    validate_prefix,
    write_atomic,
)
from providers.storage.cloud_urls import check_location, parse_s3_url
from providers.storage.remote import (
    CONNECT_TIMEOUT,
    MAX_SIGNED_URL_SECONDS,
    RemoteStorage,
    content_type,
)
from providers.storage.s3_errors import (
    http_status,
    map_s3_errors,
    missing_bucket_error,
    translate_s3_error,
)
from providers.storage.signed import DEFAULT_UPLOAD_SECONDS, SignedUpload, check_upload_request

__all__ = ["S3Storage", "check_location", "map_s3_errors", "parse_s3_url"]

log = logging.getLogger(__name__)

MiB = 1024 * 1024
DEFAULT_MULTIPART_THRESHOLD = 64 * MiB
DEFAULT_MULTIPART_CHUNKSIZE = 16 * MiB
#: One DeleteObjects request takes at most this many keys (an S3 limit).
_DELETE_BATCH = 1000
#: The largest object one PutObject request may carry (an S3 limit); larger ones need multipart.
MAX_SINGLE_PUT = 5 * 1024**3
#: Keys per ListObjectsV2 page (the S3 maximum); a constant so tests can force many pages.
_LIST_PAGE_SIZE = 1000


class S3Storage(RemoteStorage):
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
        prefix = check_location(bucket, prefix)
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        self.bucket = bucket
        self._place(f"s3://{bucket}", prefix)
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
        bucket, prefix = parse_s3_url(url)
        return cls(bucket, prefix, endpoint_url=Settings.from_env().s3_endpoint_url)

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
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=60,
            retries={"mode": "standard", "max_attempts": self.max_attempts},
            # Presigned URLs default to SigV2 in us-east-1, which signs no headers (so cannot
            # bind an upload's checksum or length) and which newer regions refuse.
            signature_version="s3v4",
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

    def put_file(self, key: str, path: str) -> None:
        """Upload a local file as ``key`` (multipart above the threshold); atomic in S3."""
        name = self._name(key)
        # Checked here so a bad source reads as such, not as a failed transfer.
        with open_source(key, path):
            pass
        client = self.client
        with map_storage_errors(key), map_s3_errors(key, bucket=self.bucket):
            client.upload_file(
                path,
                self.bucket,
                name,
                ExtraArgs={"ContentType": content_type(key)},
                Config=self.transfer_config,
            )
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
        try:
            # A writer killed mid-upload left its parts under the prefix, billed until aborted.
            self.remove_temps(prefix)
        except StorageError as exc:  # no s3:ListBucketMultipartUploads: the objects went
            log.warning("unfinished uploads under %r not aborted: %s", prefix, exc)
        return removed

    def remove_temps(self, prefix: str) -> int:
        """Abort every unfinished multipart upload under ``prefix`` (a killed writer's; a live
        one's then fails), for a caller that knows no write there is still wanted; how many.
        S3 keeps (and bills) the parts of an upload nobody completes or aborts for ever."""
        validate_prefix(prefix)
        client = self.client
        aborted = 0
        with map_s3_errors(prefix, bucket=self.bucket):
            pages = client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=self._root + prefix
            )
            for page in pages:
                for upload in page.get("Uploads", ()):
                    try:
                        client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                    except botocore.exceptions.ClientError as exc:
                        if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                            raise
                        continue  # completed or aborted meanwhile
                    aborted += 1
        return aborted

    def list(self, prefix: str) -> builtins.list[str]:
        """Sorted keys starting with ``prefix`` as a plain string ("jobs/4" finds "jobs/42/a")."""
        validate_prefix(prefix)
        with map_s3_errors(prefix, bucket=self.bucket):
            names = builtins.list(self._iter_names(prefix))
        return self._keys(names)

    def presigned_url(self, key: str, expires: int = 3600) -> str:
        """A GET URL for ``key`` that works without credentials for ``expires`` seconds."""
        name = self._name(key)
        if not 1 <= expires <= MAX_SIGNED_URL_SECONDS:
            raise ValueError(f"expires must be 1..{MAX_SIGNED_URL_SECONDS} seconds, not {expires}")
        client = self.client
        with map_s3_errors(key, bucket=self.bucket):
            url: str = client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": name}, ExpiresIn=expires
            )
        return url

    def presigned_put(
        self, key: str, *, sha256_hex: str, size: int, expires: float = DEFAULT_UPLOAD_SECONDS
    ) -> SignedUpload | None:
        """A PUT URL for ``key`` that S3 honours only for ``size`` bytes hashing to
        ``sha256_hex`` (signed Content-Length and x-amz-checksum-sha256); None above 5 GiB."""
        name = self._name(key)
        check_upload_request(key, sha256_hex, size, expires)
        if not 1 <= expires <= MAX_SIGNED_URL_SECONDS:
            raise StorageError(
                f"signed URL lifetime must be between 1 second and 7 days, not {expires}s", key=key
            )
        if size > MAX_SINGLE_PUT:
            return None
        checksum = base64.b64encode(bytes.fromhex(sha256_hex)).decode()
        client = self.client
        with map_s3_errors(key, bucket=self.bucket):
            url: str = client.generate_presigned_url(
                "put_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": name,
                    "ChecksumSHA256": checksum,
                    "ContentLength": size,
                },
                ExpiresIn=int(expires),
            )
        # Signed headers must be sent with these values or the signature fails; S3 then
        # refuses a body whose sha256 differs from the signed checksum.
        headers = {"Content-Length": str(size), "x-amz-checksum-sha256": checksum}
        signed = parse_qs(urlsplit(url).query).get("X-Amz-SignedHeaders", [""])[0].split(";")
        # Checked, not assumed: an injected client signing SigV2 binds neither header.
        checks = {"size"} if "content-length" in signed else set()
        if "x-amz-checksum-sha256" in signed:
            checks.add("sha256")
        return SignedUpload(url, headers, frozenset(checks))

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
                if http_status(exc) == 404:
                    raise missing_bucket_error(self.bucket, key) from exc
                raise
        self._bucket_seen = True

    def _iter_names(self, prefix: str) -> Iterator[str]:
        """Full S3 keys under the storage root that start with ``prefix``, in S3's order."""
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.bucket,
            Prefix=self._root + prefix,
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
            key = str(first.get("Key", ""))[len(self._root) :]
            code = str(first.get("Code", ""))
            fake = botocore.exceptions.ClientError(
                {"Error": {"Code": code, "Message": first.get("Message", "")}}, "DeleteObjects"
            )
            error = translate_s3_error(fake, key, self.bucket)
            raise StorageError(
                f"deleting prefix {prefix!r}: {len(errors)} of {len(names)} objects could not be "
                f"deleted; first: {error}",
                key=key,
                transient=error.transient,
            )
        return len(names)


if TYPE_CHECKING:
    _conforms: type[Storage] = S3Storage

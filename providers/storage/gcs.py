"""Google Cloud Storage backend: objects under ``gs://bucket/prefix``.

Credentials come from the environment, as with gsutil and the client libraries:

- ``STORAGE_EMULATOR_HOST`` (e.g. ``http://localhost:9023``): talk to that emulator, anonymously.
- otherwise Application Default Credentials: ``GOOGLE_APPLICATION_CREDENTIALS`` (a key file),
  ``gcloud auth application-default login``, or the metadata server on Google Cloud.
- ``GOOGLE_CLOUD_PROJECT``: the project (optional; object operations do not need one).

Signed URLs need credentials that hold a private key (a service-account key file).
"""

from __future__ import annotations

import builtins
import datetime
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from google.auth.credentials import Signing
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY

from providers.storage.base import (
    ObjectNotFound,
    Storage,
    StorageError,
    map_storage_errors,
    open_source,
    validate_prefix,
    write_atomic,
)
from providers.storage.cloud_urls import check_gcs_bucket, parse_gcs_url
from providers.storage.gcs_errors import map_gcs_errors, raise_missing_bucket
from providers.storage.remote import (
    CONNECT_TIMEOUT,
    MAX_SIGNED_URL_SECONDS,
    RemoteStorage,
    check_root,
    content_type,
)
from providers.storage.signed import DEFAULT_UPLOAD_SECONDS, SignedUpload, check_upload_request

__all__ = ["DEFAULT_CHUNK_SIZE", "GCSStorage", "map_gcs_errors", "parse_gcs_url"]

#: Upload chunk for files above the library's 8 MiB single-request limit (resumable uploads).
DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024
# GCS rejects resumable chunks that are not whole multiples of 256 KiB.
_CHUNK_QUANTUM = 256 * 1024
_CONTENT_TYPE = "application/octet-stream"
#: How long transient failures are retried before GCS has answered this store at all: an
#: endpoint that cannot be reached (a wrong STORAGE_EMULATOR_HOST, no network) fails in
#: seconds, not after the whole retry deadline; once it has answered, blips get the full one.
FIRST_CONTACT_SECONDS = 10.0


class GCSStorage(RemoteStorage):
    """Objects in a GCS bucket under an optional prefix; uploads replace objects atomically."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        client: storage.Client | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        timeout: float = 60.0,
        retry_deadline: float = 120.0,
    ) -> None:
        """Use ``bucket`` through ``client`` (default: one built from the environment).

        ``timeout`` bounds each HTTP request; ``retry_deadline`` is how long transient failures
        are retried in total before StorageError(transient=True) is raised (0: no retries).
        """
        if chunk_size <= 0 or chunk_size % _CHUNK_QUANTUM:
            raise ValueError(f"chunk_size must be a positive multiple of 256 KiB, not {chunk_size}")
        self.bucket_name = check_gcs_bucket(bucket, f"gs://{bucket}")
        self._place(f"gs://{self.bucket_name}", check_root(prefix, f"gs://{bucket}/{prefix}"))
        self._chunk_size = chunk_size
        self._timeout = timeout
        self._retry_deadline = retry_deadline
        self._connect(client)

    def _connect(self, client: storage.Client | None) -> None:
        """Use ``client``, or one built from the environment (which this store then owns)."""
        self._owns_client = client is None
        self._client = client if client is not None else _client_from_environment()
        self._bucket = self._client.bucket(self.bucket_name)
        # Set once the bucket is known to exist, so a 404 can be taken to mean a missing object.
        self._bucket_checked = False
        # Set once the service has answered (anything but a network failure or a 5xx).
        self._reached = False

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        timeout: float = 60.0,
        retry_deadline: float = 120.0,
    ) -> GCSStorage:
        """Open ``gs://bucket/prefix`` with a client configured from the environment."""
        bucket, prefix = parse_gcs_url(url)
        return cls(
            bucket, prefix, chunk_size=chunk_size, timeout=timeout, retry_deadline=retry_deadline
        )

    def __repr__(self) -> str:
        """The class and URL."""
        return f"GCSStorage({self.url!r})"

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the settings only; the copy builds its client from its own environment."""
        # Clients hold sessions and credentials that neither pickle nor survive a fork.
        state = self.__dict__.copy()
        for name in ("_client", "_bucket", "_owns_client", "_bucket_checked", "_reached"):
            del state[name]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore the settings and connect with a client from the environment."""
        self.__dict__.update(state)
        self._connect(None)

    @property
    def _timeouts(self) -> tuple[float, float]:
        """(connect, read) seconds for one request: connecting never takes the whole timeout."""
        return (min(CONNECT_TIMEOUT, self._timeout), self._timeout)

    @property
    def _retry(self) -> Any:
        """The retry policy for the next request: short until the service has answered."""
        deadline = self._retry_deadline
        if not self._reached:
            deadline = min(deadline, FIRST_CONTACT_SECONDS)
        return DEFAULT_RETRY.with_timeout(deadline) if deadline > 0 else None

    def close(self) -> None:
        """Release the HTTP connections of a client this store created."""
        if self._owns_client:
            self._client.close()

    def put_file(self, key: str, path: str) -> None:
        """Upload a local file as ``key``; GCS makes the new object visible only when complete."""
        name = self._name(key)
        src = open_source(key, path)  # closed by the with below
        with src, map_storage_errors(key), self._errors(key, writing=True):
            # Files over 8 MiB go up as a resumable upload in chunk_size pieces, each retried alone.
            blob = self._bucket.blob(name, chunk_size=self._chunk_size)
            blob.upload_from_file(
                src,
                size=os.fstat(src.fileno()).st_size,
                content_type=content_type(key),
                timeout=self._timeouts,
                retry=self._retry,
            )

    def get_file(self, key: str, path: str) -> None:
        """Download ``key`` to a local path via a temp file in the same directory and a rename."""
        generation = self._stat(key).generation
        # A fresh blob builds its own download URL; a reloaded one would use the server's
        # mediaLink, which gcp-storage-emulator leaves unescaped ('?', '#' in names break).
        blob = self._bucket.blob(self._name(key))

        def fetch(out: IO[bytes]) -> None:
            with self._errors(key):
                # Pinning the generation keeps retried ranges from mixing two versions of the
                # object when another writer replaces it mid-download.
                blob.download_to_file(
                    out,
                    if_generation_match=generation,
                    timeout=self._timeouts,
                    retry=self._retry,
                )

        with map_storage_errors(key):
            write_atomic(path, fetch)

    def size(self, key: str) -> int:
        """Size of the object in bytes; ObjectNotFound when missing."""
        return int(self._stat(key).size)

    def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error."""
        self._delete(key)

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with ``prefix``; returns how many were removed."""
        return sum(self._delete(key) for key in self.list(prefix))

    def list(self, prefix: str) -> builtins.list[str]:
        """Sorted keys starting with ``prefix`` as a plain string ("jobs/4" finds "jobs/42/a")."""
        validate_prefix(prefix)
        try:
            with self._errors(prefix):
                names = [
                    blob.name
                    for blob in self._client.list_blobs(
                        self._bucket,
                        prefix=self._root + prefix,
                        fields="items(name),nextPageToken",
                        timeout=self._timeouts,
                        retry=self._retry,
                    )
                ]
        except ObjectNotFound as exc:
            # Listing never 404s on a present bucket; _errors found it but cannot tell otherwise.
            raise StorageError(
                f"listing {prefix!r} in {self.url} failed: {exc}", key=prefix
            ) from exc
        return self._keys(names)

    def presigned_url(self, key: str, expires: float = 3600) -> str:
        """A V4 signed URL that lets anyone GET ``key`` for ``expires`` seconds."""
        name = self._name(key)
        if not 0 < expires <= MAX_SIGNED_URL_SECONDS:
            raise StorageError(
                f"signed URL lifetime must be between 1 second and 7 days, not {expires}s", key=key
            )
        # google.cloud.Client exposes its credentials only as this attribute.
        credentials = self._client._credentials
        if not isinstance(credentials, Signing):
            raise StorageError(
                "signed URLs need service-account credentials: point "
                "GOOGLE_APPLICATION_CREDENTIALS at a service-account key file "
                f"(current credentials: {type(credentials).__name__})",
                key=key,
            )
        with self._errors(key):
            url: str = self._bucket.blob(name).generate_signed_url(
                version="v4",
                expiration=datetime.timedelta(seconds=expires),
                method="GET",
            )
        return url

    def presigned_put(
        self, key: str, *, sha256_hex: str, size: int, expires: float = DEFAULT_UPLOAD_SECONDS
    ) -> SignedUpload | None:
        """A V4 signed PUT of exactly ``size`` bytes as a new ``key`` (never replacing one);
        None without credentials that can sign. GCS cannot check a sha256, so the URL does not."""
        name = self._name(key)
        check_upload_request(key, sha256_hex, size, expires)
        if expires > MAX_SIGNED_URL_SECONDS:
            raise StorageError(
                f"signed URL lifetime must be between 1 second and 7 days, not {expires}s", key=key
            )
        # google.cloud.Client exposes its credentials only as this attribute.
        if not isinstance(self._client._credentials, Signing):
            return None
        # Signed headers: a request without them, or with other values, fails the signature.
        headers = {
            "Content-Type": _CONTENT_TYPE,
            "x-goog-content-length-range": f"{size},{size}",
            "x-goog-if-generation-match": "0",
        }
        with self._errors(key):
            url: str = self._bucket.blob(name).generate_signed_url(
                version="v4",
                expiration=datetime.timedelta(seconds=expires),
                method="PUT",
                content_type=_CONTENT_TYPE,
                headers={k: v for k, v in headers.items() if k != "Content-Type"},
            )
        return SignedUpload(url, headers, frozenset({"size", "no-overwrite"}))

    def _stat(self, key: str) -> storage.Blob:
        """The blob for ``key`` with its metadata loaded; ObjectNotFound when missing."""
        blob = self._bucket.blob(self._name(key))
        with self._errors(key):
            blob.reload(projection="noAcl", timeout=self._timeouts, retry=self._retry)
        return blob

    def _delete(self, key: str) -> bool:
        """Delete the object for ``key``; False when there was none."""
        name = self._name(key)
        try:
            with self._errors(key):
                # Retrying a delete that already succeeded yields 404, which means "gone" here.
                self._bucket.delete_blob(name, timeout=self._timeouts, retry=self._retry)
        except ObjectNotFound:
            return False
        return True

    @contextmanager
    def _errors(self, key: str, *, writing: bool = False) -> Iterator[None]:
        """map_gcs_errors, telling a missing bucket apart from a missing object."""
        try:
            with map_gcs_errors(key, bucket=self.bucket_name):
                yield
        except ObjectNotFound as exc:
            self._reached = True
            if writing:
                # An upload only 404s when the bucket is not there.
                raise_missing_bucket(self.bucket_name, key, exc)
            if not self._bucket_checked:
                self._check_bucket(key, exc)
            raise
        except StorageError as exc:
            # An answer from the service (a denial, a refusal) shows it can be reached.
            self._reached = self._reached or not exc.transient
            raise
        self._reached = True

    def _check_bucket(self, key: str, cause: ObjectNotFound) -> None:
        """After a 404 the emulator does not say what is missing; ask once about the bucket."""
        try:
            with map_gcs_errors(key, bucket=self.bucket_name):
                found = self._bucket.exists(timeout=self._timeouts, retry=self._retry)
        except StorageError as exc:
            # Without storage.buckets.get permission we cannot tell; keep the object's 404.
            if not exc.transient:
                self._bucket_checked = True
            return
        if not found:
            raise_missing_bucket(self.bucket_name, key, cause)
        self._bucket_checked = True


def _client_from_environment() -> storage.Client:
    """A client from STORAGE_EMULATOR_HOST or Application Default Credentials."""
    # An explicit None keeps the library from guessing a project; objects do not need one.
    project = os.environ.get("GOOGLE_CLOUD_PROJECT") or None
    with map_gcs_errors(None):
        return storage.Client(project=project)


if TYPE_CHECKING:
    _conforms: type[Storage] = GCSStorage

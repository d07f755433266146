"""Azure Blob Storage backend: block blobs under ``az://container/prefix``.

The storage account comes from the environment (read by ``azure_client``), in this order:

- ``AZURE_STORAGE_CONNECTION_STRING``: any connection string with ``AccountKey=`` or
  ``SharedAccessSignature=`` (Azurite's included; ``UseDevelopmentStorage=true`` too).
- ``AZURE_STORAGE_ACCOUNT`` and ``AZURE_STORAGE_KEY``: account name and shared key, for
  ``https://<account>.blob.core.windows.net``.

Azure AD logins (managed identity, ``az login``) would need azure-identity, which is not a
dependency, so they are not supported. Signed URLs need the account key.
"""

from __future__ import annotations

import builtins
import datetime
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from azure.storage.blob import (
    BlobSasPermissions,
    ContainerClient,
    ContentSettings,
    generate_blob_sas,
)

from providers.storage.azure_client import account_key_of, container_from_environment
from providers.storage.azure_errors import map_azure_errors
from providers.storage.base import (
    ObjectNotFound,
    Storage,
    StorageError,
    map_storage_errors,
    open_source,
    validate_key,
    validate_prefix,
    write_atomic,
)
from providers.storage.cloud_urls import (
    check_azure_container,
    check_azure_dots,
    check_azure_prefix,
    parse_azure_url,
)
from providers.storage.remote import (
    CONNECT_TIMEOUT,
    TRANSIENT_STATUS,
    RemoteStorage,
    check_root,
    content_type,
)
from providers.storage.signed import DEFAULT_UPLOAD_SECONDS, SignedUpload, check_upload_request

__all__ = ["DEFAULT_CHUNK_SIZE", "AzureBlobStorage", "map_azure_errors", "parse_azure_url"]

#: Files up to this size go up in one request; larger ones as blocks of this size, committed
#: together at the end, so readers never see a partial blob either way.
DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024
#: The largest blob one Put Blob request may carry (an Azure limit); larger ones need blocks.
MAX_SINGLE_PUT = 5000 * 1024 * 1024
#: Connection retries before the service has answered this store at all: the SDK's default
#: back-off (15 s, then more) made an unreachable endpoint (a wrong BlobEndpoint, no network)
#: take minutes to report; once it has answered, connection blips get the client's full policy.
FIRST_CONTACT_CONNECT_RETRIES = 1
# A blob batch request carries at most 256 sub-requests.
_BATCH_LIMIT = 256


class AzureBlobStorage(RemoteStorage):
    """Block blobs in an Azure container under an optional prefix; uploads commit atomically."""

    def __init__(
        self, container: ContainerClient, prefix: str = "", *, max_concurrency: int = 4
    ) -> None:
        """Use the container ``container`` talks to; transfers use ``max_concurrency`` threads."""
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, not {max_concurrency}")
        name = str(container.container_name)
        self.container_name = check_azure_container(name, f"az://{name}")
        self._place(
            f"az://{self.container_name}",
            check_root(prefix, f"az://{name}/{prefix}", check_azure_prefix),
        )
        self._container = container
        self._max_concurrency = max_concurrency
        # What from_url built the client with, so a pickled copy can build it again.
        self._client_options: dict[str, Any] | None = None
        # Set once the service has answered (anything but a network failure or a 5xx).
        self._reached = False

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        max_concurrency: int = 4,
        timeout: float | None = None,
        retries: int | None = None,
    ) -> AzureBlobStorage:
        """Open ``az://container/prefix`` in the account the environment names.

        ``timeout`` bounds each read (SDK default: 60 s) and connecting (never longer than
        CONNECT_TIMEOUT); ``retries`` caps retries of transient failures (SDK default policy
        when None, 0 for none).
        """
        container, prefix = parse_azure_url(url)
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be positive, not {chunk_size}")
        options: dict[str, Any] = {
            "max_block_size": chunk_size,
            "max_single_put_size": chunk_size,
            # The SDK waits 20 s for a connection, on each of its tries.
            "connection_timeout": CONNECT_TIMEOUT,
        }
        if timeout is not None:
            options["connection_timeout"] = min(timeout, CONNECT_TIMEOUT)
            options["read_timeout"] = timeout
        if retries is not None:
            options["retry_total"] = retries
        client = container_from_environment(container, options)
        store = cls(client, prefix, max_concurrency=max_concurrency)
        store._client_options = options
        return store

    def __repr__(self) -> str:
        """The class and URL."""
        return f"AzureBlobStorage({self.url!r})"

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the settings only; the copy builds its client from its own environment."""
        # The client holds an HTTP session and the account key: neither belongs in a pickle.
        state = self.__dict__.copy()
        del state["_container"]
        state["_reached"] = False  # the copy's own client has not reached anything yet
        if state["_client_options"] is None:
            state["_client_options"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore the settings and connect as from_url does, from the environment."""
        self.__dict__.update(state)
        options = self._client_options or {}
        self._container = container_from_environment(self.container_name, options)

    def close(self) -> None:
        """Release the client's HTTP connections."""
        self._container.close()

    def put_file(self, key: str, path: str) -> None:
        """Upload a local file as ``key``; the new blob appears whole, at its final commit."""
        name = self._name(key)
        src = open_source(key, path)  # closed by the with below
        with src, map_storage_errors(key), self._errors(key):
            self._container.upload_blob(
                name,
                src,
                length=os.fstat(src.fileno()).st_size,
                overwrite=True,
                max_concurrency=self._max_concurrency,
                content_settings=ContentSettings(content_type=content_type(key)),
                **self._retries(),
            )

    def get_file(self, key: str, path: str) -> None:
        """Download ``key`` to a local path via a temp file in the same directory and a rename."""
        name = self._name(key)
        with self._errors(key):
            # The first request happens here, so a missing blob fails before any file is made.
            downloader = self._container.download_blob(
                name, max_concurrency=self._max_concurrency, **self._retries()
            )

        def fetch(out: IO[bytes]) -> None:
            with self._errors(key):
                # Later ranges carry the first response's ETag: a blob replaced mid-download
                # fails with 412 instead of mixing two versions.
                downloader.readinto(out)

        with map_storage_errors(key):
            write_atomic(path, fetch)

    def size(self, key: str) -> int:
        """Size of the blob in bytes; ObjectNotFound when missing."""
        name = self._name(key)
        with self._errors(key):
            # Not BlobClient.exists(): it answers False for a missing container too.
            properties = self._container.get_blob_client(name).get_blob_properties(
                **self._retries()
            )
        return int(properties.size)

    def delete(self, key: str) -> None:
        """Remove the blob (with its snapshots); a missing key is not an error."""
        name = self._name(key)
        try:
            with self._errors(key):
                self._container.delete_blob(name, delete_snapshots="include", **self._retries())
        except ObjectNotFound:
            pass

    def delete_prefix(self, prefix: str) -> int:
        """Remove every blob whose key starts with ``prefix``; returns how many were removed."""
        names = [self._root + key for key in self.list(prefix)]
        removed = 0
        for start in range(0, len(names), _BATCH_LIMIT):
            with self._errors(prefix):
                responses = builtins.list(
                    self._container.delete_blobs(
                        *names[start : start + _BATCH_LIMIT],
                        delete_snapshots="include",
                        raise_on_any_failure=False,
                        **self._retries(),
                    )
                )
            for response in responses:
                status = int(response.status_code)
                if status in (200, 202):
                    removed += 1
                elif status != 404:  # 404: deleted by someone else meanwhile
                    raise StorageError(
                        f"deleting blobs under {prefix!r} in {self.url} failed: HTTP {status} "
                        f"{response.reason}",
                        key=prefix,
                        transient=status in TRANSIENT_STATUS,
                    )
        return removed

    def list(self, prefix: str) -> builtins.list[str]:
        """Sorted keys starting with ``prefix`` as a plain string ("jobs/4" finds "jobs/42/a")."""
        validate_prefix(prefix)
        with self._errors(prefix):
            names = builtins.list(
                self._container.list_blob_names(
                    name_starts_with=self._root + prefix, **self._retries()
                )
            )
        return self._keys(names)

    def presigned_url(self, key: str, expires: float = 3600) -> str:
        """A read-only SAS URL that lets anyone GET ``key`` for ``expires`` seconds."""
        name = self._name(key)
        if expires <= 0:
            raise StorageError(f"signed URL lifetime must be positive, not {expires}s", key=key)
        account_key = account_key_of(self._container)
        if account_key is None:
            raise StorageError(
                "Azure signed URLs need the storage account key: use a connection string with "
                "AccountKey=..., or set AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY",
                key=key,
            )
        return self._sas_url(key, name, account_key, BlobSasPermissions(read=True), expires)

    def presigned_put(
        self, key: str, *, sha256_hex: str, size: int, expires: float = DEFAULT_UPLOAD_SECONDS
    ) -> SignedUpload | None:
        """A create-only SAS URL for one Put Blob of ``key`` (an existing blob is never
        replaced); None without the account key or above 5000 MiB. A SAS binds no header, so
        neither the size nor the sha256 is enforced."""
        name = self._name(key)
        check_upload_request(key, sha256_hex, size, expires)
        account_key = account_key_of(self._container)
        if account_key is None or size > MAX_SINGLE_PUT:
            return None
        # Create only: no write, so a blob already there cannot be overwritten.
        url = self._sas_url(key, name, account_key, BlobSasPermissions(create=True), expires)
        headers = {"x-ms-blob-type": "BlockBlob", "If-None-Match": "*"}
        return SignedUpload(url, headers, frozenset({"no-overwrite"}))

    def _sas_url(
        self, key: str, name: str, account_key: str, permission: Any, expires: float
    ) -> str:
        """The blob's URL with a SAS granting ``permission`` for ``expires`` seconds."""
        expiry = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=expires)
        blob = self._container.get_blob_client(name)
        with self._errors(key):
            sas = generate_blob_sas(
                account_name=self._container.account_name,
                container_name=self.container_name,
                blob_name=name,
                account_key=account_key,
                permission=permission,
                expiry=expiry,
            )
        return f"{blob.url}?{sas}"

    def _name(self, key: str) -> str:
        """Blob name of a validated key."""
        return self._root + check_azure_dots(validate_key(key), "key")

    def _retries(self) -> dict[str, Any]:
        """Per-request retry options: few connection retries until the service has answered."""
        return {} if self._reached else {"retry_connect": FIRST_CONTACT_CONNECT_RETRIES}

    @contextmanager
    def _errors(self, key: str) -> Iterator[None]:
        """map_azure_errors for this container; notes when the service has answered."""
        try:
            with map_azure_errors(key, container=self.container_name):
                yield
        except StorageError as exc:
            # An answer from the service (a 404, a denial) shows it can be reached.
            self._reached = self._reached or not exc.transient
            raise
        self._reached = True


if TYPE_CHECKING:
    _conforms: type[Storage] = AzureBlobStorage

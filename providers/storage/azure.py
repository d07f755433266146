"""Azure Blob Storage backend: block blobs under ``az://container/prefix``.

The storage account comes from the environment, in this order:

- ``AZURE_STORAGE_CONNECTION_STRING``: any connection string with ``AccountKey=`` or
  ``SharedAccessSignature=`` (Azurite's included; ``UseDevelopmentStorage=true`` too).
- ``AZURE_STORAGE_ACCOUNT`` and ``AZURE_STORAGE_KEY``: account name and shared key, for
  ``https://<account>.blob.core.windows.net``.

Azure AD logins (managed identity, ``az login``) would need azure-identity, which is not a
dependency, so they are not supported. Signed URLs need the account key.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import datetime
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, NoReturn
from urllib.parse import parse_qs, urlsplit

import requests
from azure.core import exceptions as azure_exceptions
from azure.storage.blob import BlobSasPermissions, ContainerClient, generate_blob_sas

from providers.storage.base import (
    ObjectNotFound,
    Storage,
    StorageError,
    is_valid_key,
    map_storage_errors,
    open_source,
    validate_key,
    validate_prefix,
    write_atomic,
)
from providers.storage.remote import NETWORK_ERRORS, TRANSIENT_STATUS, check_root

__all__ = ["DEFAULT_CHUNK_SIZE", "AzureBlobStorage", "map_azure_errors", "parse_azure_url"]

#: Files up to this size go up in one request; larger ones as blocks of this size, committed
#: together at the end, so readers never see a partial blob either way.
DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024
# A blob batch request carries at most 256 sub-requests.
_BATCH_LIMIT = 256
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
_ENV_HINT = (
    "set AZURE_STORAGE_CONNECTION_STRING to the account's connection string, or "
    "AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY to its name and access key"
)

# 3-63 lowercase letters, digits and single '-' between them; or one of the special containers.
_CONTAINER = re.compile(r"^(?:\$root|\$web|[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62})$")


class AzureBlobStorage:
    """Block blobs in an Azure container under an optional prefix; uploads commit atomically."""

    def __init__(
        self, container: ContainerClient, prefix: str = "", *, max_concurrency: int = 4
    ) -> None:
        """Use the container ``container`` talks to; transfers use ``max_concurrency`` threads."""
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, not {max_concurrency}")
        name = str(container.container_name)
        self.container_name = _check_container(name, f"az://{name}")
        self.prefix = check_root(prefix, f"az://{name}/{prefix}", _check_prefix)
        self.url = f"az://{self.container_name}" + (f"/{self.prefix}" if self.prefix else "")
        self._root = f"{self.prefix}/" if self.prefix else ""
        self._container = container
        self._max_concurrency = max_concurrency
        # What from_url built the client with, so a pickled copy can build it again.
        self._client_options: dict[str, Any] | None = None

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

        ``timeout`` bounds connecting and each read (SDK default: 20 s and 60 s); ``retries``
        caps retries of transient failures (SDK default policy when None, 0 for none).
        """
        container, prefix = parse_azure_url(url)
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be positive, not {chunk_size}")
        options: dict[str, Any] = {
            "max_block_size": chunk_size,
            "max_single_put_size": chunk_size,
        }
        if timeout is not None:
            options["connection_timeout"] = timeout
            options["read_timeout"] = timeout
        if retries is not None:
            options["retry_total"] = retries
        client = _container_from_environment(container, options)
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
        if state["_client_options"] is None:
            state["_client_options"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore the settings and connect as from_url does, from the environment."""
        self.__dict__.update(state)
        options = self._client_options or {}
        self._container = _container_from_environment(self.container_name, options)

    def close(self) -> None:
        """Release the client's HTTP connections."""
        self._container.close()

    def __enter__(self) -> AzureBlobStorage:
        """Use as a context manager that closes the client on exit."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the client."""
        self.close()

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
            )

    def get_file(self, key: str, path: str) -> None:
        """Download ``key`` to a local path via a temp file in the same directory and a rename."""
        name = self._name(key)
        with self._errors(key):
            # The first request happens here, so a missing blob fails before any file is made.
            downloader = self._container.download_blob(name, max_concurrency=self._max_concurrency)

        def fetch(out: IO[bytes]) -> None:
            with self._errors(key):
                # Later ranges carry the first response's ETag: a blob replaced mid-download
                # fails with 412 instead of mixing two versions.
                downloader.readinto(out)

        with map_storage_errors(key):
            write_atomic(path, fetch)

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under ``key``."""
        try:
            self.size(key)
        except ObjectNotFound:
            return False
        return True

    def size(self, key: str) -> int:
        """Size of the blob in bytes; ObjectNotFound when missing."""
        name = self._name(key)
        with self._errors(key):
            # Not BlobClient.exists(): it answers False for a missing container too.
            properties = self._container.get_blob_client(name).get_blob_properties()
        return int(properties.size)

    def delete(self, key: str) -> None:
        """Remove the blob (with its snapshots); a missing key is not an error."""
        name = self._name(key)
        try:
            with self._errors(key):
                self._container.delete_blob(name, delete_snapshots="include")
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
                self._container.list_blob_names(name_starts_with=self._root + prefix)
            )
        return sorted(key for key in (n[len(self._root) :] for n in names) if is_valid_key(key))

    def local_path(self, key: str) -> str | None:
        """None: blobs have no local path."""
        validate_key(key)
        return None

    def presigned_url(self, key: str, expires: float = 3600) -> str:
        """A read-only SAS URL that lets anyone GET ``key`` for ``expires`` seconds."""
        name = self._name(key)
        if expires <= 0:
            raise StorageError(f"signed URL lifetime must be positive, not {expires}s", key=key)
        account_key = _account_key(self._container)
        if account_key is None:
            raise StorageError(
                "Azure signed URLs need the storage account key: use a connection string with "
                "AccountKey=..., or set AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY",
                key=key,
            )
        expiry = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=expires)
        blob = self._container.get_blob_client(name)
        with self._errors(key):
            sas = generate_blob_sas(
                account_name=self._container.account_name,
                container_name=self.container_name,
                blob_name=name,
                account_key=account_key,
                permission=BlobSasPermissions(read=True),
                expiry=expiry,
            )
        return f"{blob.url}?{sas}"

    def _name(self, key: str) -> str:
        """Blob name of a validated key."""
        return self._root + _check_dots(validate_key(key), "key")

    @contextmanager
    def _errors(self, key: str) -> Iterator[None]:
        """map_azure_errors for this container."""
        with map_azure_errors(key, container=self.container_name):
            yield


def parse_azure_url(url: str) -> tuple[str, str]:
    """Split ``az://container/prefix`` into container and prefix; StorageError when malformed."""
    text = url.strip()
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() != "az":
        raise StorageError(f"not an Azure Blob URL: {url!r}; expected az://container/prefix")
    container, _, prefix = rest.partition("/")
    return _check_container(container, url), check_root(prefix, url, _check_prefix)


@contextmanager
def map_azure_errors(key: str | None, *, container: str | None = None) -> Iterator[None]:
    """Translate azure-core and HTTP errors into StorageError for ``key``.

    A missing blob becomes ObjectNotFound, a missing container a StorageError that says to create
    it, rejected credentials one that says what to fix; throttling, 5xx, timeouts and connection
    failures a StorageError with ``transient`` set.
    """
    what = f"{key!r}" if key is not None else "Azure Blob Storage"
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
            f"Azure request for {what} failed: {type(exc).__name__}: {_summary(exc)}",
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


def _container_from_environment(container: str, options: dict[str, Any]) -> ContainerClient:
    """A client for ``container`` in the account the environment variables describe."""
    connection_string = os.environ.get("AZURE_STORAGE_CONNECTION_STRING", "").strip()
    account = os.environ.get("AZURE_STORAGE_ACCOUNT", "").strip()
    key = os.environ.get("AZURE_STORAGE_KEY", "").strip()
    try:
        if connection_string:
            where = "AZURE_STORAGE_CONNECTION_STRING"
            client = ContainerClient.from_connection_string(connection_string, container, **options)
        elif account and key:
            where = "AZURE_STORAGE_KEY"
            client = ContainerClient(
                f"https://{account}.blob.core.windows.net",
                container,
                credential={"account_name": account, "account_key": key},
                **options,
            )
        elif account or key:
            given, missing = (
                ("AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY")
                if account
                else ("AZURE_STORAGE_KEY", "AZURE_STORAGE_ACCOUNT")
            )
            raise StorageError(f"{given} is set but {missing} is not; {_ENV_HINT}")
        else:
            raise StorageError(
                f"no Azure storage account configured for az://{container}; {_ENV_HINT}"
            )
    except ValueError as exc:
        # The SDK's only complaint about a malformed connection string or account URL.
        raise StorageError(f"invalid {where}: {exc}; {_ENV_HINT}") from exc
    # A SAS token travels in the URL's query instead of the credential.
    if client.credential is None and "sig" not in parse_qs(urlsplit(client.url).query):
        raise StorageError(
            f"{where} holds no credentials (neither AccountKey= nor SharedAccessSignature=); "
            f"{_ENV_HINT}"
        )
    account_key = _account_key(client)
    if account_key is not None:
        try:
            base64.b64decode(account_key, validate=True)
        except binascii.Error:
            raise StorageError(
                f"the account key in {where} is not valid base64; copy it again from the portal "
                "(Storage account > Access keys)"
            ) from None
    return client


def _account_key(container: ContainerClient) -> str | None:
    """The shared account key the client signs with, if it has one."""
    key = getattr(container.credential, "account_key", None)
    return key if isinstance(key, str) and key else None


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


def _check_container(container: str, url: str) -> str:
    """Return a valid container name or raise StorageError naming the URL."""
    if not _CONTAINER.match(container):
        raise StorageError(
            f"invalid Azure container name {container!r} in {url!r}: use 3-63 lowercase letters, "
            "digits and single hyphens, starting and ending with a letter or digit"
        )
    return container


def _check_prefix(prefix: str) -> str:
    """A prefix is checked like a key, and for Azure's dropped trailing dots."""
    return _check_dots(validate_key(prefix), "prefix")


def _check_dots(name: str, what: str) -> str:
    """Return ``name`` unless a part ends with '.', which Azure silently drops ("a." is "a")."""
    if any(part.endswith(".") for part in name.split("/")):
        raise StorageError(
            f"invalid storage {what} {name!r}: Azure Blob Storage drops a '.' at the end of a "
            "name part, so such names would collide with others",
            key=name,
        )
    return name


if TYPE_CHECKING:
    _conforms: type[Storage] = AzureBlobStorage

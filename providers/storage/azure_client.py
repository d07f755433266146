"""The Azure ContainerClient for a container, built from the AZURE_STORAGE_* variables."""

from __future__ import annotations

import base64
import binascii
import os
from typing import Any
from urllib.parse import parse_qs, urlsplit

from azure.storage.blob import ContainerClient

from providers.storage.base import StorageError

__all__ = ["account_key_of", "container_from_environment"]

_ENV_HINT = (
    "set AZURE_STORAGE_CONNECTION_STRING to the account's connection string, or "
    "AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY to its name and access key"
)


def container_from_environment(container: str, options: dict[str, Any]) -> ContainerClient:
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
    account_key = account_key_of(client)
    if account_key is not None:
        try:
            base64.b64decode(account_key, validate=True)
        except binascii.Error:
            raise StorageError(
                f"the account key in {where} is not valid base64; copy it again from the portal "
                "(Storage account > Access keys)"
            ) from None
    return client


def account_key_of(container: ContainerClient) -> str | None:
    """The shared account key the client signs with, if it has one."""
    key = getattr(container.credential, "account_key", None)
    return key if isinstance(key, str) and key else None

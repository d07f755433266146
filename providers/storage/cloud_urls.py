"""The form of cloud storage URLs (``s3://bucket/prefix``, ``gs://bucket/prefix``,
``az://container/prefix``) and their bucket, container and prefix names, checked without the
SDKs: a CLI checking an output URL need not import boto3 or google-cloud-storage to say that a
bucket's name is invalid."""

from __future__ import annotations

import re

from providers.storage.base import StorageError, validate_key
from providers.storage.remote import check_root

__all__ = [
    "check_azure_container",
    "check_azure_dots",
    "check_azure_prefix",
    "check_gcs_bucket",
    "check_location",
    "parse_azure_url",
    "parse_gcs_url",
    "parse_s3_url",
]

# The current AWS naming rule; S3-compatible services enforce the same one.
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SCHEME = re.compile(r"^s3://", re.IGNORECASE)
# GCS bucket names: lowercase letters, digits, '-', '_', '.'; 3-63 characters (222 with dots).
_GCS_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
# 3-63 lowercase letters, digits and single '-' between them; or one of the special containers.
_AZURE_CONTAINER = re.compile(r"^(?:\$root|\$web|[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62})$")


def parse_s3_url(url: str) -> tuple[str, str]:
    """Split ``s3://bucket/prefix`` into bucket and prefix; StorageError when malformed."""
    text = url.strip()
    if not _SCHEME.match(text):
        raise StorageError(f"not an S3 URL: {url!r}; use s3://bucket/optional/prefix")
    rest = text[len("s3://") :]
    if "?" in rest or "#" in rest:
        raise StorageError(f"S3 URL {url!r} must not have a query or fragment")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise StorageError(f"S3 URL {url!r} names no bucket; use s3://bucket/optional/prefix")
    check_location(bucket, prefix)
    return bucket, prefix


def check_location(bucket: str, prefix: str) -> str:
    """The prefix without a trailing '/', if ``bucket`` and ``prefix`` are valid; else
    StorageError naming the one that is not (no network: the form only)."""
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
    return prefix


def parse_gcs_url(url: str) -> tuple[str, str]:
    """Split ``gs://bucket/prefix`` into bucket and prefix; StorageError when malformed."""
    text = url.strip()
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() != "gs":
        raise StorageError(f"not a GCS URL: {url!r}; expected gs://bucket/prefix")
    bucket, _, prefix = rest.partition("/")
    return check_gcs_bucket(bucket, url), check_root(prefix, url)


def check_gcs_bucket(bucket: str, url: str) -> str:
    """Return a valid bucket name or raise StorageError naming the URL."""
    if not _GCS_BUCKET.match(bucket) or ("." not in bucket and len(bucket) > 63) or ".." in bucket:
        raise StorageError(
            f"invalid GCS bucket name {bucket!r} in {url!r}: use 3-63 lowercase letters, "
            "digits, '-', '_' or '.', starting and ending with a letter or digit"
        )
    return bucket


def parse_azure_url(url: str) -> tuple[str, str]:
    """Split ``az://container/prefix`` into container and prefix; StorageError when malformed."""
    text = url.strip()
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() != "az":
        raise StorageError(f"not an Azure Blob URL: {url!r}; expected az://container/prefix")
    container, _, prefix = rest.partition("/")
    return check_azure_container(container, url), check_root(prefix, url, check_azure_prefix)


def check_azure_container(container: str, url: str) -> str:
    """Return a valid container name or raise StorageError naming the URL."""
    if not _AZURE_CONTAINER.match(container):
        raise StorageError(
            f"invalid Azure container name {container!r} in {url!r}: use 3-63 lowercase letters, "
            "digits and single hyphens, starting and ending with a letter or digit"
        )
    return container


def check_azure_prefix(prefix: str) -> str:
    """A prefix is checked like a key, and for Azure's dropped trailing dots."""
    return check_azure_dots(validate_key(prefix), "prefix")


def check_azure_dots(name: str, what: str) -> str:
    """Return ``name`` unless a part ends with '.', which Azure silently drops ("a." is "a")."""
    if any(part.endswith(".") for part in name.split("/")):
        raise StorageError(
            f"invalid storage {what} {name!r}: Azure Blob Storage drops a '.' at the end of a "
            "name part, so such names would collide with others",
            key=name,
        )
    return name

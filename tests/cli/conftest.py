"""Fixtures of the command-line tests: the moto S3 server and bucket of the storage tests, for
``render -o s3://...``."""

from __future__ import annotations

from tests.providers.conftest import (  # noqa: F401 - fixtures, found by name
    moto_s3_endpoint,
    s3_bucket,
    s3_credentials,
)

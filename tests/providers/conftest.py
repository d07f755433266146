"""Fixtures for the storage provider tests: local emulators of cloud storage, one section each."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

# --- S3: an in-process moto server -------------------------------------------------------------

#: Environment for S3 tests: fixed fake credentials, and nothing from the developer's AWS setup
#: (profiles, config files, endpoints) that could redirect requests to a real account.
S3_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
S3_CLEARED_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "CLOUDRENDER_S3_ENDPOINT_URL",
)


@pytest.fixture(scope="session")
def moto_s3_endpoint() -> Iterator[str]:
    """Endpoint URL of a moto server on a free local port, shared by the whole session."""
    # Imported here so the other providers' tests do not need moto to be installed.
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="localhost", port=0, verbose=False)
    server.start()
    try:
        _, port = server.get_host_and_port()
        # Named localhost rather than 127.0.0.1, as the team's emulator notes prescribe.
        yield f"http://localhost:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake AWS credentials in the environment, isolated from any real AWS configuration."""
    for name in S3_CLEARED_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in S3_TEST_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def s3_bucket(moto_s3_endpoint: str, s3_credentials: None) -> Iterator[str]:
    """A fresh, uniquely named bucket on the moto server; emptied and removed afterwards."""
    import boto3

    name = f"test-{uuid.uuid4().hex}"
    # A private session: the default one caches credentials across tests.
    client = boto3.session.Session().client(
        "s3", endpoint_url=moto_s3_endpoint, region_name="us-east-1"
    )
    try:
        client.create_bucket(Bucket=name)
        yield name
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
            objects = [{"Key": item["Key"]} for item in page.get("Contents", ())]
            if objects:
                client.delete_objects(Bucket=name, Delete={"Objects": objects, "Quiet": True})
        client.delete_bucket(Bucket=name)
    finally:
        client.close()

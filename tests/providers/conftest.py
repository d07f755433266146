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


# --- GCS and Azure Blob: gcp-storage-emulator in-process, Azurite as a child process -----------
# Start/stop code lives in tests/providers/emulators.py; imported here, below the S3 section, so
# each section stays self-contained.

from tests.providers.emulators import (  # noqa: E402
    Azurite,
    EmulatorUnavailable,
    GCSEmulator,
    ensure_azurite,
)


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[GCSEmulator]:
    """gcp-storage-emulator serving in memory from this process, for the whole session."""
    with GCSEmulator() as emulator:
        yield emulator


@pytest.fixture
def gcs_bucket(gcs_emulator: GCSEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh bucket on the emulator, with STORAGE_EMULATOR_HOST and GOOGLE_CLOUD_PROJECT set."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator.endpoint)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "test")
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    name = f"test-{uuid.uuid4().hex}"
    gcs_emulator.create_bucket(name)
    yield name
    gcs_emulator.wipe()


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    """Azurite's blob service on a free port for the session; npm-installed on first use."""
    try:
        binary = ensure_azurite()
    except EmulatorUnavailable as exc:
        # Like redis_server: a developer without Node skips, CI must not.
        if os.environ.get("CI"):
            pytest.fail(f"Azurite unavailable: {exc}")
        pytest.skip(f"Azurite unavailable: {exc}")
    with Azurite(binary) as server:
        yield server


@pytest.fixture
def azurite_container(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh container on Azurite, with AZURE_STORAGE_CONNECTION_STRING pointing at it."""
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    monkeypatch.delenv("AZURE_STORAGE_ACCOUNT", raising=False)
    monkeypatch.delenv("AZURE_STORAGE_KEY", raising=False)
    name = f"test-{uuid.uuid4().hex[:24]}"
    azurite.create_container(name)
    yield name
    azurite.delete_container(name)

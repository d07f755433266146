"""A cloud endpoint that never answers (a firewall dropping packets, a wrong private address):
every backend opened as the CLI and workers open it says so in seconds, naming the store."""

from __future__ import annotations

import time

import pytest

from providers.storage import StorageError, open_storage
from tests.providers.conftest import S3_CLEARED_ENV, S3_TEST_ENV
from tests.providers.emulators import AZURITE_ACCOUNT, AZURITE_KEY, silent_port

# Before, each took over a minute: 10-20 s connect timeouts on every one of the SDK's tries.
LIMIT_SECONDS = 40.0


def _environment(backend: str, endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point ``backend`` at ``endpoint``; the URL of a store there."""
    if backend == "s3":
        for name in S3_CLEARED_ENV:
            monkeypatch.delenv(name, raising=False)
        for name, value in S3_TEST_ENV.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("CLOUDRENDER_S3_ENDPOINT_URL", endpoint)
        return "s3://some-bucket/renders"
    if backend == "gs":
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", endpoint)
        monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "test")
        return "gs://some-bucket/renders"
    monkeypatch.setenv(
        "AZURE_STORAGE_CONNECTION_STRING",
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={endpoint}/{AZURITE_ACCOUNT};",
    )
    return "az://renders/x"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", ["s3", "gs", "az"])
def test_a_silent_endpoint_fails_in_seconds(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with silent_port() as port:
        url = _environment(backend, f"http://127.0.0.1:{port}", monkeypatch)
        store = open_storage(url)
        started = time.monotonic()
        with pytest.raises(StorageError) as info:
            store.exists("film.mp4")
        elapsed = time.monotonic() - started
    assert elapsed < LIMIT_SECONDS, elapsed
    assert info.value.transient
    assert url.rsplit("/", 1)[0] in str(info.value) or url in str(info.value)

"""GCS storage against gcp-storage-emulator, beyond the contract every backend meets
(test_storage_contract.py): names no key can address, chunked uploads, URL parsing, signed URLs,
credentials, unreachable endpoints, missing buckets and error translation."""

from __future__ import annotations

import importlib
import json
import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.api_core import exceptions as api_core_exceptions
from google.auth import exceptions as google_auth_exceptions
from google.cloud import storage
from google.cloud.storage import exceptions as gcs_exceptions
from google.oauth2 import service_account as google_service_account

from providers.storage import ObjectNotFound, StorageError, open_storage
from providers.storage.gcs import GCSStorage, map_gcs_errors, parse_gcs_url
from tests.providers.emulators import GCSEmulator, closed_port
from tests.providers.storage_cases import MEDIA_TYPES, OPS, run_op

MiB = 1024 * 1024

# google-api-core and google-auth ship type hints but leave these constructors unannotated.
api_exceptions: Any = api_core_exceptions
auth_exceptions: Any = google_auth_exceptions
service_account: Any = google_service_account


@pytest.fixture
def store(gcs_bucket: str) -> Iterator[GCSStorage]:
    """A store under a prefix, so every test also checks keys stay relative to it."""
    with GCSStorage.from_url(f"gs://{gcs_bucket}/root/dir") as opened:
        yield opened


@pytest.fixture
def client(gcs_bucket: str) -> Iterator[storage.Client]:
    """A plain SDK client on the emulator, to look behind the store's back."""
    sdk = storage.Client()
    yield sdk
    sdk.close()


def write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


# --- listing and uploads -----------------------------------------------------------------------


def test_names_no_key_can_address_are_not_listed(
    store: GCSStorage, client: storage.Client, gcs_bucket: str, tmp_path: Path
) -> None:
    # The console's folder placeholders end in '/'; other tools can write '//' names.
    bucket = client.bucket(gcs_bucket)
    bucket.blob("root/dir/folder/").upload_from_string(b"")
    bucket.blob("root/dir/a//b").upload_from_string(b"x")
    store.put_file("folder/real", write(tmp_path / "src", b"x"))
    assert store.list("") == ["folder/real"]
    assert store.delete_prefix("") == 1


def test_large_files_upload_in_chunks(
    gcs_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Imported by name: mypy would otherwise treat google.cloud.storage as a bare namespace.
    upload = importlib.import_module("google.cloud.storage._media.requests.upload")

    chunks: list[int] = []
    original = upload.ResumableUpload.transmit_next_chunk

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        chunks.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(upload.ResumableUpload, "transmit_next_chunk", counting)
    # The library sends files up to 8 MiB in one request, so this one must be larger.
    data = os.urandom(8 * MiB + 100_000)
    with GCSStorage.from_url(f"gs://{gcs_bucket}/big", chunk_size=256 * 1024) as store:
        store.put_file("video.mkv", write(tmp_path / "src", data))
        assert len(chunks) == -(-len(data) // (256 * 1024))
        assert store.size("video.mkv") == len(data)
        store.get_file("video.mkv", str(tmp_path / "out"))
    assert (tmp_path / "out").read_bytes() == data


def test_chunk_size_must_suit_gcs(gcs_bucket: str) -> None:
    with pytest.raises(ValueError, match="256 KiB"):
        GCSStorage(gcs_bucket, chunk_size=100_000)


# --- keys and URLs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [
        ("gs://my-bucket", "my-bucket", ""),
        ("gs://my-bucket/", "my-bucket", ""),
        ("GS://my-bucket/renders/", "my-bucket", "renders"),
        ("gs://my.bucket_1/a/b c/", "my.bucket_1", "a/b c"),
        (" gs://abc/x ", "abc", "x"),
    ],
)
def test_parse_gcs_url(url: str, bucket: str, prefix: str) -> None:
    assert parse_gcs_url(url) == (bucket, prefix)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("gs://", "invalid GCS bucket name ''"),
        ("gs:///prefix", "invalid GCS bucket name ''"),
        ("gs://ab", "invalid GCS bucket name 'ab'"),
        ("gs://My-Bucket", "invalid GCS bucket name"),
        ("gs://-bucket", "invalid GCS bucket name"),
        ("gs://" + "a" * 64, "invalid GCS bucket name"),
        ("gs://bucket/../etc", "invalid prefix in storage URL"),
        ("gs://bucket/a//b", "invalid prefix in storage URL"),
        ("s3://bucket", "not a GCS URL"),
        ("bucket/prefix", "not a GCS URL"),
    ],
)
def test_parse_gcs_url_rejects(url: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        parse_gcs_url(url)


# --- signed URLs -------------------------------------------------------------------------------


def test_signed_urls_need_service_account_credentials(store: GCSStorage) -> None:
    # The emulator's anonymous credentials hold no private key.
    with pytest.raises(StorageError, match="signed URLs need service-account credentials") as info:
        store.presigned_url("a")
    assert not info.value.transient


@pytest.fixture(scope="session")
def service_account_info() -> dict[str, str]:
    """A made-up service-account key: signs locally; its token endpoint is set per test."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": "test",
        "private_key_id": "test-key",
        "private_key": pem,
        "client_email": "renderer@test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "http://127.0.0.1:9/token",
    }


def service_account_client(info: dict[str, str], endpoint: str) -> storage.Client:
    credentials = service_account.Credentials.from_service_account_info(info)
    return storage.Client(
        project="test", credentials=credentials, client_options={"api_endpoint": endpoint}
    )


def test_signed_url_with_a_service_account_key(
    store: GCSStorage,
    gcs_bucket: str,
    gcs_emulator: GCSEmulator,
    service_account_info: dict[str, str],
    tmp_path: Path,
) -> None:
    store.put_file("clips/a b.mkv", write(tmp_path / "src", b"signed bytes"))
    sdk = service_account_client(service_account_info, gcs_emulator.endpoint)
    with GCSStorage(gcs_bucket, "root/dir", client=sdk) as signing:
        url = signing.presigned_url("clips/a b.mkv", expires=600)
        with pytest.raises(StorageError, match="7 days"):
            signing.presigned_url("clips/a b.mkv", expires=8 * 24 * 3600)
    sdk.close()
    assert "X-Goog-Signature=" in url and "X-Goog-Expires=600" in url
    # Signing needs no request; the emulator serves signed URLs without checking signatures.
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"signed bytes"


# --- credentials, endpoints, buckets -----------------------------------------------------------


class RejectingTokenEndpoint(BaseHTTPRequestHandler):
    """Answers every token request the way Google does for a deleted service-account key."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def rejecting_token_uri() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), RejectingTokenEndpoint)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/token"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.parametrize("op", OPS)
def test_rejected_credentials_are_a_permanent_error(
    gcs_bucket: str,
    gcs_emulator: GCSEmulator,
    service_account_info: dict[str, str],
    rejecting_token_uri: str,
    tmp_path: Path,
    op: str,
) -> None:
    info = {**service_account_info, "token_uri": rejecting_token_uri}
    sdk = service_account_client(info, gcs_emulator.endpoint)
    with GCSStorage(gcs_bucket, client=sdk, retry_deadline=5) as store:
        with pytest.raises(StorageError, match="GOOGLE_APPLICATION_CREDENTIALS") as info_:
            run_op(store, op, tmp_path)
    sdk.close()
    assert "invalid_grant" in str(info_.value)
    assert not info_.value.transient
    assert not isinstance(info_.value, ObjectNotFound)


def test_missing_credentials_say_how_to_log_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/key.json")
    with pytest.raises(StorageError, match="gcloud auth application-default login") as info:
        GCSStorage.from_url("gs://some-bucket/x")
    assert not info.value.transient


@pytest.mark.parametrize("op", OPS)
def test_unreachable_endpoint_is_transient(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, op: str
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "test")
    with GCSStorage.from_url("gs://some-bucket/x", timeout=2, retry_deadline=0) as store:
        started = time.monotonic()
        with pytest.raises(StorageError) as info:
            run_op(store, op, tmp_path)
    assert info.value.transient
    assert not isinstance(info.value, ObjectNotFound)
    assert time.monotonic() - started < 5


def test_unreachable_endpoint_retries_until_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{closed_port()}")
    with GCSStorage.from_url("gs://some-bucket", timeout=2, retry_deadline=1.0) as store:
        started = time.monotonic()
        with pytest.raises(StorageError, match="kept failing") as info:
            store.exists("k")
        elapsed = time.monotonic() - started
    assert info.value.transient
    # The retry gives up early when its next back-off would pass the deadline.
    assert elapsed < 5


@pytest.mark.timeout(60)
def test_an_unreachable_endpoint_fails_in_seconds_with_the_default_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wrong STORAGE_EMULATOR_HOST (or no network): `open_storage` as the CLI and workers use
    it took two minutes to fail; it says what is unreachable within seconds."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "test")
    store = open_storage("gs://some-bucket/renders")
    started = time.monotonic()
    with pytest.raises(StorageError) as info:
        store.exists("film.mp4")
    assert time.monotonic() - started < 20
    assert info.value.transient
    assert "gs://some-bucket" in str(info.value) and "STORAGE_EMULATOR_HOST" in str(info.value)


@pytest.mark.parametrize("op", OPS)
def test_missing_bucket_is_a_clear_error(
    gcs_bucket: str, tmp_path: Path, op: str, gcs_emulator: GCSEmulator
) -> None:
    with GCSStorage.from_url("gs://no-such-bucket/x") as store:
        with pytest.raises(StorageError, match="bucket 'no-such-bucket' does not exist") as info:
            run_op(store, op, tmp_path)
    assert not isinstance(info.value, ObjectNotFound)
    assert not info.value.transient
    assert not (tmp_path / "op-out").exists()


# --- error translation -------------------------------------------------------------------------


class FakeResponse:
    """Just enough of a requests.Response for the media exceptions."""

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}


@pytest.mark.parametrize(
    ("error", "kind", "transient", "text"),
    [
        (api_exceptions.NotFound("No such object"), ObjectNotFound, False, "not found"),
        (
            api_exceptions.NotFound("The specified bucket does not exist."),
            StorageError,
            False,
            "create it",
        ),
        (api_exceptions.Forbidden("denied"), StorageError, False, "GOOGLE_APPLICATION_CRED"),
        (api_exceptions.Unauthorized("no"), StorageError, False, "objectAdmin"),
        (api_exceptions.BadRequest("bad"), StorageError, False, "HTTP 400"),
        (api_exceptions.TooManyRequests("slow down"), StorageError, True, "HTTP 429"),
        (api_exceptions.InternalServerError("oops"), StorageError, True, "HTTP 500"),
        (api_exceptions.BadGateway("oops"), StorageError, True, "HTTP 502"),
        (api_exceptions.ServiceUnavailable("oops"), StorageError, True, "HTTP 503"),
        (api_exceptions.GatewayTimeout("slow"), StorageError, True, "HTTP 504"),
        (api_exceptions.DeadlineExceeded("slow"), StorageError, True, "HTTP 504"),
        (api_exceptions.PreconditionFailed("changed"), StorageError, True, "HTTP 412"),
        (
            api_exceptions.RetryError("Timeout of 120s", ConnectionResetError("reset")),
            StorageError,
            True,
            "reset",
        ),
        (auth_exceptions.RefreshError("invalid_grant"), StorageError, False, "rejected"),
        (
            auth_exceptions.RefreshError("server error", retryable=True),
            StorageError,
            True,
            "rejected",
        ),
        (auth_exceptions.TransportError("no route"), StorageError, True, "token service"),
        (auth_exceptions.DefaultCredentialsError("none"), StorageError, False, "gcloud auth"),
        (requests.exceptions.ConnectionError("refused"), StorageError, True, "refused"),
        (requests.exceptions.ReadTimeout("slow"), StorageError, True, "slow"),
        (requests.exceptions.InvalidURL("bad url"), StorageError, False, "bad url"),
        (ConnectionResetError(104, "reset"), StorageError, True, "reset"),
        (gcs_exceptions.DataCorruption(FakeResponse(200), "crc"), StorageError, True, "checksum"),
        (gcs_exceptions.InvalidResponse(FakeResponse(503), "x"), StorageError, True, "503"),
        (gcs_exceptions.InvalidResponse(FakeResponse(400), "x"), StorageError, False, "400"),
    ],
)
def test_map_gcs_errors(
    error: Exception, kind: type[StorageError], transient: bool, text: str
) -> None:
    with pytest.raises(kind) as info, map_gcs_errors("k/x", bucket="bkt"):
        raise error
    assert type(info.value) is kind
    assert info.value.transient is transient
    assert info.value.key == "k/x"
    assert text in str(info.value)
    assert info.value.__cause__ is error


def test_map_gcs_errors_passes_other_exceptions() -> None:
    with pytest.raises(ValueError), map_gcs_errors("k"):
        raise ValueError("not ours")
    with pytest.raises(ObjectNotFound), map_gcs_errors("k"):
        raise ObjectNotFound("already translated", key="k")


def test_objects_carry_the_media_type_of_their_name(
    store: GCSStorage, client: storage.Client, gcs_bucket: str, tmp_path: Path
) -> None:
    """A delivered film.mp4 was stored as application/octet-stream: a signed link downloaded
    it instead of playing it."""
    src = write(tmp_path / "src", b"not really a video")
    for key, media_type in MEDIA_TYPES:
        store.put_file(key, src)
        blob = client.bucket(gcs_bucket).get_blob(f"root/dir/{key}")
        assert blob is not None and blob.content_type == media_type, key

"""Pre-signed uploads: a client without credentials PUTs one object straight into cloud storage.

S3 runs against moto's server, GCS against gcp-storage-emulator, Azure against Azurite. What each
emulator enforces differs: Azurite checks the SAS (signature, expiry, key, create-only
permission); moto and gcp-storage-emulator check no signatures, so for S3 and GCS these tests
show the signed URL works and that the binding headers are among the signed ones, while AWS and
GCS themselves refuse a request whose signed headers differ (and S3 a body whose sha256 differs).
"""

from __future__ import annotations

import base64
import hashlib
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.cloud import storage
from google.oauth2 import service_account

from providers.storage import StorageError
from providers.storage.azure import AzureBlobStorage
from providers.storage.encrypted import EncryptedStorage, PlaintextStorage
from providers.storage.gcs import GCSStorage
from providers.storage.s3 import MAX_SINGLE_PUT, S3Storage
from providers.storage.signed import SignedUpload, signed_upload
from tests.providers.emulators import GCSEmulator

DATA = b"content-addressed bytes"
SHA = hashlib.sha256(DATA).hexdigest()
KEY = f"assets/{SHA}.mp4"


def put(upload: SignedUpload, body: bytes = DATA, **headers: str) -> httpx.Response:
    """PUT ``body`` to a signed URL the way a client does: the URL's headers, exactly."""
    sent = {**upload.headers, **headers}
    sent.pop("Content-Length", None)  # httpx sets it from the body
    return httpx.request(upload.method, upload.url, content=body, headers=sent, timeout=30)


def signed_headers(url: str, parameter: str) -> set[str]:
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    return set(query[parameter][0].split(";"))


def read(store: object, key: str, tmp_path: Path) -> bytes:
    out = tmp_path / "out"
    store.get_file(key, str(out))  # type: ignore[attr-defined]
    return out.read_bytes()


# --- S3 (moto) ---------------------------------------------------------------------------------


@pytest.fixture
def s3(s3_bucket: str, moto_s3_endpoint: str) -> Iterator[S3Storage]:
    with S3Storage(s3_bucket, "root", endpoint_url=moto_s3_endpoint) as store:
        yield store


def test_s3_put_lands_under_the_key(s3: S3Storage, tmp_path: Path) -> None:
    upload = signed_upload(s3, KEY, sha256_hex=SHA, size=len(DATA), expires=120)
    assert upload is not None and upload.method == "PUT" and upload.verified
    assert upload.checks == {"sha256", "size"}
    assert "X-Amz-Expires=120" in upload.url and "/root/assets/" in upload.url
    # The hash and the length are signed: a client cannot send other values.
    assert {"content-length", "x-amz-checksum-sha256"} <= signed_headers(
        upload.url, "X-Amz-SignedHeaders"
    )
    assert upload.headers["x-amz-checksum-sha256"] == base64.b64encode(bytes.fromhex(SHA)).decode()
    assert upload.headers["Content-Length"] == str(len(DATA))
    response = put(upload)
    assert response.status_code == 200, response.text
    assert s3.list("") == [KEY]
    assert read(s3, KEY, tmp_path) == DATA


def test_s3_refuses_what_it_cannot_sign(s3: S3Storage) -> None:
    assert s3.presigned_put(KEY, sha256_hex=SHA, size=MAX_SINGLE_PUT + 1) is None
    with pytest.raises(StorageError, match="64 lowercase hex"):
        s3.presigned_put(KEY, sha256_hex="ABC", size=1)
    with pytest.raises(StorageError, match="7 days"):
        s3.presigned_put(KEY, sha256_hex=SHA, size=1, expires=8 * 24 * 3600)
    with pytest.raises(StorageError, match="invalid storage key"):
        s3.presigned_put("../x", sha256_hex=SHA, size=1)


def test_encryption_signs_nothing_plaintext_signs_through(s3: S3Storage) -> None:
    assert signed_upload(EncryptedStorage(s3, b"k" * 32), KEY, sha256_hex=SHA, size=1) is None
    upload = signed_upload(PlaintextStorage(s3), KEY, sha256_hex=SHA, size=1)
    assert upload is not None and upload.verified


# --- GCS (gcp-storage-emulator) ------------------------------------------------------------------


@pytest.fixture(scope="module")
def signing_info() -> dict[str, str]:
    """A made-up service-account key: it signs locally and never reaches a token endpoint."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": "test",
        "private_key_id": "test-key",
        "private_key": pem,
        "client_email": "uploader@test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "http://127.0.0.1:9/token",
    }


def test_gcs_signed_put_of_a_new_object(
    gcs_bucket: str,
    gcs_emulator: GCSEmulator,
    signing_info: dict[str, str],
    tmp_path: Path,
) -> None:
    from_info = service_account.Credentials.from_service_account_info
    credentials = from_info(signing_info)  # type: ignore[no-untyped-call]
    sdk = storage.Client(
        project="test",
        credentials=credentials,
        client_options={"api_endpoint": gcs_emulator.endpoint},
    )
    with GCSStorage(gcs_bucket, "root", client=sdk) as signing:
        upload = signing.presigned_put(KEY, sha256_hex=SHA, size=len(DATA), expires=300)
    sdk.close()
    assert upload is not None and not upload.verified  # GCS cannot check a sha256
    assert upload.checks == {"size", "no-overwrite"}
    assert "X-Goog-Expires=300" in upload.url
    assert {"content-type", "x-goog-content-length-range", "x-goog-if-generation-match"} <= (
        signed_headers(upload.url, "X-Goog-SignedHeaders")
    )
    assert upload.headers["x-goog-content-length-range"] == f"{len(DATA)},{len(DATA)}"
    response = put(upload)
    assert response.status_code == 200, response.text
    with GCSStorage(gcs_bucket, "root") as anonymous:  # the emulator's own, unsigned access
        assert anonymous.list("") == [KEY]
        assert read(anonymous, KEY, tmp_path) == DATA
        # Credentials that cannot sign: no URL, the client PUTs through the service instead.
        assert anonymous.presigned_put(KEY, sha256_hex=SHA, size=1) is None


# --- Azure (Azurite) ---------------------------------------------------------------------------


@pytest.fixture
def azure(azurite_container: str) -> Iterator[AzureBlobStorage]:
    with AzureBlobStorage.from_url(f"az://{azurite_container}/root") as store:
        yield store


def test_azure_create_only_sas_puts_once(azure: AzureBlobStorage, tmp_path: Path) -> None:
    upload = azure.presigned_put(KEY, sha256_hex=SHA, size=len(DATA), expires=300)
    assert upload is not None and upload.checks == {"no-overwrite"} and not upload.verified
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(upload.url).query)
    assert query["sp"] == ["c"]  # create only: no read, no write over an existing blob
    response = put(upload)
    assert response.status_code == 201, response.text
    assert azure.list("") == [KEY]
    assert read(azure, KEY, tmp_path) == DATA
    # The same URL cannot replace it (even without If-None-Match), nor read it back.
    headers = {k: v for k, v in upload.headers.items() if k != "If-None-Match"}
    again = httpx.put(upload.url, content=b"other bytes", headers=headers, timeout=30)
    assert again.status_code in (403, 409, 412)
    assert httpx.get(upload.url, timeout=30).status_code == 403
    assert read(azure, KEY, tmp_path) == DATA


def test_azure_sas_is_bound_to_its_key_and_expires(azure: AzureBlobStorage) -> None:
    upload = azure.presigned_put(KEY, sha256_hex=SHA, size=len(DATA), expires=300)
    assert upload is not None
    other = upload.url.replace(f"{SHA}.mp4", f"{'0' * 64}.mp4")
    assert httpx.put(other, content=DATA, headers=upload.headers, timeout=30).status_code == 403
    short = azure.presigned_put(KEY, sha256_hex=SHA, size=len(DATA), expires=1)
    assert short is not None
    time.sleep(2.5)
    assert put(short).status_code == 403
    assert azure.list("") == []


def test_azure_without_the_account_key_signs_nothing(
    azure: AzureBlobStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("providers.storage.azure.account_key_of", lambda container: None)
    assert azure.presigned_put(KEY, sha256_hex=SHA, size=1) is None
    assert azure.presigned_put(KEY, sha256_hex=SHA, size=5001 * 1024 * 1024) is None

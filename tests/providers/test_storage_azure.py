"""Azure Blob storage against Azurite, beyond the contract every backend meets
(test_storage_contract.py): snapshots, batched deletes, block uploads, names Azure cannot hold,
URL parsing, SAS URLs, credentials, unreachable endpoints, missing containers and error
translation."""

from __future__ import annotations

import base64
import datetime
import os
import pickle
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from azure.core import exceptions as azure_exceptions
from azure.storage.blob import (
    AccountSasPermissions,
    ContainerClient,
    ResourceTypes,
    generate_account_sas,
)

from providers.storage import ObjectNotFound, StorageError, open_storage
from providers.storage.azure import AzureBlobStorage, map_azure_errors, parse_azure_url
from tests.providers.emulators import AZURITE_ACCOUNT, AZURITE_KEY, Azurite, closed_port
from tests.providers.storage_cases import MEDIA_TYPES, OPS, run_op

KiB = 1024
MiB = 1024 * KiB


@pytest.fixture
def store(azurite_container: str) -> Iterator[AzureBlobStorage]:
    """A store under a prefix, so every test also checks keys stay relative to it."""
    with AzureBlobStorage.from_url(f"az://{azurite_container}/root/dir") as opened:
        yield opened


@pytest.fixture
def client(azurite: Azurite, azurite_container: str) -> Iterator[ContainerClient]:
    """A plain SDK client for the test's container, to look behind the store's back."""
    with ContainerClient.from_connection_string(
        azurite.connection_string, azurite_container
    ) as sdk:
        yield sdk


def write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def connection_string(endpoint: str, key: str = AZURITE_KEY) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={key};"
        f"BlobEndpoint={endpoint};"
    )


# --- interface ---------------------------------------------------------------------------------


def test_pickle_leaves_the_account_key_out(store: AzureBlobStorage) -> None:
    # The contract checks the copy reconnects; it must do so from its own environment.
    assert AZURITE_KEY.encode() not in pickle.dumps(store)


# --- blobs -------------------------------------------------------------------------------------


def test_delete_removes_snapshots_too(
    store: AzureBlobStorage, client: ContainerClient, tmp_path: Path
) -> None:
    store.put_file("a", write(tmp_path / "src", b"x"))
    client.get_blob_client("root/dir/a").create_snapshot()
    store.delete("a")
    assert list(client.list_blobs(include=["snapshots"])) == []


def test_delete_prefix_batches_many_blobs(store: AzureBlobStorage, tmp_path: Path) -> None:
    # More than one 256-blob batch request.
    src = write(tmp_path / "src", b"x")
    for i in range(260):
        store.put_file(f"many/{i:03}", src)
    store.put_file("keep", src)
    assert store.delete_prefix("many/") == 260
    assert store.list("") == ["keep"]


def test_names_no_key_can_address_are_not_listed(
    store: AzureBlobStorage, client: ContainerClient, tmp_path: Path
) -> None:
    client.upload_blob("root/dir/folder/", b"")
    client.upload_blob("root/dir/a//b", b"x")
    store.put_file("folder/real", write(tmp_path / "src", b"x"))
    assert store.list("") == ["folder/real"]
    assert store.delete_prefix("") == 1


def test_large_files_upload_as_blocks(
    azurite_container: str, client: ContainerClient, tmp_path: Path
) -> None:
    data = os.urandom(MiB + 5000)
    url = f"az://{azurite_container}/big"
    with AzureBlobStorage.from_url(url, chunk_size=64 * KiB, max_concurrency=4) as store:
        store.put_file("small", write(tmp_path / "small", data[: 64 * KiB]))
        store.put_file("video.mkv", write(tmp_path / "src", data))
        assert store.size("video.mkv") == len(data)
        store.get_file("video.mkv", str(tmp_path / "out"))
    assert (tmp_path / "out").read_bytes() == data
    committed, uncommitted = client.get_blob_client("big/video.mkv").get_block_list("all")
    assert len(committed) == -(-len(data) // (64 * KiB))
    assert uncommitted == []
    # Up to the chunk size a file goes up in one request, as a blob without blocks.
    assert client.get_blob_client("big/small").get_block_list("all") == ([], [])


# --- keys and URLs -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["a.", "a..", "dir./file", "a/b./c"])
def test_keys_with_a_part_ending_in_a_dot_are_rejected(
    store: AzureBlobStorage, tmp_path: Path, key: str
) -> None:
    # Azure turns "file." into "file" (Azurite does not): two keys would share one blob.
    src = write(tmp_path / "src", b"x")
    for op in (
        lambda: store.put_file(key, src),
        lambda: store.get_file(key, str(tmp_path / "out")),
        lambda: store.exists(key),
        lambda: store.delete(key),
    ):
        with pytest.raises(StorageError, match="drops a '.' at the end"):
            op()
    assert store.list("") == []
    with pytest.raises(StorageError, match="drops a '.' at the end"):
        parse_azure_url("az://renders/jobs./x")


@pytest.mark.parametrize(
    ("url", "container", "prefix"),
    [
        ("az://renders", "renders", ""),
        ("az://renders/", "renders", ""),
        ("AZ://renders/jobs/", "renders", "jobs"),
        ("az://my-renders-1/a/b c/", "my-renders-1", "a/b c"),
        ("az://$root/x", "$root", "x"),
        (" az://abc/x ", "abc", "x"),
    ],
)
def test_parse_azure_url(url: str, container: str, prefix: str) -> None:
    assert parse_azure_url(url) == (container, prefix)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("az://", "invalid Azure container name ''"),
        ("az://ab", "invalid Azure container name 'ab'"),
        ("az://Renders", "invalid Azure container name"),
        ("az://my--renders", "invalid Azure container name"),
        ("az://-renders", "invalid Azure container name"),
        ("az://renders-", "invalid Azure container name"),
        ("az://my_renders", "invalid Azure container name"),
        ("az://" + "a" * 64, "invalid Azure container name"),
        ("az://renders/../etc", "invalid prefix in storage URL"),
        ("az://renders/a//b", "invalid prefix in storage URL"),
        ("gs://renders", "not an Azure Blob URL"),
        ("renders/x", "not an Azure Blob URL"),
    ],
)
def test_parse_azure_url_rejects(url: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        parse_azure_url(url)


# --- signed URLs -------------------------------------------------------------------------------


def test_presigned_url_downloads_without_credentials(
    store: AzureBlobStorage, tmp_path: Path
) -> None:
    store.put_file("clips/a b.mkv", write(tmp_path / "src", b"signed bytes"))
    url = store.presigned_url("clips/a b.mkv", expires=600)
    assert "sig=" in url and "sp=r" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"signed bytes"
    with pytest.raises(StorageError, match="positive"):
        store.presigned_url("clips/a b.mkv", expires=0)


def test_presigned_url_needs_the_account_key(
    azurite: Azurite, azurite_container: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sas = generate_account_sas(
        AZURITE_ACCOUNT,
        AZURITE_KEY,
        resource_types=ResourceTypes(container=True, object=True),
        permission=AccountSasPermissions(read=True, write=True, delete=True, list=True),
        expiry=datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1),
    )
    monkeypatch.setenv(
        "AZURE_STORAGE_CONNECTION_STRING",
        f"BlobEndpoint={azurite.blob_endpoint};SharedAccessSignature={sas}",
    )
    with AzureBlobStorage.from_url(f"az://{azurite_container}") as store:
        store.put_file("a", write(tmp_path / "src", b"x"))  # a SAS token is enough for work
        assert store.list("") == ["a"]
        with pytest.raises(StorageError, match="need the storage account key") as info:
            store.presigned_url("a")
    assert not info.value.transient


def test_account_name_and_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT", "renderfarm")
    monkeypatch.setenv("AZURE_STORAGE_KEY", AZURITE_KEY)
    with AzureBlobStorage.from_url("az://renders/jobs") as store:
        # Signing needs no request, so this shows the endpoint and key in use offline.
        url = store.presigned_url("a.mkv")
    assert url.startswith("https://renderfarm.blob.core.windows.net/renders/jobs/a.mkv?")


# --- credentials, endpoints, containers --------------------------------------------------------


@pytest.mark.parametrize("op", OPS)
def test_wrong_account_key_is_a_permanent_error(
    azurite: Azurite,
    azurite_container: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    op: str,
) -> None:
    wrong = base64.b64encode(b"not the key" * 6).decode()
    monkeypatch.setenv(
        "AZURE_STORAGE_CONNECTION_STRING", connection_string(azurite.blob_endpoint, wrong)
    )
    with AzureBlobStorage.from_url(f"az://{azurite_container}") as store:
        with pytest.raises(StorageError, match="AZURE_STORAGE_CONNECTION_STRING") as info:
            run_op(store, op, tmp_path)
    assert "HTTP 403" in str(info.value)
    assert not info.value.transient
    assert not isinstance(info.value, ObjectNotFound)


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({}, "no Azure storage account configured"),
        ({"AZURE_STORAGE_CONNECTION_STRING": "  "}, "no Azure storage account configured"),
        ({"AZURE_STORAGE_ACCOUNT": "renderfarm"}, "AZURE_STORAGE_KEY is not"),
        ({"AZURE_STORAGE_KEY": AZURITE_KEY}, "AZURE_STORAGE_ACCOUNT is not"),
        ({"AZURE_STORAGE_CONNECTION_STRING": "garbage"}, "blank or malformed"),
        ({"AZURE_STORAGE_CONNECTION_STRING": "AccountName=x"}, "holds no credentials"),
        (
            {"AZURE_STORAGE_CONNECTION_STRING": connection_string("http://h/a", "not base64!")},
            "not valid base64",
        ),
        ({"AZURE_STORAGE_ACCOUNT": "x", "AZURE_STORAGE_KEY": "%%%%"}, "not valid base64"),
    ],
)
def test_bad_environment_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], message: str
) -> None:
    for name in ("AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(StorageError, match=message) as info:
        AzureBlobStorage.from_url("az://renders")
    assert not info.value.transient
    assert AZURITE_KEY not in str(info.value)


@pytest.mark.parametrize("op", OPS)
def test_unreachable_endpoint_is_transient(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, op: str
) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}/{AZURITE_ACCOUNT}"
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", connection_string(endpoint))
    with AzureBlobStorage.from_url("az://renders/x", timeout=2, retries=0) as store:
        started = time.monotonic()
        with pytest.raises(StorageError) as info:
            run_op(store, op, tmp_path)
    assert info.value.transient
    assert not isinstance(info.value, ObjectNotFound)
    assert time.monotonic() - started < 5


@pytest.mark.timeout(60)
def test_an_unreachable_endpoint_fails_in_seconds_with_the_default_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wrong BlobEndpoint (or no network): `open_storage` as the CLI and workers use it took
    a minute and a half to fail; it says what is unreachable within seconds."""
    endpoint = f"http://127.0.0.1:{closed_port()}/{AZURITE_ACCOUNT}"
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", connection_string(endpoint))
    store = open_storage("az://renders/x")
    started = time.monotonic()
    with pytest.raises(StorageError) as info:
        store.exists("film.mp4")
    assert time.monotonic() - started < 30
    assert info.value.transient
    assert "az://renders" in str(info.value) and "unreachable" in str(info.value)


@pytest.mark.parametrize("op", OPS)
def test_missing_container_is_a_clear_error(
    azurite_container: str, tmp_path: Path, op: str
) -> None:
    with AzureBlobStorage.from_url("az://no-such-container/x") as store:
        with pytest.raises(StorageError, match="create the container") as info:
            run_op(store, op, tmp_path)
    assert "'no-such-container' does not exist" in str(info.value)
    assert not isinstance(info.value, ObjectNotFound)
    assert not info.value.transient
    assert not (tmp_path / "op-out").exists()


# --- error translation -------------------------------------------------------------------------


def http_error(
    cls: type[azure_exceptions.HttpResponseError], status: int, code: str | None = None
) -> azure_exceptions.HttpResponseError:
    """An SDK error as the storage client raises it: status and Azure error code attached."""
    error = cls(message=f"The service said {status}.\nRequestId:123\nTime:now")
    error.status_code = status
    error.error_code = code  # type: ignore[attr-defined]  # set by the storage SDK at runtime
    return error


@pytest.mark.parametrize(
    ("error", "kind", "transient", "text"),
    [
        (
            http_error(azure_exceptions.ResourceNotFoundError, 404, "BlobNotFound"),
            ObjectNotFound,
            False,
            "not found",
        ),
        (
            http_error(azure_exceptions.ResourceNotFoundError, 404, "ContainerNotFound"),
            StorageError,
            False,
            "create the container",
        ),
        (
            http_error(azure_exceptions.ClientAuthenticationError, 403, "AuthenticationFailed"),
            StorageError,
            False,
            "AZURE_STORAGE_KEY",
        ),
        (
            http_error(azure_exceptions.HttpResponseError, 403, "AuthorizationFailure"),
            StorageError,
            False,
            "AZURE_STORAGE_CONNECTION_STRING",
        ),
        (
            http_error(azure_exceptions.HttpResponseError, 400, "InvalidHeaderValue"),
            StorageError,
            False,
            "HTTP 400 InvalidHeaderValue: The service said 400.",
        ),
        (http_error(azure_exceptions.HttpResponseError, 429), StorageError, True, "HTTP 429"),
        (
            http_error(azure_exceptions.HttpResponseError, 500, "InternalError"),
            StorageError,
            True,
            "HTTP 500",
        ),
        (
            http_error(azure_exceptions.HttpResponseError, 503, "ServerBusy"),
            StorageError,
            True,
            "ServerBusy",
        ),
        (
            http_error(azure_exceptions.ResourceModifiedError, 412, "ConditionNotMet"),
            StorageError,
            True,
            "HTTP 412",
        ),
        (azure_exceptions.ServiceRequestError("refused"), StorageError, True, "refused"),
        (azure_exceptions.ServiceResponseError("reset"), StorageError, True, "reset"),
        (azure_exceptions.ServiceRequestTimeoutError("slow"), StorageError, True, "slow"),
        (azure_exceptions.IncompleteReadError("short read"), StorageError, True, "short read"),
        (requests.exceptions.ConnectionError("refused"), StorageError, True, "refused"),
        (ConnectionResetError(104, "reset"), StorageError, True, "reset"),
        (azure_exceptions.AzureError("odd"), StorageError, False, "odd"),
    ],
)
def test_map_azure_errors(
    error: Exception, kind: type[StorageError], transient: bool, text: str
) -> None:
    with pytest.raises(kind) as info, map_azure_errors("k/x", container="renders"):
        raise error
    assert type(info.value) is kind
    assert info.value.transient is transient
    assert info.value.key == "k/x"
    assert text in str(info.value)
    assert "RequestId" not in str(info.value)  # one line, not the service's whole answer
    assert info.value.__cause__ is error


def test_map_azure_errors_passes_other_exceptions() -> None:
    with pytest.raises(ValueError), map_azure_errors("k"):
        raise ValueError("not ours")
    with pytest.raises(ObjectNotFound), map_azure_errors("k"):
        raise ObjectNotFound("already translated", key="k")


def test_objects_carry_the_media_type_of_their_name(
    store: AzureBlobStorage, client: ContainerClient, tmp_path: Path
) -> None:
    """A delivered film.mp4 was stored as application/octet-stream: a signed link downloaded
    it instead of playing it."""
    src = write(tmp_path / "src", b"not really a video")
    for key, media_type in MEDIA_TYPES:
        store.put_file(key, src)
        properties = client.get_blob_client(f"root/dir/{key}").get_blob_properties()
        assert properties.content_settings.content_type == media_type, key

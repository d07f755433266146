"""The behaviour every storage backend promises, checked once against each of them.

Backends: a local directory, S3 (moto server), GCS (gcp-storage-emulator), Azure Blob (Azurite)
and client-side encryption over a local directory. Each test runs once per backend, with the
backend's name first in the test id (``test_round_trip[s3-empty]``). What only one backend does
(URL parsing, credentials, SDK error translation, multipart or resumable uploads, signed URLs)
is tested in that backend's own file.
"""

from __future__ import annotations

import errno
import os
import pickle
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ClassVar

import boto3
import botocore.exceptions
import pytest
import requests
from azure.core import exceptions as azure_exceptions
from azure.storage.blob import ContainerClient, StorageStreamDownloader
from google.api_core import exceptions as api_core_exceptions
from google.cloud import storage as gcs

from providers.storage import (
    ObjectNotFound,
    Storage,
    StorageError,
    open_storage,
    validate_key,
    validate_prefix,
)
from providers.storage import local as local_module
from providers.storage.encrypted import EncryptedStorage
from providers.storage.s3 import S3Storage
from tests.providers.storage_cases import BAD_KEYS, failing_copy, write

#: Every store under test lives below this prefix, so keys must stay relative to it.
PREFIX = "root/dir"
MiB = 1024 * 1024
ENCRYPTION_KEY = bytes(range(32))

# google-api-core ships type hints but leaves its exception constructors unannotated.
api_exceptions: Any = api_core_exceptions

GOOD_KEYS = [
    "a",
    "a/b/c.mkv",
    "jobs/42/chunk-0003.mkv",
    "with space",
    "..a",
    "a..",
    "é/ü",
    ".hidden",
    "100%",
    "a+b?c#d",
]
LISTED_KEYS = ["jobs/1/a", "jobs/1/b", "jobs/12/a", "jobs/2/a", "other", "jobsx"]
#: Prefixes are plain string prefixes, as in S3: "jobs/1" also finds "jobs/12/a".
LIST_CASES = [
    ("", LISTED_KEYS),
    ("jobs/", ["jobs/1/a", "jobs/1/b", "jobs/12/a", "jobs/2/a"]),
    ("jobs/1/", ["jobs/1/a", "jobs/1/b"]),
    ("jobs/1", ["jobs/1/a", "jobs/1/b", "jobs/12/a"]),
    ("jobs", ["jobs/1/a", "jobs/1/b", "jobs/12/a", "jobs/2/a", "jobsx"]),
    ("jobs/1/a", ["jobs/1/a"]),
    ("o", ["other"]),
    ("nothing/", []),
    ("other/", []),
]


@dataclass(frozen=True)
class Failure:
    """How a storage must report an injected transfer failure."""

    text: str
    transient: bool


class Backend(ABC):
    """A storage backend with a bucket (or directory) of its own for one test."""

    #: Whether local_path() names a file holding the object's bytes (else it answers None).
    local_paths: ClassVar[bool] = False

    @abstractmethod
    def url(self, prefix: str) -> str:
        """The URL of the store under ``prefix`` in this test's bucket."""

    def open(self, prefix: str) -> Storage:
        """Open the store under ``prefix`` the way users do: from its URL."""
        return open_storage(self.url(prefix))

    @abstractmethod
    def expected_repr(self, prefix: str) -> str:
        """What repr() of the store under ``prefix`` must say."""

    @abstractmethod
    def names(self) -> list[str]:
        """Every object name in the bucket, sorted, as the service itself lists them."""

    @abstractmethod
    def break_downloads(self, store: Storage, monkeypatch: pytest.MonkeyPatch) -> Failure:
        """Make downloads fail midway, after part of the data has been written."""

    @abstractmethod
    def break_uploads(self, store: Storage, monkeypatch: pytest.MonkeyPatch) -> Failure:
        """Make uploads fail."""

    def refuses(self, key: str) -> bool:
        """Whether this backend refuses a key that validate_key accepts."""
        return False

    def close(self) -> None:
        """Release clients opened to look behind the stores' backs; by default there are none."""
        return None


class LocalBackend(Backend):
    """LocalStorage in a directory of the test's own."""

    local_paths = True

    def __init__(self, base: Path) -> None:
        self.base = base

    def url(self, prefix: str) -> str:
        return (self.base / prefix).as_uri()

    def expected_repr(self, prefix: str) -> str:
        return f"LocalStorage({str(self.base / prefix)!r})"

    def names(self) -> list[str]:
        # Every file, temp files included: a leftover one is a failure too.
        return sorted(
            p.relative_to(self.base).as_posix() for p in self.base.rglob("*") if p.is_file()
        )

    def break_downloads(self, store: Storage, monkeypatch: pytest.MonkeyPatch) -> Failure:
        monkeypatch.setattr(local_module, "_copy_stream", failing_copy(errno.ETIMEDOUT))
        return Failure("ETIMEDOUT", transient=True)

    def break_uploads(self, store: Storage, monkeypatch: pytest.MonkeyPatch) -> Failure:
        monkeypatch.setattr(local_module, "_copy_stream", failing_copy(errno.ENOSPC))
        return Failure("free disk space", transient=False)


class EncryptedBackend(LocalBackend):
    """EncryptedStorage over LocalStorage; the URL is the inner store's, as documented."""

    local_paths = False

    def open(self, prefix: str) -> Storage:
        return EncryptedStorage(super().open(prefix), ENCRYPTION_KEY)

    def expected_repr(self, prefix: str) -> str:
        return f"EncryptedStorage({super().expected_repr(prefix)})"


class S3Backend(Backend):
    """S3Storage on a fresh bucket of the moto server."""

    def __init__(self, bucket: str, endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bucket = bucket
        self.endpoint = endpoint
        monkeypatch.setenv("CLOUDRENDER_S3_ENDPOINT_URL", endpoint)
        self._raw: Any = None

    def url(self, prefix: str) -> str:
        return f"s3://{self.bucket}" + (f"/{prefix}" if prefix else "")

    def expected_repr(self, prefix: str) -> str:
        return f"S3Storage({self.url(prefix)!r}, endpoint_url={self.endpoint!r})"

    def names(self) -> list[str]:
        if self._raw is None:
            self._raw = boto3.session.Session().client(
                "s3", endpoint_url=self.endpoint, region_name="us-east-1"
            )
        reply = self._raw.list_objects_v2(Bucket=self.bucket)
        return sorted(str(item["Key"]) for item in reply.get("Contents", ()))

    def break_downloads(self, store: Storage, monkeypatch: pytest.MonkeyPatch) -> Failure:
        self._fail(store, "GetObject", "InternalError", 500)
        return Failure("InternalError", transient=True)

    def break_uploads(self, store: Storage, monkeypatch: pytest.MonkeyPatch) -> Failure:
        self._fail(store, "PutObject", "SlowDown", 503)
        return Failure("SlowDown", transient=True)

    @staticmethod
    def _fail(store: Storage, operation: str, code: str, status: int) -> None:
        """Make every ``operation`` request of the store's client get an S3 error reply."""
        assert isinstance(store, S3Storage)

        def fail(**kwargs: Any) -> None:
            raise botocore.exceptions.ClientError(
                {
                    "Error": {"Code": code, "Message": "injected"},
                    "ResponseMetadata": {"HTTPStatusCode": status},
                },
                operation,
            )

        store.client.meta.events.register(f"before-call.s3.{operation}", fail)

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()


class GCSBackend(Backend):
    """GCSStorage on a fresh bucket of gcp-storage-emulator."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket
        self._raw: Any = None

    def url(self, prefix: str) -> str:
        return f"gs://{self.bucket}" + (f"/{prefix}" if prefix else "")

    def expected_repr(self, prefix: str) -> str:
        return f"GCSStorage({self.url(prefix)!r})"

    def names(self) -> list[str]:
        if self._raw is None:
            self._raw = gcs.Client()
        return sorted(str(blob.name) for blob in self._raw.list_blobs(self.bucket))

    def break_downloads(self, store: Storage, monkeypatch: pytest.MonkeyPatch) -> Failure:
        def broken(self: Any, out: IO[bytes], **kwargs: Any) -> None:
            out.write(b"01234")
            raise requests.exceptions.ConnectionError("connection reset by peer")

        monkeypatch.setattr(gcs.Blob, "download_to_file", broken)
        return Failure("connection reset by peer", transient=True)

    def break_uploads(self, store: Storage, monkeypatch: pytest.MonkeyPatch) -> Failure:
        def unavailable(self: Any, *args: Any, **kwargs: Any) -> None:
            raise api_exceptions.ServiceUnavailable("backend unavailable")

        monkeypatch.setattr(gcs.Blob, "upload_from_file", unavailable)
        return Failure("HTTP 503", transient=True)

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()


class AzureBackend(Backend):
    """AzureBlobStorage on a fresh container of Azurite."""

    def __init__(self, container: str, connection_string: str) -> None:
        self.container = container
        self._raw = ContainerClient.from_connection_string(connection_string, container)

    def url(self, prefix: str) -> str:
        return f"az://{self.container}" + (f"/{prefix}" if prefix else "")

    def expected_repr(self, prefix: str) -> str:
        return f"AzureBlobStorage({self.url(prefix)!r})"

    def names(self) -> list[str]:
        return sorted(str(name) for name in self._raw.list_blob_names())

    def break_downloads(self, store: Storage, monkeypatch: pytest.MonkeyPatch) -> Failure:
        def broken(self: Any, stream: IO[bytes]) -> int:
            stream.write(b"01234")
            raise azure_exceptions.ServiceResponseError("connection reset by peer")

        monkeypatch.setattr(StorageStreamDownloader, "readinto", broken)
        return Failure("connection reset by peer", transient=True)

    def break_uploads(self, store: Storage, monkeypatch: pytest.MonkeyPatch) -> Failure:
        def busy(self: Any, *args: Any, **kwargs: Any) -> None:
            error = azure_exceptions.HttpResponseError(message="The server is busy.")
            error.status_code = 503
            error.error_code = "ServerBusy"  # type: ignore[attr-defined]  # set by the SDK
            raise error

        monkeypatch.setattr(ContainerClient, "upload_blob", busy)
        return Failure("ServerBusy", transient=True)

    def refuses(self, key: str) -> bool:
        # Azure drops a trailing '.' of a name part, so the backend refuses such keys.
        return any(part.endswith(".") for part in key.split("/"))

    def close(self) -> None:
        self._raw.close()


@pytest.fixture(params=["local", "s3", "gcs", "azure", "encrypted"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backend]:
    """Each backend in turn; emulator fixtures are only started for the backends that run."""
    name = request.param
    chosen: Backend
    if name == "local":
        chosen = LocalBackend(tmp_path / "bucket")
    elif name == "encrypted":
        chosen = EncryptedBackend(tmp_path / "bucket")
    elif name == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        chosen = S3Backend(bucket, request.getfixturevalue("moto_s3_endpoint"), monkeypatch)
    elif name == "gcs":
        chosen = GCSBackend(request.getfixturevalue("gcs_bucket"))
    else:
        container = request.getfixturevalue("azurite_container")
        chosen = AzureBackend(container, request.getfixturevalue("azurite").connection_string)
    yield chosen
    chosen.close()


@contextmanager
def opened(backend: Backend, prefix: str = PREFIX) -> Iterator[Storage]:
    """The store under ``prefix``, with its client closed afterwards."""
    with closing(backend.open(prefix)) as store:
        yield store


@contextmanager
def closing(store: Storage) -> Iterator[Storage]:
    """Close a cloud store's client on exit; local stores hold nothing to close."""
    try:
        yield store
    finally:
        close = getattr(store, "close", None)
        if close is not None:
            close()


@pytest.fixture
def store(backend: Backend) -> Iterator[Storage]:
    """The backend's store under PREFIX."""
    with opened(backend) as opened_store:
        yield opened_store


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """An empty directory for the local side of transfers, apart from any bucket."""
    path = tmp_path / "files"
    path.mkdir()
    return path


# --- interface ---------------------------------------------------------------------------------


def test_satisfies_the_protocol(backend: Backend, store: Storage) -> None:
    assert isinstance(store, Storage)
    assert store.url == backend.url(PREFIX)
    assert repr(store) == backend.expected_repr(PREFIX)


def test_url_reopens_the_same_storage(store: Storage, files: Path) -> None:
    store.put_file("a", write(files / "src", b"x"))
    with closing(open_storage(store.url)) as again:
        assert again.list("") == ["a"]


def test_pickled_store_reaches_the_same_objects(store: Storage, files: Path) -> None:
    # Workers receive their storage pickled.
    store.put_file("a", write(files / "src", b"data"))
    with closing(pickle.loads(pickle.dumps(store))) as copy:
        assert copy.url == store.url
        assert copy.list("") == ["a"]
        assert copy.size("a") == 4


def test_local_path(backend: Backend, store: Storage, files: Path) -> None:
    store.put_file("x/y.bin", write(files / "src", b"abc"))
    path = store.local_path("x/y.bin")
    if backend.local_paths:
        assert path is not None
        assert Path(path).read_bytes() == b"abc"
    else:
        assert path is None


# --- round trips and queries -------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"", b"x", os.urandom(3 * MiB + 17)], ids=["empty", "one-byte", "3MiB"]
)
def test_round_trip(store: Storage, files: Path, data: bytes) -> None:
    store.put_file("jobs/1/seg.mkv", write(files / "in.bin", data))
    out = files / "deep" / "er" / "out.bin"
    store.get_file("jobs/1/seg.mkv", str(out))
    assert out.read_bytes() == data
    assert store.exists("jobs/1/seg.mkv")
    assert store.size("jobs/1/seg.mkv") == len(data)
    assert os.listdir(out.parent) == ["out.bin"]  # no temp file left behind


def test_keys_live_under_the_prefix(backend: Backend, store: Storage, files: Path) -> None:
    store.put_file("a/b", write(files / "src", b"x"))
    assert backend.names() == [f"{PREFIX}/a/b"]


def test_stores_with_neighbouring_prefixes_do_not_mix(
    backend: Backend, store: Storage, files: Path
) -> None:
    src = write(files / "src", b"x")
    with opened(backend, PREFIX + "x") as neighbour, opened(backend, "") as whole:
        store.put_file("a", src)
        neighbour.put_file("b", src)
        assert store.list("") == ["a"]
        assert neighbour.list("") == ["b"]
        assert whole.list("") == [f"{PREFIX}/a", f"{PREFIX}x/b"]
        assert store.delete_prefix("") == 1
        assert whole.list("") == [f"{PREFIX}x/b"]


def test_put_replaces_an_existing_object(store: Storage, files: Path) -> None:
    store.put_file("a", write(files / "1", b"first"))
    store.put_file("a", write(files / "2", b"second!"))
    assert store.size("a") == 7
    store.get_file("a", str(files / "got"))
    assert (files / "got").read_bytes() == b"second!"


def test_get_replaces_an_existing_local_file(store: Storage, files: Path) -> None:
    store.put_file("a", write(files / "src", b"new"))
    out_dir = files / "out"
    out_dir.mkdir()
    (out_dir / "dest").write_bytes(b"old contents")
    store.get_file("a", str(out_dir / "dest"))
    assert (out_dir / "dest").read_bytes() == b"new"
    assert os.listdir(out_dir) == ["dest"]  # no temp file left behind


def test_downloads_are_readable_by_other_processes(store: Storage, files: Path) -> None:
    # The temp file must not keep mkstemp's owner-only mode after the rename.
    store.put_file("a", write(files / "src", b"x"))
    old = os.umask(0o022)
    try:
        store.get_file("a", str(files / "got"))
    finally:
        os.umask(old)
    assert os.stat(files / "got").st_mode & 0o777 == 0o644


def test_missing_objects(store: Storage, files: Path) -> None:
    assert not store.exists("nope")
    with pytest.raises(ObjectNotFound, match="'nope'") as info:
        store.get_file("nope", str(files / "out"))
    assert info.value.key == "nope"
    assert not info.value.transient
    assert os.listdir(files) == []  # no file, and no temp file either
    with pytest.raises(ObjectNotFound):
        store.get_file("nope", str(files / "deep" / "er" / "out"))
    assert os.listdir(files) == []  # nor the directories made to hold it
    with pytest.raises(ObjectNotFound):
        store.size("nope")
    store.delete("nope")  # missing is fine
    assert store.list("") == []
    assert store.delete_prefix("") == 0


def test_a_prefix_is_not_an_object(store: Storage, files: Path) -> None:
    store.put_file("dir/file", write(files / "src", b"x"))
    assert not store.exists("dir")
    with pytest.raises(ObjectNotFound):
        store.size("dir")
    with pytest.raises(ObjectNotFound):
        store.get_file("dir", str(files / "out"))
    # Below an object there is nothing either.
    assert not store.exists("dir/file/deeper")
    with pytest.raises(ObjectNotFound):
        store.size("dir/file/deeper")
    store.delete("dir")
    assert store.exists("dir/file")


def test_delete(store: Storage, files: Path) -> None:
    store.put_file("a/b", write(files / "src", b"x"))
    store.delete("a/b")
    assert not store.exists("a/b")
    store.delete("a/b")


@pytest.mark.parametrize(
    ("prefix", "expected"), LIST_CASES, ids=[f"prefix={prefix!r}" for prefix, _ in LIST_CASES]
)
def test_list_and_delete_prefix(
    store: Storage, files: Path, prefix: str, expected: list[str]
) -> None:
    src = write(files / "src", b"x")
    for key in LISTED_KEYS:
        store.put_file(key, src)
    assert store.list(prefix) == sorted(expected)
    assert store.delete_prefix(prefix) == len(expected)
    assert store.list("") == sorted(set(LISTED_KEYS) - set(expected))
    assert store.list(prefix) == []


# --- failures keep the old state ---------------------------------------------------------------


def test_failed_download_leaves_the_destination_untouched(
    backend: Backend, store: Storage, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put_file("a", write(files / "src", b"0123456789"))
    failure = backend.break_downloads(store, monkeypatch)
    out_dir = files / "out"
    out_dir.mkdir()
    (out_dir / "existing").write_bytes(b"keep me")
    for name in ("fresh", "existing"):
        with pytest.raises(StorageError, match="'a'") as info:
            store.get_file("a", str(out_dir / name))
        assert failure.text in str(info.value)
        assert info.value.transient is failure.transient
    assert os.listdir(out_dir) == ["existing"]
    assert (out_dir / "existing").read_bytes() == b"keep me"


def test_failed_upload_keeps_the_previous_object(
    backend: Backend, store: Storage, files: Path
) -> None:
    store.put_file("a", write(files / "old", b"old object"))
    # A patch of its own: undoing the test's monkeypatch would drop the emulators' environment.
    with pytest.MonkeyPatch.context() as patch:
        failure = backend.break_uploads(store, patch)
        with pytest.raises(StorageError, match="'a'") as info:
            store.put_file("a", write(files / "new", b"new object, longer"))
    assert failure.text in str(info.value)
    assert info.value.transient is failure.transient
    assert info.value.key == "a"
    assert not isinstance(info.value, ObjectNotFound)
    # A fresh store, as another worker would open, finds the old object and nothing else.
    with opened(backend) as again:
        again.get_file("a", str(files / "got"))
    assert (files / "got").read_bytes() == b"old object"
    assert backend.names() == [f"{PREFIX}/a"]


def test_missing_source_file(store: Storage, files: Path) -> None:
    with pytest.raises(
        StorageError, match="cannot store 'a': local file .* cannot be read"
    ) as info:
        store.put_file("a", str(files / "absent"))
    assert not isinstance(info.value, ObjectNotFound)
    assert not store.exists("a")


def test_unwritable_destination_is_a_local_error(store: Storage, files: Path) -> None:
    store.put_file("a", write(files / "src", b"x"))
    (files / "file").write_bytes(b"")
    with pytest.raises(StorageError, match="'a'") as info:
        store.get_file("a", str(files / "file" / "below"))
    assert not isinstance(info.value, ObjectNotFound)
    assert isinstance(info.value.__cause__, OSError)


# --- keys --------------------------------------------------------------------------------------


def refusal(call: Callable[..., object], *args: object) -> StorageError:
    """The StorageError ``call(*args)`` raises; fails the test, naming the call, when none."""
    try:
        call(*args)
    except StorageError as exc:
        return exc
    name = getattr(call, "__name__", repr(call))
    pytest.fail(f"{name}({', '.join(map(repr, args))}) was not refused")


# One test per backend for each list of keys: a bucket per key would make S3 take seconds.


def test_bad_keys_are_rejected(store: Storage, backend: Backend, files: Path) -> None:
    src = write(files / "src", b"x")
    # Each method with the arguments that follow the key.
    methods: list[tuple[Callable[..., object], tuple[str, ...]]] = [
        (store.put_file, (src,)),
        (store.get_file, (str(files / "out"),)),
        (store.exists, ()),
        (store.size, ()),
        (store.delete, ()),
    ]
    methods.append((store.local_path, ()))
    presigned_url = getattr(store, "presigned_url", None)
    if presigned_url is not None:
        methods.append((presigned_url, ()))
    for key in BAD_KEYS:
        error = refusal(validate_key, key)
        assert f"invalid storage key {key!r}" in str(error)
        assert error.key == key
        for method, rest in methods:
            error = refusal(method, key, *rest)
            assert "invalid storage key" in str(error), (method, key)
            assert error.key == key, (method, key)
    assert backend.names() == []  # nothing was written anywhere
    assert os.listdir(files) == ["src"]


def test_good_keys(store: Storage, backend: Backend, files: Path) -> None:
    src = write(files / "src", b"ok")
    for key in GOOD_KEYS:
        assert validate_key(key) == key
        if backend.refuses(key):
            # Refused loudly rather than stored under another name.
            error = refusal(store.put_file, key, src)
            assert f"invalid storage key {key!r}" in str(error)
            assert store.list("") == []
            continue
        store.put_file(key, src)
        assert store.list("") == [key]
        assert store.exists(key)
        assert store.size(key) == 2
        store.get_file(key, str(files / "out"))
        assert (files / "out").read_bytes() == b"ok"
        store.delete(key)
        assert store.list("") == [], key


def test_prefix_validation(store: Storage) -> None:
    for prefix in ["", "jobs/", "jobs/4"]:
        assert validate_prefix(prefix) == prefix
        assert store.list(prefix) == []
        assert store.delete_prefix(prefix) == 0
    for prefix in ["../", "a/../", "/abs", "a\\", "a//"]:
        for method in (store.list, store.delete_prefix):
            error = refusal(method, prefix)
            assert f"invalid storage prefix {prefix!r}" in str(error)

"""Local directory storage: round trips, atomic writes, key rules, error mapping, open_storage."""

from __future__ import annotations

import errno
import os
import pickle
from pathlib import Path
from typing import IO

import pytest

from chunking.errors import RenderError
from providers.storage import (
    LocalStorage,
    ObjectNotFound,
    Storage,
    StorageError,
    map_storage_errors,
    open_storage,
    validate_key,
    validate_prefix,
)
from providers.storage import local as local_module


@pytest.fixture
def store(tmp_path: Path) -> LocalStorage:
    return LocalStorage(str(tmp_path / "store"))


def write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# --- interface ---------------------------------------------------------------------------------


def test_local_storage_satisfies_the_protocol(store: LocalStorage) -> None:
    assert isinstance(store, Storage)
    assert store.url == (Path(store.root)).as_uri()


def test_storage_errors_belong_to_the_one_tree() -> None:
    assert issubclass(StorageError, RenderError)
    assert issubclass(ObjectNotFound, StorageError)
    err = StorageError("boom", key="a/b", transient=True)
    copy = pickle.loads(pickle.dumps(err))
    assert (str(copy), copy.key, copy.transient, type(copy)) == ("boom", "a/b", True, StorageError)
    assert ObjectNotFound("gone").transient is False


# --- round trips and queries -------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"x", os.urandom(3 * 1024 * 1024 + 17)])
def test_put_get_round_trip(store: LocalStorage, tmp_path: Path, data: bytes) -> None:
    store.put_file("jobs/1/seg.mkv", write(tmp_path / "in.bin", data))
    out = tmp_path / "deep" / "er" / "out.bin"
    store.get_file("jobs/1/seg.mkv", str(out))
    assert out.read_bytes() == data
    assert store.exists("jobs/1/seg.mkv")
    assert store.size("jobs/1/seg.mkv") == len(data)


def test_put_replaces_an_existing_object(store: LocalStorage, tmp_path: Path) -> None:
    store.put_file("a", write(tmp_path / "1", b"first"))
    store.put_file("a", write(tmp_path / "2", b"second!"))
    assert store.size("a") == 7
    store.get_file("a", str(tmp_path / "got"))
    assert (tmp_path / "got").read_bytes() == b"second!"


def test_get_replaces_an_existing_local_file(store: LocalStorage, tmp_path: Path) -> None:
    store.put_file("a", write(tmp_path / "src", b"new"))
    dest = tmp_path / "dest"
    dest.write_bytes(b"old contents")
    store.get_file("a", str(dest))
    assert dest.read_bytes() == b"new"


def test_objects_are_readable_by_other_processes(store: LocalStorage, tmp_path: Path) -> None:
    # Temp files must not keep mkstemp's owner-only mode after the rename.
    old = os.umask(0o022)
    try:
        store.put_file("a", write(tmp_path / "src", b"x"))
    finally:
        os.umask(old)
    path = store.local_path("a")
    assert path is not None
    assert os.stat(path).st_mode & 0o777 == 0o644


def test_local_path_points_at_the_object(store: LocalStorage, tmp_path: Path) -> None:
    store.put_file("x/y.bin", write(tmp_path / "src", b"abc"))
    path = store.local_path("x/y.bin")
    assert path == os.path.join(store.root, "x", "y.bin")
    assert Path(path).read_bytes() == b"abc"


def test_missing_objects(store: LocalStorage, tmp_path: Path) -> None:
    assert not store.exists("nope")
    with pytest.raises(ObjectNotFound, match="'nope'") as info:
        store.get_file("nope", str(tmp_path / "out"))
    assert info.value.key == "nope"
    assert not (tmp_path / "out").exists()
    with pytest.raises(ObjectNotFound):
        store.size("nope")
    store.delete("nope")  # missing is fine
    assert store.list("") == []
    assert store.delete_prefix("") == 0


def test_a_prefix_directory_is_not_an_object(store: LocalStorage, tmp_path: Path) -> None:
    store.put_file("dir/file", write(tmp_path / "src", b"x"))
    assert not store.exists("dir")
    with pytest.raises(ObjectNotFound):
        store.size("dir")
    with pytest.raises(ObjectNotFound):
        store.get_file("dir", str(tmp_path / "out"))
    # Below an object there is nothing either.
    assert not store.exists("dir/file/deeper")
    with pytest.raises(ObjectNotFound):
        store.size("dir/file/deeper")
    store.delete("dir")
    assert store.exists("dir/file")


def test_delete(store: LocalStorage, tmp_path: Path) -> None:
    store.put_file("a/b", write(tmp_path / "src", b"x"))
    store.delete("a/b")
    assert not store.exists("a/b")
    store.delete("a/b")


KEYS = ["jobs/1/a", "jobs/1/b", "jobs/12/a", "jobs/2/a", "other", "jobsx"]


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("", KEYS),
        ("jobs/", ["jobs/1/a", "jobs/1/b", "jobs/12/a", "jobs/2/a"]),
        ("jobs/1/", ["jobs/1/a", "jobs/1/b"]),
        ("jobs/1", ["jobs/1/a", "jobs/1/b", "jobs/12/a"]),
        ("jobs", ["jobs/1/a", "jobs/1/b", "jobs/12/a", "jobs/2/a", "jobsx"]),
        ("jobs/1/a", ["jobs/1/a"]),
        ("o", ["other"]),
        ("nothing/", []),
        ("other/", []),
    ],
)
def test_list_and_delete_prefix(
    store: LocalStorage, tmp_path: Path, prefix: str, expected: list[str]
) -> None:
    src = write(tmp_path / "src", b"x")
    for key in KEYS:
        store.put_file(key, src)
    assert store.list(prefix) == sorted(expected)
    assert store.delete_prefix(prefix) == len(expected)
    assert store.list("") == sorted(set(KEYS) - set(expected))
    assert store.list(prefix) == []


def test_delete_prefix_prunes_empty_directories(store: LocalStorage, tmp_path: Path) -> None:
    src = write(tmp_path / "src", b"x")
    store.put_file("jobs/1/a/b", src)
    store.put_file("jobs/2/c", src)
    assert store.delete_prefix("jobs/1/") == 1
    assert not Path(store.root, "jobs", "1").exists()
    assert Path(store.root, "jobs", "2", "c").exists()
    # The directory can be written again afterwards.
    store.put_file("jobs/1/a/b", src)
    assert store.exists("jobs/1/a/b")


def test_root_is_created_on_demand(tmp_path: Path) -> None:
    root = tmp_path / "later" / "store"
    store = LocalStorage(str(root))
    assert not root.exists()
    assert store.list("") == []
    assert not store.exists("a")
    store.put_file("a", write(tmp_path / "src", b"x"))
    assert (root / "a").is_file()


# --- atomicity ---------------------------------------------------------------------------------


def failing_copy(code: int) -> object:
    def copy(src: IO[bytes], dst: IO[bytes]) -> None:
        dst.write(src.read(5))  # half an object reaches the temp file
        raise OSError(code, os.strerror(code))

    return copy


@pytest.mark.parametrize(
    ("code", "transient"),
    [
        (errno.ENOSPC, False),
        (errno.EIO, False),
        (errno.EACCES, False),
        (errno.EAGAIN, True),
        (errno.ETIMEDOUT, True),
    ],
)
def test_failed_put_leaves_no_object_and_no_temp_file(
    store: LocalStorage,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
    transient: bool,
) -> None:
    src = write(tmp_path / "src", b"0123456789")
    monkeypatch.setattr(local_module, "_copy_stream", failing_copy(code))
    with pytest.raises(StorageError, match="'jobs/seg'") as info:
        store.put_file("jobs/seg", src)
    assert not isinstance(info.value, ObjectNotFound)
    assert info.value.transient is transient
    assert info.value.key == "jobs/seg"
    assert not store.exists("jobs/seg")
    assert all_files(Path(store.root)) == []


def test_failed_put_keeps_the_previous_object(
    store: LocalStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put_file("a", write(tmp_path / "old", b"old object"))
    monkeypatch.setattr(local_module, "_copy_stream", failing_copy(errno.ENOSPC))
    with pytest.raises(StorageError, match="free disk space"):
        store.put_file("a", write(tmp_path / "new", b"new object, longer"))
    monkeypatch.undo()
    store.get_file("a", str(tmp_path / "got"))
    assert (tmp_path / "got").read_bytes() == b"old object"
    assert all_files(Path(store.root)) == ["a"]


def test_failed_get_leaves_the_destination_untouched(
    store: LocalStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put_file("a", write(tmp_path / "src", b"0123456789"))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "existing").write_bytes(b"keep me")
    monkeypatch.setattr(local_module, "_copy_stream", failing_copy(errno.ETIMEDOUT))
    with pytest.raises(StorageError) as info:
        store.get_file("a", str(out_dir / "fresh"))
    assert info.value.transient
    with pytest.raises(StorageError):
        store.get_file("a", str(out_dir / "existing"))
    assert sorted(os.listdir(out_dir)) == ["existing"]
    assert (out_dir / "existing").read_bytes() == b"keep me"


def test_interrupted_put_leaves_no_temp_file(
    store: LocalStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(src: IO[bytes], dst: IO[bytes]) -> None:
        dst.write(b"part")
        raise KeyboardInterrupt

    monkeypatch.setattr(local_module, "_copy_stream", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.put_file("a", write(tmp_path / "src", b"data"))
    assert all_files(Path(store.root)) == []


def test_leftover_temp_files_are_never_listed(store: LocalStorage, tmp_path: Path) -> None:
    # A process killed mid-write leaves a temp file behind; it must not look like an object.
    store.put_file("d/a", write(tmp_path / "src", b"x"))
    Path(store.root, "d", local_module._TMP_PREFIX + "dead").write_bytes(b"partial")
    assert store.list("") == ["d/a"]
    assert store.delete_prefix("d/") == 1
    with pytest.raises(StorageError, match="reserved"):
        store.exists("d/" + local_module._TMP_PREFIX + "dead")


def test_missing_source_file(store: LocalStorage, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="local file") as info:
        store.put_file("a", str(tmp_path / "absent"))
    assert not isinstance(info.value, ObjectNotFound)
    assert not store.exists("a")


def test_key_below_an_object_is_a_clear_error(store: LocalStorage, tmp_path: Path) -> None:
    store.put_file("a", write(tmp_path / "src", b"x"))
    with pytest.raises(StorageError, match="'a/b'"):
        store.put_file("a/b", write(tmp_path / "src", b"x"))


# --- error mapping -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reading", "kind", "transient"),
    [
        (errno.ENOENT, True, ObjectNotFound, False),
        (errno.ENOTDIR, True, ObjectNotFound, False),
        (errno.ENOENT, False, StorageError, False),
        (errno.ENOSPC, False, StorageError, False),
        (errno.EROFS, True, StorageError, False),
        (errno.EAGAIN, False, StorageError, True),
        (errno.ETIMEDOUT, True, StorageError, True),
        (errno.ESTALE, False, StorageError, True),
    ],
)
def test_map_storage_errors(
    code: int, reading: bool, kind: type[StorageError], transient: bool
) -> None:
    with pytest.raises(kind) as info, map_storage_errors("k/x", reading=reading):
        raise OSError(code, os.strerror(code), "/some/file")
    assert type(info.value) is kind
    assert info.value.transient is transient
    assert "'k/x'" in str(info.value)
    assert isinstance(info.value.__cause__, OSError)


def test_map_storage_errors_passes_other_exceptions() -> None:
    with pytest.raises(ValueError), map_storage_errors("k"):
        raise ValueError("not ours")


# --- key validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../../etc/passwd",
        "..",
        "/abs",
        "/",
        "a/../b",
        "a/..",
        "a\\b",
        "..\\x",
        "a\x00b",
        "a//b",
        "a/",
        "./a",
        "a/./b",
    ],
)
def test_bad_keys_are_rejected(store: LocalStorage, tmp_path: Path, key: str) -> None:
    with pytest.raises(StorageError, match="invalid storage key") as info:
        validate_key(key)
    assert repr(key) in str(info.value)
    assert info.value.key == key
    src = write(tmp_path / "src", b"x")
    for call in (
        lambda: store.put_file(key, src),
        lambda: store.get_file(key, str(tmp_path / "out")),
        lambda: store.exists(key),
        lambda: store.size(key),
        lambda: store.delete(key),
        lambda: store.local_path(key),
    ):
        with pytest.raises(StorageError, match="invalid storage key"):
            call()
    assert all_files(tmp_path) == ["src"]  # nothing was written anywhere
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "key",
    ["a", "a/b/c.mkv", "jobs/42/chunk-0003.mkv", "with space", "..a", "a..", "é/ü", ".hidden"],
)
def test_good_keys(store: LocalStorage, tmp_path: Path, key: str) -> None:
    assert validate_key(key) == key
    store.put_file(key, write(tmp_path / "src", b"ok"))
    assert store.list("") == [key]


@pytest.mark.parametrize(
    ("prefix", "ok"),
    [
        ("", True),
        ("jobs/", True),
        ("jobs/4", True),
        ("../", False),
        ("a/../", False),
        ("/abs", False),
        ("a\\", False),
        ("a//", False),
    ],
)
def test_prefix_validation(store: LocalStorage, prefix: str, ok: bool) -> None:
    if ok:
        assert validate_prefix(prefix) == prefix
        assert store.list(prefix) == []
    else:
        with pytest.raises(StorageError, match="invalid storage prefix"):
            store.list(prefix)
        with pytest.raises(StorageError, match="invalid storage prefix"):
            store.delete_prefix(prefix)


def test_traversal_cannot_touch_files_outside(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"do not touch")
    store = LocalStorage(str(tmp_path / "store"))
    with pytest.raises(StorageError):
        store.delete("../secret")
    with pytest.raises(StorageError):
        store.put_file("../secret", write(tmp_path / "src", b"overwritten"))
    assert secret.read_bytes() == b"do not touch"


# --- open_storage ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("file:///srv/render", "/srv/render"),
        ("file:///srv/render/", "/srv/render"),
        ("FILE:///srv/render", "/srv/render"),
        ("file://localhost/srv/render", "/srv/render"),
        ("file:///srv/with%20space", "/srv/with space"),
        ("/srv/render", "/srv/render"),
        ("/srv/./a/../render", "/srv/render"),
        ("relative/dir", "{cwd}/relative/dir"),
        ("./here", "{cwd}/here"),
        ("s3:bucket", "{cwd}/s3:bucket"),  # no "://": a path, however odd
    ],
)
def test_open_storage_local(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, root: str
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_storage(url)
    assert isinstance(store, LocalStorage)
    assert store.root == root.format(cwd=os.getcwd())
    assert store.url == Path(store.root).as_uri()
    assert store.local_path("k") == os.path.join(store.root, "k")
    # The URL reopens the same storage from anywhere.
    reopened = open_storage(store.url)
    assert isinstance(reopened, LocalStorage)
    assert reopened.root == store.root


def test_open_storage_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    store = open_storage("~/renders")
    assert isinstance(store, LocalStorage)
    assert store.root == str(tmp_path / "renders")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.com/x", "storage scheme http is not supported"),
        ("ftp://host/x", "storage scheme ftp is not supported"),
        ("s3://", "bucket"),
        ("", "empty"),
        ("   ", "empty"),
        ("file://server/share", "names host 'server'"),
        ("file://relative/path", "names host 'relative'"),
        ("file:///srv?x=1", "query"),
        ("/srv/\x00", "NUL"),
    ],
)
def test_open_storage_rejects(url: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        open_storage(url)

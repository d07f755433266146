"""Local directory storage beyond the contract every backend meets (test_storage_contract.py):
files on disk, temp files and interrupted writes, errno translation, the error types, open_storage.
"""

from __future__ import annotations

import errno
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import pytest

from common.errors import RenderError
from providers.storage import (
    LocalStorage,
    ObjectNotFound,
    StorageError,
    map_storage_errors,
    open_storage,
    split_object_url,
)
from providers.storage import local as local_module
from tests.providers.storage_cases import failing_copy


@pytest.fixture
def store(tmp_path: Path) -> LocalStorage:
    return LocalStorage(str(tmp_path / "store"))


def write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# --- interface ---------------------------------------------------------------------------------


def test_storage_errors_belong_to_the_one_tree() -> None:
    assert issubclass(StorageError, RenderError)
    assert issubclass(ObjectNotFound, StorageError)
    err = StorageError("boom", key="a/b", transient=True)
    copy = pickle.loads(pickle.dumps(err))
    assert (str(copy), copy.key, copy.transient, type(copy)) == ("boom", "a/b", True, StorageError)
    assert ObjectNotFound("gone").transient is False


# --- files on disk -----------------------------------------------------------------------------


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


def test_local_path_is_the_key_below_the_root(store: LocalStorage) -> None:
    # The contract checks the file holds the object; workers also rely on this layout.
    assert store.local_path("x/y.bin") == os.path.join(store.root, "x", "y.bin")


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


@pytest.mark.parametrize(
    "url",
    [
        "s3://AKIAEXAMPLE:s3cr3t@bucket/renders",
        "gs://svc:s3cr3t@bucket/out/film.mp4",
        "az://account:s3cr3t@renders/film.mp4",
        "file://user:s3cr3t@localhost/srv/film.mp4",
        "https://user:s3cr3t@example.com/film.mp4",
    ],
)
def test_credentials_in_a_url_are_refused_and_never_echoed(url: str) -> None:
    """A key pasted into the URL came back in the error ("invalid S3 bucket name
    'AKIA…:secret@bucket'"), and so in logs and job records."""
    for parse in (open_storage, split_object_url):
        with pytest.raises(StorageError) as info:
            parse(url)
        assert "s3cr3t" not in str(info.value), (parse, info.value)


def _killed_mid_write(store: LocalStorage, key: str, tmp_path: Path) -> Path:
    """Upload ``key`` in another process from a pipe, SIGKILL it mid-write (a worker killed
    during its segment's upload); the temp file it left."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code = (
        "import sys; from providers.storage import LocalStorage as L; "
        "L(sys.argv[1]).put_file(sys.argv[2], sys.argv[3])"
    )
    child = subprocess.Popen([sys.executable, "-c", code, store.root, key, str(fifo)])
    try:
        with open(fifo, "wb") as pipe:
            pipe.write(b"x" * (3 << 19))  # a buffer and a half: the first lands in the file
            pipe.flush()
            directory = Path(store.root, *key.split("/")[:-1])
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                temps = list(directory.glob(local_module._TMP_PREFIX + "*"))
                if temps and temps[0].stat().st_size > 0:
                    break
                time.sleep(0.01)
            else:
                raise AssertionError("the upload wrote nothing in 30 s")
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert len(temps) == 1 and not Path(store.root, *key.split("/")).exists()
    return temps[0]


def test_delete_prefix_removes_what_an_upload_killed_mid_write_left(
    store: LocalStorage, tmp_path: Path
) -> None:
    """A job cancelled (or swept) after a worker died uploading one of its segments kept the
    temp file for ever: never listed, so never deleted, and its directory never pruned."""
    store.put_file("jobs/j/owner.json", write(tmp_path / "src", b"{}"))
    _killed_mid_write(store, "jobs/j/segments/000001.mkv", tmp_path)
    assert store.delete_prefix("jobs/j/") == 1  # the objects: the temp file is none
    assert all_files(Path(store.root)) == []
    assert not Path(store.root, "jobs").exists()


def test_a_write_removes_stale_temp_files_beside_it_not_live_ones(
    store: LocalStorage, tmp_path: Path
) -> None:
    """A completed job's directory (never delete_prefix'ed: its video stays) kept the temp file
    of every upload killed in it; the next write there removes those untouched for
    TMP_STALE, not a write still in progress."""
    dead = _killed_mid_write(store, "jobs/j/000001.mkv", tmp_path)
    live = dead.with_name(local_module._TMP_PREFIX + "live")
    live.write_bytes(b"being written")
    old = dead.stat().st_mtime - 86400  # killed a day ago
    os.utime(dead, (old, old))
    store.put_file("jobs/j/000002.mkv", write(tmp_path / "src", b"x"))
    assert all_files(Path(store.root)) == [f"jobs/j/{live.name}", "jobs/j/000002.mkv"]


def test_a_clock_far_ahead_does_not_take_a_live_write_for_a_dead_one(
    store: LocalStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Temp files age by the file system's clock: a worker whose clock is a day ahead (or was
    stepped) removed every write in progress beside its own."""
    store.put_file("jobs/j/000001.mkv", write(tmp_path / "src", b"x"))
    live = Path(store.root, "jobs", "j", local_module._TMP_PREFIX + "live")
    live.write_bytes(b"being written")
    ahead = time.time() + 86400
    monkeypatch.setattr(time, "time", lambda: ahead)
    store.put_file("jobs/j/000002.mkv", write(tmp_path / "src", b"y"))
    assert live.exists()

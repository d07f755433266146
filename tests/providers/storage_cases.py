"""Cases several storage test modules share: keys no backend may accept, the operations that
reach a backend, and a copy routine that fails half-way."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO

from providers.storage import Storage

BAD_KEYS = [
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
]


def failing_copy(code: int) -> Callable[[IO[bytes], IO[bytes]], None]:
    """A LocalStorage copy routine that writes half an object, then fails with ``code``."""

    def copy(src: IO[bytes], dst: IO[bytes]) -> None:
        dst.write(src.read(5))
        raise OSError(code, os.strerror(code))

    return copy


def write(path: Path, data: bytes) -> str:
    """Write a local file and return its path."""
    path.write_bytes(data)
    return str(path)


#: The Storage methods that reach the backend, for the backends' own failure tests.
OPS = ["put_file", "get_file", "exists", "size", "delete", "delete_prefix", "list"]


def run_op(store: Storage, op: str, tmp_path: Path) -> object:
    """Run one storage operation on key "k" (or prefix ""), with its local files in ``tmp_path``."""
    src = write(tmp_path / "op-src", b"data")
    calls: dict[str, Callable[[], object]] = {
        "put_file": lambda: store.put_file("k", src),
        "get_file": lambda: store.get_file("k", str(tmp_path / "op-out")),
        "exists": lambda: store.exists("k"),
        "size": lambda: store.size("k"),
        "delete": lambda: store.delete("k"),
        "delete_prefix": lambda: store.delete_prefix(""),
        "list": lambda: store.list(""),
    }
    return calls[op]()


#: Keys and the media type a browser or player is handed with the object.
MEDIA_TYPES = [
    ("out/film.mp4", "video/mp4"),
    ("jobs/1/segments/000001.MKV", "video/x-matroska"),
    ("out/cut.webm", "video/webm"),
    ("jobs/1/manifest", "application/octet-stream"),
]

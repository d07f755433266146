"""File hashes remembered between processes by each file's identity (workers.file_hashes)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from workers import file_hashes, fingerprint

pytestmark = pytest.mark.timeout(60)


def _no_hashing(path: str) -> str:
    raise AssertionError(f"{path} was hashed again")


def test_a_remembered_file_is_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = tmp_path / "libx264.so.1"
    lib.write_bytes(b"x" * 5000)
    memo = str(tmp_path / "memo" / "files.json")

    first = file_hashes.hashes([str(lib)], memo)
    monkeypatch.setattr(file_hashes, "file_hash", _no_hashing)
    again = file_hashes.hashes([str(lib)], memo)

    assert first == again and len(first[str(lib)]) == 16


def test_the_hash_is_the_files_sha256(tmp_path: Path) -> None:
    lib = tmp_path / "libavcodec.so.60"
    lib.write_bytes(b"abc")
    found = file_hashes.hashes([str(lib)], str(tmp_path / "m.json"))
    assert found[str(lib)] == "ba7816bf8f01cfea"  # sha256("abc")


def test_bytes_rewritten_in_place_with_the_old_times_are_hashed_again(tmp_path: Path) -> None:
    lib = tmp_path / "libavcodec.so.60"
    lib.write_bytes(b"a" * 4096)
    memo = str(tmp_path / "m.json")
    before = file_hashes.hashes([str(lib)], memo)[str(lib)]
    old = lib.stat()
    time.sleep(0.02)  # the change time moves on (coarse clocks tick every few ms)
    lib.write_bytes(b"b" * 4096)  # same size, same inode
    os.utime(lib, ns=(old.st_atime_ns, old.st_mtime_ns))  # and the modification time put back

    after = file_hashes.hashes([str(lib)], memo)[str(lib)]

    assert after != before and after == file_hashes.file_hash(str(lib))


def test_a_file_replaced_by_an_upgrade_is_hashed_again(tmp_path: Path) -> None:
    lib = tmp_path / "libdav1d.so.7"
    lib.write_bytes(b"old")
    memo = str(tmp_path / "m.json")
    file_hashes.hashes([str(lib)], memo)
    new = tmp_path / "new"
    new.write_bytes(b"new")
    os.replace(new, lib)

    assert file_hashes.hashes([str(lib)], memo)[str(lib)] == file_hashes.file_hash(str(lib))


def test_a_memo_others_may_write_is_not_believed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = tmp_path / "libx265.so.199"
    lib.write_bytes(b"real")
    memo = tmp_path / "m.json"
    ident = file_hashes.identity(str(lib))
    memo.write_text(json.dumps({"format": 1, "files": {str(lib): [ident, "0" * 16]}}))
    memo.chmod(0o666)

    found = file_hashes.hashes([str(lib)], str(memo))

    assert found[str(lib)] == file_hashes.file_hash(str(lib)) != "0" * 16
    assert "0" * 16 in memo.read_text()  # and not written over either


def test_a_corrupt_or_unwritable_memo_only_costs_the_hashing(tmp_path: Path) -> None:
    lib = tmp_path / "libvpx.so.8"
    lib.write_bytes(b"vp9")
    memo = tmp_path / "m.json"
    memo.write_text("{not json")
    assert file_hashes.hashes([str(lib)], str(memo))[str(lib)] == file_hashes.file_hash(str(lib))
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    inside = str(blocked / "m.json")
    assert file_hashes.hashes([str(lib)], inside)[str(lib)] == file_hashes.file_hash(str(lib))


def test_the_fingerprints_libraries_are_the_same_with_and_without_the_memo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDRENDER_FINGERPRINT_MEMO", "off")
    unremembered = fingerprint._libraries()
    monkeypatch.setenv("CLOUDRENDER_FINGERPRINT_MEMO", str(tmp_path / "memo.json"))
    writing = fingerprint._libraries()
    monkeypatch.setattr(file_hashes, "file_hash", _no_hashing)
    remembered = fingerprint._libraries()

    assert unremembered and unremembered == writing == remembered

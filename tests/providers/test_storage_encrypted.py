"""Encrypted storage beyond the contract every backend meets (test_storage_contract.py): frame
boundaries, the stored format, fresh nonces, tamper, truncation and key-swap detection, key
parsing, and the keyless wrapper that refuses ciphertext. The attacks as an attacker runs them
are in tests/security/test_encryption.py."""

from __future__ import annotations

import base64
import builtins
import os
import random
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from providers.storage import LocalStorage, Storage, StorageError
from providers.storage.encrypted import (
    DEFAULT_FRAME_SIZE,
    FRAME_OVERHEAD,
    HEADER_SIZE,
    MAGIC,
    RETIRED_MAGIC,
    VERSION,
    EncryptedStorage,
    PlaintextStorage,
    decrypt_file,
    encrypt_file,
    key_from_text,
    plaintext_size,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
#: Small frames keep multi-frame objects tiny enough to tamper with at every byte.
FRAME = 16


@pytest.fixture
def inner(tmp_path: Path) -> LocalStorage:
    return LocalStorage(str(tmp_path / "store"))


@pytest.fixture
def staging(tmp_path: Path) -> Path:
    path = tmp_path / "staging"
    path.mkdir()
    return path


@pytest.fixture
def store(inner: LocalStorage, staging: Path) -> EncryptedStorage:
    return EncryptedStorage(inner, KEY, frame_size=FRAME, tmp_dir=str(staging))


def write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def stored(inner: LocalStorage, key: str) -> bytes:
    path = inner.local_path(key)
    assert path is not None
    return Path(path).read_bytes()


def restore(inner: LocalStorage, key: str, data: bytes, tmp_path: Path) -> None:
    inner.put_file(key, write(tmp_path / "forged", data))


def frames(blob: bytes) -> builtins.list[bytes]:
    """The frame records (length field included) of an encrypted blob."""
    records = []
    at = HEADER_SIZE
    while at < len(blob):
        length = int.from_bytes(blob[at : at + 4], "big")
        records.append(blob[at : at + 4 + length])
        at += 4 + length
    return records


def assert_get_fails(
    store: EncryptedStorage, key: str, dest: Path, match: str = "failed authentication"
) -> None:
    """get_file raises StorageError and leaves nothing at (or beside) ``dest``."""
    with pytest.raises(StorageError, match=match):
        store.get_file(key, str(dest))
    assert not dest.exists()
    if dest.parent.exists():
        assert list(dest.parent.iterdir()) == []  # no temp file left behind either


# --- interface ---------------------------------------------------------------------------------


def test_delegates_naming(store: EncryptedStorage, inner: LocalStorage) -> None:
    # Opening the URL again yields the ciphertext, not this wrapper.
    assert store.url == inner.url
    assert store.inner is inner


def test_repr_and_errors_never_show_the_key(inner: LocalStorage) -> None:
    store = EncryptedStorage(inner, KEY)
    assert KEY.hex() not in repr(store) and repr(KEY) not in repr(store)
    with pytest.raises(StorageError, match="must be 32 bytes") as info:
        EncryptedStorage(inner, KEY[:31])
    assert KEY[:31].hex() not in str(info.value)


@pytest.mark.parametrize(
    ("key", "match"),
    [
        (b"", "got 0 bytes"),
        (bytes(31), "got 31 bytes"),
        (bytes(33), "got 33 bytes"),
        (bytes(16), "got 16 bytes"),  # AES-128 is not accepted
        ("0" * 64, "not str"),
    ],
)
def test_bad_keys_are_refused(inner: LocalStorage, key: bytes, match: str) -> None:
    with pytest.raises(StorageError, match=match):
        EncryptedStorage(inner, key)


@pytest.mark.parametrize("frame_size", [0, -1, 64 * 1024 * 1024 + 1])
def test_bad_frame_sizes_are_refused(inner: LocalStorage, frame_size: int) -> None:
    with pytest.raises(StorageError, match="frame size"):
        EncryptedStorage(inner, KEY, frame_size=frame_size)


# --- key parsing -------------------------------------------------------------------------------

_B64 = base64.b64encode(KEY).decode()
_B64_URL = base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (KEY.hex(), KEY),
        (KEY.hex().upper(), KEY),
        (f"  {KEY.hex()}\n", KEY),
        (_B64, KEY),
        (_B64.rstrip("="), KEY),
        (f"{_B64}\n", KEY),
        (_B64_URL, b"\xfb\xff" * 16),
        (base64.b64encode(b"\xfb\xff" * 16).decode(), b"\xfb\xff" * 16),
    ],
)
def test_key_from_text_accepts_hex_and_base64(text: str, expected: bytes) -> None:
    assert key_from_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        KEY.hex()[:-2],  # 31 bytes of hex
        KEY.hex() + "00",  # 33 bytes of hex
        "g" * 64,  # hex length, not hex, and base64 of 48 bytes
        base64.b64encode(bytes(16)).decode(),  # AES-128
        base64.b64encode(bytes(33)).decode(),
        "correct horse battery staple",
        "not base64 at all!!!!!!!!!!!!!!!!!!!!!!!!!!",
        "Zm9v*",
    ],
)
def test_key_from_text_refuses_without_echoing(text: str) -> None:
    with pytest.raises(StorageError, match="64 hex characters or base64 of 32 bytes") as info:
        key_from_text(text)
    if text.strip():
        assert text.strip() not in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None  # no decoder detail


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size",
    [0, 1, FRAME - 1, FRAME, FRAME + 1, 2 * FRAME, 3 * FRAME + 5, 100 * FRAME + 7],
)
def test_round_trip(store: EncryptedStorage, tmp_path: Path, staging: Path, size: int) -> None:
    data = os.urandom(size)
    store.put_file("jobs/1/chunk.mkv", write(tmp_path / "in.bin", data))
    out = tmp_path / "out" / "chunk.mkv"
    store.get_file("jobs/1/chunk.mkv", str(out))
    assert out.read_bytes() == data
    assert store.size("jobs/1/chunk.mkv") == size
    assert sorted(os.listdir(out.parent)) == ["chunk.mkv"]  # no temp files left behind
    assert list(staging.iterdir()) == []


def test_round_trip_random_sizes(store: EncryptedStorage, tmp_path: Path) -> None:
    rng = random.Random(20240517)
    for n in range(20):
        data = rng.randbytes(rng.randrange(0, 20 * FRAME))
        store.put_file(f"r/{n}", write(tmp_path / "in.bin", data))
        store.get_file(f"r/{n}", str(tmp_path / "out.bin"))
        assert (tmp_path / "out.bin").read_bytes() == data
        assert store.size(f"r/{n}") == len(data)


@pytest.mark.parametrize("size", [0, 1, DEFAULT_FRAME_SIZE, 2 * DEFAULT_FRAME_SIZE + 3])
def test_round_trip_with_default_frames(inner: LocalStorage, tmp_path: Path, size: int) -> None:
    store = EncryptedStorage(inner, KEY)
    data = os.urandom(size)
    store.put_file("a", write(tmp_path / "in.bin", data))
    store.get_file("a", str(tmp_path / "out.bin"))
    assert (tmp_path / "out.bin").read_bytes() == data
    assert store.size("a") == size
    expected_frames = max(1, -(-size // DEFAULT_FRAME_SIZE))
    assert inner.size("a") == HEADER_SIZE + size + FRAME_OVERHEAD * expected_frames


# --- what is stored ----------------------------------------------------------------------------


def test_stored_bytes_are_ciphertext_with_the_documented_layout(
    store: EncryptedStorage, inner: LocalStorage, tmp_path: Path
) -> None:
    data = b"frame one here!!frame two here!!tail"  # 2 full frames of 16 and 4 bytes
    store.put_file("a", write(tmp_path / "in.bin", data))
    blob = stored(inner, "a")
    assert HEADER_SIZE == 35 and FRAME_OVERHEAD == 20
    assert blob[:6] == MAGIC == b"CRENC2" and blob[6] == VERSION == 2
    assert int.from_bytes(blob[7:11], "big") == FRAME
    assert len(blob) == HEADER_SIZE + len(data) + 3 * FRAME_OVERHEAD
    records = frames(blob)
    assert [len(record) - 4 for record in records] == [FRAME + 16, FRAME + 16, 4 + 16]
    assert data not in blob and b"frame one" not in blob and b"tail" not in blob
    # Decrypt by the documented recipe alone, independently of the module's code.
    header, salt, prefix = blob[:HEADER_SIZE], blob[11:27], blob[27:35]
    object_key = HKDF(SHA256(), 32, salt=salt, info=b"cloudrender CRENC2 v2").derive(KEY)
    plain = b""
    for i, record in enumerate(records):
        final = b"\x01" if i == len(records) - 1 else b"\x00"
        aad = header + (1).to_bytes(4, "big") + b"a" + i.to_bytes(4, "big") + final
        plain += AESGCM(object_key).decrypt(prefix + i.to_bytes(4, "big"), record[4:], aad)
    assert plain == data


def test_every_put_uses_a_fresh_nonce(
    store: EncryptedStorage, inner: LocalStorage, tmp_path: Path
) -> None:
    data = bytes(3 * FRAME)
    source = write(tmp_path / "in.bin", data)
    store.put_file("a", source)
    store.put_file("b", source)
    first, second = stored(inner, "a"), stored(inner, "b")
    assert first[11:27] != second[11:27]  # salt, hence the object key
    assert first[27:35] != second[27:35]  # nonce prefix
    assert first[HEADER_SIZE:] != second[HEADER_SIZE:]
    # Not even one frame's ciphertext repeats, though every plaintext frame is identical.
    records = frames(first) + frames(second)
    assert len({record[4:] for record in records}) == len(records)


def test_salts_and_nonce_prefixes_differ_across_many_objects(tmp_path: Path) -> None:
    source = write(tmp_path / "in.bin", b"")
    salts, prefixes = set(), set()
    for n in range(50):
        encrypt_file(source, str(tmp_path / f"{n}.enc"), KEY, object_key="same/key")
        header = (tmp_path / f"{n}.enc").read_bytes()[:HEADER_SIZE]
        salts.add(header[11:27])
        prefixes.add(header[27:35])
    assert len(salts) == len(prefixes) == 50


# --- tampering ---------------------------------------------------------------------------------


@pytest.fixture
def sealed(store: EncryptedStorage, inner: LocalStorage, tmp_path: Path) -> bytes:
    """An object of three frames (16 + 16 + 8 bytes) stored as "obj"; returns its bytes."""
    store.put_file("obj", write(tmp_path / "plain.bin", os.urandom(2 * FRAME + 8)))
    return stored(inner, "obj")


def test_flipping_any_byte_is_detected(
    store: EncryptedStorage, inner: LocalStorage, sealed: bytes, tmp_path: Path
) -> None:
    # Header, length fields, ciphertext and tags alike: every single byte is covered.
    out = tmp_path / "out" / "obj"
    for at in range(len(sealed)):
        forged = bytearray(sealed)
        forged[at] ^= 0x01
        restore(inner, "obj", bytes(forged), tmp_path)
        if at < len(MAGIC):
            match = "is not encrypted by cloudrender"
        elif at == len(MAGIC):
            match = "format version 3"
        else:
            match = "'obj' failed authentication: wrong key or tampered"
        assert_get_fails(store, "obj", out, match)


def test_truncation_anywhere_is_detected(
    store: EncryptedStorage, inner: LocalStorage, sealed: bytes, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "obj"
    for length in range(len(sealed)):
        restore(inner, "obj", sealed[:length], tmp_path)
        assert_get_fails(store, "obj", out, match="not encrypted|failed authentication")


def test_truncation_at_a_frame_boundary_is_detected(
    store: EncryptedStorage, inner: LocalStorage, sealed: bytes, tmp_path: Path
) -> None:
    records = frames(sealed)
    restore(inner, "obj", sealed[:HEADER_SIZE] + records[0] + records[1], tmp_path)
    assert_get_fails(store, "obj", tmp_path / "out" / "obj", match="frame 1 did not verify")


@pytest.mark.parametrize(
    "suffix", [b"\x00", b"\x00\x00\x00\x10", b"\x00\x00\x00\x10" + bytes(16), b"junk" * 100]
)
def test_appended_bytes_are_detected(
    store: EncryptedStorage, inner: LocalStorage, sealed: bytes, tmp_path: Path, suffix: bytes
) -> None:
    restore(inner, "obj", sealed + suffix, tmp_path)
    assert_get_fails(store, "obj", tmp_path / "out" / "obj")


def test_appended_frames_are_detected(
    store: EncryptedStorage, inner: LocalStorage, sealed: bytes, tmp_path: Path
) -> None:
    records = frames(sealed)
    for extra in records:
        restore(inner, "obj", sealed + extra, tmp_path)
        assert_get_fails(store, "obj", tmp_path / "out" / "obj")


def test_swapped_frames_are_detected(
    store: EncryptedStorage, inner: LocalStorage, sealed: bytes, tmp_path: Path
) -> None:
    first, second, last = frames(sealed)
    restore(inner, "obj", sealed[:HEADER_SIZE] + second + first + last, tmp_path)
    assert_get_fails(store, "obj", tmp_path / "out" / "obj", match="frame 0 did not verify")


def test_dropped_middle_frame_is_detected(
    store: EncryptedStorage, inner: LocalStorage, sealed: bytes, tmp_path: Path
) -> None:
    first, _, last = frames(sealed)
    restore(inner, "obj", sealed[:HEADER_SIZE] + first + last, tmp_path)
    assert_get_fails(store, "obj", tmp_path / "out" / "obj")


def test_frames_spliced_from_another_object_are_detected(
    store: EncryptedStorage, inner: LocalStorage, sealed: bytes, tmp_path: Path
) -> None:
    # Same key, same frame position: only the per-object nonce prefix and header tell them apart.
    store.put_file("other", write(tmp_path / "other.bin", os.urandom(2 * FRAME + 8)))
    other = stored(inner, "other")
    mine, theirs = frames(sealed), frames(other)
    spliced = sealed[:HEADER_SIZE] + mine[0] + theirs[1] + mine[2]
    restore(inner, "obj", spliced, tmp_path)
    assert_get_fails(store, "obj", tmp_path / "out" / "obj", match="frame 1 did not verify")
    # Their header with my frames fails too.
    restore(inner, "obj", other[:HEADER_SIZE] + sealed[HEADER_SIZE:], tmp_path)
    assert_get_fails(store, "obj", tmp_path / "out" / "obj", match="frame 0 did not verify")


def test_wrong_key_is_detected(
    inner: LocalStorage, sealed: bytes, tmp_path: Path, staging: Path
) -> None:
    wrong = EncryptedStorage(inner, OTHER_KEY, frame_size=FRAME, tmp_dir=str(staging))
    assert_get_fails(
        wrong, "obj", tmp_path / "out" / "obj", match="failed authentication: wrong key"
    )
    assert list(staging.iterdir()) == []


def test_failures_leave_an_existing_destination_untouched(
    inner: LocalStorage, store: EncryptedStorage, sealed: bytes, tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "obj"
    out.write_bytes(b"previous render")
    wrong = EncryptedStorage(inner, OTHER_KEY, frame_size=FRAME)
    forged = bytearray(sealed)
    forged[-1] ^= 0x80  # the last tag: every earlier frame verifies and is decrypted first
    inner.put_file("forged", write(tmp_path / "forged.bin", bytes(forged)))
    inner.put_file("plain", write(tmp_path / "plain-object.bin", b"just some bytes"))
    for storage, key in [(wrong, "obj"), (store, "forged"), (store, "plain"), (store, "nope")]:
        with pytest.raises(StorageError):
            storage.get_file(key, str(out))
        assert out.read_bytes() == b"previous render"
        assert os.listdir(out_dir) == ["obj"]


def test_plain_objects_are_reported_as_not_encrypted(
    store: EncryptedStorage, inner: LocalStorage, tmp_path: Path
) -> None:
    for data in [b"", b"hello", b"\x1aE\xdf\xa3 a matroska file", MAGIC[:3]]:
        restore(inner, "plain", data, tmp_path)
        assert_get_fails(
            store,
            "plain",
            tmp_path / "out" / "plain",
            match="object 'plain' is not encrypted by cloudrender",
        )
        with pytest.raises(StorageError, match="not encrypted by cloudrender"):
            store.size("plain")


def test_unknown_format_version_is_named(
    store: EncryptedStorage, inner: LocalStorage, sealed: bytes, tmp_path: Path
) -> None:
    restore(inner, "obj", MAGIC + b"\x03" + sealed[7:], tmp_path)
    assert_get_fails(store, "obj", tmp_path / "out" / "obj", match="version 3; this build")


def test_huge_declared_frame_size_is_refused_before_reading(
    store: EncryptedStorage, inner: LocalStorage, sealed: bytes, tmp_path: Path
) -> None:
    forged = sealed[:7] + (1 << 31).to_bytes(4, "big") + sealed[11:]
    restore(inner, "obj", forged, tmp_path)
    assert_get_fails(store, "obj", tmp_path / "out" / "obj", match="impossible frame size")


def test_huge_declared_frame_length_is_refused(
    store: EncryptedStorage, inner: LocalStorage, sealed: bytes, tmp_path: Path
) -> None:
    forged = sealed[:HEADER_SIZE] + b"\xff\xff\xff\xff" + sealed[HEADER_SIZE + 4 :]
    restore(inner, "obj", forged, tmp_path)
    assert_get_fails(store, "obj", tmp_path / "out" / "obj", match="impossible length")


def test_authentication_errors_are_not_transient(
    store: EncryptedStorage, inner: LocalStorage, sealed: bytes, tmp_path: Path
) -> None:
    restore(inner, "obj", sealed[:-1], tmp_path)
    with pytest.raises(StorageError) as info:
        store.get_file("obj", str(tmp_path / "out.bin"))
    assert info.value.transient is False
    assert info.value.key == "obj"


# --- binding to the storage key ----------------------------------------------------------------


def test_an_object_copied_to_another_key_fails_naming_that_key(
    store: EncryptedStorage, inner: LocalStorage, sealed: bytes, tmp_path: Path
) -> None:
    restore(inner, "jobs/b/obj", sealed, tmp_path)
    assert_get_fails(
        store,
        "jobs/b/obj",
        tmp_path / "out" / "obj",
        match="'jobs/b/obj' failed authentication: .* not the object stored under this key "
        r"\(frame 0 did not verify\)",
    )
    store.get_file("obj", str(tmp_path / "out" / "obj"))  # still good where it was sealed


@pytest.mark.parametrize("other", ["obj ", "Obj", "obj/", "a/obj", "obj.mkv", "ob"])
def test_keys_differing_by_one_character_do_not_match(
    store: EncryptedStorage, inner: LocalStorage, sealed: bytes, tmp_path: Path, other: str
) -> None:
    out = tmp_path / "out.bin"
    forged = write(tmp_path / "forged.bin", sealed)
    with pytest.raises(StorageError, match="not the object stored under this key"):
        decrypt_file(forged, str(out), KEY, object_key=other)
    assert not out.exists()


def test_non_ascii_keys_round_trip(store: EncryptedStorage, tmp_path: Path) -> None:
    for key in ["jobs/é/film.mp4", "jobs/映画/📼.mkv", "jobs/\udcff/x"]:
        store.put_file(key, write(tmp_path / "in.bin", b"some frames"))
        store.get_file(key, str(tmp_path / "out.bin"))
        assert (tmp_path / "out.bin").read_bytes() == b"some frames"


def _crenc1_object(data: bytes) -> bytes:
    """An object in the retired format, built by its recipe: no storage key in the tags."""
    salt, prefix = os.urandom(16), os.urandom(8)
    header = RETIRED_MAGIC + b"\x01" + FRAME.to_bytes(4, "big") + salt + prefix
    object_key = HKDF(SHA256(), 32, salt=salt, info=b"cloudrender CRENC1 v1").derive(KEY)
    sealed = AESGCM(object_key).encrypt(prefix + bytes(4), data, header + bytes(4) + b"\x01")
    return header + len(sealed).to_bytes(4, "big") + sealed


def test_retired_format_objects_are_refused_by_name(
    store: EncryptedStorage, inner: LocalStorage, tmp_path: Path
) -> None:
    restore(inner, "jobs/1/old.mkv", _crenc1_object(b"old plaintext"), tmp_path)
    message = "'jobs/1/old.mkv' is in the retired CRENC1 format, .* reads only CRENC2"
    assert_get_fails(store, "jobs/1/old.mkv", tmp_path / "out" / "old.mkv", match=message)
    with pytest.raises(StorageError, match=message):
        store.size("jobs/1/old.mkv")


# --- without a key -----------------------------------------------------------------------------


def test_keyless_storage_passes_plain_objects_through(inner: LocalStorage, tmp_path: Path) -> None:
    plain = PlaintextStorage(inner)
    assert isinstance(plain, Storage) and plain.url == inner.url
    plain.put_file("jobs/1/a.mkv", write(tmp_path / "in.bin", b"\x1aE\xdf\xa3 matroska"))
    plain.get_file("jobs/1/a.mkv", str(tmp_path / "out" / "a.mkv"))
    assert (tmp_path / "out" / "a.mkv").read_bytes() == b"\x1aE\xdf\xa3 matroska"
    assert plain.local_path("jobs/1/a.mkv") == inner.local_path("jobs/1/a.mkv")
    assert plain.local_path("jobs/1/missing") == inner.local_path("jobs/1/missing")
    assert plain.exists("jobs/1/a.mkv") and plain.size("jobs/1/a.mkv") == 13
    assert plain.list("jobs/") == ["jobs/1/a.mkv"]
    plain.delete("jobs/1/a.mkv")
    assert plain.delete_prefix("jobs/") == 0
    assert sorted(os.listdir(tmp_path / "out")) == ["a.mkv"]


@pytest.mark.parametrize("retired", [False, True], ids=["CRENC2", "CRENC1"])
def test_keyless_storage_refuses_ciphertext(
    store: EncryptedStorage, inner: LocalStorage, tmp_path: Path, retired: bool
) -> None:
    if retired:
        restore(inner, "jobs/1/out.mp4", _crenc1_object(b"video"), tmp_path)
    else:
        store.put_file("jobs/1/out.mp4", write(tmp_path / "in.bin", b"video"))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "out.mp4").write_bytes(b"previous")
    plain = PlaintextStorage(inner)
    message = "'jobs/1/out.mp4' is encrypted, but this process has no encryption key"
    with pytest.raises(StorageError, match=message) as info:
        plain.get_file("jobs/1/out.mp4", str(out_dir / "out.mp4"))
    assert info.value.key == "jobs/1/out.mp4" and not info.value.transient
    assert os.listdir(out_dir) == ["out.mp4"] and (out_dir / "out.mp4").read_bytes() == b"previous"
    with pytest.raises(StorageError, match=message):
        plain.local_path("jobs/1/out.mp4")


# --- delegation and sizes ----------------------------------------------------------------------


def test_queries_and_deletes_delegate(
    store: EncryptedStorage, inner: LocalStorage, tmp_path: Path
) -> None:
    source = write(tmp_path / "in.bin", b"x")
    for key in ["jobs/1/a", "jobs/1/b", "jobs/2/a"]:
        store.put_file(key, source)
    assert store.list("jobs/1/") == inner.list("jobs/1/") == ["jobs/1/a", "jobs/1/b"]
    assert store.exists("jobs/1/a") and not store.exists("jobs/1/c")
    assert store.local_path("jobs/1/a") is None  # the file there is ciphertext
    store.delete("jobs/1/a")
    store.delete("jobs/1/a")  # missing is fine
    assert not inner.exists("jobs/1/a")
    assert store.delete_prefix("jobs/") == 2
    assert store.list("") == []


class RemoteLike:
    """An inner storage with no local paths, as S3 or GCS would be."""

    def __init__(self, inner: LocalStorage) -> None:
        self.inner = inner
        self.url = inner.url
        self.put_file = inner.put_file
        self.get_file = inner.get_file
        self.exists = inner.exists
        self.size = inner.size
        self.delete = inner.delete
        self.delete_prefix = inner.delete_prefix
        self.list = inner.list

    def local_path(self, key: str) -> str | None:
        return None


def test_size_without_a_local_path_uses_the_framing(inner: LocalStorage, tmp_path: Path) -> None:
    remote = RemoteLike(inner)
    assert isinstance(remote, Storage)
    store = EncryptedStorage(remote, KEY, frame_size=FRAME)
    for size in [0, 1, FRAME - 1, FRAME, FRAME + 1, 5 * FRAME, 5 * FRAME + 3]:
        store.put_file("a", write(tmp_path / "in.bin", os.urandom(size)))
        assert store.size("a") == size
        store.get_file("a", str(tmp_path / "out.bin"))
        assert (tmp_path / "out.bin").stat().st_size == size
    inner.put_file("odd", write(tmp_path / "odd.bin", b"12345"))
    with pytest.raises(StorageError, match="fits no cloudrender encrypted object"):
        store.size("odd")


def test_size_reads_the_frame_size_from_a_local_header(inner: LocalStorage, tmp_path: Path) -> None:
    EncryptedStorage(inner, KEY, frame_size=FRAME).put_file(
        "a", write(tmp_path / "in.bin", bytes(10 * FRAME + 1))
    )
    assert EncryptedStorage(inner, KEY).size("a") == 10 * FRAME + 1


def test_plaintext_size_inverts_the_stored_size() -> None:
    for frame in [1, 3, 16, 1000]:
        for n in range(5 * frame + 2):
            frame_count = max(1, -(-n // frame))
            assert plaintext_size(HEADER_SIZE + n + FRAME_OVERHEAD * frame_count, frame) == n
    for impossible in [0, HEADER_SIZE, HEADER_SIZE + FRAME_OVERHEAD - 1]:
        with pytest.raises(ValueError):
            plaintext_size(impossible, 16)
    # One full frame plus an empty frame is never written.
    with pytest.raises(ValueError):
        plaintext_size(HEADER_SIZE + 16 + 2 * FRAME_OVERHEAD, 16)


# --- module-level helpers ----------------------------------------------------------------------


def test_encrypt_and_decrypt_file(tmp_path: Path) -> None:
    data = os.urandom(5000)
    src = write(tmp_path / "in.bin", data)
    sealed = str(tmp_path / "sealed")
    encrypt_file(src, sealed, KEY, object_key="renders/x.mkv", frame_size=100)
    decrypt_file(sealed, str(tmp_path / "out" / "plain"), KEY, object_key="renders/x.mkv")
    assert (tmp_path / "out" / "plain").read_bytes() == data
    with pytest.raises(StorageError, match="'renders/x.mkv' failed authentication"):
        decrypt_file(sealed, str(tmp_path / "bad"), OTHER_KEY, object_key="renders/x.mkv")
    with pytest.raises(StorageError, match="'renders/y.mkv' failed authentication"):
        decrypt_file(sealed, str(tmp_path / "bad"), KEY, object_key="renders/y.mkv")
    assert not (tmp_path / "bad").exists()
    with pytest.raises(StorageError, match="is not encrypted by cloudrender"):
        decrypt_file(src, str(tmp_path / "bad"), KEY, object_key="in.bin")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.bin", "out", "sealed"]

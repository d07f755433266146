"""Assets arriving over HTTP: names, hashes, size limits, media checks, idempotent storing."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.asset_uploads import (
    ASSET_EXTENSIONS,
    AssetHashMismatch,
    AssetNameError,
    AssetNoRoom,
    AssetNotMedia,
    AssetTooLarge,
    AssetUploadError,
    UnsupportedAsset,
    check_sizes,
    missing_assets,
    parse_asset_name,
    receive_asset,
    upload_targets,
)
from providers.storage import LocalStorage
from providers.storage.encrypted import EncryptedStorage, PlaintextStorage
from providers.storage.signed import SignedUpload
from tests.media import make_image, make_video

MiB = 1 << 20


def name_of(data: bytes, ext: str) -> str:
    return hashlib.sha256(data).hexdigest() + ext


def pieces(data: bytes, size: int = 4096) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def apieces(data: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for piece in pieces(data, size):
        yield piece


@pytest.fixture
def store(tmp_path: Path) -> LocalStorage:
    return LocalStorage(str(tmp_path / "bucket"))


@pytest.fixture
def tmp_dir(tmp_path: Path) -> Iterator[Path]:
    """The upload temp folder; every test leaves it empty, whatever happened."""
    path = tmp_path / "uploads"
    path.mkdir()
    yield path
    assert os.listdir(path) == []


@pytest.fixture(scope="module")
def mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    make_video(path, frames=3, size=(320, 180))
    return path.read_bytes()


@pytest.fixture(scope="module")
def png(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("media") / "still.png"
    make_image(path, (320, 180), (0, 128, 255, 255))
    return path.read_bytes()


def receive(
    store: LocalStorage,
    name: str,
    chunks: Iterable[bytes] | AsyncIterator[bytes],
    tmp_dir: Path,
    max_bytes: int = 64 * MiB,
) -> tuple[int, bool]:
    return asyncio.run(receive_asset(store, name, chunks, max_bytes, str(tmp_dir)))


# -- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "error", "words"),
    [
        ("ab" * 32, AssetNameError, "not an asset name"),  # no extension
        ("AB" * 32 + ".mp4", AssetNameError, "lowercase hex"),
        ("ab" * 31 + ".mp4", AssetNameError, "not an asset name"),
        ("sha256:" + "ab" * 32 + ".mp4", AssetNameError, "not an asset name"),
        ("../" + "ab" * 32 + ".mp4", AssetNameError, "not an asset name"),
        ("ab" * 32 + ".MP4", AssetNameError, "not an asset name"),
        ("ab" * 32 + ".m3u8", UnsupportedAsset, ".m3u8 is not an allowed media format"),
        ("ab" * 32 + ".txt", UnsupportedAsset, ".txt is not an allowed media format"),
        ("ab" * 32 + ".exe", UnsupportedAsset, "allowed: "),
    ],
)
def test_bad_names_are_refused_naming_them(
    name: str, error: type[AssetUploadError], words: str
) -> None:
    with pytest.raises(error, match=words) as info:
        parse_asset_name(name)
    assert "\n" not in str(info.value)
    assert name[:40] in str(info.value)
    assert info.value.http_status == (415 if error is UnsupportedAsset else 400)


def test_good_names_parse() -> None:
    assert parse_asset_name("ab" * 32 + ".mp4") == ("ab" * 32, ".mp4")
    assert {".mp4", ".mov", ".mkv", ".png", ".jpg", ".wav"} <= ASSET_EXTENSIONS


# -- which assets are missing -----------------------------------------------------------------


def test_missing_lists_unstored_names_once_in_order(
    store: LocalStorage, tmp_path: Path, png: bytes
) -> None:
    held = name_of(png, ".png")
    (tmp_path / "held.png").write_bytes(png)
    store.put_file(f"assets/{held}", str(tmp_path / "held.png"))
    a, b = "aa" * 32 + ".mp4", "bb" * 32 + ".wav"
    assert missing_assets(store, [b, held, a, b]) == [b, a]
    assert missing_assets(store, []) == []


def test_missing_reports_every_bad_name_in_one_line(store: LocalStorage) -> None:
    with pytest.raises(AssetNameError) as info:
        missing_assets(store, ["nope.mp4", "ab" * 32 + ".txt", "cc" * 32 + ".mp4"])
    text = str(info.value)
    assert text.startswith("2 problems: ") and "'nope.mp4'" in text and ".txt" in text
    with pytest.raises(UnsupportedAsset):
        missing_assets(store, ["ab" * 32 + ".txt"])


def test_sizes_over_the_limit_are_refused_before_any_upload() -> None:
    check_sizes({"aa" * 32 + ".mp4": 10}, max_bytes=10)
    with pytest.raises(AssetTooLarge, match=r"is 11 bytes, above the limit of 10 bytes"):
        check_sizes({"aa" * 32 + ".mp4": 11}, max_bytes=10)


# -- receiving an upload ---------------------------------------------------------------------


def test_a_real_mp4_and_png_are_stored_under_their_hash(
    store: LocalStorage, tmp_dir: Path, mp4: bytes, png: bytes
) -> None:
    for data, ext in ((mp4, ".mp4"), (png, ".png")):
        name = name_of(data, ext)
        assert receive(store, name, pieces(data), tmp_dir) == (len(data), True)
        path = store.local_path(f"assets/{name}")
        assert path is not None and Path(path).read_bytes() == data
    assert missing_assets(store, [name_of(mp4, ".mp4"), name_of(png, ".png")]) == []


def test_an_async_stream_is_taken_too(store: LocalStorage, tmp_dir: Path, mp4: bytes) -> None:
    name = name_of(mp4, ".mp4")
    assert receive(store, name, apieces(mp4, 1000), tmp_dir) == (len(mp4), True)


def test_second_upload_is_idempotent_and_rewrites_nothing(
    store: LocalStorage, tmp_dir: Path, mp4: bytes
) -> None:
    name = name_of(mp4, ".mp4")
    receive(store, name, pieces(mp4), tmp_dir)
    path = Path(str(store.local_path(f"assets/{name}")))
    before = path.stat()
    assert receive(store, name, pieces(mp4), tmp_dir) == (len(mp4), False)
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_truncated_stored_object_is_replaced(
    store: LocalStorage, tmp_dir: Path, tmp_path: Path, mp4: bytes
) -> None:
    name = name_of(mp4, ".mp4")
    (tmp_path / "cut").write_bytes(mp4[:100])
    store.put_file(f"assets/{name}", str(tmp_path / "cut"))
    assert receive(store, name, pieces(mp4), tmp_dir) == (len(mp4), True)
    assert store.size(f"assets/{name}") == len(mp4)


def test_wrong_hash_stores_nothing(store: LocalStorage, tmp_dir: Path, mp4: bytes) -> None:
    name = name_of(mp4, ".mp4")
    with pytest.raises(AssetHashMismatch, match="not the hash the name promises") as info:
        receive(store, name, pieces(mp4[:-1] + b"\x00"), tmp_dir)
    assert info.value.http_status == 400 and "nothing was stored" in str(info.value)
    assert store.list("") == []


def test_oversize_stream_stops_as_soon_as_it_passes_the_limit(
    store: LocalStorage, tmp_dir: Path
) -> None:
    taken = 0

    def endless() -> Iterator[bytes]:
        nonlocal taken
        while True:
            taken += 1
            yield b"\0" * 1000

    with pytest.raises(AssetTooLarge, match="larger than the limit of 9.8 KiB") as info:
        receive(store, "ab" * 32 + ".mp4", endless(), tmp_dir, max_bytes=10_000)
    assert info.value.http_status == 413
    assert taken == 11  # the chunk that crossed the limit was the last one read
    assert store.list("") == []


@pytest.mark.parametrize(
    ("data", "ext", "words"),
    [
        (b"\x00\x01 not media at all " * 50, ".mp4", "is not a media file a render can use"),
        (b"#EXTM3U\n#EXTINF:1,\n/etc/passwd.mp4\n", ".mp4", "HLS playlist is not an allowed"),
        (b"ffconcat version 1.0\nfile '/etc/hosts'\n", ".mkv", "concat file list"),
        (b"plain text that claims to be a picture\n", ".png", "is not a readable image"),
        (b"", ".mp4", "is empty"),
    ],
)
def test_non_media_bytes_are_refused(
    store: LocalStorage, tmp_dir: Path, data: bytes, ext: str, words: str
) -> None:
    name = name_of(data, ext)
    with pytest.raises(AssetNotMedia, match=words) as info:
        receive(store, name, pieces(data), tmp_dir)
    text = str(info.value)
    assert info.value.http_status == 415 and name in text and str(tmp_dir) not in text
    assert "\n" not in text
    assert store.list("") == []


def test_media_under_another_formats_extension_is_refused(
    store: LocalStorage, tmp_dir: Path, mp4: bytes, png: bytes
) -> None:
    for data, ext, words in (
        (png, ".mp4", "not the format its extension .mp4 names"),
        (mp4, ".mkv", "not the format its extension .mkv names"),
        (mp4, ".png", "is not a readable image"),
    ):
        with pytest.raises(AssetNotMedia, match=words):
            receive(store, name_of(data, ext), pieces(data), tmp_dir)
    assert store.list("") == []


def test_a_failing_stream_leaves_nothing_behind(store: LocalStorage, tmp_dir: Path) -> None:
    def broken() -> Iterator[bytes]:
        yield b"x" * 1000
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        receive(store, "ab" * 32 + ".mp4", broken(), tmp_dir)
    assert store.list("") == []


# -- pre-signed upload targets ----------------------------------------------------------------


class SigningStore(LocalStorage):
    """A local store that signs uploads the way a cloud one would, with chosen checks."""

    def __init__(self, root: str, checks: frozenset[str]) -> None:
        super().__init__(root)
        self.checks = checks

    def presigned_put(
        self, key: str, *, sha256_hex: str, size: int, expires: float = 900
    ) -> SignedUpload | None:
        return SignedUpload(
            f"https://store.example/{key}?e={expires}", {"x-size": str(size)}, self.checks
        )


def test_local_and_encrypted_storage_sign_nothing(store: LocalStorage) -> None:
    names = ["aa" * 32 + ".mp4"]
    sizes = {names[0]: 10}
    assert upload_targets(store, names, sizes=sizes) == {}
    assert upload_targets(EncryptedStorage(store, b"k" * 32), names, sizes=sizes) == {}
    assert upload_targets(PlaintextStorage(store), names, sizes=sizes) == {}


def test_targets_only_for_known_sizes_and_verifying_stores(tmp_path: Path) -> None:
    a, b = "aa" * 32 + ".mp4", "bb" * 32 + ".png"
    verifying = SigningStore(str(tmp_path / "v"), frozenset({"sha256", "size"}))
    targets = upload_targets(verifying, [a, b], 60, sizes={a: 5})
    assert targets == {
        a: {
            "method": "PUT",
            "url": f"https://store.example/assets/{a}?e=60",
            "headers": {"x-size": "5"},
        }
    }
    # Through PlaintextStorage (a cluster without an encryption key) the inner store signs.
    assert upload_targets(PlaintextStorage(verifying), [a], 60, sizes={a: 5}) == targets
    lax = SigningStore(str(tmp_path / "l"), frozenset({"no-overwrite"}))
    assert upload_targets(lax, [a], sizes={a: 5}) == {}
    assert set(upload_targets(lax, [a], sizes={a: 5}, allow_unverified=True)) == {a}
    with pytest.raises(AssetNameError):
        upload_targets(verifying, ["x.mp4"], sizes={})


def test_a_full_disk_is_told_as_no_room_not_an_internal_error(
    store: LocalStorage, tmp_dir: Path, mp4: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that filled up mid-upload raised a bare OSError: the service answered 500
    "internal error" and the client had nothing to go on."""
    made = tempfile.mkstemp

    def on_a_full_disk(*args: Any, **kwargs: Any) -> tuple[int, str]:
        fd, path = made(*args, **kwargs)
        os.close(fd)
        return os.open("/dev/full", os.O_WRONLY), path  # every write: ENOSPC

    monkeypatch.setattr(tempfile, "mkstemp", on_a_full_disk)
    name = name_of(mp4, ".mp4")
    with pytest.raises(AssetNoRoom, match="no room to receive it") as info:
        receive(store, name, pieces(mp4), tmp_dir)
    assert info.value.http_status == 507 and "nothing was stored" in str(info.value)
    assert store.list("") == []

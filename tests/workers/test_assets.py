"""The worker's asset cache: verified downloads, hits, LRU eviction, sharing between processes."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.model import FileSource
from chunking.timeline.studio import load_project
from common.errors import AssetNotFound, MediaError
from orchestrator.assets import sync_assets
from providers.storage import LocalStorage, Storage
from tests.counting_storage import CountingStorage
from tests.media import make_image, make_video, project, video_track
from workers.assets import (
    AssetCache,
    AssetCacheBusy,
    AssetCorrupt,
    asset_key,
    copy_document,
    is_asset_ref,
    media_fields,
    parse_asset_ref,
    resolve_assets,
    sha256_file,
)


@pytest.fixture
def storage(tmp_path: Path) -> CountingStorage:
    return CountingStorage(LocalStorage(str(tmp_path / "bucket")))


def store(storage: Storage, tmp_path: Path, data: bytes, ext: str = ".mp4") -> str:
    """Put ``data`` in storage as an asset; its reference."""
    digest = hashlib.sha256(data).hexdigest()
    src = tmp_path / f"src-{digest[:8]}"
    src.write_bytes(data)
    storage.put_file(asset_key(digest, ext), str(src))
    return f"asset:sha256:{digest}{ext}"


def cached(cache: AssetCache) -> list[str]:
    return sorted(os.listdir(cache.root))


# -- references ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("asset:sha256:" + "a" * 64 + ".mp4", True),
        ("asset:sha256:" + "a" * 64, True),
        ("asset:sha256:" + "A" * 64 + ".mp4", False),
        ("asset:sha256:" + "a" * 63 + ".mp4", False),
        ("asset:sha256:" + "a" * 64 + ".MP4", False),
        ("asset:sha256:" + "a" * 64 + "/../x", False),
        ("asset:md5:" + "a" * 32, False),
        ("media/a.mp4", False),
        (None, False),
        (7, False),
    ],
)
def test_is_asset_ref(value: object, ok: bool) -> None:
    assert is_asset_ref(value) is ok


def test_parse_asset_ref() -> None:
    assert parse_asset_ref("asset:sha256:" + "b" * 64 + ".png") == ("b" * 64, ".png")
    with pytest.raises(MediaError, match="not an asset reference"):
        parse_asset_ref("asset:nope")


def test_sha256_file_streams_across_blocks(tmp_path: Path) -> None:
    data = os.urandom((1 << 20) * 2 + 17)
    (tmp_path / "f").write_bytes(data)
    assert sha256_file(str(tmp_path / "f")) == hashlib.sha256(data).hexdigest()


def test_media_fields_follow_the_loader() -> None:
    doc = copy_document(
        {
            "tracks": [
                {
                    "id": "t",
                    "clips": (
                        {"id": "a", "source": {"File": "a.mp4"}, "source_path": "ignored"},
                        {"id": "b", "source_path": "b.mp4", "path": "ignored"},
                        {"id": "c", "file": "c.mp4"},
                        {"source": "Generated"},
                        {"id": "s", "source": {"Stream": "rtmp://x"}},
                    ),
                },
                "not a track",
            ]
        }
    )
    assert [(f.clip_id, f.key, f.value) for f in media_fields(doc)] == [
        ("a", "File", "a.mp4"),
        ("b", "source_path", "b.mp4"),
        ("c", "file", "c.mp4"),
    ]


# -- the cache ----------------------------------------------------------------------------------


def test_fetch_then_hit_downloads_once(storage: CountingStorage, tmp_path: Path) -> None:
    ref = store(storage, tmp_path, b"video bytes")
    cache = AssetCache(str(tmp_path / "cache"), max_bytes=1 << 20)
    first = cache.path(storage, ref)
    assert Path(first).read_bytes() == b"video bytes"
    assert first.endswith(".mp4") and os.path.dirname(first) == cache.root
    assert cache.path(storage, ref) == first
    assert len(storage.gets) == 1
    assert cached(cache) == [os.path.basename(first)]


def test_a_second_process_sees_the_first_ones_download(
    storage: CountingStorage, tmp_path: Path
) -> None:
    ref = store(storage, tmp_path, b"shared")
    AssetCache(str(tmp_path / "cache"), 1 << 20).path(storage, ref)
    AssetCache(str(tmp_path / "cache"), 1 << 20).path(storage, ref)
    assert len(storage.gets) == 1


@pytest.mark.parametrize(
    ("touch_first", "evicted"),
    [(False, "a"), (True, "b")],
    ids=["untouched-oldest-goes", "touched-survives"],
)
def test_lru_eviction_follows_access_order(
    touch_first: bool, evicted: str, storage: CountingStorage, tmp_path: Path
) -> None:
    refs = {name: store(storage, tmp_path, name.encode() * 100) for name in "abc"}
    cache = AssetCache(str(tmp_path / "cache"), max_bytes=250)
    paths = {name: cache.path(storage, refs[name]) for name in "ab"}
    if touch_first:
        cache.path(storage, refs["a"])  # a hit: a is now more recent than b
    paths["c"] = cache.path(storage, refs["c"])
    assert {n for n, p in paths.items() if not os.path.exists(p)} == {evicted}
    assert cache.size() == 200
    assert len(storage.gets) == 3


def test_eviction_removes_as_many_as_needed(storage: CountingStorage, tmp_path: Path) -> None:
    refs = [store(storage, tmp_path, bytes([i]) * 100) for i in range(4)]
    cache = AssetCache(str(tmp_path / "cache"), max_bytes=350)
    paths = [cache.path(storage, ref) for ref in refs[:3]]
    big = store(storage, tmp_path, b"x" * 200)
    kept = cache.path(storage, big)
    assert [os.path.exists(p) for p in paths] == [False, False, True]
    assert os.path.exists(kept) and cache.size() == 300


def test_asset_larger_than_the_cache_is_served_alone(
    storage: CountingStorage, tmp_path: Path
) -> None:
    small = store(storage, tmp_path, b"s" * 10)
    huge = store(storage, tmp_path, b"h" * 500)
    cache = AssetCache(str(tmp_path / "cache"), max_bytes=100)
    small_path = cache.path(storage, small)
    huge_path = cache.path(storage, huge)
    assert Path(huge_path).read_bytes() == b"h" * 500
    assert not os.path.exists(small_path)
    assert cached(cache) == [os.path.basename(huge_path)]


def test_corrupt_object_raises_and_leaves_nothing_cached(
    storage: CountingStorage, tmp_path: Path
) -> None:
    ref = store(storage, tmp_path, b"the real bytes")
    digest, ext = parse_asset_ref(ref)
    (tmp_path / "evil").write_bytes(b"something else")
    storage.put_file(asset_key(digest, ext), str(tmp_path / "evil"))
    cache = AssetCache(str(tmp_path / "cache"), max_bytes=1 << 20)
    with pytest.raises(AssetCorrupt, match=digest) as info:
        cache.path(storage, ref)
    assert isinstance(info.value, MediaError)
    assert cached(cache) == []


def test_missing_object_is_asset_not_found(storage: CountingStorage, tmp_path: Path) -> None:
    cache = AssetCache(str(tmp_path / "cache"), max_bytes=1 << 20)
    ref = "asset:sha256:" + "0" * 64 + ".mov"
    with pytest.raises(AssetNotFound, match="0" * 64):
        cache.path(storage, ref)
    assert cached(cache) == []


def test_file_evicted_by_another_process_is_fetched_again(
    storage: CountingStorage, tmp_path: Path
) -> None:
    ref = store(storage, tmp_path, b"gone soon")
    cache = AssetCache(str(tmp_path / "cache"), max_bytes=1 << 20)
    path = cache.path(storage, ref)
    os.unlink(path)  # what another worker's eviction does
    assert cache.path(storage, ref) == path
    assert Path(path).read_bytes() == b"gone soon"
    assert len(storage.gets) == 2


class RacingCache(AssetCache):
    """A cache whose first eviction pass loses the fresh file to 'another process'."""

    races = 0

    def evict(self, keep: str | None = None) -> int:
        if keep is not None and self.races < 1:
            self.races += 1
            os.unlink(keep)
        return super().evict(keep)


def test_file_evicted_right_after_its_download_is_fetched_again(
    storage: CountingStorage, tmp_path: Path
) -> None:
    ref = store(storage, tmp_path, b"raced")
    cache = RacingCache(str(tmp_path / "cache"), max_bytes=1 << 20)
    assert Path(cache.path(storage, ref)).read_bytes() == b"raced"
    assert len(storage.gets) == 2


def test_stale_temp_files_are_cleared(storage: CountingStorage, tmp_path: Path) -> None:
    cache = AssetCache(str(tmp_path / "cache"), max_bytes=1 << 20)
    stale = Path(cache.root) / ".fetch-dead-beef"
    fresh = Path(cache.root) / ".fetch-in-progress"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"x")
    os.utime(stale, (0, 0))
    cache.evict()
    assert not stale.exists() and fresh.exists()


def test_a_cache_too_small_for_concurrent_workers_gives_up_transiently(
    storage: CountingStorage, tmp_path: Path
) -> None:
    class Thrashing(AssetCache):
        def evict(self, keep: str | None = None) -> int:
            if keep is not None:
                os.unlink(keep)  # another worker wins every race
            return super().evict(keep)

    ref = store(storage, tmp_path, b"never kept")
    cache = Thrashing(str(tmp_path / "cache"), max_bytes=1 << 20)
    with pytest.raises(AssetCacheBusy, match="raise the cache size") as info:
        cache.path(storage, ref)
    assert info.value.transient
    assert len(storage.gets) == 3


def test_negative_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        AssetCache(str(tmp_path), -1)


def test_concurrent_workers_share_one_cache(storage: CountingStorage, tmp_path: Path) -> None:
    # Six assets, room for four and a half: every worker's current one fits, evictions are many.
    datas = [bytes([i]) * 1000 for i in range(6)]
    refs = [store(storage, tmp_path, data) for data in datas]
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        # Each thread is its own "process": its own AssetCache object on the shared directory.
        cache = AssetCache(str(tmp_path / "cache"), max_bytes=4500)
        try:
            for i in range(30):
                n = (seed * 7 + i) % len(refs)
                path = cache.path(storage, refs[n])
                try:
                    with open(path, "rb") as f:
                        assert f.read() == datas[n]
                except FileNotFoundError:
                    pass  # evicted by another thread between return and open: allowed
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(storage.gets) > len(refs), "the test must exercise eviction"
    cache = AssetCache(str(tmp_path / "cache"), max_bytes=4500)
    cache.evict()
    assert cache.size() <= 4500
    assert all(not name.startswith(".") for name in cached(cache))


# -- resolve_assets -----------------------------------------------------------------------------


def test_sync_then_resolve_round_trip(tmp_path: Path) -> None:
    base = tmp_path / "project"
    base.mkdir()
    alpha = make_video(base / "a.mp4", frames=2, size=(32, 18)).read_bytes()
    beta = make_image(base / "b.png", (8, 8), (9, 9, 9, 255)).read_bytes()
    doc: dict[str, Any] = project(
        [
            video_track(
                "v",
                [
                    {"id": "x", "start_time": 0, "end_time": 1, "source": {"File": "a.mp4"}},
                    {"id": "y", "start_time": 1, "end_time": 2, "source_path": "b.png"},
                    {"id": "z", "start_time": 2, "end_time": 3, "source": {"File": "a.mp4"}},
                ],
            )
        ]
    )
    bucket = LocalStorage(str(tmp_path / "bucket"))
    synced = sync_assets(doc, str(base), bucket).document

    # The worker: a different machine, so nothing of the project directory is used.
    worker = CountingStorage(LocalStorage(str(tmp_path / "bucket")))
    cache = AssetCache(str(tmp_path / "worker-cache"), max_bytes=1 << 20)
    resolved = resolve_assets(synced, worker, cache)

    clips = resolved["tracks"][0]["clips"]
    paths = [clips[0]["source"]["File"], clips[1]["source_path"], clips[2]["source"]["File"]]
    assert [Path(p).read_bytes() for p in paths] == [alpha, beta, alpha]
    assert all(p.startswith(cache.root) for p in paths)
    assert paths[1].endswith(".png")
    assert len(worker.gets) == 2
    assert synced["tracks"][0]["clips"][0]["source"]["File"].startswith("asset:")
    timeline = load_project(resolved, str(tmp_path / "elsewhere"))
    assert timeline.clip("y").source == FileSource(paths[1])


def test_resolve_names_the_clip_of_a_missing_asset(
    storage: CountingStorage, tmp_path: Path
) -> None:
    ref = "asset:sha256:" + "1" * 64 + ".mp4"
    doc = project([video_track("v", [{"id": "lost", "start_time": 0, "source": {"File": ref}}])])
    cache = AssetCache(str(tmp_path / "cache"), max_bytes=1 << 20)
    with pytest.raises(AssetNotFound, match="clip 'lost'"):
        resolve_assets(doc, storage, cache)


def test_resolve_leaves_plain_paths(storage: CountingStorage, tmp_path: Path) -> None:
    doc = project([video_track("v", [{"id": "p", "source": {"File": "local.mp4"}}])])
    cache = AssetCache(str(tmp_path / "cache"), max_bytes=1 << 20)
    assert resolve_assets(doc, storage, cache) == doc
    assert storage.gets == []


def test_round_trip_through_encrypted_storage(tmp_path: Path) -> None:
    from providers.storage.encrypted import EncryptedStorage

    base = tmp_path / "project"
    base.mkdir()
    footage = make_video(base / "a.mov", frames=3, size=(32, 18)).read_bytes()
    doc = project([video_track("v", [{"id": "x", "source": {"File": "a.mov"}}])])
    sealed = EncryptedStorage(LocalStorage(str(tmp_path / "bucket")), b"k" * 32)
    first = sync_assets(doc, str(base), sealed)
    again = sync_assets(doc, str(base), sealed)
    assert (again.uploaded_bytes, again.skipped_bytes) == (0, first.uploaded_bytes)

    cache = AssetCache(str(tmp_path / "cache"), max_bytes=1 << 20)
    resolved = resolve_assets(first.document, sealed, cache)
    assert Path(resolved["tracks"][0]["clips"][0]["source"]["File"]).read_bytes() == footage

"""The segment cache on the session's private Redis and a local storage directory: what it keeps,
in which order it evicts, what a damaged or vanished object does, and two writers at once."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import pytest
import redis

from orchestrator.segment_cache import CACHE_PREFIX, DIGEST_SUFFIX, CacheStats, SegmentCache
from providers.storage import ObjectNotFound, StorageError, open_storage
from providers.storage.encrypted import EncryptedStorage, PlaintextStorage

KEY = bytes(range(32))


def key(name: str) -> str:
    """A cache key (a hex digest) for a readable name."""
    return hashlib.sha256(name.encode()).hexdigest()


@pytest.fixture
def client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url, decode_responses=True)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "storage"


def cache(root: Path, client: redis.Redis, max_bytes: int, *, sealed: bool = False) -> SegmentCache:
    inner = open_storage(f"file://{root}")
    storage = EncryptedStorage(inner, KEY) if sealed else PlaintextStorage(inner)
    return SegmentCache(storage, client, max_bytes=max_bytes)


def blob(tmp_path: Path, name: str, size: int) -> str:
    path = tmp_path / f"{name}.bin"
    path.write_bytes(hashlib.sha256(name.encode()).digest() * (size // 32) + b"x" * (size % 32))
    return str(path)


def stored(root: Path) -> set[str]:
    """The entries in storage; each has its sha256 beside it, and no sha256 outlives its entry."""
    folder = root / CACHE_PREFIX
    names = {p.name for p in folder.iterdir()} if folder.exists() else set()
    entries = {n for n in names if not n.endswith(DIGEST_SUFFIX)}
    assert names == entries | {n + DIGEST_SUFFIX for n in entries}
    return entries


@pytest.mark.parametrize(
    ("cap", "steps", "kept"),
    [
        # Room for all: nothing leaves; the order is the order of last use.
        (300, ["put a 100", "put b 100", "put c 100"], "a b c"),
        # Over the cap: the least recently put leaves first.
        (250, ["put a 100", "put b 100", "put c 100"], "b c"),
        # Touching a makes b the oldest.
        (250, ["put a 100", "put b 100", "touch a", "put c 100"], "a c"),
        # A lookup does not count as a use; a get does.
        (250, ["put a 100", "put b 100", "present a", "put c 100"], "b c"),
        (250, ["put a 100", "put b 100", "get a", "put c 100"], "a c"),
        # A big entry evicts as many old ones as it needs, oldest first, and no more.
        (300, ["put a 100", "put b 100", "put c 100", "put d 250"], "d"),
        (350, ["put a 100", "put b 100", "put c 100", "put d 200"], "c d"),
        # An entry alone over the cap is not kept (and the others make way in vain).
        (150, ["put a 100", "put big 200"], ""),
        # Putting a key again keeps the first entry and makes it the newest.
        (200, ["put a 100", "put b 100", "put a 100", "put c 100"], "a c"),
        (300, ["put a 100", "put b 100", "put a 100", "put c 100"], "b a c"),
        # A cap of zero keeps nothing.
        (0, ["put a 1"], ""),
    ],
)
def test_eviction_order(
    root: Path, client: redis.Redis, tmp_path: Path, cap: int, steps: list[str], kept: str
) -> None:
    segments = cache(root, client, cap)
    sizes: dict[str, int] = {}
    for step in steps:
        verb, name, *rest = step.split()
        if verb == "put":
            sizes[name] = int(rest[0])
            segments.put(key(name), blob(tmp_path, name, sizes[name]))
        elif verb == "touch":
            segments.touch([key(name)])
        elif verb == "present":
            assert segments.present([key(name)]) == {key(name)}
        else:
            segments.get(key(name), str(tmp_path / "out.bin"))
    names = {key(n): n for n in sizes}
    expected = kept.split()
    assert [names[k] for k in segments.lru_order()] == expected
    # Evicted entries are gone from storage too, not only from the index.
    assert {names[k] for k in stored(root)} == set(expected)
    stats = segments.stats()
    assert stats.entries == len(expected) and stats.max_bytes == cap
    assert stats.bytes == sum(sizes[n] for n in expected) <= cap


def test_round_trip_through_sealed_storage(root: Path, client: redis.Redis, tmp_path: Path) -> None:
    segments = cache(root, client, 10_000, sealed=True)
    source = blob(tmp_path, "segment", 3000)
    segments.put(key("s"), source)
    # Sealed like every object: the stored bytes are not the segment's.
    raw = (root / CACHE_PREFIX / key("s")).read_bytes()
    assert raw[:5] == b"CRENC" and Path(source).read_bytes() not in raw
    out = tmp_path / "back.bin"
    segments.get(key("s"), str(out))
    assert out.read_bytes() == Path(source).read_bytes()
    assert segments.present([key("s"), key("other")], count=True) == {key("s")}
    assert segments.stats() == CacheStats(entries=1, bytes=3000, max_bytes=10_000, hits=1, misses=1)


def test_an_object_copied_to_another_key_is_unreadable_and_dropped(
    root: Path, client: redis.Redis, tmp_path: Path
) -> None:
    segments = cache(root, client, 10_000, sealed=True)
    segments.put(key("a"), blob(tmp_path, "a", 500))
    segments.put(key("b"), blob(tmp_path, "b", 500))
    # Someone with write access to storage puts a's object over b's: encryption binds objects
    # to their key, so b no longer reads, and the cache says so instead of handing out a.
    (root / CACHE_PREFIX / key("b")).write_bytes((root / CACHE_PREFIX / key("a")).read_bytes())
    with pytest.raises(ObjectNotFound, match="unreadable"):
        segments.get(key("b"), str(tmp_path / "out.bin"))
    assert not (tmp_path / "out.bin").exists()
    assert segments.present([key("a"), key("b")]) == {key("a")}
    assert stored(root) == {key("a")} and segments.stats().bytes == 500


@pytest.mark.parametrize("sealed", [False, True])
def test_a_damaged_object_is_dropped_not_handed_out(
    root: Path, client: redis.Redis, tmp_path: Path, sealed: bool
) -> None:
    """Bytes flipped in a stored segment (a disk, a bucket) must never reach a video."""
    segments = cache(root, client, 10_000, sealed=sealed)
    segments.put(key("a"), blob(tmp_path, "a", 3000))
    segments.put(key("b"), blob(tmp_path, "b", 3000))
    target = root / CACHE_PREFIX / key("b")
    raw = bytearray(target.read_bytes())
    raw[1500:1564] = bytes(b ^ 0xFF for b in raw[1500:1564])
    target.write_bytes(bytes(raw))
    out = tmp_path / "out.bin"
    with pytest.raises(ObjectNotFound, match="damaged|unreadable"):
        segments.get(key("b"), str(out))
    assert not out.exists()
    assert stored(root) == {key("a")} and segments.present([key("a"), key("b")]) == {key("a")}
    segments.get(key("a"), str(out))
    assert out.read_bytes() == Path(blob(tmp_path, "a", 3000)).read_bytes()


def test_an_object_without_its_sha256_is_dropped(
    root: Path, client: redis.Redis, tmp_path: Path
) -> None:
    """An entry kept by a version that recorded no sha256 (or half put) cannot be checked."""
    segments = cache(root, client, 10_000)
    segments.put(key("a"), blob(tmp_path, "a", 100))
    os.unlink(root / CACHE_PREFIX / (key("a") + DIGEST_SUFFIX))
    with pytest.raises(ObjectNotFound, match="no sha256"):
        segments.get(key("a"), str(tmp_path / "out.bin"))
    assert not (root / CACHE_PREFIX).exists() or not any((root / CACHE_PREFIX).iterdir())
    assert segments.stats().entries == 0


def test_a_vanished_object_is_a_miss_not_an_error(
    root: Path, client: redis.Redis, tmp_path: Path
) -> None:
    segments = cache(root, client, 10_000)
    segments.put(key("a"), blob(tmp_path, "a", 100))
    segments.put(key("b"), blob(tmp_path, "b", 100))
    os.unlink(root / CACHE_PREFIX / key("a"))
    # The lookup notices and drops the entry; so does a get of an object gone since.
    assert segments.present([key("a"), key("b")], count=True) == {key("b")}
    os.unlink(root / CACHE_PREFIX / key("b"))
    with pytest.raises(ObjectNotFound):
        segments.get(key("b"), str(tmp_path / "out.bin"))
    assert segments.stats() == CacheStats(entries=0, bytes=0, max_bytes=10_000, hits=1, misses=1)


def test_clear_removes_objects_and_index(root: Path, client: redis.Redis, tmp_path: Path) -> None:
    segments = cache(root, client, 10_000)
    for name in "abc":
        segments.put(key(name), blob(tmp_path, name, 100))
    assert segments.clear() == 3
    assert stored(root) == set() and segments.stats().entries == 0
    assert segments.present([key("a")]) == set()


def test_each_storage_has_its_own_index(client: redis.Redis, tmp_path: Path) -> None:
    one = cache(tmp_path / "one", client, 10_000)
    two = cache(tmp_path / "two", client, 10_000)
    one.put(key("a"), blob(tmp_path, "a", 100))
    assert two.present([key("a")]) == set() and two.stats().entries == 0
    assert one.present([key("a")]) == {key("a")}


def test_keys_that_are_not_digests_are_refused(root: Path, client: redis.Redis) -> None:
    segments = cache(root, client, 10_000)
    for bad in ("../jobs/x/output.mp4", "ABC", "", "a" * 200):
        with pytest.raises(StorageError, match="invalid segment cache key"):
            segments.present([bad])


def test_two_writers_at_once_keep_the_cap_and_the_index_true(
    root: Path, redis_url: str, tmp_path: Path
) -> None:
    cap = 2000
    # Each thread its own cache object and connection, as two worker processes would have.
    writers = [cache(root, redis.Redis.from_url(redis_url), cap) for _ in range(2)]
    files = {f"{w}-{i}": blob(tmp_path, f"{w}-{i}", 150) for w in range(2) for i in range(20)}
    errors: list[BaseException] = []

    def write(which: int) -> None:
        try:
            for i in range(20):
                writers[which].put(key(f"{which}-{i}"), files[f"{which}-{i}"])
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    segments = writers[0]
    indexed = set(segments.lru_order())
    stats = segments.stats()
    assert stats.bytes == 150 * len(indexed) <= cap
    assert len(indexed) == cap // 150
    # Storage holds exactly the indexed entries: every eviction deleted its object, and
    # nothing still indexed was deleted.
    assert stored(root) == indexed
    # Eviction takes the oldest uses first: what survives of each writer is its latest puts.
    for which in range(2):
        mine = [key(f"{which}-{i}") for i in range(20)]
        kept = [k for k in mine if k in indexed]
        assert kept == mine[len(mine) - len(kept) :]


def test_a_new_redis_rebuilds_the_index_from_storage(
    root: Path, client: redis.Redis, tmp_path: Path
) -> None:
    """`cloudrender render` starts a new Redis each time over the same storage: the objects
    already there are found again and count against the cap."""
    first = cache(root, client, 1000)
    for name in ("a", "b", "c"):
        first.put(key(name), blob(tmp_path, name, 100))
    client.flushdb()  # the index is gone, the objects are not
    again = cache(root, client, 1000)
    assert again.present([key("a"), key("b"), key("x")]) == {key("a"), key("b")}
    assert (again.stats().entries, again.stats().bytes) == (3, 300)


def test_stats_over_a_lowered_cap_reads_and_deletes_nothing(
    root: Path, client: redis.Redis, tmp_path: Path
) -> None:
    """`cloudrender cache stats` under a cap lower than what is cached reports the cache over
    its cap and deletes nothing; the next put evicts down to the cap."""
    first = cache(root, client, 1000)
    for name in ("a", "b", "c"):
        first.put(key(name), blob(tmp_path, name, 100))
    client.flushdb()
    small = cache(root, client, 0)
    assert (small.stats().entries, small.stats().bytes) == (3, 300)
    assert len(stored(root)) == 3
    client.flushdb()
    small = cache(root, client, 250)
    small.put(key("d"), blob(tmp_path, "d", 100))
    assert small.stats().bytes <= 250
    assert len(stored(root)) == small.stats().entries == 2


def test_a_lookup_during_another_processs_rebuild_finds_every_entry(
    root: Path, client: redis.Redis, tmp_path: Path
) -> None:
    """A new Redis over lasting storage, two lookups at once: the second must not take an index
    the first is still filling for the whole cache (every chunk rendered and billed again)."""
    from tests.counting_storage import CountingStorage

    first = cache(root, client, 10_000)
    names = [key(n) for n in "abcdef"]
    for name in names:
        first.put(name, blob(tmp_path, name, 100))
    client.flushdb()

    class SlowSizes(CountingStorage):
        def size(self, key_: str) -> int:
            time.sleep(0.05)
            return super().size(key_)

    slow = SegmentCache(SlowSizes(first.storage), client, max_bytes=10_000)
    rebuilding = threading.Thread(target=slow.stats)
    rebuilding.start()
    time.sleep(0.08)  # inside the rebuild
    try:
        assert cache(root, client, 10_000).present(names) == set(names)
    finally:
        rebuilding.join()
    assert slow.stats().entries == 6


def test_pinned_entries_stay_until_read(root: Path, client: redis.Redis, tmp_path: Path) -> None:
    """A job's planned hits outlive its own new segments under a small cap until its merge reads
    them; read, they are ordinary entries again."""
    segments = cache(root, client, 200)
    segments.put(key("a"), blob(tmp_path, "a", 100))
    segments.put(key("b"), blob(tmp_path, "b", 100))
    segments.pin([key("a")])
    segments.put(key("c"), blob(tmp_path, "c", 100))
    segments.put(key("d"), blob(tmp_path, "d", 100))
    assert stored(root) == {key("a"), key("d")}
    segments.get(key("a"), str(tmp_path / "a.out"))
    segments.put(key("e"), blob(tmp_path, "e", 100))
    segments.put(key("f"), blob(tmp_path, "f", 100))
    assert stored(root) == {key("e"), key("f")}


def test_everything_pinned_keeps_the_new_entry_out(
    root: Path, client: redis.Redis, tmp_path: Path
) -> None:
    """With the whole cap pinned, a new segment is not kept rather than evicting a pinned one;
    an expired pin no longer protects."""
    segments = cache(root, client, 200)
    for name in ("a", "b"):
        segments.put(key(name), blob(tmp_path, name, 100))
    segments.pin([key("a"), key("b")])
    segments.put(key("c"), blob(tmp_path, "c", 100))
    assert stored(root) == {key("a"), key("b")}
    segments.pin([key("a"), key("b")], seconds=-1)  # a later deadline wins: still pinned
    segments.put(key("c"), blob(tmp_path, "c", 100))
    assert stored(root) == {key("a"), key("b")}
    segments.clear()
    for name in ("a", "b"):
        segments.put(key(name), blob(tmp_path, name, 100))
    segments.pin([key("a")], seconds=-1)  # already past its deadline
    segments.put(key("c"), blob(tmp_path, "c", 100))
    assert stored(root) == {key("b"), key("c")}


@pytest.mark.parametrize("sealed", [False, True])
def test_a_new_redis_keeps_the_order_of_last_use(
    root: Path, client: redis.Redis, tmp_path: Path, sealed: bool
) -> None:
    """Each `cloudrender render` indexes the cache anew: the entry used last in an earlier run
    must still be the last to go (the rebuild ordered by key name, evicting it as soon as any)."""
    names = [key(n) for n in "abcd"]
    first = cache(root, client, 10_000, sealed=sealed)
    for name in names:
        first.put(name, blob(tmp_path, name, 100))
    used = sorted(names, reverse=True)  # the opposite of key order
    for name in used:
        client.flushdb()
        cache(root, client, 10_000, sealed=sealed).get(name, str(tmp_path / "out"))
    client.flushdb()
    again = cache(root, client, 10_000, sealed=sealed)
    assert again.stats().entries == 4 and again.lru_order() == used
    client.flushdb()
    small = cache(root, client, 300, sealed=sealed)
    small.put(key("e"), blob(tmp_path, "e", 100))
    assert stored(root) == {*used[2:], key("e")}


def test_two_writers_of_one_key_at_once_leave_a_readable_entry(
    root: Path, redis_url: str, tmp_path: Path
) -> None:
    """Two chunks of one job can have one content key (two identical stretches) and two workers
    put them at once; their segments differ in their timestamps. The entry must hold one of
    them with its own sha256, not one's sha256 beside the other's bytes: the next render's
    merge found such an entry damaged and rendered every chunk again (it reused none)."""
    from tests.counting_storage import CountingStorage

    first_digest_put, second_done = threading.Event(), threading.Event()

    class PausedAfterDigest(CountingStorage):
        def put_file(self, key_: str, path: str) -> None:
            super().put_file(key_, path)
            if key_.endswith(DIGEST_SUFFIX):
                first_digest_put.set()
                # The other writer runs its whole put meanwhile (or gives up, knowing of this one).
                second_done.wait(10)

    inner = cache(root, redis.Redis.from_url(redis_url), 10_000)
    slow = SegmentCache(PausedAfterDigest(inner.storage), inner.redis, max_bytes=10_000)
    other = cache(root, redis.Redis.from_url(redis_url), 10_000)
    one, two = blob(tmp_path, "one", 300), blob(tmp_path, "two", 300)
    writer = threading.Thread(target=slow.put, args=(key("same"), one))
    writer.start()
    try:
        assert first_digest_put.wait(10)
        other.put(key("same"), two)
    finally:
        second_done.set()
        writer.join()
    out = tmp_path / "out.bin"
    other.get(key("same"), str(out))
    assert out.read_bytes() in (Path(one).read_bytes(), Path(two).read_bytes())
    assert other.lru_order() == [key("same")]

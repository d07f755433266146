"""The segment cache: finished chunk segments (and audio mixes) kept in storage under their
content key, so a re-render of an edited project reuses every chunk whose inputs did not change.

Objects live at ``cache/<key>`` in the job's storage and go through its sealed storage like
every object (``EncryptedStorage`` binds each object to its key, so a segment is put under its
cache key, never copied there byte for byte). The index is in Redis, per storage: each entry's
size and the logical time of its last use, which orders least-recently-used eviction under a
byte cap. Indexing a new entry and choosing what it evicts is one Lua script, so workers putting
at once never both keep the cache over its cap or evict the same entry twice.

Storage is the truth, the index only a guide: a lookup checks that an indexed object still
exists, and a read that fails drops the entry, so an object deleted or evicted behind a job's
back costs a re-render of that chunk, never a failed job. An index that is missing (a new Redis,
such as the private cluster each ``cloudrender render`` starts over lasting storage) is rebuilt
from the objects in storage on first use, so their sizes count against the cap again, in the
order of their last use where storage can tell it (orchestrator.cache_recency).

A job pins the hits it planned (``pin``) until its merge reads them (``get``), at most
``PIN_SECONDS``: under a cap smaller than the job, its own new segments would otherwise be the
newest uses and evict what it is about to read, and it would render those chunks after all.

An entry is never replaced: the first writer wins (one writer at a time puts an entry, by a
claim in Redis: two chunks of one job may share a key and differ in their timestamps, and one
writer's sha256 beside the other's object would read as damaged), and a later put of the same
key only marks it used (workers work out the key of what they rendered themselves,
workers.cache_use; this is the second line, so nothing can change what other jobs take for
content already cached).

Each object has its sha256 beside it (``cache/<key>.sha256``, put first), checked on every read:
storage that damages a segment (plain files on a disk, an unsealed bucket) costs a re-render of
that chunk, never wrong frames in a video.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import redis

from orchestrator import keys
from orchestrator import segment_cache_scripts as scripts
from orchestrator.cache_recency import last_used, mark_used
from providers.storage.base import ObjectNotFound, Storage, StorageError
from workers.assets import sha256_file

#: Storage prefix of cached objects.
CACHE_PREFIX = "cache/"

#: Suffix of the object holding an entry's sha256 (hex), beside the entry.
DIGEST_SUFFIX = ".sha256"

#: How long a job's planned hits stay pinned at most: its merge unpins each as it reads it, and
#: a job that never merges (its node lost, the cluster stopped) must not hold them for ever.
PIN_SECONDS = 24 * 3600

#: How long a writer's claim on an entry it puts lasts at most (a writer that died holding it
#: keeps others from putting that entry until then; uploads of one segment take far less).
PUT_CLAIM_SECONDS = 600

#: What a cache key looks like (a hex digest); anything else is refused before storage sees it.
_KEY = re.compile(r"^[0-9a-f]{16,128}$")


@dataclass(frozen=True)
class CacheStats:
    """How full a segment cache is and how often lookups found what they asked for."""

    entries: int
    bytes: int
    max_bytes: int
    hits: int
    misses: int


def check_cache_key(key: str) -> str:
    """Return ``key`` if it is a cache key (a hex digest), else raise StorageError naming it."""
    if not isinstance(key, str) or not _KEY.match(key):
        raise StorageError(f"invalid segment cache key {str(key)[:80]!r}", key=str(key)[:80])
    return key


def object_key(key: str) -> str:
    """Storage key of the cached object ``key``."""
    return CACHE_PREFIX + check_cache_key(key)


def storage_scope(storage: Storage) -> str:
    """The index's name for a storage: one cluster may serve jobs that use several."""
    return hashlib.sha256(storage.url.encode()).hexdigest()[:16]


class SegmentCache:
    """Segments and audio mixes in ``storage`` under ``cache/<key>``, LRU-indexed in Redis."""

    def __init__(self, storage: Storage, client: redis.Redis, *, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"segment cache max_bytes must not be negative, got {max_bytes}")
        self.storage = storage
        self.redis = client
        self.max_bytes = max_bytes
        scope = self._scope = storage_scope(storage)
        self._lru = keys.cache_lru(scope)
        self._sizes = keys.cache_sizes(scope)
        self._stats = keys.cache_stats(scope)
        self._pins = keys.cache_pins(scope)
        self._put = client.register_script(scripts.PUT)
        self._touch = client.register_script(scripts.TOUCH)
        self._forget = client.register_script(scripts.FORGET)
        self._add = client.register_script(scripts.ADD)
        self._pin = client.register_script(scripts.PIN)
        self._release = client.register_script(scripts.RELEASE)

    def __repr__(self) -> str:
        """The storage and the cap."""
        return f"SegmentCache({self.storage!r}, max_bytes={self.max_bytes})"

    def present(self, keys_: Iterable[str], *, count: bool = False) -> set[str]:
        """The keys whose object the cache holds (indexed, and still in storage).

        ``count``: add the answer to the hit and miss counters (a job's real lookup, not an
        estimate's). Entries whose object vanished (deleted by hand, or a lost race with an
        eviction) leave the index here.
        """
        wanted = sorted({check_cache_key(k) for k in keys_})
        if not wanted:
            return set()
        self._ensure_index()
        pipe = self.redis.pipeline(transaction=False)
        for key in wanted:
            pipe.zscore(self._lru, key)
        indexed = [k for k, score in zip(wanted, pipe.execute(), strict=True) if score is not None]
        found = {k for k in indexed if self.storage.exists(CACHE_PREFIX + k)}
        gone = [k for k in indexed if k not in found]
        if gone:
            self._forget(keys=[self._lru, self._sizes, self._stats], args=gone)
        if count:
            pipe = self.redis.pipeline(transaction=False)
            pipe.hincrby(self._stats, "hits", len(found))
            pipe.hincrby(self._stats, "misses", len(wanted) - len(found))
            pipe.execute()
        return found

    def put(self, key: str, path: str) -> None:
        """Store the file at ``path`` as entry ``key`` with its sha256, then evict
        least-recently-used entries until the cache is within its cap (an entry alone over the
        cap is not kept). An entry already held stays as it is, only marked used: the first
        writer wins, so no later put can change what other jobs take for that content; a put
        while another writer puts the same key keeps nothing (that writer indexes it)."""
        name = object_key(key)
        size = os.path.getsize(path)
        self._ensure_index()
        if self._held(key):
            return
        # Two chunks of one job can share a key (identical stretches) and differ in bytes
        # (their timestamps): one writer at a time, or one's sha256 lands beside the other's
        # object and the entry reads as damaged. The loser keeps nothing; the winner indexes.
        claim, token = keys.cache_put(self._scope, key), uuid.uuid4().hex
        if not self.redis.set(claim, token, nx=True, ex=PUT_CLAIM_SECONDS):
            return
        try:
            if not self._held(key):  # put meanwhile by a writer that has let go since
                self._store(key, name, path, size)
        finally:
            self._release(keys=[claim], args=[token])

    def _held(self, key: str) -> bool:
        """Whether storage holds entry ``key`` whole (then it is marked used, indexed if not)."""
        name = object_key(key)
        if not (self.storage.exists(name) and self.storage.exists(name + DIGEST_SUFFIX)):
            return False
        if self.redis.zscore(self._lru, key) is not None:
            self.touch([key])
        else:
            self._index(key, self.storage.size(name))
        return True

    def _store(self, key: str, name: str, path: str, size: int) -> None:
        """Put the file and its sha256 as entry ``key`` and index it (the put claim held)."""
        with tempfile.TemporaryDirectory(prefix="cr-cache-") as tmp:
            digest = os.path.join(tmp, "digest")
            with open(digest, "w", encoding="ascii") as out:
                out.write(sha256_file(path))
            # The digest goes first: an entry is never readable without the digest it is
            # checked against (an entry without one is dropped on read).
            self.storage.put_file(name + DIGEST_SUFFIX, digest)
        self.storage.put_file(name, path)
        mark_used(self.storage, [name])
        self._index(key, size)

    def _index(self, key: str, size: int) -> None:
        victims = self._put(
            keys=[self._lru, self._sizes, self._stats, self._pins],
            args=[key, size, self.max_bytes, time.time()],
        )
        for victim in victims:
            self._delete(CACHE_PREFIX + _text(victim))

    def _delete(self, name: str) -> None:
        self.storage.delete(name)
        self.storage.delete(name + DIGEST_SUFFIX)

    def _ensure_index(self) -> None:
        """Index the objects storage holds when this index was never built (a new Redis)."""
        if self.redis.hexists(self._stats, "built"):
            return
        # Marked only once indexed: a lookup meanwhile rebuilds too (the same objects, indexed
        # twice, harmlessly) instead of finding an index still empty and rendering it all again.
        # Nothing is evicted here: a rebuild may come from a read (cache stats), and a cache
        # over a lowered cap shrinks at the next put.
        found: list[tuple[int, str, int]] = []
        for name in sorted(self.storage.list(CACHE_PREFIX)):
            key = name[len(CACHE_PREFIX) :]
            if not _KEY.match(key):
                continue
            try:
                size = self.storage.size(name)
            except StorageError:
                continue  # evicted meanwhile by another process, or not readable as ours
            found.append((last_used(self.storage, name), key, size))
        # Least recently used first, as the last index had them (not in key order, which made
        # eviction after a new Redis take the most recent project as soon as the oldest).
        found.sort()
        if found:
            args = [str(v) for _, key, size in found for v in (key, size)]
            self._add(keys=[self._lru, self._sizes, self._stats], args=args)
        self.redis.hset(self._stats, "built", 1)

    def get(self, key: str, path: str) -> None:
        """Copy entry ``key`` to ``path`` and mark it used; ObjectNotFound when the cache
        cannot give it (missing, unreadable or not the bytes that were put, by its sha256: then
        it is dropped so this and the next job re-render it).

        A transient storage error is raised as it is and leaves the entry alone.
        """
        name = object_key(key)
        try:
            self.storage.get_file(name, path)
            problem = self._damage(name, path)
        except ObjectNotFound:
            self.forget([key])
            raise
        except StorageError as exc:
            if exc.transient:
                raise
            problem = f"is unreadable: {exc}"
        if problem is not None:
            # Tampered, truncated, damaged or sealed by another key: it will never read right.
            self.forget([key])
            self._delete(name)
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
            raise ObjectNotFound(f"segment cache entry {key} {problem}", key=name)
        self.touch([key])
        # Read by the merge that pinned it: eviction may take it again (another job pinning the
        # same entry loses its pin here too, and at worst renders that chunk once more).
        self.redis.zrem(self._pins, key)

    def _damage(self, name: str, path: str) -> str | None:
        """Why the copy at ``path`` of object ``name`` is not what was put, or None."""
        with tempfile.TemporaryDirectory(prefix="cr-cache-") as tmp:
            digest = os.path.join(tmp, "digest")
            try:
                self.storage.get_file(name + DIGEST_SUFFIX, digest)
            except ObjectNotFound:
                return "has no sha256 beside it (kept by an older version, or half put)"
            with open(digest, encoding="ascii", errors="replace") as held:
                expected = held.read().strip()
        if sha256_file(path) != expected:
            return "is damaged (its sha256 differs from the one recorded when it was kept)"
        return None

    def touch(self, keys_: Iterable[str]) -> None:
        """Mark entries as just used (in this order), so eviction takes them last."""
        wanted = [check_cache_key(k) for k in keys_]
        if wanted:
            self._touch(keys=[self._lru, self._stats], args=wanted)
            mark_used(self.storage, [CACHE_PREFIX + k for k in wanted])

    def pin(self, keys_: Iterable[str], seconds: float = PIN_SECONDS) -> None:
        """Keep entries a job is about to read out of eviction until ``get`` reads each (or
        ``seconds`` pass): the job's own new segments must not push out its planned hits."""
        wanted = [check_cache_key(k) for k in keys_]
        if wanted:
            self._pin(keys=[self._pins], args=[time.time() + seconds, *wanted])

    def forget(self, keys_: Iterable[str]) -> int:
        """Drop entries from the index (not from storage); how many were indexed."""
        wanted = [check_cache_key(k) for k in keys_]
        if not wanted:
            return 0
        return int(self._forget(keys=[self._lru, self._sizes, self._stats], args=wanted))

    def discard(self, key: str) -> None:
        """Remove an entry and its object (a segment found unusable)."""
        self.forget([key])
        self._delete(object_key(key))

    def lru_order(self) -> list[str]:
        """Indexed keys, least recently used first (the order eviction takes them)."""
        return [_text(k) for k in self.redis.zrange(self._lru, 0, -1)]

    def stats(self) -> CacheStats:
        """Entries, bytes and the cap, with hits and misses of jobs' lookups so far; only reads
        (a cache over its cap, the cap lowered since, is reported so, and shrinks at a put)."""
        self._ensure_index()
        pipe = self.redis.pipeline(transaction=False)
        pipe.zcard(self._lru)
        pipe.hmget(self._stats, ["bytes", "hits", "misses"])
        entries, (size, hits, misses) = pipe.execute()
        return CacheStats(
            entries=int(entries),
            bytes=int(size or 0),
            max_bytes=self.max_bytes,
            hits=int(hits or 0),
            misses=int(misses or 0),
        )

    def clear(self) -> int:
        """Remove every cached object (indexed or not) and the index; how many entries."""
        entries = sum(1 for n in self.storage.list(CACHE_PREFIX) if not n.endswith(DIGEST_SUFFIX))
        self.storage.delete_prefix(CACHE_PREFIX)
        self.redis.delete(self._lru, self._sizes, self._stats, self._pins)
        return entries


def _text(value: str | bytes) -> str:
    """A Redis reply as text, whichever way the client decodes."""
    return value.decode() if isinstance(value, bytes) else value

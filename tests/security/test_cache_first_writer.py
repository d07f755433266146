"""A segment cache entry is never replaced (security2 finding 5): the first put of a key wins,
so a later put, whoever's job it comes from, cannot change what other jobs take for it."""

from __future__ import annotations

from pathlib import Path

import redis

from orchestrator.segment_cache import SegmentCache
from providers.storage import open_storage
from providers.storage.encrypted import PlaintextStorage

KEY = "0123456789abcdef" * 4


def test_a_second_put_of_a_key_keeps_the_first_entry(redis_url: str, tmp_path: Path) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    cache = SegmentCache(
        PlaintextStorage(open_storage(f"file://{tmp_path / 'store'}")), client, max_bytes=10**6
    )
    (tmp_path / "victim.bin").write_bytes(b"victim's frames" * 10)
    (tmp_path / "attacker.bin").write_bytes(b"attacker's frames" * 20)
    cache.put(KEY, str(tmp_path / "victim.bin"))
    cache.put(KEY, str(tmp_path / "attacker.bin"))
    cache.get(KEY, str(tmp_path / "out.bin"))
    assert (tmp_path / "out.bin").read_bytes() == b"victim's frames" * 10
    assert cache.stats().entries == 1 and cache.stats().bytes == 150
    assert cache.lru_order() == [KEY]

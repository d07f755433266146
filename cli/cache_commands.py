"""``cloudrender cache stats|clear``: the cluster's segment cache (finished chunks kept under
their content key, so that a re-render after an edit renders only what changed); with no
cluster named, the cache ``cloudrender render``'s private clusters keep on this machine."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.cluster_access import cluster_api, cluster_options
from cli.private_runs import lasting_storage
from common.errors import RenderError
from common.settings import Settings
from common.units import format_size

if TYPE_CHECKING:
    # The segment cache pulls in the codec stack (NumPy, PyAV): imported where a command uses it.
    from orchestrator.segment_cache import CacheStats, SegmentCache


def add_cache_parser(sub: Any) -> None:
    """Add ``cache stats`` and ``cache clear`` to the command line's subcommands."""
    cache = sub.add_parser("cache", help="the segment cache that re-renders reuse chunks from")
    actions = cache.add_subparsers(dest="action", required=True)
    stats = actions.add_parser("stats", help="cached segments, their size, the cap, hit rate")
    stats.add_argument("--json", action="store_true")
    cluster_options(stats)
    stats.set_defaults(handler=cache_stats)
    clear = actions.add_parser("clear", help="remove every cached segment")
    clear.add_argument("--json", action="store_true")
    cluster_options(clear)
    clear.set_defaults(handler=cache_clear)


def cache_stats(args: argparse.Namespace) -> int:
    """Print how many segments the cache holds, their size against the cap, and the hit rate."""
    local = _local(args)
    if local:
        with _local_cache() as cache:
            stats = cache.stats()
    else:
        stats = _cache_api(args).cache_stats()
    if args.json:
        # Locally, hits and misses were counted in each render's own Redis, gone with it.
        rate = None if local else hit_rate(stats)
        print(json.dumps({**dataclasses.asdict(stats), "hit_rate": rate}, indent=2))
        return 0
    print(describe(stats, counted=not local))
    return 0


def cache_clear(args: argparse.Namespace) -> int:
    """Remove every cached segment; the next render of any project renders every chunk."""
    if _local(args):
        with _local_cache() as cache:
            freed = cache.stats().bytes
            removed = cache.clear()
    else:
        api = _cache_api(args)
        freed = api.cache_stats().bytes
        removed = api.clear_cache()
    if args.json:
        print(json.dumps({"removed": removed, "bytes": freed}, indent=2))
    else:
        print(f"removed {removed} cached segment{'s' * (removed != 1)} ({format_size(freed)})")
    return 0


def _local(args: argparse.Namespace) -> bool:
    """Whether no cluster is named: then the cache is that of ``cloudrender render``'s own
    private clusters, in CLOUDRENDER_EMBEDDED_DIR."""
    settings = Settings.from_env()
    named = getattr(args, "broker", None) or getattr(args, "storage", None)
    return not (named or settings.broker_url or settings.storage_url)


@contextlib.contextmanager
def _local_cache() -> Iterator[SegmentCache]:
    """The local renders' segment cache, indexed by a private Redis for this command (as each
    render indexes it again: the objects in storage are the truth)."""
    import redis

    from orchestrator.embedded_redis import EmbeddedRedis
    from orchestrator.segment_cache import SegmentCache
    from providers.storage import open_storage

    settings = Settings.from_env()
    folder = lasting_storage(settings)
    with EmbeddedRedis() as server:
        client = redis.Redis.from_url(server.url)
        try:
            storage = open_storage(Path(folder).as_uri())
            yield SegmentCache(storage, client, max_bytes=settings.cache_max_bytes)
        finally:
            client.close()


def _cache_api(args: argparse.Namespace) -> Any:
    api = cluster_api(args)
    if api.storage_url is None:
        # Said in the command line's words: the cache lives in the storage the workers share.
        raise RenderError(
            "no storage: pass --storage URL or set CLOUDRENDER_STORAGE_URL to the storage the "
            "cluster's workers share (the segment cache lives there)"
        )
    return api


def hit_rate(stats: CacheStats) -> float | None:
    """Hits over lookups since the counters began, or None before the first lookup."""
    lookups = stats.hits + stats.misses
    return round(stats.hits / lookups, 4) if lookups else None


def describe(stats: CacheStats, *, counted: bool = True) -> str:
    """The cache in one line: entries, size of cap, lookups and hit rate (``counted`` False:
    the lookups were not counted where this reads, as for local renders)."""
    rate = hit_rate(stats)
    lookups = stats.hits + stats.misses
    used = 100 * stats.bytes / stats.max_bytes if stats.max_bytes else 0.0
    if not counted:
        # Each `cloudrender render` without --broker counts in a private Redis it stops after.
        looked = "hit rate not kept for local renders (each says `reused N of M chunks`)"
    elif rate is not None:
        looked = f"hit rate {100 * rate:.0f} % ({stats.hits} of {lookups} chunk lookups)"
    else:
        looked = "no lookups yet"
    return (
        f"{stats.entries} cached segment{'s' * (stats.entries != 1)}, "
        f"{format_size(stats.bytes)} of {format_size(stats.max_bytes)} ({used:.0f} %); " + looked
    )

"""A Storage wrapper for tests that records which objects moved, to prove transfers happen once."""

from __future__ import annotations

import builtins

from providers.storage import Storage


class CountingStorage:
    """A Storage that delegates to another and counts uploads and downloads."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.url = inner.url
        self.puts: list[str] = []
        self.gets: list[str] = []

    def put_file(self, key: str, path: str) -> None:
        """Upload through the inner storage, recording the key."""
        self.puts.append(key)
        self.inner.put_file(key, path)

    def get_file(self, key: str, path: str) -> None:
        """Download through the inner storage, recording the key."""
        self.gets.append(key)
        self.inner.get_file(key, path)

    def exists(self, key: str) -> bool:
        """Whether the inner storage holds ``key``."""
        return self.inner.exists(key)

    def size(self, key: str) -> int:
        """The inner object's size."""
        return self.inner.size(key)

    def delete(self, key: str) -> None:
        """Delete from the inner storage."""
        self.inner.delete(key)

    def delete_prefix(self, prefix: str) -> int:
        """Delete a prefix from the inner storage."""
        return self.inner.delete_prefix(prefix)

    def list(self, prefix: str) -> builtins.list[str]:
        """List the inner storage."""
        return self.inner.list(prefix)

    def local_path(self, key: str) -> str | None:
        """The inner storage's local path for ``key``, if it has one."""
        return self.inner.local_path(key)

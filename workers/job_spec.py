"""The job document every task receives: everything a worker needs, as plain JSON."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

from chunking.timeline.model import ExportSettings, Timeline
from chunking.timeline.studio import load_project
from providers.storage import Storage, StorageError, open_storage

_TIMELINES: dict[str, Timeline] = {}


class _Runtime:
    """Per-process settings of the worker side, given once by whoever starts the process."""

    def __init__(self) -> None:
        self.key: bytes | None = None
        self.cache_dir = os.path.expanduser("~/.cache/cloudrender/assets")
        self.cache_bytes = 20 * 2**30
        self.cache: Any = None


_RUNTIME = _Runtime()


def configure_runtime(*, encryption_key: str | None, cache_dir: str, cache_bytes: int) -> None:
    """Give this process its storage key and asset cache (from the cluster's settings)."""
    from providers.storage.encrypted import key_from_text

    _RUNTIME.key = key_from_text(encryption_key) if encryption_key else None
    _RUNTIME.cache_dir = os.path.expanduser(cache_dir)
    _RUNTIME.cache_bytes = cache_bytes
    _RUNTIME.cache = None


def job_prefix(job_id: str) -> str:
    """Storage prefix of everything a job writes (segments, audio, output)."""
    return f"jobs/{job_id}/"


_CACHE_SIZE = 8  # jobs whose parsed timeline a worker process keeps


@dataclass(frozen=True)
class JobSpec:
    """A render job as the workers see it."""

    id: str
    project: dict[str, Any]  # the Timeline Studio document, already validated by the client
    base_dir: str  # where relative media paths in the project resolve
    export: dict[str, Any]  # ExportSettings fields, after command-line overrides
    storage_url: str  # where segments, audio and the output are written
    frames: int
    output_ext: str  # the final container's file extension
    keep_segments: bool = False  # leave segments in storage after merging (debugging, tests)
    chunks: list[tuple[int, int]] = dataclasses.field(default_factory=list)  # [start, end)
    chunk_frames: int | None = None  # the user's fixed chunk size, if any
    destination: str | None = None  # local path the merge also delivers the video to
    output_url: str | None = None  # storage URL (file/s3/gs/az) the merge also puts the video at
    encrypted: bool = False  # stored objects are AES-256-GCM encrypted with the cluster key
    assets: bool = False  # media paths are content-addressed refs into storage (asset sync)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (task arguments)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobSpec:
        """Rebuild from task arguments."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def segment_key(self, index: int) -> str:
        """Storage key of chunk `index`'s segment."""
        return f"{self.prefix}segments/{index:06d}.mkv"

    @property
    def audio_key(self) -> str:
        """Storage key of the job's encoded audio."""
        return f"{self.prefix}audio.mka"

    @property
    def output_key(self) -> str:
        """Storage key of the finished video."""
        return f"{self.prefix}output.{self.output_ext}"

    @property
    def prefix(self) -> str:
        """Storage prefix of everything the job writes."""
        return job_prefix(self.id)

    def storage(self) -> Storage:
        """The job's storage, decrypting and encrypting transparently when the job says so."""
        return self.sealed(open_storage(self.storage_url))

    def sealed(self, storage: Storage) -> Storage:
        """``storage`` as this job writes to it: encrypted with the cluster key if the job is."""
        if not self.encrypted:
            return storage
        if _RUNTIME.key is None:
            raise StorageError(
                f"job {self.id} stores encrypted objects, but this process has no key: "
                "set CLOUDRENDER_ENCRYPTION_KEY to the cluster's key"
            )
        from providers.storage.encrypted import EncryptedStorage

        return EncryptedStorage(storage, _RUNTIME.key)

    def timeline(self) -> Timeline:
        """The job's timeline with its export settings (parsed once per process)."""
        cached = _TIMELINES.get(self.id)
        if cached is None:
            project = self.project
            if self.assets:
                # Media came through storage: fetch it into this node's cache first.
                from workers.assets import AssetCache, resolve_assets

                if _RUNTIME.cache is None:
                    _RUNTIME.cache = AssetCache(_RUNTIME.cache_dir, _RUNTIME.cache_bytes)
                project = resolve_assets(project, self.storage(), _RUNTIME.cache)
            loaded = load_project(project, self.base_dir)
            cached = dataclasses.replace(loaded, export=ExportSettings(**self.export))
            if len(_TIMELINES) >= _CACHE_SIZE:
                _TIMELINES.pop(next(iter(_TIMELINES)))
            _TIMELINES[self.id] = cached
        return cached

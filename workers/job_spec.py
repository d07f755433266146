"""The job document every task receives: everything a worker needs, as plain JSON."""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from typing import Any

from chunking.timeline.export import export_problems
from chunking.timeline.export_overrides import override_problems
from chunking.timeline.model import ExportSettings, Timeline
from chunking.timeline.project import check_memory
from chunking.timeline.studio import load_project
from common.settings import Settings
from providers.storage import Storage, StorageError, open_storage
from workers import job_policy
from workers.delivery import check_outputs

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


def asset_cache_dir() -> str:
    """Where this process keeps downloaded assets, each named by its content hash."""
    return _RUNTIME.cache_dir


def job_prefix(job_id: str) -> str:
    """Storage prefix of everything a job writes (segments, audio, output)."""
    return f"jobs/{job_id}/"


_CACHE_SIZE = 8  # jobs whose parsed timeline a worker process keeps
#: A segment cache key: a hex digest (chunking.content_key), or "" for a chunk without one.
_CACHE_KEY = re.compile(r"^([0-9a-f]{16,128})?$")


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
    encrypted: bool = False  # the client asks for encryption; a worker with a key always does
    assets: bool = False  # media paths are content-addressed refs into storage (asset sync)
    use_cache: bool = True  # reuse cached segments and cache the rendered ones (segment cache)
    fingerprint: str = ""  # the renderer fingerprint the content keys were made with
    chunk_keys: list[str] = dataclasses.field(default_factory=list)  # per chunk; "": uncached
    audio_cache_key: str | None = None  # content key of the whole audio mix, if cached
    #: [size, mtime_ns] of each local media file at submit (workers.media_stamps): checked by
    #: every chunk, so an edited file fails the job instead of mixing into its video
    media_stamps: dict[str, list[int]] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (task arguments)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobSpec:
        """Rebuild from task arguments; JobRefused for a malformed document."""
        # It came through Redis: a wrong type is one line, not a crash.
        job_policy.check_document(data)
        _check_cache_fields(data)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def chunk_cache_key(self, index: int) -> str | None:
        """Content key of chunk ``index`` when this job uses the segment cache, else None."""
        if not self.use_cache or index >= len(self.chunk_keys):
            return None
        return self.chunk_keys[index] or None

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
        """The job's storage, encrypting and decrypting whenever this process holds a key."""
        return self.sealed(open_storage(self.storage_url))

    def sealed(self, storage: Storage) -> Storage:
        """``storage`` as this process must use it: encrypted whenever the process holds a key.

        The job's ``encrypted`` flag is only a request: a process configured with a key
        encrypts every object (a job cannot ask for plaintext), and one without a key refuses
        a job that asks for encryption instead of writing plaintext, and refuses ciphertext it
        meets instead of passing it on.
        """
        from providers.storage.encrypted import EncryptedStorage, PlaintextStorage

        if _RUNTIME.key is not None:
            return EncryptedStorage(storage, _RUNTIME.key)
        if self.encrypted:
            # Not transient: another worker of the same cluster is configured the same way.
            raise StorageError(
                f"job {self.id} asks for encrypted storage, but this process has no encryption "
                "key: set CLOUDRENDER_ENCRYPTION_KEY to the cluster's key"
            )
        return PlaintextStorage(storage)

    def _export(self, timeline: Timeline) -> ExportSettings:
        """The document's export settings, refused unless each is a value the project loader
        or an override could give it and together they can encode this timeline."""
        problems = _export_field_problems(self.export)
        if problems:
            raise job_policy.JobRefused(f"job {self.id}: export " + "; ".join(problems))
        try:
            export = ExportSettings(**self.export)
        except TypeError as exc:
            message = f"job {self.id}: malformed export settings ({exc})"
            raise job_policy.JobRefused(message) from None
        problems = export_problems(timeline.width, timeline.height, export, timeline.sample_rate)
        if problems:
            raise job_policy.JobRefused(f"job {self.id}: " + "; ".join(problems))
        return export

    def timeline(self) -> Timeline:
        """The job's timeline with its export settings (parsed once per process).

        Every task reads it before doing anything, so this is where a worker vets the job
        (``workers.job_policy``): its storage must be the worker's, its media under the media
        roots, its local outputs under the output roots; checked on every call, as the document
        in Redis may change under a cached parse.
        """
        policy = job_policy.current()
        job_policy.admit(self.id, self.storage_url, policy)
        # Before any chunk renders: an output this worker's merge would refuse fails the job
        # now, not after the whole render.
        check_outputs(self.id, self.destination, self.output_url, self.storage_url, policy)
        cached = _TIMELINES.get(self.id)
        if cached is None:
            project = self.project
            job_policy.check_media(project, self.base_dir, assets=self.assets, policy=policy)
            if self.assets:
                # Media came through storage: fetch it into this node's cache first.
                from workers.assets import AssetCache, resolve_assets

                if _RUNTIME.cache is None:
                    _RUNTIME.cache = AssetCache(_RUNTIME.cache_dir, _RUNTIME.cache_bytes)
                project = resolve_assets(project, self.storage(), _RUNTIME.cache)
            loaded = load_project(project, self.base_dir)
            job_policy.check_loaded_media(loaded, _RUNTIME.cache_dir, policy)
            # The worker's own budget, whatever the client checked: a frame that needs more
            # memory than this node allows fails the job here, before any chunk starts.
            check_memory(loaded, Settings.from_env().max_frame_bytes)
            cached = dataclasses.replace(loaded, export=self._export(loaded))
            if len(_TIMELINES) >= _CACHE_SIZE:
                _TIMELINES.pop(next(iter(_TIMELINES)))
            _TIMELINES[self.id] = cached
        return cached


#: Export settings that may be null (the encoder's default).
_OPTIONAL_EXPORT = frozenset(
    {"crf", "bitrate", "preset", "keyframe_interval", "b_frames", "profile", "audio_codec"}
)
#: Bitrates the project loader accepts beyond an override's range (chunking.timeline.export
#: parse_export: video up to 1e10 bit/s, audio up to 1e7), so no loadable project is refused.
_LOADED_RANGES = {"bitrate": (1000, 10**10), "audio_bitrate": (8000, 10**7)}


def _export_field_problems(export: dict[str, Any]) -> list[str]:
    """Why the document's export fields are not values the encoder takes (empty when all are):
    it came through Redis, so a container name the workers do not know, or a negative, huge or
    text crf, is one line now, not a KeyError at planning or a failure inside the encoder."""
    problems = []
    for name, value in export.items():
        if value is None and name in _OPTIONAL_EXPORT:
            continue
        bounds = _LOADED_RANGES.get(name)
        if bounds is None:
            problems += override_problems({name: value})
        elif (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not bounds[0] <= value <= bounds[1]
        ):
            problems.append(
                f"settings.{name}: {repr(value)[:40]} must be a whole number from "
                f"{bounds[0]} to {bounds[1]}"
            )
    return problems


def _check_cache_fields(data: Any) -> None:
    """Refuse segment cache fields of the wrong type, or keys that are not digests (they name
    storage objects outside the job's prefix that its merge reads)."""
    if not isinstance(data.get("use_cache", True), bool):
        raise job_policy.JobRefused("job document field use_cache has the wrong type")
    if not isinstance(data.get("fingerprint", ""), str):
        raise job_policy.JobRefused("job document field fingerprint has the wrong type")
    chunk_keys = data.get("chunk_keys", [])
    audio = data.get("audio_cache_key")
    values = [*chunk_keys, audio or ""] if isinstance(chunk_keys, list) else [None]
    if not all(isinstance(v, str) and _CACHE_KEY.match(v) for v in values):
        raise job_policy.JobRefused("job document holds a segment cache key that is not a digest")

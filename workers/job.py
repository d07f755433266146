"""The job document every task receives: everything a worker needs, as plain JSON."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from chunking.studio import load_project
from chunking.timeline import ExportSettings, Timeline

_TIMELINES: dict[str, Timeline] = {}
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
        return f"jobs/{self.id}/segments/{index:06d}.mkv"

    @property
    def audio_key(self) -> str:
        """Storage key of the job's encoded audio."""
        return f"jobs/{self.id}/audio.mka"

    @property
    def output_key(self) -> str:
        """Storage key of the finished video."""
        return f"jobs/{self.id}/output.{self.output_ext}"

    @property
    def prefix(self) -> str:
        """Storage prefix of everything the job writes."""
        return f"jobs/{self.id}/"

    def timeline(self) -> Timeline:
        """The job's timeline with its export settings (parsed once per process)."""
        cached = _TIMELINES.get(self.id)
        if cached is None:
            loaded = load_project(self.project, self.base_dir)
            cached = dataclasses.replace(loaded, export=ExportSettings(**self.export))
            if len(_TIMELINES) >= _CACHE_SIZE:
                _TIMELINES.pop(next(iter(_TIMELINES)))
            _TIMELINES[self.id] = cached
        return cached

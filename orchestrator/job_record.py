"""Job and chunk records and their state machine (DESIGN 4.4); plain data, no I/O."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from common.errors import RenderError


class JobState(enum.StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    PLANNING = "planning"
    RENDERING = "rendering"
    MERGING = "merging"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """True for the three end states."""
        return self in (JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED)


class ChunkState(enum.StrEnum):
    """Where a chunk is in its life."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    RETRYING = "retrying"


#: Allowed job transitions; any unfinished state may also fail or be cancelled. A merge goes
#: back to rendering when a segment it was to take from the segment cache is gone.
_NEXT = {
    JobState.QUEUED: {JobState.PLANNING},
    JobState.PLANNING: {JobState.RENDERING},
    JobState.RENDERING: {JobState.MERGING},
    JobState.MERGING: {JobState.COMPLETED, JobState.RENDERING},
}


class JobNotFound(RenderError):
    """No job with this id is stored (never submitted, or expired)."""


class InvalidTransition(RenderError):
    """A job cannot move from its current state to the requested one."""


def settled_eta(state: JobState | str, eta: float | None) -> float | None:
    """The ETA a job in `state` shows: 0 once completed, None once failed or cancelled, else
    `eta` (the last tick's figure would otherwise stay on an ended job for ever)."""
    state = JobState(state)
    if state is JobState.COMPLETED:
        return 0.0
    return None if state.finished else eta


def check_transition(current: JobState, target: JobState) -> None:
    """Raise InvalidTransition unless `current` may become `target`."""
    if current.finished:
        raise InvalidTransition(f"job is already {current}")
    if target in (JobState.FAILED, JobState.CANCELLED) or target in _NEXT.get(current, set()):
        return
    raise InvalidTransition(f"a {current} job cannot become {target}")


#: The error of a cancelled job's chunks that had not finished (they are ``failed``).
CHUNK_CANCELLED = "cancelled"
#: The error of a failed job's chunks that had not finished (stopped, or never started).
CHUNK_STOPPED = "stopped: the job failed"


@dataclass
class ChunkRecord:
    """One chunk of a job."""

    index: int
    start: int
    end: int
    state: ChunkState = ChunkState.PENDING
    node: str | None = None
    attempts: int = 0
    frames_done: int = 0
    started_at: float | None = None
    updated_at: float | None = None  # last sign of life while running
    finished_at: float | None = None
    seconds: float | None = None
    error: str | None = None
    task_id: str | None = None
    failed_nodes: list[str] = field(default_factory=list)  # nodes it crashed on
    speculative: bool = False  # a second copy was started for this straggler
    #: its content key (chunking.content_key), when the job may use the segment cache
    key: str | None = None
    #: its segment came from the segment cache: done at planning, never rendered
    reused: bool = False
    #: the render fingerprint of the node that made its segment ("" when unknown: a record
    #: from before fingerprints were recorded, or a segment an earlier attempt left behind)
    renderer: str = ""
    #: sha256 of its segment as the rendering worker stored it ("" when unknown: a reused or
    #: cached segment, a record from before digests were kept); the merge checks it
    digest: str = ""

    @property
    def frames(self) -> int:
        """Frames in the chunk."""
        return self.end - self.start

    @property
    def stopped(self) -> bool:
        """Whether it is failed only because its job ended (a cancel, another chunk's
        failure): no fault of the node it ran on."""
        return self.state is ChunkState.FAILED and self.error in (CHUNK_CANCELLED, CHUNK_STOPPED)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChunkRecord:
        """Rebuild from to_json()."""
        known = {f.name for f in fields(cls)}
        record = cls(**{k: v for k, v in data.items() if k in known})
        record.state = ChunkState(record.state)
        return record


@dataclass
class JobRecord:
    """A render job as the store keeps it."""

    id: str
    name: str = ""
    state: JobState = JobState.QUEUED
    priority: str = "normal"
    effective_priority: str = "normal"
    #: who the job is billed to: a project and a user (budgets, billing export); "" if unset
    project: str = ""
    user: str = ""
    deadline: float | None = None  # epoch seconds
    max_cost: float | None = None
    submitted_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    frames: int = 0
    frames_done: int = 0
    chunk_count: int = 0
    estimated_seconds: float | None = None
    eta_seconds: float | None = None
    estimated_cost: float | None = None
    #: the estimate the job was submitted with (orchestrator.estimates: the chosen option's
    #: time p10/p50/p90, cost range, pool and market), kept to measure accuracy at the end
    estimate: dict[str, Any] | None = None
    #: what the job cost (the merge's figure); read from the store before it ends, what it has
    #: spent so far
    actual_cost: float = 0.0
    node_seconds: float = 0.0
    hourly_rate: float = 0.0
    #: chunk seconds run on autoscaled pool nodes, and their cost at each node's slot price
    #: (the rest of node_seconds is billed at hourly_rate)
    pool_seconds: float = 0.0
    pool_cost: float = 0.0
    complexity: float = 1.0  # cost units per frame (chunking.complexity)
    #: cores a render of its timeline could keep busy (chunking.complexity.pipeline_parallelism;
    #: 0: not known), what the estimate scales a learned lone-chunk speed-up by
    pipeline: float = 0.0
    uploaded_bytes: int = 0  # media bytes uploaded on submit (0 when storage had them all)
    output: str = ""
    error: str | None = None
    encoder: str | None = None
    #: where the last finished chunk's layers were composited (GPU or CPU, workers.arrays)
    compositor: str | None = None
    #: exported with hardware acceleration: its chunks go to GPU nodes where there are any
    gpu: bool = False
    result: dict[str, Any] | None = None  # the merge's summary (bytes, duration, drift, audio)
    #: unexpected chunk failures per node (a node with 2 gets no more of this job's chunks)
    node_failures: dict[str, int] = field(default_factory=dict)
    #: the render fingerprint its chunks are sent to ("" until a render node is live): all of
    #: them render on nodes of one fingerprint, so the joins of its segments stay exact
    renderer: str = ""
    #: what the job's render says beyond its state, as ``render`` prints it: the loader's
    #: warnings at submit, then the workers' and planner's notes (a clipped mix, a software
    #: encoder in place of a hardware one, --chunk-frames cut for spot pools)
    notes: list[str] = field(default_factory=list)
    chunks: list[ChunkRecord] = field(default_factory=list)

    @property
    def progress(self) -> float:
        """Fraction of frames done (rendered or reused), 0..1."""
        return self.frames_done / self.frames if self.frames else 0.0

    @property
    def cost_so_far(self) -> float:
        """What the node time charged to the job until now costs: chunks on pool nodes at
        their price (pool_cost), the rest of its node seconds at its flat hourly rate."""
        flat = max(self.node_seconds - self.pool_seconds, 0.0)
        return self.pool_cost + flat / 3600 * self.hourly_rate

    @property
    def reused_chunks(self) -> int:
        """Chunks taken from the segment cache instead of rendered."""
        return sum(1 for c in self.chunks if c.reused)

    @property
    def reused_frames(self) -> int:
        """Frames of the chunks taken from the segment cache."""
        return sum(c.frames for c in self.chunks if c.reused)

    @property
    def rendered_frames(self) -> int:
        """Frames done by rendering: the reused ones were done at once and tell nothing of
        how fast the rest will go."""
        return max(self.frames_done - self.reused_frames, 0)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary (what `status --json` prints)."""
        data = asdict(self)
        data["progress"] = round(self.progress, 4)
        data["reused_chunks"] = self.reused_chunks
        return data

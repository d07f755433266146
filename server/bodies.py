"""Request bodies of the HTTP service: strict (unknown fields and wrong types are 422 naming
the field), so a typo in a client never silently falls back to a default."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chunking.timeline.fields import lone_surrogate
from common.names import MAX_CHUNK_FRAMES
from orchestrator.api_pools import PoolStatus

Priority = Literal["low", "normal", "high", "urgent"]
#: A project: a Timeline Studio document (object), an OpenTimelineIO document (JSON string) or
#: an editor's export (FCP 7 XML, FCPXML or EDL text).
ProjectField = Field(
    description="Timeline Studio project (a JSON object), an OpenTimelineIO document (its "
    "JSON as a string) or an editor's export (FCP 7 XML, FCPXML or CMX 3600 EDL text); media "
    "paths must be asset references asset:sha256:<hex><ext> (an export's through media)"
)
#: For an editor's export or an OTIO document: its media by file or clip name.
MediaField = Field(
    default=None,
    description="for an editor's export or an OpenTimelineIO document sent as project: file "
    "names (or clip names, with or "
    "without their suffix) -> asset references asset:sha256:<hex><ext>, to relink its media; "
    'an EDL\'s media as {"asset": <reference>, "timecode": "01:00:00:00" | null, "fps": '
    '"24000/1001" | 25 | null}, the start timecode and frame rate its source times count by',
)
Deadline = Field(
    default=None,
    description="when the video is needed: ISO 8601, epoch seconds or +N[smhd] from now",
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _characters(cls, data: Any) -> Any:
        # JSON's \ud800 escapes parse, but no answer, record or file name can hold them: one
        # tenant's job name would make every listing that shows it fail.
        where = lone_surrogate(data)
        if where is not None:
            raise ValueError(f"{where} holds a lone UTF-16 surrogate escape, which is no character")
        return data


class SubmitBody(_Body):
    """``POST /v1/jobs``."""

    project: dict[str, Any] | str = ProjectField
    media: dict[str, str | dict[str, Any]] | None = MediaField
    settings: dict[str, Any] | None = Field(
        default=None,
        description=(
            "export settings over the project's by field name (container, codec, crf, "
            "preset, profile, audio_codec, lossless, ...; docs/timeline-format.md)"
        ),
    )
    priority: Priority = "normal"
    deadline: float | str | None = Deadline
    max_cost: float | None = Field(default=None, ge=0, description="refuse above this (USD)")
    chunk_frames: int | None = Field(default=None, ge=1, le=MAX_CHUNK_FRAMES)
    project_name: str | None = Field(
        default=None, description="the project billed (a key bound to a project may omit it)"
    )
    output_name: str | None = Field(
        default=None,
        max_length=100,
        description="file name of the video (its extension picks the container); video.mp4",
    )


class SubmitAnswer(BaseModel):
    """The answer to a submit: the job's id, the estimate it was submitted with, and what
    `cloudrender validate` would warn about the project (held frames, a missing font...)."""

    id: str
    estimate: dict[str, Any] | None = None
    warnings: list[str] = []


class EstimateBody(_Body):
    """``POST /v1/estimate``."""

    project: dict[str, Any] | str = ProjectField
    media: dict[str, str | dict[str, Any]] | None = MediaField
    settings: dict[str, Any] | None = None
    chunk_frames: int | None = Field(default=None, ge=1, le=MAX_CHUNK_FRAMES)
    provider: str | None = Field(default=None, max_length=32)
    pool: str | None = Field(default=None, max_length=64)
    market: str | None = Field(default=None, max_length=16)
    deadline: float | str | None = Deadline
    max_cost: float | None = Field(default=None, ge=0)


class ScaleBody(_Body):
    """``POST /v1/cluster/scale``: a pool to hold at ``nodes``, or worker ``slots`` in all."""

    pool: str | None = Field(default=None, max_length=64)
    nodes: int | None = Field(default=None, ge=0, le=10_000)
    duration: float | None = Field(default=None, gt=0, description="seconds (default one hour)")
    slots: int | None = Field(default=None, ge=1, le=100_000)


class JobList(BaseModel):
    """``GET /v1/jobs``."""

    jobs: list[dict[str, Any]]


class PausedAnswer(BaseModel):
    """Whether dispatching is paused."""

    paused: bool


class StopAnswer(BaseModel):
    """What the emergency stop did."""

    cancelled: list[str]
    paused: bool


class PoolList(BaseModel):
    """``GET /v1/cluster/pools``: every pool as the autoscaler last left it."""

    pools: list[PoolStatus]


class RenderNodes(BaseModel):
    """Names of the live render nodes (those whose slots render chunks)."""

    nodes: list[str]


class OrchestratorAnswer(BaseModel):
    """Whether a live node consumes the orchestrator queue (someone plans submitted jobs)."""

    running: bool

"""Turning a submitted project into a job: the project read and vetted, where the video goes,
the media synced to storage where workers cannot read this disk, the job document (JobSpec)
and the job's record (JobRecord) built. The Python API (orchestrator.api) prices, stores and
queues what this makes.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
import unicodedata
import uuid
from collections.abc import Mapping
from typing import Any

from chunking.complexity import pipeline_parallelism
from chunking.timeline.audio_export import audio_only
from chunking.timeline.fields import bounded
from chunking.timeline.project import Project, check_memory, read_project
from common.errors import RenderError, ValidationError
from orchestrator.api_results import ReuseEstimate
from orchestrator.assets import sync_assets as upload_assets
from orchestrator.job_record import JobRecord
from orchestrator.scheduling import effective_priority
from providers.storage import open_storage, split_object_url
from workers.audio_mix import mix_problem
from workers.delivery import check_new_outputs
from workers.job_spec import JobSpec
from workers.media_stamps import media_stamps
from workers.render import has_audio


def prepare_project(
    project: str | Mapping[str, Any] | Project,
    settings: Mapping[str, Any] | None,
    base_dir: str | None,
    output: str | None,
    max_frame_bytes: int,
) -> Project:
    """The project read (or, already read, checked for frame memory) with its export settings."""
    if isinstance(project, Project):
        check_memory(project.timeline, max_frame_bytes)
    else:
        project = read_project(project, base_dir=base_dir, max_frame_bytes=max_frame_bytes)
    asked = dict(settings or {})
    rate = asked.pop("sample_rate", None)  # the mix's rate: the document's, not an export field
    project = project.with_export(asked, output=output)
    if rate is not None:
        if not isinstance(rate, int) or isinstance(rate, bool):
            shown = bounded(repr(rate))
            raise ValidationError([f"settings.sample_rate: {shown} must be a whole number of Hz"])
        project = project.with_sample_rate(rate)
    # Refused now, as the render's audio task would refuse it after the video was rendered.
    too_long = mix_problem(project.timeline)
    if too_long is not None and has_audio(project.timeline):
        raise ValidationError([too_long])
    container = project.timeline.export.container
    if audio_only(container) and not has_audio(project.timeline):
        # Refused now: the job would plan no video and mix nothing, and fail in its merge.
        raise ValidationError(
            [
                f"the output is audio only ({container}) but the timeline has no sound: no "
                "enabled, unmuted clip plays a file with an audio stream"
            ]
        )
    return project


def new_job(
    prepared: Project,
    quote: ReuseEstimate,
    *,
    storage_url: str,
    output: str,
    priority: str,
    deadline: float | None,
    max_cost: float | None,
    chunk_frames: int | None,
    keep_segments: bool,
    sync_assets: bool,
    local_delivery: bool,
    use_cache: bool,
    encrypted: bool,
) -> tuple[JobSpec, JobRecord]:
    """A new job's document and record, its media uploaded to storage where workers need it."""
    timeline = prepared.timeline
    # Workers on a shared disk can write a local output path; remote ones cannot, and the
    # client fetches the video from storage instead (download(), or render's own client).
    shared_disk = open_storage(storage_url).local_path("probe") is not None
    destination, output_url = output_targets(output, shared_disk and local_delivery)
    # Refused now what a worker would refuse after rendering (workers.delivery).
    check_new_outputs(destination, output_url, storage_url)
    job_id = uuid.uuid4().hex[:16]
    spec = JobSpec(
        id=job_id,
        project=dict(prepared.document),
        base_dir=prepared.base_dir,
        export=dataclasses.asdict(timeline.export),
        storage_url=storage_url,
        frames=timeline.frames,
        output_ext=timeline.export.container,
        chunk_frames=chunk_frames,
        destination=destination,
        output_url=output_url,
        keep_segments=keep_segments,
        encrypted=encrypted,
        use_cache=use_cache,
        media_stamps=media_stamps(timeline),
    )
    uploaded = 0
    if sync_assets or not shared_disk:
        # Workers cannot read this disk: media travels through storage, by content hash.
        synced = upload_assets(prepared.document, prepared.base_dir, spec.storage())
        # Content-addressed copies cannot change under the job: no stamps to check.
        spec = dataclasses.replace(spec, project=synced.document, assets=True, media_stamps={})
        uploaded = synced.uploaded_bytes
    now = time.time()
    record = JobRecord(
        id=job_id,
        name=job_name(timeline.name),
        priority=priority,
        effective_priority=effective_priority(priority, deadline, now, quote.wall_seconds),
        deadline=deadline,
        max_cost=max_cost,
        submitted_at=now,
        frames=timeline.frames,
        estimated_seconds=round(quote.wall_seconds, 2),
        estimated_cost=quote.cost,
        hourly_rate=quote.hourly_rate,
        output=output,
        complexity=quote.complexity,
        pipeline=round(pipeline_parallelism(timeline), 3),
        uploaded_bytes=uploaded,
        gpu=timeline.export.hardware_acceleration,
        notes=list(timeline.warnings),
    )
    return spec, record


def output_targets(output: str, shared_disk: bool) -> tuple[str | None, str | None]:
    """(local path, storage URL) the merge delivers the video to, besides the job's storage."""
    if "://" in output:
        split_object_url(output)  # a malformed URL fails the submit, not the merge
        return None, output
    return (os.path.abspath(output) if shared_disk else None), None


#: What a project or user name may be: printable, no separators that would break a CSV export
#: or a Redis key, at most 64 characters. Matched whole: "$" also matches before a final newline.
_SCOPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")


def billing_scope(name: str, what: str) -> str:
    """A project or user name checked for use in keys and exports ("" when not given)."""
    if not name:
        return ""
    if not _SCOPE.fullmatch(name):
        raise RenderError(
            f"{what} {name!r} must be 1-64 letters, digits or . _ @ + - (starting with a letter or "
            "digit)"
        )
    return name


#: Characters of a project's name a job keeps: a label for listings and the dashboard.
MAX_JOB_NAME = 200


def job_name(name: str) -> str:
    """A project's name as its job's label: one line of visible characters (no controls or
    direction overrides, which made "evil" show as "live" in the dashboard), at most
    MAX_JOB_NAME characters."""
    shown = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf") or c in "\t\n")
    line = " ".join(shown.split())
    return line if len(line) <= MAX_JOB_NAME else line[: MAX_JOB_NAME - 1] + "…"

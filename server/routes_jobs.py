"""Job routes: submit, list, status, cancel, download the video (estimates: routes_estimate).

A job submitted over HTTP is billed to the key's user (and its project, or the one the body
names when the key is bound to none); its media are asset references already in storage, and
its video stays in storage (``jobs/<id>/output.<ext>``) until downloaded from
``/v1/jobs/{id}/output``: a redirect to a pre-signed URL where the storage can sign and the
video is not encrypted, else the bytes streamed from here (with ``Range``).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from starlette.background import BackgroundTask

from chunking.plan import keyframe_chunk_frames
from chunking.timeline.project import Project, container_of
from common.errors import RenderError
from orchestrator.api import CloudRenderingAPI
from orchestrator.api_keys import SUBMIT_LOCK, ApiKey
from orchestrator.job_record import JobNotFound, JobRecord, JobState
from orchestrator.wire import to_wire
from providers.storage import ObjectNotFound, StorageError, open_storage
from server.auth import CurrentKey, api_of, check_visible, keys_of, may_see, visible_job
from server.bodies import JobList, SubmitAnswer, SubmitBody
from server.errors import ApiError, Conflict, QuotaExceeded, error_responses
from server.json_body import UniqueKeysRoute
from server.limits import check_job_quota
from server.projects import load_remote_project
from server.ranges import apply_range
from server.routes_assets import stored_assets
from server.stored_media import stored_media
from workers.job_spec import JobSpec

router = APIRouter(tags=["jobs"], route_class=UniqueKeysRoute)

#: Seconds a pre-signed download URL stays valid, unless ``?expires=`` asks for another time
#: (``HTTPRenderingAPI.output_url(job, expires)`` does; it was ignored, every link lasting an
#: hour), up to S3's longest: a week.
SIGNED_URL_SECONDS = 3600
MAX_SIGNED_SECONDS = 7 * 86400
#: Most jobs a listing scans (newest first) to find those a user key may see.
LIST_SCAN = 2000
#: The submit answer's warning when nothing plans jobs (the job is queued all the same).
NO_ORCHESTRATOR = (
    "no orchestrator is running on this cluster; the job stays queued until one starts "
    "(`cloudrender orchestrator --broker URL`)"
)
#: Matched whole (fullmatch): "$" also matches before a final newline, and "video.mp4\n" was
#: refused as "unknown container .mp4".
_OUTPUT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: Seconds a submit waits for another submit of the same user (concurrent-jobs quota).
_QUOTA_LOCK_WAIT = 30

JobStateName = Annotated[
    JobState | None, Query(description="only jobs in this state (queued, rendering, ...)")
]


@router.post(
    "/v1/jobs",
    status_code=201,
    response_model=SubmitAnswer,
    summary="submit a job",
    responses=error_responses(400, 403, 413, 415),
)
def submit_job(body: SubmitBody, key: CurrentKey, request: Request) -> dict[str, Any]:
    """Validate, estimate and queue a job; its media must be uploaded assets."""
    api = api_of(request)
    project_name = body.project_name or key.project
    if key.project and project_name != key.project:
        raise ApiError(
            f"key {key.id} is bound to project {key.project!r}; it cannot submit to "
            f"{project_name!r}",
            403,
        )
    if not key.project and not key.operator and project_name:
        # A project that keys are bound to is theirs: anyone else billing it would spend (and
        # could exhaust) its budget.
        if keys_of(request).project_is_bound(project_name):
            raise ApiError(
                f"project {project_name!r} belongs to the keys bound to it; key {key.id} is not "
                "one of them (submit with a key bound to it)",
                403,
            )
    if body.output_name is not None and not _OUTPUT_NAME.fullmatch(body.output_name):
        raise RenderError(
            f"output_name {body.output_name!r} must be a file name: letters, digits, . _ - "
            "(no folders)"
        )
    project = load_remote_project(body.project, body.media)
    # The uploaded media checked as validate checks files, the project read over them.
    with stored_media(stored_assets(request), project) as checked:
        return _queue(api, key, body, checked, project_name)


def _queue(
    api: CloudRenderingAPI, key: ApiKey, body: SubmitBody, project: Project, project_name: str
) -> dict[str, Any]:
    """Queue the checked project's job: its id, estimate and the warnings said of it."""
    output = _output_name(body.output_name, project.timeline.export.container, body.settings)
    options: dict[str, Any] = {
        "priority": body.priority,
        "deadline": body.deadline,
        "max_cost": body.max_cost,
        "chunk_frames": body.chunk_frames,
    }
    if key.max_concurrent_jobs is None:
        job_id = _submit(api, key, project, body.settings, output, project_name, options)
    else:
        # One submit of a user at a time, so two cannot both pass the quota's count.
        lock = api.store.redis.lock(
            SUBMIT_LOCK.format(user=key.user), timeout=120, blocking_timeout=_QUOTA_LOCK_WAIT
        )
        if not lock.acquire():
            raise QuotaExceeded(
                f"another submit of user {key.user} is still being checked; retry in a moment", 5
            )
        try:
            check_job_quota(api.store, key)
            job_id = _submit(api, key, project, body.settings, output, project_name, options)
        finally:
            lock.release()
    # What submit_job estimated (None: it could not), not a second estimate of the whole job.
    estimate = api.last_estimate
    # The loader's warnings: a caller without the CLI would not hear of a frozen frame otherwise.
    warnings = list(project.timeline.warnings)
    if body.chunk_frames is not None:
        planned = project.with_export(body.settings, output=output).timeline
        used = keyframe_chunk_frames(planned, body.chunk_frames)
        if used != body.chunk_frames:
            # Planned as another length (chunking.plan): said, as the CLI says it.
            warnings.append(
                f"chunk_frames {body.chunk_frames} is rounded to {used}: every chunk starts on a "
                f"keyframe, and settings.export.keyframe_interval puts one every "
                f"{planned.export.keyframe_interval} frames"
            )
    if not api.orchestrator_running():
        # As `cloudrender submit` says over Redis: else the job sits queued with no word why.
        warnings.append(NO_ORCHESTRATOR)
    return {"id": job_id, "estimate": to_wire(estimate) if estimate else None, "warnings": warnings}


def _output_name(name: str | None, container: str, settings: dict[str, Any] | None) -> str:
    """The download's file name: ``name``, whose extension must agree with a container the
    settings ask for (the file would hold another format than it says); without one,
    ``video.<container>`` of the settings, else of the project's own export."""
    asked = (settings or {}).get("container")
    if name is None:
        return f"video.{asked if isinstance(asked, str) and asked else container}"
    named = container_of(name, "")
    if named and isinstance(asked, str) and asked and asked.lower() != named:
        raise RenderError(
            f"output_name {name!r} says .{named} but settings.container asks for {asked}: "
            "make them agree (or leave one out)"
        )
    return name


def _submit(
    api: CloudRenderingAPI,
    key: ApiKey,
    project: Any,
    settings: dict[str, Any] | None,
    output: str,
    project_name: str,
    options: dict[str, Any],
) -> str:
    return api.submit_job(
        project,
        settings,
        output=output,
        sync_assets=True,
        local_delivery=False,
        project_name=project_name,
        user=key.user,
        **options,
    )


@router.get(
    "/v1/jobs",
    response_model=JobList,
    summary="list jobs, newest first",
    responses=error_responses(),
)
def list_jobs(
    key: CurrentKey,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    state: JobStateName = None,
) -> dict[str, Any]:
    """The newest jobs this key may see (a user key: its user's), without their chunks."""
    api = api_of(request)
    jobs: list[dict[str, Any]] = []
    scan = api.store.recent(LIST_SCAN) if key.operator else api.store.recent_of(key.user, LIST_SCAN)
    for job_id in scan:
        try:
            fields = api.store.get_fields(job_id, "id", "user", "state")
            if not may_see(key, str(fields.get("user") or "")):
                continue
            if state is not None and fields.get("state") != state.value:
                continue
            record = api.store.get(job_id)
        except JobNotFound:
            continue  # expired while listed
        data = to_wire(record)
        data["chunks"] = []
        jobs.append(data)
        if len(jobs) >= limit:
            break
    return {"jobs": jobs}


@router.get(
    "/v1/jobs/{job_id}",
    summary="a job's record",
    responses={200: {"model": JobRecord}, **error_responses(404)},
)
def get_job(job_id: str, key: CurrentKey, request: Request) -> Any:
    """The job's record with per-chunk state (JobRecord)."""
    return to_wire(visible_job(api_of(request), key, job_id))


@router.post(
    "/v1/jobs/{job_id}/cancel",
    summary="cancel a job",
    responses={
        200: {"model": JobRecord},
        **error_responses(404, 409, e409="the job already finished"),
    },
)
def cancel_job(job_id: str, key: CurrentKey, request: Request) -> Any:
    """Stop a job: queued chunks never start, running ones stop within a second or two."""
    api = api_of(request)
    record = visible_job(api, key, job_id)
    if record.state.finished:
        raise Conflict(f"job {job_id} is already {record.state}; nothing to cancel")
    try:
        return to_wire(api.cancel_job(job_id, reason=f"cancelled by {key.user} (key {key.id})"))
    except JobNotFound:
        raise
    except RenderError as exc:
        if api.store.state(job_id).finished:  # it finished while being cancelled
            raise Conflict(str(exc)) from None
        raise


_NO_VIDEO = {
    "e409": "the job is not completed",
    "e410": "the job's video is no longer in storage (expired or removed)",
}


@router.head(
    "/v1/jobs/{job_id}/output",
    summary="the video's size and type, without the video",
    response_class=Response,
    responses={
        200: {"description": "the headers a download gets (Content-Length: the video's size)"},
        **error_responses(404, 409, 410, **_NO_VIDEO),
    },
)
@router.get(
    "/v1/jobs/{job_id}/output",
    summary="download the video",
    response_class=Response,
    responses={
        200: {"content": {"video/mp4": {}}, "description": "the video"},
        206: {"description": "the requested range"},
        307: {"description": "redirect to a pre-signed storage URL"},
        **error_responses(
            400,
            404,
            409,
            410,
            416,
            e400="a malformed Range header",
            e416="a Range outside the video (Content-Range: bytes */size)",
            **_NO_VIDEO,
        ),
    },
)
def download_output(
    job_id: str,
    key: CurrentKey,
    request: Request,
    expires: Annotated[
        int,
        Query(ge=1, le=MAX_SIGNED_SECONDS, description="seconds a pre-signed URL stays valid"),
    ] = SIGNED_URL_SECONDS,
) -> Response:
    """A completed job's video: a redirect to a pre-signed URL, else streamed with Range; HEAD
    answers a download's headers (a signed URL is for GET only: its size comes from here)."""
    api = api_of(request)
    check_visible(api, key, job_id)
    record = api.get_job_status(job_id)
    if record.state is not JobState.COMPLETED:
        raise Conflict(f"job {job_id} is {record.state}, not completed")
    spec = JobSpec.from_dict(api.store.spec(job_id))
    storage = open_storage(spec.storage_url)
    name = _download_name(record, spec)
    media_type = _MEDIA_TYPES.get(spec.output_ext, "application/octet-stream")
    head = request.method == "HEAD"
    if head:
        _drop_range(request)  # RFC 9110: ranges are defined for GET only
    # The merging worker's key decides whether the stored video is ciphertext: never hand out
    # a link to bytes that only decrypt with the cluster key.
    encrypted = bool((record.result or {}).get("encrypted", spec.encrypted))
    sign = getattr(storage, "presigned_url", None)
    if callable(sign) and not encrypted:
        try:
            url = str(sign(spec.output_key, expires))
        except StorageError:
            pass  # these credentials cannot sign (GCS without a service account): stream it
        else:
            if not head:
                return RedirectResponse(url, 307)
            # S3 and GCS sign the method: a HEAD sent after the redirect would be refused.
            try:
                size = storage.size(spec.output_key)
            except ObjectNotFound:
                raise _gone(job_id) from None
            return Response(headers=_download_headers(name, size), media_type=media_type)
    try:
        path = storage.local_path(spec.output_key)
    except StorageError:
        path = None  # ciphertext on a local disk: decrypt through get_file
    if path is not None and os.path.isfile(path):
        apply_range(request, os.path.getsize(path))
        return FileResponse(path, media_type=media_type, filename=name)
    scratch = tempfile.mkdtemp(prefix="cloudrender-download-")
    local = os.path.join(scratch, "output." + spec.output_ext)
    try:
        storage.get_file(spec.output_key, local)
        apply_range(request, os.path.getsize(local))
    except ObjectNotFound:
        _remove(scratch)
        # Not the client's mistake (a 400 would tell it so): the stored video went away.
        raise _gone(job_id) from None
    except BaseException:
        _remove(scratch)
        raise
    return FileResponse(
        local, media_type=media_type, filename=name, background=BackgroundTask(_remove, scratch)
    )


def _gone(job_id: str) -> ApiError:
    return ApiError(f"job {job_id}'s video is no longer in storage", 410)


def _drop_range(request: Request) -> None:
    request.scope["headers"] = [
        (name, value) for name, value in request.scope["headers"] if name != b"range"
    ]


def _download_headers(name: str, size: int) -> dict[str, str]:
    """The headers a streamed download of ``size`` bytes named ``name`` carries."""
    return {
        "Content-Length": str(size),
        "Content-Disposition": f'attachment; filename="{name}"',
        "Accept-Ranges": "bytes",
    }


_MEDIA_TYPES = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "mkv": "video/x-matroska",
    "webm": "video/webm",
    # Audio-only outputs (render -o mix.wav; chunking.timeline.audio_export).
    "wav": "audio/wav",
    "flac": "audio/flac",
    "m4a": "audio/mp4",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "mp3": "audio/mpeg",
}


def _download_name(record: JobRecord, spec: JobSpec) -> str:
    name = os.path.basename(record.output or "")
    return name if _OUTPUT_NAME.fullmatch(name) else f"{record.id}.{spec.output_ext}"


def _remove(folder: str) -> None:
    shutil.rmtree(folder, ignore_errors=True)

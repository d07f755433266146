"""``cloudrender submit|status|cancel|download``: jobs on a cluster (DESIGN 4.3); ``estimate``
lives in ``cli.estimate_command`` and is added with them.

Each talks to the cluster's Redis (``--broker``) or to its HTTP service (``--api URL`` with an
API key in $CLOUDRENDER_API_KEY), with the same output and exit statuses; an explicit
``--broker`` or ``--api`` wins, else $CLOUDRENDER_API_URL (when set) over
$CLOUDRENDER_BROKER_URL. An unreachable or failing service exits 3, as an unreachable Redis
does, and a refused API key (or what it may do) 4, as a Redis user of another role does.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cli.arguments import chunk_frames
from cli.cluster_access import (
    cluster_api,
    cluster_view,
    http_api,
    job_options,
    over_http,
    shown_url,
)
from cli.export_options import (
    CODECS,
    FLAGS,
    add_export_arguments,
    cli_export,
    crf_value,
    dollars_value,
    note_chunk_frames,
    output_value,
    preset_value,
    with_cli_export,
)
from cli.failures import terminal_text
from common.errors import RenderError
from common.names import LEVELS

if TYPE_CHECKING:
    from chunking.timeline.project import Project
    from orchestrator.http_client import HTTPRenderingAPI

#: ``--deadline`` of submit and estimate, which read it alike (``submit_deadline``).
DEADLINE_HELP = "when the video is needed: ISO 8601 (UTC if no zone) or from now: +30m, +2h, +1d"


def add_job_parsers(sub: Any, positive: Callable[[str], int]) -> None:
    """Add the job commands to the command line's subcommands."""
    submit = sub.add_parser("submit", help="queue a render on a cluster; prints the job id")
    submit.add_argument("timeline")
    submit.add_argument(
        "-o",
        "--output",
        required=True,
        type=output_value,
        help="where the video goes: a storage URL (s3://, gs://, az://, file://) or a path "
        "(written by workers on a shared disk; otherwise fetch it with download)",
    )
    submit.add_argument("--priority", choices=LEVELS, default="normal")
    submit.add_argument("--deadline", help=DEADLINE_HELP)
    submit.add_argument(
        "--max-cost", type=dollars_value, help="refuse if the estimate is above (USD)"
    )
    add_billing_scope(submit)
    submit.add_argument("--chunk-frames", type=chunk_frames)
    submit.add_argument("--lossless", action="store_true")
    submit.add_argument("--codec", choices=CODECS)
    submit.add_argument("--crf", type=crf_value)
    submit.add_argument("--preset", type=preset_value)
    add_export_arguments(submit)
    add_no_cache(submit)
    job_options(submit)
    submit.set_defaults(handler=run_submit)

    status = sub.add_parser("status", help="a job's state, progress and cost")
    status.add_argument("job")
    status.add_argument("--json", action="store_true")
    status.add_argument("--watch", action="store_true", help="redraw until the job ends")
    job_options(status)
    status.set_defaults(handler=run_status)

    cancel = sub.add_parser("cancel", help="cancel a queued or running job")
    cancel.add_argument("job")
    job_options(cancel)
    cancel.set_defaults(handler=run_cancel)

    download = sub.add_parser("download", help="fetch a completed job's video")
    download.add_argument("job")
    download.add_argument("-o", "--output", type=output_value, help="local file (omit with --url)")
    download.add_argument(
        "--url", action="store_true", help="print a (pre-signed, where supported) URL instead"
    )
    job_options(download)
    download.set_defaults(handler=run_download)

    # Its own module (options, deadline, recommendation); registered here with the others.
    from cli.estimate_command import add_estimate_parser

    add_estimate_parser(sub, positive)


def add_no_cache(parser: argparse.ArgumentParser) -> None:
    """``--no-cache``: render every chunk, neither reusing nor storing cached segments."""
    parser.add_argument(
        "--no-cache",
        dest="use_cache",
        action="store_false",
        help="render every chunk: reuse no cached segment and store none",
    )


@over_http
def run_submit(args: argparse.Namespace) -> int:
    """Queue a render on the cluster and print its job id."""
    args.deadline = submit_deadline(args.deadline)
    service = http_api(args)
    if service is not None:
        with service:
            return _submit_http(service, args)
    api = cluster_api(args)
    if api.storage_url is None:
        raise RenderError(
            "no storage: pass --storage URL or set CLOUDRENDER_STORAGE_URL to the storage the "
            "cluster's workers share (e.g. file:///shared/cloudrender or s3://bucket/prefix)"
        )
    project = _read_submitted(args, api.settings.max_frame_bytes)
    job_id = api.submit_job(
        project,
        output=args.output,
        priority=args.priority,
        deadline=args.deadline,
        max_cost=args.max_cost,
        chunk_frames=args.chunk_frames,
        use_cache=args.use_cache,
        project_name=args.project or "",
        user=args.user or "",
    )
    spec = api.store.spec(job_id)
    if not spec.get("destination") and not spec.get("output_url"):
        print(
            "note: the workers cannot write to this machine's disk; when the job completes, "
            f"fetch the video with: cloudrender download {job_id} -o {args.output}",
            file=sys.stderr,
        )
    if not api.orchestrator_running():
        # Not an error: the job is safe in the queue and starts when an orchestrator does.
        print(
            "note: no orchestrator is running on this cluster; the job stays queued until one "
            "starts (`cloudrender orchestrator --broker URL`)",
            file=sys.stderr,
        )
    print(job_id)
    return 0


@over_http
def run_status(args: argparse.Namespace) -> int:
    """Print a job's state, progress and cost (redrawn until it ends with --watch)."""
    service = http_api(args)
    if service is not None:
        with service:
            return _status_http(service, args)
    from orchestrator.store_retry import redis_deadline

    api = cluster_view(args)
    # The record's times are the cluster's (Redis's clock): a client whose own clock is off
    # would show the elapsed time, speed, ETA and cost so far off by as much.
    shown = _Shown(args.json, clock=api.store.now)
    first = True
    while True:
        # A one-shot read (and a watch's first) gives up on a dead Redis after a short while:
        # with the store's whole patience a status against a stopped broker took 21 s to say so.
        with redis_deadline(STATUS_PATIENCE) if first or not args.watch else _no_deadline():
            record = api.get_job_status(args.job)
        first = False
        shown(record, args.watch)
        if not args.watch or record.state.finished:
            return _status_exit(record)
        time.sleep(0.5)


#: Seconds a read-only ``status`` keeps retrying a Redis that does not answer (a restart's
#: blip passes; a stopped broker is said at once, exit 3).
STATUS_PATIENCE = 2.0


def _no_deadline() -> contextlib.AbstractContextManager[None]:
    """No deadline: a watch rides out a Redis restart with the store's whole patience."""
    return contextlib.nullcontext()


class _Shown:
    """Prints records as ``status`` does: text, or with --json the record as JSON (with --watch
    one record a line, JSON Lines, each time it changes: the last line is the final record)."""

    def __init__(self, as_json: bool, clock: Callable[[], float] = time.time) -> None:
        self.as_json = as_json
        self.clock = clock
        self.last = ""

    def __call__(self, record: Any, watch: bool) -> None:
        """Print `record` (nothing with --json --watch when it has not changed)."""
        if not self.as_json:
            _show(record, watch, self.clock())
            return
        if not watch:
            print(json.dumps(record.to_json(), indent=2))
            return
        line = json.dumps(record.to_json())
        if line != self.last:
            print(line, flush=True)
            self.last = line


def _show(record: Any, watch: bool, now: float) -> None:
    """Print the record as ``status`` does at `now` (in place on a terminal with --watch)."""
    from cli.status_view import render_status

    text = render_status(record, now)
    if watch and sys.stdout.isatty():
        sys.stdout.write("\x1b[H\x1b[2J" + text + "\n")
    else:
        print(text)
    sys.stdout.flush()


def _status_exit(record: Any) -> int:
    """1 for a job that ended without its video (failed or cancelled), else 0: a script's
    ``status JOB && download JOB`` went on to download a cancelled job's missing video, and
    ``render`` already exits non-zero for a job cancelled under it."""
    return 1 if record.state.value in ("failed", "cancelled") else 0


@over_http
def run_cancel(args: argparse.Namespace) -> int:
    """Cancel a queued or running job."""
    service = http_api(args)
    if service is not None:
        with service:
            record = service.cancel_job(args.job)
    else:
        record = cluster_api(args).cancel_job(args.job)
    print(f"job {record.id} {record.state}")
    return 0


@over_http
def run_download(args: argparse.Namespace) -> int:
    """Fetch a completed job's video, or print its URL."""
    if not args.url and not args.output:
        raise RenderError("download needs -o FILE (or --url)")
    if not args.url:
        from workers.atomic import check_writable

        # As `render -o` does: a mistyped directory is refused by name, not created (through
        # the Redis) or failed with a bare "No such file or directory" (through --api).
        check_writable(args.output)
    service = http_api(args)
    api: Any = service or cluster_api(args)
    try:
        print(api.output_url(args.job) if args.url else api.download(args.job, args.output))
    finally:
        if service is not None:
            service.close()
    return 0


def add_billing_scope(parser: Any) -> None:
    """``--project``/``--user``: who a job is billed to (budgets, `billing export`)."""
    parser.add_argument("--project", help="the project the job is billed to (budgets, export)")
    parser.add_argument("--user", help="the user the job is billed to (budgets, export)")


def submit_deadline(text: str | None, now: float | None = None) -> float | None:
    """``--deadline`` as epoch seconds, read as ``estimate`` reads it (ISO 8601 or +N[smhd]);
    RenderError for a time already past (the job would have jumped to urgent without a word)."""
    from orchestrator.api_estimate import parse_deadline
    from orchestrator.scheduling import future_deadline

    now = time.time() if now is None else now
    return future_deadline(parse_deadline(text, now), text, now)


def _submit_http(api: HTTPRenderingAPI, args: argparse.Namespace) -> int:
    """``submit --api``: the media go up by content hash, the video stays with the service."""
    if "://" in args.output:
        raise RenderError(
            f"-o {args.output}: with --api the video stays with the service; name a file and "
            "fetch it with `cloudrender download JOB -o FILE --api URL`"
        )
    if args.user:
        raise RenderError("--user cannot be used with --api: the API key decides the user")
    if not args.use_cache:
        raise RenderError("--no-cache cannot be used with --api")
    project = _read_submitted(args, api.settings.max_frame_bytes)
    job_id = api.submit_job(
        project,
        output=args.output,
        priority=args.priority,
        deadline=args.deadline,
        max_cost=args.max_cost,
        chunk_frames=args.chunk_frames,
        project_name=args.project or "",
    )
    # What the service adds to the loader's warnings (already said here), e.g. no orchestrator.
    for warning in api.last_warnings:
        if warning not in project.timeline.warnings:
            print(f"note: {terminal_text(warning)}", file=sys.stderr)
    print(
        "note: when the job completes, fetch the video with: cloudrender download "
        f"{job_id} -o {args.output} --api {shown_url(api.api_url)}",
        file=sys.stderr,
    )
    print(job_id)
    return 0


#: Seconds between redraws of ``status --watch --api`` while events keep coming.
REDRAW_SECONDS = 0.5


def _status_http(api: HTTPRenderingAPI, args: argparse.Namespace) -> int:
    """``status --api``: the record; with --watch redrawn as the job's events arrive (SSE)."""
    shown = _Shown(args.json)
    record = api.get_job_status(args.job)
    shown(record, args.watch)
    if not args.watch or record.state.finished:
        return _status_exit(record)
    drawn = time.monotonic()
    for _event in api.events(args.job):
        if time.monotonic() - drawn >= REDRAW_SECONDS:
            shown(api.get_job_status(args.job), True)
            drawn = time.monotonic()
    record = api.get_job_status(args.job)
    shown(record, True)
    return _status_exit(record)


def _read_submitted(args: argparse.Namespace, max_frame_bytes: int) -> Project:
    """The project to submit, read as render reads it, with the command line's export applied."""
    from chunking.timeline.project import read_project

    project = read_project(
        args.timeline,
        max_frame_bytes=max_frame_bytes,
        export=cli_export(args),
        output=args.output,
        names=FLAGS,
    )
    project = with_cli_export(project, args)
    note_chunk_frames(project, args)
    return project

"""Render Timeline Studio projects on this machine or on a cluster: cloudrender COMMAND --help."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cli.arguments import chunk_frames, positive, processes
from cli.budget_commands import add_budget_parsers
from cli.cache_commands import add_cache_parser
from cli.cluster_commands import add_cluster_parser
from cli.export_options import (
    CODECS,
    FLAGS,
    add_export_arguments,
    cli_export,
    crf_value,
    note_chunk_frames,
    output_value,
    preset_value,
    with_cli_export,
)
from cli.failures import (
    ARGV,
    EXIT_BAD_INPUT,
    EXIT_BROKEN_PIPE,
    EXIT_FORBIDDEN,
    EXIT_INTERRUPTED,
    EXIT_UNREACHABLE,
    ROLE_USERS,
    CliParser,
    error_json,
    os_error_line,
    report_error,
)
from cli.job_commands import add_billing_scope, add_job_parsers, add_no_cache
from cli.node_commands import add_node_parsers
from cli.price_commands import add_price_parser
from cli.process_exit import end_process
from cli.server_commands import add_server_parsers
from cli.status_view import ProgressBar, plural
from cli.termination import Terminated, Termination, terminable
from cli.validate_command import exit_on_stuck_read, validate_command, warn
from common.errors import ClusterError, ClusterUnreachable, RenderError, ValidationError, summarize
from common.names import LEVELS
from common.redis_refusal import redis_user, refused
from common.scratch import scratch_prefix, sweep_scratch
from common.settings import Settings
from common.urls import redact_url

if TYPE_CHECKING:
    # The project loaders (every format's parser, 0.1-0.2 CPU-s): loaded by the commands that
    # read a project, not by every command's parser.
    from chunking.timeline.model import Timeline
    from chunking.timeline.project import Project


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status (as the program, with no
    ``argv``, a render's process ends at once instead: ``cli.process_exit``)."""
    parser = _parser()
    ARGV[:] = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    status = _run(args)
    if argv is None and args.command == "render":
        end_process(status)
    return status


def _run(args: argparse.Namespace) -> int:
    """Run the parsed command; the exit status, its errors worded."""
    try:
        try:
            return int(args.handler(args))
        except ClusterError as exc:
            # The Python API's wrapping of a Redis failure: worded (exit 3 or 4) from the cause.
            if isinstance(exc.__cause__, _redis_error("RedisError")):
                raise exc.__cause__ from None
            if isinstance(exc, ClusterUnreachable):
                # Worded already (a render's wait that lost Redis): exit as unreachable, which
                # scripts retry, not as bad input.
                report_error(args, str(exc))
                return EXIT_UNREACHABLE
            raise
    except RenderError as exc:
        if getattr(args, "json", False):
            print(json.dumps(error_json(args.command, exc), indent=2))
        # One line whatever the message holds (a file name with a newline in it).
        print(f"error: {summarize([str(exc)])}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # The reader went away (`| head`): nothing more to say, and no traceback.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except _redis_error("NoPermissionError") as exc:
        url = getattr(args, "broker", None) or Settings.from_env().broker_url or ""
        report_error(
            args,
            f"Redis user {redis_user(url)!r} at {redact_url(url)} may not do this: "
            f"{refused(exc)}; run it with the Redis user of the role that does ({ROLE_USERS})",
        )
        return EXIT_FORBIDDEN
    except _redis_error("AuthenticationError") as exc:
        # A Redis that answers, refusing the user or password: "is it running?" sent the user
        # looking for an outage (and 3 read as one).
        url = getattr(args, "broker", None) or Settings.from_env().broker_url or ""
        report_error(
            args,
            f"the cluster's Redis at {redact_url(url)} refused user {redis_user(url)!r}: {exc} "
            "(check the user and password in --broker or CLOUDRENDER_BROKER_URL)",
        )
        return EXIT_FORBIDDEN
    except _redis_error("RedisError") as exc:
        url = getattr(args, "broker", None) or Settings.from_env().broker_url or ""
        # An error reply (out of memory, read-only replica) comes from a Redis that runs.
        hint = (
            "Redis refused the command: see its memory limit (maxmemory) and role"
            if isinstance(exc, _redis_error("ResponseError"))
            else "is it running? pass --broker URL or set CLOUDRENDER_BROKER_URL"
        )
        report_error(
            args, f"cannot talk to the cluster's Redis at {redact_url(url)}: {exc} ({hint})"
        )
        return EXIT_UNREACHABLE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated as exc:
        print(f"terminated by {signal.Signals(exc.signum).name}", file=sys.stderr)
        return 128 + exc.signum
    except MemoryError:
        print(
            "error: out of memory (reduce the resolution or the number of layers)", file=sys.stderr
        )
        return EXIT_BAD_INPUT
    except OSError as exc:
        # A disk of this machine full or failing under the command (its temporary directory,
        # standard output redirected to a file): one line, not a traceback.
        with contextlib.suppress(OSError):
            print(f"error: {os_error_line(exc)}", file=sys.stderr)
        try:
            sys.stdout.flush()
        except OSError:
            # What standard output still buffers would fail again, as a traceback, at exit.
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BAD_INPUT


def _redis_error(name: str) -> Any:
    """The redis exception class ``name``, or no class at all where no command imported redis.

    Importing redis costs a light command's start (`validate`, `--help`) a tenth of a second;
    where it was never imported, nothing could have raised its errors.
    """
    module = sys.modules.get("redis.exceptions")
    return getattr(module, name) if module is not None else ()


def _parser() -> argparse.ArgumentParser:
    parser = CliParser(prog="cloudrender", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    render = sub.add_parser("render", help="render a timeline to a video file")
    render.add_argument(
        "timeline",
        help="Timeline Studio .json/.tlsp/.tls, OpenTimelineIO .otio/.otiod/.otioz, or an "
        "editor's export (.edl, .xml, .fcpxml or a .fcpxmld bundle, .aaf)",
    )
    render.add_argument(
        "-o",
        "--output",
        required=True,
        type=output_value,
        help="output video: a file, or a storage URL (s3://, gs://, az://, file://)",
    )
    render.add_argument(
        "--direct",
        action="store_true",
        help="render in this process without Celery (the reference render)",
    )
    render.add_argument(
        "--lossless",
        action="store_true",
        help="lossless RGB output whose decoded frames equal the composited ones",
    )
    render.add_argument("--codec", choices=CODECS)
    render.add_argument("--crf", type=crf_value)
    render.add_argument("--preset", type=preset_value)
    add_export_arguments(render)
    render.add_argument(
        "--hwaccel", action="store_true", help="use a hardware encoder if one opens on this machine"
    )
    render.add_argument("--start", type=int, default=0, help="first frame (inclusive, --direct)")
    render.add_argument("--end", type=int, help="last frame (exclusive, --direct)")
    render.add_argument(
        "--workers",
        type=processes,
        help="local worker processes (default: one per two cores, each encoding with two threads)",
    )
    render.add_argument(
        "--chunk-frames",
        type=chunk_frames,
        help="frames per chunk (default: balanced for the workers)",
    )
    render.add_argument(
        "--broker",
        help="submit to this cluster's Redis broker "
        "(default: $CLOUDRENDER_BROKER_URL, else a private local cluster)",
    )
    render.add_argument("--priority", choices=LEVELS, default="normal")
    add_billing_scope(render)
    add_no_cache(render)
    render.add_argument(
        "--strict", action="store_true", help="treat warnings (unknown effects) as errors"
    )
    render.add_argument("--json", action="store_true", help="print a JSON summary")
    render.add_argument("--quiet", action="store_true", help="no progress bar")
    render.set_defaults(handler=_render)

    add_job_parsers(sub, positive)
    add_node_parsers(sub, positive)
    add_cluster_parser(sub)
    add_cache_parser(sub)
    add_budget_parsers(sub)
    add_price_parser(sub)
    add_server_parsers(sub, positive)

    validate = sub.add_parser("validate", help="check a timeline without rendering it")
    validate.add_argument("timeline")
    validate.add_argument("--strict", action="store_true")
    validate.add_argument("--json", action="store_true")
    validate.set_defaults(handler=validate_command)
    return parser


def _render(args: argparse.Namespace) -> int:
    if args.direct:
        # Each of these shapes a distributed render only: accepted silently, the user would
        # think --direct honoured it.
        for flag, value in (("--workers", args.workers), ("--chunk-frames", args.chunk_frames)):
            if value is not None:
                raise RenderError(f"{flag} splits a render across workers: drop it or --direct")
        if args.broker:
            raise RenderError("--broker submits to a cluster: drop it or --direct")
    from chunking.timeline.project import read_project

    budget = Settings.from_env().max_frame_bytes
    extra = {"hardware_acceleration": True if args.hwaccel else None}
    project = read_project(
        args.timeline,
        strict=args.strict,
        max_frame_bytes=budget,
        export=cli_export(args, **extra),
        output=args.output,
        names=FLAGS,
    )
    project = with_cli_export(project, args, **extra)
    project = _with_media_warnings(project, args.strict)
    timeline = project.timeline
    warn(timeline, args.quiet or args.json)
    show = not (args.quiet or args.json) and sys.stderr.isatty()
    if args.direct:
        summary = _render_direct(args, timeline, show)
    else:
        if not args.workers:
            from orchestrator.local_workers import local_slots, machine_memory_mib

            args.workers = local_slots(os.cpu_count() or 1, machine_memory_mib())
        if args.start or args.end is not None:
            raise RenderError("--start/--end render a range in this process: add --direct")
        # SIGTERM and SIGHUP (a closed SSH session, a CI timeout) end the render as Ctrl-C
        # does: its job cancelled, not left rendering (and billed) with nobody waiting.
        note_chunk_frames(project, args)
        with terminable() as termination:
            summary = _render_distributed(args, project, show, termination)
    from chunking.timeline.audio_export import audio_only

    if args.json:
        print(json.dumps(summary, indent=2))
    elif not args.quiet:
        hw = " (hardware)" if summary.get("hardware") else ""
        where = f" on {plural(args.workers, 'worker')}" if summary["mode"] == "distributed" else ""
        reused = summary.get("reused_chunks")
        # Every chunk taken from the segment cache: no encoder ran in this render.
        encoder = f" with {summary['encoder']}{hw}" if summary.get("encoder") else ""
        if audio_only(timeline.export.container):  # -o mix.wav: no frame, no video encoder
            seconds = float(timeline.frames / timeline.fps)
            print(
                f"wrote {seconds:.2f}s of sound ({summary['audio']}, {timeline.sample_rate} Hz "
                f"mix) to {args.output} in {summary['seconds']:.2f}s{where}"
            )
        else:
            print(
                f"rendered {summary['frames']} frames to {args.output} in "
                f"{summary['seconds']:.2f}s ({summary['fps']:.1f} fps){where}{encoder}"
                + (f" + {summary['audio']} audio" if summary.get("audio") else "")
                + (f" (reused {reused} of {summary['chunk_count']} chunks)" if reused else "")
            )
        for note in summary.get("warnings", []):
            if note not in timeline.warnings:
                print(f"note: {note}", file=sys.stderr)
    return 0


def _with_media_warnings(project: Project, strict: bool) -> Project:
    """The project with what its media's headers warn of (HDR video, clips playing past
    their file's end) and what this node's fonts cannot draw among its warnings."""
    from workers.probe import header_warnings  # opens media: only for commands that need it
    from workers.subtitle_check import text_warnings

    found = header_warnings(project.timeline) + text_warnings(project.timeline)
    if found and strict:
        raise ValidationError(found)
    if not found:
        return project
    timeline = project.timeline
    timeline = dataclasses.replace(timeline, warnings=(*timeline.warnings, *found))
    return dataclasses.replace(project, timeline=timeline)


def _render_direct(args: argparse.Namespace, timeline: Timeline, show: bool) -> dict[str, Any]:
    from cli.output_url import check_output_url, deliver_to_url, is_output_url
    from workers.render import RenderSummary, render_to_file  # heavy: only when rendering

    end = args.end if args.end is not None else timeline.frames
    bar = ProgressBar(sys.stderr) if show else None

    def render(target: str) -> RenderSummary:
        return render_to_file(
            timeline,
            target,
            start=args.start,
            end=end,
            export=timeline.export,
            progress=bar.update if bar else None,
            cancelled=termination.check,
        )

    from workers.read_watchdog import watch_reads

    # A read of a source that a stuck mount never answers ends the render in one line.
    with terminable() as termination, watch_reads(exit_on_stuck_read(args)):
        if is_output_url(args.output):
            # Refused before rendering what would be refused after it (malformed, taken).
            check_output_url(args.output)
            sweep_scratch("direct")  # what killed clients left
            with tempfile.TemporaryDirectory(prefix=scratch_prefix("direct")) as scratch:
                summary = render(os.path.join(scratch, "output" + os.path.splitext(args.output)[1]))
                deliver_to_url(summary.output, args.output, scratch)
        else:
            summary = render(args.output)
    if bar:
        bar.finish()
    return {"mode": "direct", **summary.as_dict(), "output": args.output}


def _render_distributed(
    args: argparse.Namespace, project: Project, show: bool, termination: Termination
) -> dict[str, Any]:
    from cli.render_command import render_distributed
    from cli.render_progress import JobProgress, progress_detail

    bar = ProgressBar(sys.stderr) if show else None

    def announce(url: str, url_file: str | None) -> None:
        shown = redact_url(url)
        # Scrollback, terminal logs and shared screens keep what is printed: no password.
        broker = f'"$(cat {url_file})"' if url_file else shown
        hint = " with its password in place of ***" if shown != url and not url_file else ""
        print(
            f"cluster at {shown}: watch with `cloudrender dashboard --broker {broker}`{hint}",
            file=sys.stderr,
        )

    def progress(state: JobProgress) -> None:
        termination.check()
        if bar is not None:
            bar.update(state.done, state.frames, progress_detail(state), reused=state.reused_frames)

    def notify(note: str) -> None:
        if not args.quiet:
            print(f"note: {note}", file=sys.stderr)

    summary = render_distributed(
        project,
        args.output,
        workers=args.workers,
        chunk_frames=args.chunk_frames,
        broker_url=args.broker,
        priority=args.priority,
        use_cache=args.use_cache,
        project_name=args.project or "",
        user=args.user or "",
        progress=progress,
        announce=announce if show else None,
        notify=notify,
    )
    if bar:
        bar.finish()
    return summary

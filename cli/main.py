"""Render Timeline Studio projects on this machine or on a cluster: cloudrender COMMAND --help."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from cli.arguments import chunk_frames, frame, positive, processes
from cli.budget_commands import add_budget_parsers
from cli.cache_commands import add_cache_parser
from cli.cluster_commands import add_cluster_parser
from cli.export_options import (
    CODECS,
    add_export_arguments,
    crf_value,
    output_value,
    preset_value,
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
    terminal_text,
)
from cli.job_commands import add_billing_scope, add_job_parsers, add_no_cache
from cli.node_commands import add_node_parsers
from cli.price_commands import add_price_parser
from cli.process_exit import end_process
from cli.render_cli import render_handler
from cli.server_commands import add_server_parsers
from cli.termination import Terminated
from cli.validate_command import validate_command
from common.errors import ClusterError, ClusterUnreachable, RenderError, summarize
from common.names import LEVELS
from common.redis_refusal import redis_user, refused
from common.settings import Settings
from common.urls import redact_url


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
        print(f"error: {terminal_text(summarize([str(exc)]))}", file=sys.stderr)
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
            print(f"error: {terminal_text(os_error_line(exc))}", file=sys.stderr)
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
    render.add_argument("--start", type=frame, default=0, help="first frame (inclusive, --direct)")
    render.add_argument("--end", type=frame, help="last frame (exclusive, --direct)")
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
    render.set_defaults(handler=render_handler)

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

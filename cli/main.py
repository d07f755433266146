"""The ``cloudrender`` command line (DESIGN 4.3)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import redis

from chunking.timeline.model import Timeline
from chunking.timeline.project import Project, read_project
from cli.cluster_commands import add_cluster_parser
from cli.job_commands import add_job_parsers, cluster_api
from cli.status_view import ProgressBar
from common.errors import RenderError, ValidationError
from common.names import LEVELS
from common.settings import Settings
from common.urls import redact_url

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
#: The cluster's Redis could not be reached (or failed): nothing was done.
EXIT_UNREACHABLE = 3


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except redis.RedisError as exc:
        url = getattr(args, "broker", None) or Settings.from_env().broker_url or ""
        print(
            f"error: cannot talk to the cluster's Redis at {redact_url(url)}: {exc} "
            "(is it running? pass --broker URL or set CLOUDRENDER_BROKER_URL)",
            file=sys.stderr,
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cloudrender", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    render = sub.add_parser("render", help="render a timeline to a video file")
    render.add_argument("timeline", help="Timeline Studio .json or OpenTimelineIO .otio")
    render.add_argument("-o", "--output", required=True, help="output video file")
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
    render.add_argument("--codec", choices=["h264", "hevc", "av1", "vp9", "ffv1"])
    render.add_argument("--crf", type=int)
    render.add_argument("--preset")
    render.add_argument(
        "--hwaccel", action="store_true", help="use a hardware encoder if one opens on this machine"
    )
    render.add_argument("--start", type=int, default=0, help="first frame (inclusive, --direct)")
    render.add_argument("--end", type=int, help="last frame (exclusive, --direct)")
    render.add_argument(
        "--workers",
        type=_positive,
        default=os.cpu_count() or 1,
        help="local worker processes (default: one per core)",
    )
    render.add_argument(
        "--chunk-frames",
        type=_positive,
        help="frames per chunk (default: balanced for the workers)",
    )
    render.add_argument(
        "--broker",
        help="submit to this cluster's Redis broker "
        "(default: $CLOUDRENDER_BROKER_URL, else a private local cluster)",
    )
    render.add_argument("--priority", choices=LEVELS, default="normal")
    render.add_argument(
        "--strict", action="store_true", help="treat warnings (unknown effects) as errors"
    )
    render.add_argument("--json", action="store_true", help="print a JSON summary")
    render.add_argument("--quiet", action="store_true", help="no progress bar")
    render.set_defaults(handler=_render)

    add_job_parsers(sub, _positive)

    orch = sub.add_parser("orchestrator", help="run beat and the orchestrator queue")
    orch.add_argument("--broker")
    orch.set_defaults(handler=_orchestrator)

    dash = sub.add_parser("dashboard", help="live terminal dashboard of the cluster")
    dash.add_argument("--broker")
    dash.add_argument("--max-nodes", type=_positive, help="the cluster's node ceiling to show")
    dash.set_defaults(handler=_dashboard)

    flower = sub.add_parser("flower", help="run Flower (basic auth from CLOUDRENDER_FLOWER_AUTH)")
    flower.add_argument("--broker")
    flower.add_argument("--port", type=int, default=5555)
    flower.add_argument(
        "--address", default="127.0.0.1", help="interface to listen on (0.0.0.0 in a container)"
    )
    flower.set_defaults(handler=_flower)

    worker = sub.add_parser("worker", help="run a render worker for a cluster")
    worker.add_argument("--broker", help="Redis URL (default: $CLOUDRENDER_BROKER_URL)")
    worker.add_argument(
        "--queues", default="render,audio,merge", help="comma-separated queues to consume"
    )
    worker.add_argument("--concurrency", type=_positive, default=os.cpu_count() or 1)
    worker.set_defaults(handler=_worker)

    add_cluster_parser(sub)

    validate = sub.add_parser("validate", help="check a timeline without rendering it")
    validate.add_argument("timeline")
    validate.add_argument("--strict", action="store_true")
    validate.add_argument("--json", action="store_true")
    validate.set_defaults(handler=_validate)
    return parser


def _render(args: argparse.Namespace) -> int:
    budget = Settings.from_env().max_frame_bytes
    project = read_project(args.timeline, strict=args.strict, max_frame_bytes=budget).with_export(
        {
            "codec": args.codec,
            "crf": args.crf,
            "preset": args.preset,
            "lossless": True if args.lossless else None,
            "hardware_acceleration": True if args.hwaccel else None,
        },
        output=args.output,
    )
    timeline = project.timeline
    _warn(timeline, args.quiet or args.json)
    show = not (args.quiet or args.json) and sys.stderr.isatty()
    if args.direct:
        summary = _render_direct(args, timeline, show)
    else:
        if args.start or args.end is not None:
            raise RenderError("--start/--end render a range in this process: add --direct")
        summary = _render_distributed(args, project, show)
    if args.json:
        print(json.dumps(summary, indent=2))
    elif not args.quiet:
        hw = " (hardware)" if summary.get("hardware") else ""
        where = f" on {args.workers} workers" if summary["mode"] == "distributed" else ""
        print(
            f"rendered {summary['frames']} frames to {args.output} in {summary['seconds']:.2f}s "
            f"({summary['fps']:.1f} fps){where} with {summary['encoder']}{hw}"
            + (f" + {summary['audio']} audio" if summary.get("audio") else "")
        )
        for note in summary.get("warnings", []):
            if note not in timeline.warnings:
                print(f"note: {note}", file=sys.stderr)
    return 0


def _render_direct(args: argparse.Namespace, timeline: Timeline, show: bool) -> dict[str, Any]:
    from workers.render import render_to_file  # heavy imports only for commands that render

    end = args.end if args.end is not None else timeline.frames
    bar = ProgressBar(sys.stderr) if show else None
    with _terminable():
        summary = render_to_file(
            timeline,
            args.output,
            start=args.start,
            end=end,
            export=timeline.export,
            progress=bar.update if bar else None,
        )
    if bar:
        bar.finish()
    return {"mode": "direct", **summary.as_dict()}


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: raised in the main thread so that cleanups run on the way out.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _terminable() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into Terminated for the block (their default kills the process
    on the spot, leaving the render's temp file behind)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread; its own are in force
        return
    signums = (signal.SIGTERM, signal.SIGHUP)

    def stop(signum: int, _frame: object) -> None:
        # Once: a second signal must not interrupt the cleanup the first one started.
        for each in signums:
            signal.signal(each, signal.SIG_IGN)
        raise Terminated(signum)

    previous = {each: signal.signal(each, stop) for each in signums}
    try:
        yield
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)


def _render_distributed(args: argparse.Namespace, project: Project, show: bool) -> dict[str, Any]:
    from cli.render_command import JobProgress, render_distributed

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
        if bar is not None:
            running = [c for c in state.chunks if c.state in ("STARTED", "PROGRESS")]
            detail = " ".join(f"#{c.index}:{100 * c.done // c.frames}%" for c in running[:6])
            bar.update(
                state.done,
                state.frames,
                f"chunks {state.finished_chunks}/{len(state.chunks)} {detail}",
            )

    summary = render_distributed(
        project,
        args.output,
        workers=args.workers,
        chunk_frames=args.chunk_frames,
        broker_url=args.broker,
        priority=args.priority,
        progress=progress,
        announce=announce if show else None,
    )
    if bar:
        bar.finish()
    return summary


def _worker(args: argparse.Namespace) -> int:
    from cli.worker_app import app
    from orchestrator.celery_app import configure

    configure(_node_broker(args))
    app.worker_main(
        [
            "worker",
            "--queues",
            args.queues,
            "--concurrency",
            str(args.concurrency),
            "--loglevel",
            "INFO",
        ]
    )
    return 0


def _node_broker(args: argparse.Namespace) -> str:
    """The broker of a worker or orchestrator node, which must also have storage of its own."""
    settings = Settings.from_env()
    url = args.broker or settings.broker_url
    if url is None:
        raise RenderError("no broker: pass --broker URL or set CLOUDRENDER_BROKER_URL")
    if settings.storage_url is None:
        # A node's storage comes from its own configuration, never from the jobs it is sent
        # (workers.job_policy): without one it would have to trust whatever a job names.
        raise RenderError(
            "no storage: set CLOUDRENDER_STORAGE_URL to the storage this cluster's nodes share "
            "(e.g. file:///shared/cloudrender or s3://bucket/prefix)"
        )
    return url


def _orchestrator(args: argparse.Namespace) -> int:
    from cli.worker_app import app
    from orchestrator.celery_app import configure

    configure(_node_broker(args))
    app.worker_main(
        ["worker", "--beat", "--queues", "orchestrator", "--concurrency", "2", "--loglevel", "INFO"]
    )
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    from monitoring.dashboard import run_dashboard

    return int(run_dashboard(cluster_api(args), max_nodes=args.max_nodes))


def _flower(args: argparse.Namespace) -> int:
    from monitoring.flower import run_flower

    settings = Settings.from_env()
    url = args.broker or settings.broker_url
    if url is None:
        raise RenderError("no broker: pass --broker URL or set CLOUDRENDER_BROKER_URL")
    return run_flower(url, args.port, settings.flower_auth, address=args.address)


def _validate(args: argparse.Namespace) -> int:
    from workers.probe import media_problems  # opens media: only for commands that need it

    budget = Settings.from_env().max_frame_bytes
    project = read_project(args.timeline, strict=args.strict, max_frame_bytes=budget)
    timeline = project.timeline
    # The media as render opens them, so validate refuses what render would refuse.
    problems = media_problems(timeline, project.base_dir)
    if problems:
        raise ValidationError(problems)
    if args.json:
        print(
            json.dumps(
                {
                    "valid": True,
                    "frames": timeline.frames,
                    "fps": str(timeline.fps),
                    "resolution": [timeline.width, timeline.height],
                    "duration": timeline.duration,
                    "tracks": len(timeline.tracks),
                    "warnings": list(timeline.warnings),
                },
                indent=2,
            )
        )
    else:
        _warn(timeline, False)
        print(
            f"ok: {timeline.width}x{timeline.height} at {timeline.fps} fps, "
            f"{timeline.frames} frames ({timeline.duration:.2f}s), {len(timeline.tracks)} tracks"
        )
    return 0


def _warn(timeline: Timeline, quiet: bool) -> None:
    if timeline.warnings and not quiet:
        print(
            f"warning: {len(timeline.warnings)} issue(s) ignored: " + "; ".join(timeline.warnings),
            file=sys.stderr,
        )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value

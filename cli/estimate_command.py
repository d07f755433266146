"""``cloudrender estimate``: a timeline's time and cost per pool/market option, and the option to
take for a deadline and a cost limit (DESIGN 4.3; the model is ``orchestrator.estimates``)."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cli.arguments import chunk_frames
from cli.cluster_access import cluster_api, http_api, job_options, over_http
from cli.export_options import dollars_value
from cli.job_commands import DEADLINE_HELP, add_no_cache
from cli.status_view import money
from common.errors import RenderError, ValidationError
from common.settings import Settings
from orchestrator.estimates import OptionEstimate

if TYPE_CHECKING:
    from chunking.timeline.project import Project

#: --provider's choices: the engines a pool may live on.
ENGINES = ("local", "aws", "gcp", "azure", "kubernetes")


def add_estimate_parser(sub: Any, positive: Callable[[str], int]) -> None:
    """Add ``estimate`` to the command line's subcommands."""
    estimate = sub.add_parser(
        "estimate",
        help="time and cost ranges per pool/market option, and the one to take",
    )
    estimate.add_argument("timeline")
    estimate.add_argument("--provider", choices=ENGINES, help="only pools on this engine")
    estimate.add_argument("--pool", help="only this pool")
    market = estimate.add_mutually_exclusive_group()
    market.add_argument(
        "--spot", dest="market", action="store_const", const="spot", help="only spot pools"
    )
    market.add_argument(
        "--on-demand",
        dest="market",
        action="store_const",
        const="on-demand",
        help="only on-demand pools",
    )
    estimate.add_argument("--deadline", help=DEADLINE_HELP)
    estimate.add_argument(
        "--max-cost", type=dollars_value, help="the most the job may cost (USD, the high estimate)"
    )
    estimate.add_argument("--chunk-frames", type=chunk_frames)
    estimate.add_argument("--json", action="store_true")
    add_no_cache(estimate)
    job_options(estimate)
    estimate.set_defaults(handler=run_estimate, market=None)


@over_http
def run_estimate(args: argparse.Namespace) -> int:
    """Print each option's time and cost ranges and the recommendation."""
    result = _estimate(args)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
        return 0
    print(render_estimate(result))
    return 0


def _estimate(args: argparse.Namespace) -> Any:
    """The estimate from the HTTP service (``--api``; the media are uploaded for it to read)
    or straight from the cluster's Redis."""
    from orchestrator.api_estimate import estimate_job, parse_deadline
    from orchestrator.submission import prepare_project

    service = http_api(args)
    if service is not None:
        if not args.use_cache:
            raise RenderError("--no-cache cannot be used with --api")
        with service:
            return service.estimate_options(
                args.timeline,
                chunk_frames=args.chunk_frames,
                provider=args.provider,
                pool=args.pool,
                market=args.market,
                deadline=args.deadline,
                max_cost=args.max_cost,
            )
    # The project and the deadline first: a mistake in either is its own error, not "no broker".
    settings = Settings.from_env()
    project = prepare_project(args.timeline, None, None, None, settings.max_frame_bytes)
    check_media(args, project)
    parse_deadline(args.deadline, time.time())
    api = cluster_api(args)
    return estimate_job(
        api.store.redis,
        api.settings,
        project.timeline,
        chunk_frames=args.chunk_frames,
        use_cache=args.use_cache,
        storage_url=api.storage_url,
        slots=api.dispatcher.slots(),
        provider=args.provider,
        pool=args.pool,
        market=args.market,
        deadline=args.deadline,
        max_cost=args.max_cost,
    )


def check_media(args: argparse.Namespace, project: Project) -> None:
    """ValidationError naming each clip whose media the render would refuse, as ``validate``
    names them: a project the render refuses is not priced (over ``--api`` the upload's checks
    refuse it; straight to Redis nothing opened the media)."""
    from cli.validate_command import exit_on_stuck_read
    from workers.probe import media_report  # opens media: only for commands that need it
    from workers.read_watchdog import watch_reads

    with watch_reads(exit_on_stuck_read(args)):
        problems, _ = media_report(project.timeline, project.base_dir)
    if problems:
        raise ValidationError(problems)


def render_estimate(result: Any) -> str:
    """The estimate as a headline, a table of options and the recommendation."""
    chunks = f"{result.chunks} chunk{'' if result.chunks == 1 else 's'}"
    head = f"{result.frames} frames, complexity {result.complexity:.2f}, {chunks}"
    if result.reused_chunks:
        head += f" ({result.reused_chunks} cached: not rendered again)"
    if result.deadline_seconds is not None and result.deadline_seconds <= 0:
        head += "; the deadline has passed"
    elif result.deadline_seconds is not None:
        head += f"; deadline in {duration(result.deadline_seconds)}"
    if result.max_cost is not None:
        head += f"; max {money(result.max_cost)}"
    rows: list[tuple[str, ...]] = [
        ("option", "market", "nodes", "time p10 / p50 / p90", "cost (p50)", "P(deadline)")
    ]
    rows += [_row(option) for option in result.options]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    table = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    choice = result.recommended
    if choice is None:
        verdict = f"no recommendation: {result.reason}"
    else:
        verdict = f"recommended: {choice.name}, {choice.nodes} node(s): {result.reason}"
    notes = [f"note: {note}" for note in result.notes]
    notes += [f"note: {o.name}: {o.note}" for o in result.options if o.note]
    return "\n".join([head, *table, verdict, *notes])


def _row(option: OptionEstimate) -> tuple[str, ...]:
    o = option.option
    seconds, cost = option.seconds, option.cost
    chance = option.deadline_probability
    return (
        o.pool,
        o.market,
        f"{option.nodes}x{o.slots_per_node}",
        f"{duration(seconds.low)} / {duration(seconds.p50)} / {duration(seconds.high)}",
        f"{money(cost.low)}-{money(cost.high)} ({money(cost.p50)})",
        "-" if chance is None else f"{100 * chance:.0f} %",
    )


def duration(seconds: float) -> str:
    """Seconds as 42s, 3m05s or 2h10m."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    minutes = round(whole / 60)
    return f"{minutes // 60}h{minutes % 60:02d}m"

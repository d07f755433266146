"""``cloudrender budget set|show|clear`` (daily and monthly spending limits per project and
user) and ``cloudrender billing export`` (spend per day, project, user or job as CSV or JSON)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import IO, Any

from common.errors import RenderError
from common.settings import Settings
from orchestrator.billing_export import (
    ExportBy,
    ExportFormat,
    check_day,
    fixed_point_json,
    rows,
    write,
)
from orchestrator.budget_rules import Budget, BudgetStatus, Scope, check_limit, dollars
from providers.storage.base import write_atomic

#: Days the export looks back without --since.
DEFAULT_EXPORT_DAYS = 30


def add_budget_parsers(sub: Any) -> None:
    """Add ``budget set|show|clear`` and ``billing export`` to the command line's subcommands."""
    budget = sub.add_parser("budget", help="daily and monthly spending limits per project/user")
    actions = budget.add_subparsers(dest="action", required=True)

    set_ = actions.add_parser(
        "set", help="set a limit: at 80 %% an event warns, at 100 %% jobs stop and none start"
    )
    _scope_options(set_)
    set_.add_argument("--daily", metavar="USD", help="dollars per UTC day")
    set_.add_argument("--monthly", metavar="USD", help="dollars per UTC month")
    _broker_option(set_)
    set_.set_defaults(handler=run_budget_set)

    show = actions.add_parser(
        "show", help="every budget (or one project's or user's) with today's and this month's spend"
    )
    _scope_options(show)
    show.add_argument("--json", action="store_true")
    _broker_option(show)
    show.set_defaults(handler=run_budget_show)

    clear = actions.add_parser("clear", help="remove a limit (both when neither is named)")
    _scope_options(clear)
    clear.add_argument("--daily", action="store_true", help="only the daily limit")
    clear.add_argument("--monthly", action="store_true", help="only the monthly limit")
    _broker_option(clear)
    clear.set_defaults(handler=run_budget_clear)

    billing = sub.add_parser("billing", help="what the cluster spent")
    billing_actions = billing.add_subparsers(dest="action", required=True)
    export = billing_actions.add_parser("export", help="spend per day, project, user or job")
    export.add_argument("--by", choices=[str(b) for b in ExportBy], default=str(ExportBy.DAY))
    export.add_argument(
        "--format", choices=[str(f) for f in ExportFormat], default=str(ExportFormat.CSV)
    )
    export.add_argument(
        "--since",
        metavar="YYYY-MM-DD",
        help=f"first UTC day (default: {DEFAULT_EXPORT_DAYS} days ago)",
    )
    export.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    _broker_option(export)
    export.set_defaults(handler=run_billing_export)


def run_budget_set(args: argparse.Namespace) -> int:
    """Set a project's or user's daily and/or monthly limit."""
    scope, name = _scope(args)
    if args.daily is None and args.monthly is None:
        raise RenderError("give a limit: --daily USD and/or --monthly USD")
    daily = None if args.daily is None else _dollars(args.daily, "--daily")
    monthly = None if args.monthly is None else _dollars(args.monthly, "--monthly")
    from orchestrator.budgets import set_budget

    with _operator("set budgets"):
        budget = set_budget(_client(args), scope, name, daily=daily, monthly=monthly)
    print(describe_budget(budget))
    return 0


def run_budget_clear(args: argparse.Namespace) -> int:
    """Remove a project's or user's daily and/or monthly limit."""
    scope, name = _scope(args)
    both = not args.daily and not args.monthly
    from orchestrator.budgets import clear_budget

    with _operator("clear budgets"):
        left = clear_budget(
            _client(args), scope, name, daily=both or args.daily, monthly=both or args.monthly
        )
    print(describe_budget(left) if left is not None else f"{scope} {name!r}: no budget")
    return 0


def run_budget_show(args: argparse.Namespace) -> int:
    """Print every budget's limits with the spend of the current UTC day and month."""
    from orchestrator.budgets import statuses

    found = statuses(_client(args), time.time())
    if args.project is not None or args.user is not None:
        scope, name = _scope(args)
        found = [s for s in found if (s.budget.scope, s.budget.name) == (scope, name)]
        if not found and not args.json:
            print(f"{scope} {name!r}: no budget")
            return 0
    if args.json:
        # Fixed point, as `billing export --format json`: 6.8e-05 is no way to write money.
        print(fixed_point_json([s.to_json() for s in found]), end="")
    elif not found:
        print("no budgets set (cloudrender budget set --project NAME --monthly USD)")
    else:
        for status in found:
            print(describe_status(status))
    return 0


def run_billing_export(args: argparse.Namespace) -> int:
    """Write the billing export to stdout or a file."""
    by, fmt = ExportBy(args.by), ExportFormat(args.format)
    if args.since is None:
        since = time.strftime("%Y-%m-%d", time.gmtime(time.time() - DEFAULT_EXPORT_DAYS * 86400))
    else:
        try:
            since = check_day(args.since)
        except ValueError as exc:
            raise RenderError(f"--since: {exc}") from None
    if args.output is not None:
        from workers.atomic import check_writable

        # As `render -o` and `download -o`: a missing directory named before the export runs.
        check_writable(args.output)
    found = rows(_client(args), by, since)
    text = write(found, by, fmt)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        # Whole or not at all: a full disk left half an export an accounting import took whole.
        write_atomic(args.output, lambda out: _write_all(out, text.encode()))
    except OSError as exc:
        raise RenderError(f"cannot write the export to {args.output}: {exc.strerror}") from None
    print(f"wrote {len(found)} row{'s' * (len(found) != 1)} ({by}, {fmt}) to {args.output}")
    return 0


def describe_budget(budget: Budget) -> str:
    """A budget's limits in one line."""

    def limit(value: float | None) -> str:
        return "unlimited" if value is None else dollars(value)

    return (
        f"{budget.scope} {budget.name!r}: daily {limit(budget.daily)}, "
        f"monthly {limit(budget.monthly)}"
    )


def describe_status(status: BudgetStatus) -> str:
    """One limit and its spend in one line, with the threshold reached if any."""
    level = f"  [{status.level}]" if status.level is not None else ""
    return (
        f"{status.budget.scope} {status.budget.name!r} {status.period} ({status.window}): "
        f"{dollars(status.spent)} of {dollars(status.limit)} ({status.percent:.0f} %){level}"
    )


# -- helpers ----------------------------------------------------------------------------------


def _scope_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--project", metavar="NAME")
    group.add_argument("--user", metavar="NAME")


def _broker_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--broker", help="Redis URL (default: $CLOUDRENDER_BROKER_URL)")


def _scope(args: argparse.Namespace) -> tuple[Scope, str]:
    if args.project is None and args.user is None:
        raise RenderError("name whose budget: --project NAME or --user NAME")
    scope, name = (
        (Scope.PROJECT, args.project)
        if args.project is not None
        else (
            Scope.USER,
            args.user,
        )
    )
    if not str(name).strip():
        raise RenderError(f"--{scope} needs a name, not an empty one")
    return scope, str(name).strip()


def _dollars(text: str, option: str) -> float:
    try:
        return check_limit(float(text), option)
    except ValueError:
        raise RenderError(
            f"{option} {text!r}: give a number of dollars of 0 or more (0 stops all spending)"
        ) from None


def _write_all(out: IO[bytes], data: bytes) -> None:
    """Write `data` to an open file (write_atomic's filler)."""
    out.write(data)


def _client(args: argparse.Namespace) -> Any:
    # Redis and the budgets (0.3 CPU-s of imports) load in the commands that talk to Redis, not
    # in every command's parser.
    from orchestrator.job_store import JobStore

    url = getattr(args, "broker", None) or Settings.from_env().broker_url
    if url is None:
        raise RenderError("no broker: pass --broker URL or set CLOUDRENDER_BROKER_URL")
    return JobStore.from_url(url).redis


class _operator:
    """Turns Redis refusing a client's user into a line that says who may do it."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        # Only a command that imported redis (through _client) can have raised its errors.
        errors = sys.modules.get("redis.exceptions")
        if errors is not None and isinstance(value, errors.NoPermissionError):
            raise RenderError(
                f"this Redis user may not {self.what}: operators do, with the orchestrator's "
                "Redis user (--broker URL); clients only read budgets"
            ) from None

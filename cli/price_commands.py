"""``cloudrender prices show|refresh``: the price catalogue estimates use, and pulling live
figures from the clouds' price APIs into the override file (``CLOUDRENDER_PRICES_FILE``)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import TYPE_CHECKING, Any

from common.errors import RenderError
from common.settings import Settings
from providers.compute.prices import Offer, load_catalogue
from providers.compute.prices.catalogue import PROVIDERS

if TYPE_CHECKING:
    # The providers' price clients: loaded by `price refresh`, not by every command's parser.
    from providers.compute.prices.refresh import RefreshReport


def add_price_parser(sub: Any) -> None:
    """Add ``prices show`` and ``prices refresh`` to the command line's subcommands."""
    prices = sub.add_parser(
        "prices", help="the price catalogue: on-demand and spot prices per cloud, region and type"
    )
    actions = prices.add_subparsers(dest="action", required=True)
    show = actions.add_parser("show", help="list the catalogue's offers and their figures' age")
    show.add_argument("--provider", help=f"only this cloud ({', '.join(PROVIDERS)})")
    show.add_argument("--gpu", action="store_true", help="only instance types with a GPU")
    show.add_argument("--json", action="store_true", help="every field, sources included")
    show.set_defaults(handler=prices_show)
    update = actions.add_parser(
        "refresh",
        help="pull live prices from the clouds' price APIs into CLOUDRENDER_PRICES_FILE",
    )
    update.add_argument(
        "--provider", help=f"comma-separated clouds (default: {','.join(PROVIDERS)})"
    )
    update.add_argument("--region", help="comma-separated regions (default: every listed one)")
    update.set_defaults(handler=prices_refresh)


def prices_show(args: argparse.Namespace) -> int:
    """Print the catalogue (shipped figures under the refreshed ones) as a table or JSON."""
    catalogue = load_catalogue(Settings.from_env().prices_file)
    providers = _names(args.provider, PROVIDERS)
    offers = catalogue.offers(provider=providers, gpu=True if args.gpu else None)
    for warning in catalogue.warnings:
        # One warning per provider, naming it: only those shown are worth the lines.
        if providers is None or any(f"--provider {p}`" in warning for p in providers):
            print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        rows = [{**dataclasses.asdict(o), "spot_saving": o.spot_saving} for o in offers]
        print(json.dumps(rows, indent=2))
        return 0
    print(describe_offers(offers) if offers else "no offers match")
    return 0


def prices_refresh(args: argparse.Namespace, **endpoints: Any) -> int:
    """Refresh the chosen clouds' figures; exit 0 if any was refreshed (or nothing was asked
    for), 1 if every one failed. ``endpoints`` go to ``refresh`` (tests: local fakes)."""
    settings = Settings.from_env()
    catalogue = load_catalogue(settings.prices_file)
    providers = _names(args.provider, PROVIDERS) or list(PROVIDERS)
    regions = _names(args.region, None)
    from providers.compute.prices.refresh import refresh

    report = refresh(catalogue, providers, regions, override_path=settings.prices_file, **endpoints)
    print(describe_report(report))
    return 0 if report.updated or not report.asked else 1


def describe_offers(offers: list[Offer]) -> str:
    """Offers as a table: shape, prices, spot saving, interruption band and the figures' date."""
    width = max(len("TYPE"), *(len(o.instance_type) for o in offers))
    lines = [
        f"{'PROVIDER':<8}  {'REGION':<12}  {'TYPE':<{width}}  {'GPU':<8}  VCPU  ON-DEMAND  "
        f"{'SPOT':>7}  SAVING  {'INTERRUPTIONS':<13}  DATE"
    ]
    for o in offers:
        gpu = f"{o.gpus}x {o.gpu}" if o.gpu else "-"
        spot = _money(o.spot) if o.spot is not None else "-"
        saving = f"{o.spot_saving:.0%}" if o.spot_saving is not None else "-"
        day = min(d for d in (o.date, o.spot_date) if d)
        lines.append(
            f"{o.provider:<8}  {o.region:<12}  {o.instance_type:<{width}}  {gpu:<8}  "
            f"{o.vcpus:>4}  {_money(o.on_demand):>9}  {spot:>7}  {saving:>6}  "
            f"{o.interruption_band or '-':<13}  {day}"
        )
    lines.append(
        "dollars per node-hour, Linux; DATE is the older figure's; `--json` gives each figure's "
        "source and the interruption rates per node-hour"
    )
    return "\n".join(lines)


def describe_report(report: RefreshReport) -> str:
    """What a refresh changed, what failed and what kept its figures."""
    if not report.asked:
        return "nothing to refresh: the catalogue lists no offer for that provider and region"
    lines = [f"refreshed {len(report.updated)} of {report.asked} offers"]
    lines += [f"  {key}: {report.changes[key]}" for key in report.updated]
    if report.failed:
        lines.append("not refreshed:")
        lines += [f"  {scope}: {reason}" for scope, reason in sorted(report.failed.items())]
    if report.kept:
        lines.append(
            f"kept the figures they had for {len(report.kept)} offers: "
            + ", ".join(report.kept[:8])
            + (f" and {len(report.kept) - 8} more" if len(report.kept) > 8 else "")
        )
    if report.written:
        lines.append(f"wrote {report.written}")
    return "\n".join(lines)


def _money(value: float) -> str:
    """Dollars with two to four decimals, as the clouds publish them."""
    text = f"{value:.4f}".rstrip("0")
    return text + "0" * max(0, 2 - len(text.split(".")[1]))


def _names(text: str | None, allowed: tuple[str, ...] | None) -> list[str] | None:
    """A comma-separated list, checked against ``allowed`` when given; None for no list."""
    if not text:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if allowed is not None:
        unknown = [n for n in names if n not in allowed]
        if unknown:
            raise RenderError(f"unknown provider {unknown[0]!r}: choose from {', '.join(allowed)}")
    return names

"""``cloudrender prices refresh``: live figures from the clouds' price APIs into the override
file (``Settings.prices_file``), which ``load_catalogue`` reads over the shipped catalogue.

Each cloud has its fetcher (``aws``, ``gcp``, ``azure``); every failure comes back as one line
per provider (or per offer, when only that offer is missing), never as a traceback, and an offer
that could not be refreshed keeps the figure it had. Interruption bands are not refreshed: no
cloud offers them through a price API. The override file is written atomically (a temporary
file in the same directory, then a rename), and only after it has been checked to load.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from providers.compute.prices import aws, azure, gcp
from providers.compute.prices.api import Fetched, Figures, one_line
from providers.compute.prices.catalogue import (
    FORMAT,
    PROVIDERS,
    Catalogue,
    CatalogueError,
    Offer,
    parse_offers,
    read_offers,
)

#: The lowest spot price an API may report, as a share of on-demand: the deepest discounts the
#: clouds advertise are about 90 % (AWS, Azure) and 91 % (GCP), so less is a broken reply (or
#: moto's constant placeholder) and is not written.
MIN_SPOT_SHARE = 0.05


@dataclass
class RefreshReport:
    """What a refresh did: offers with a new figure (``updated``), failures by scope with a
    one-line reason (``failed``), offers asked for that kept their figures (``kept``)."""

    updated: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)
    #: per updated offer: "on-demand 1.006 -> 1.01, spot 0.43 -> 0.4312"
    changes: dict[str, str] = field(default_factory=dict)
    #: the override file written, None when nothing was
    written: str | None = None
    #: how many offers the refresh was asked about
    asked: int = 0


def refresh(
    catalogue: Catalogue,
    providers: Iterable[str] = PROVIDERS,
    regions: Iterable[str] | None = None,
    *,
    override_path: str | Path | None = None,
    today: date | None = None,
    aws_clients: aws.ClientFactory | None = None,
    gcp_endpoint: str = gcp.ENDPOINT,
    gcp_api_key: str | None = None,
    gcp_token: str | None = None,
    gcp_token_source: Callable[[], tuple[str, str | None]] | None = None,
    azure_endpoint: str = azure.ENDPOINT,
    timeout: float = 30.0,
) -> RefreshReport:
    """Refresh the chosen providers' offers (in ``regions``, if given) from their price APIs;
    write the override file when ``override_path`` is given and anything changed. Endpoints
    and clients default to the real APIs."""
    providers = list(dict.fromkeys(providers))
    unknown = [p for p in providers if p not in PROVIDERS]
    if unknown:
        raise CatalogueError(f"unknown provider {unknown[0]!r}: choose from {', '.join(PROVIDERS)}")
    chosen = catalogue.offers(provider=providers, region=None if regions is None else list(regions))
    report = RefreshReport(asked=len(chosen))
    fetchers: dict[str, Callable[[list[Offer]], Fetched]] = {
        "aws": lambda offers: aws.fetch_aws(
            offers, aws_clients or aws.boto3_clients(timeout=timeout)
        ),
        "gcp": lambda offers: gcp.fetch_gcp(
            offers,
            endpoint=gcp_endpoint,
            api_key=gcp_api_key,
            token=gcp_token,
            token_source=gcp_token_source,
            timeout=timeout,
        ),
        "azure": lambda offers: azure.fetch_azure(offers, endpoint=azure_endpoint, timeout=timeout),
    }
    refreshed: list[Offer] = []
    for provider in providers:
        offers = [o for o in chosen if o.provider == provider]
        if not offers:
            continue
        try:
            fetched = fetchers[provider](offers)
        except Exception as exc:  # a bug or an SDK surprise: still one line, the rest goes on
            fetched = Fetched(
                failed={provider: f"unexpected {type(exc).__name__}: {one_line(exc)}"}
            )
        report.failed.update(fetched.failed)
        for offer in offers:
            figures = fetched.figures.get(offer.key)
            new = _merge(offer, figures, today or date.today(), report) if figures else offer
            if new != offer:
                refreshed.append(new)
                report.updated.append(offer.key)
                report.changes[offer.key] = _change(offer, new)
            else:
                report.kept.append(offer.key)
    if refreshed and override_path is not None:
        write_override(override_path, refreshed)
        report.written = str(Path(override_path).expanduser())
    return report


def _merge(offer: Offer, figures: Figures, today: date, report: RefreshReport) -> Offer:
    """The offer with the fetched figures in, each dated today and sourced to its API."""
    new = offer
    day = today.isoformat()
    if figures.on_demand is not None:
        new = replace(
            new, on_demand=figures.on_demand, date=day, source=f"refreshed: {figures.on_demand_api}"
        )
    if figures.spot is not None:
        if figures.spot > new.on_demand:
            _fail(
                report,
                f"{offer.key} (spot)",
                f"the API's spot price {figures.spot:g} is above on-demand {new.on_demand:g}; kept",
            )
        elif figures.spot < MIN_SPOT_SHARE * new.on_demand:
            _fail(
                report,
                f"{offer.key} (spot)",
                f"the API's spot price {figures.spot:g} is under {MIN_SPOT_SHARE:.0%} of "
                f"on-demand {new.on_demand:g}, a discount no cloud offers; kept",
            )
        else:
            new = replace(
                new, spot=figures.spot, spot_date=day, spot_source=f"refreshed: {figures.spot_api}"
            )
    if new.spot is not None and new.spot > new.on_demand:
        _fail(
            report,
            f"{offer.key} (spot)",
            f"the kept spot figure {new.spot:g} is above the refreshed on-demand "
            f"{new.on_demand:g}; spot left out until it is refreshed",
        )
        new = replace(new, spot=None, spot_date="", spot_source="")
    return new


def _fail(report: RefreshReport, scope: str, reason: str) -> None:
    """Add a reason to a scope's failure line (a fetcher may have given one already)."""
    before = report.failed.get(scope)
    report.failed[scope] = f"{before}; {reason}" if before else reason


def _change(old: Offer, new: Offer) -> str:
    parts = []
    if new.date != old.date or new.source != old.source:
        parts.append(f"on-demand {old.on_demand:g} -> {new.on_demand:g}")
    if new.spot != old.spot or new.spot_source != old.spot_source:
        before = "none" if old.spot is None else f"{old.spot:g}"
        parts.append(f"spot {before} -> {'none' if new.spot is None else f'{new.spot:g}'}")
    return ", ".join(parts)


def write_override(path: str | Path, offers: Iterable[Offer]) -> None:
    """Merge offers into the override file (replacing its entries of the same key), atomically;
    the file is checked to load before it replaces the old one."""
    path = Path(path).expanduser()
    merged = {o.key: o for o in read_offers(path)} if path.exists() else {}
    merged.update({o.key: o for o in offers})
    doc: dict[str, Any] = {
        "format": FORMAT,
        "currency": "USD",
        "about": [
            "Written by `cloudrender prices refresh`: these entries replace the shipped "
            "catalogue's. Delete the file to go back to the shipped figures."
        ],
        "offers": [_entry(merged[key]) for key in sorted(merged)],
    }
    text = json.dumps(doc, indent=1) + "\n"
    parse_offers(text, str(path))  # what is written must load
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise CatalogueError(f"cannot write the price file {path}: {exc.strerror or exc}") from None


def _entry(offer: Offer) -> Mapping[str, Any]:
    """An offer as a file entry, without empty texts (the loader wants a text or no key)."""
    return {k: v for k, v in offer.to_json().items() if v != ""}

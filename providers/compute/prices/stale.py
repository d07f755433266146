"""Warnings about a price catalogue's figures that may no longer hold: too old, or dated after
today (a typo that would keep a figure "fresh" for ever)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from providers.compute.prices.catalogue import Offer

#: Figures older than this many days make a warning: prices move, spot prices monthly or faster.
STALE_DAYS = 180
#: Days a figure may be dated after today (a refresh on a machine whose clock runs ahead).
FUTURE_DAYS = 2


def stale_warnings(offers: Iterable[Offer], today: date | None = None) -> list[str]:
    """One line per provider whose figures are older than ``STALE_DAYS``, and one per provider
    with figures dated after today."""
    today = today or date.today()
    stale: dict[str, list[str]] = {}
    ahead: dict[str, list[tuple[str, str]]] = {}
    for offer in offers:
        for day in (offer.date, offer.spot_date):
            age = (today - date.fromisoformat(day)).days if day else 0
            if age > STALE_DAYS:
                stale.setdefault(offer.provider, []).append(day)
            elif age < -FUTURE_DAYS:
                ahead.setdefault(offer.provider, []).append((day, offer.key))
    warnings = [
        f"price catalogue: {len(days)} {provider} figures are older than {STALE_DAYS} days "
        f"(the oldest from {min(days)}); `cloudrender prices refresh --provider {provider}` "
        "updates what the cloud's price API offers"
        for provider, days in sorted(stale.items())
    ]
    # A date after today (a typo: 2062 for 2026) would never show its figure as stale.
    warnings += [
        f"price catalogue: {len(dated)} {provider} figures are dated after today ({today}), "
        f"e.g. {max(dated)[1]} on {max(dated)[0]}: a typo? they never show as out of date; "
        f"fix the date or run `cloudrender prices refresh --provider {provider}`"
        for provider, dated in sorted(ahead.items())
    ]
    return warnings

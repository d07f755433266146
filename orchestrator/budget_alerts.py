"""A budget's thresholds as they are crossed: the ``budget`` event, its webhook, the hard stop.

Split from ``budgets`` (which records spend and calls ``publish_thresholds`` with the totals):
this is the part that talks outward, to the progress channel, the webhook and the jobs stopped.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
import urllib.request
from typing import Any

from common.settings import Settings
from orchestrator import keys
from orchestrator.budget_rules import (
    Budget,
    Level,
    Period,
    budget_event,
    levels_reached,
    stop_reason,
)

log = logging.getLogger(__name__)

#: Seconds a webhook may take to answer; a slow one must not hold up the worker charging.
WEBHOOK_TIMEOUT = 3.0


def publish_thresholds(
    client: Any,
    budget: Budget,
    period: Period,
    current: str,
    spent: float,
    limit: float,
    when: float,
    settings: Settings | None,
    app: Any | None,
) -> list[dict[str, Any]]:
    """Publish the thresholds `spent` newly reached (each once per window and limit), and stop
    the scope's jobs whenever the limit is reached."""
    events = []
    stopped: list[str] = []
    for level in levels_reached(spent, limit):
        if level is Level.EXCEEDED:
            # Every time, not only at the crossing: a job that slipped in meanwhile stops too.
            # Stopping jobs needs the dispatcher (Celery, the codec stack): imported only here, so
            # that reading budgets (`cloudrender budget`, the dashboards) starts light.
            from orchestrator.job_cancel import stop_jobs

            reason = stop_reason(budget, period, current, spent, limit, when)
            stopped = stop_jobs(client, budget.scope, budget.name, reason, when, app)
        marker = f"{level}|{budget.key}|{limit!r}"
        if not client.hsetnx(keys.spend_alerts(current), marker, repr(when)):
            continue  # published already in this window
        client.expire(keys.spend_alerts(current), keys.SPEND_TTL)
        event = budget_event(budget, period, current, spent, limit, level, when)
        if level is Level.EXCEEDED:
            event["cancelled"] = stopped
        client.publish(keys.PROGRESS, json.dumps(event))
        webhook = (settings or Settings.from_env()).budget_webhook
        if webhook:
            post_webhook(webhook, event)
        events.append(event)
    return events


def post_webhook(url: str, event: dict[str, Any]) -> bool:
    """POST the event as JSON to `url`; failures are logged, never raised. True if delivered."""
    parts = urllib.parse.urlsplit(url)
    # Only the host is logged: webhook URLs often carry their secret token in the path.
    if parts.scheme not in ("http", "https"):
        log.warning("the budget webhook is not an http(s) URL; event not sent")
        return False
    request = urllib.request.Request(
        url,
        data=json.dumps(event).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:
            response.read()
    except (OSError, ValueError) as exc:
        log.warning(
            "budget webhook at %s failed: %s (event: %s)", parts.hostname, exc, event.get("message")
        )
        return False
    return True

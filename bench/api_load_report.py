"""What ``bench/api_load.py`` saw: each SSE follower's and the status polls' observations, and
the figures and report made of them.
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SseClient:
    """What one SSE follower saw."""

    first_event: float | None = None  # seconds from the request to its first event
    events: int = 0
    ordered: bool = True  # every id above the one before (none twice, none out of order)
    ended: bool = False  # the terminal event came and the stream ended
    error: str | None = None


@dataclass
class Polls:
    """The status polls' latencies and failures."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def figures(
    sse: list[SseClient], polls: Polls, args: argparse.Namespace, peak: int, cpu: float
) -> dict[str, Any]:
    """The results as a JSON-ready dictionary."""
    errors = polls.errors + [c.error for c in sse if c.error]
    unordered = sum(1 for c in sse if not c.ordered)
    not_ended = sum(1 for c in sse if not c.ended and not c.error)
    errors += [f"{unordered} SSE clients saw ids out of order"] if unordered else []
    errors += [f"{not_ended} SSE clients never saw the job's end"] if not_ended else []
    first = [c.first_event for c in sse if c.first_event is not None]
    counts = [c.events for c in sse]
    return {
        "seconds": args.seconds,
        "clients": args.clients,
        "rate": args.rate,
        "polls": {"answered": len(polls.latencies), **quantiles(polls.latencies)},
        "sse": {
            "first_event": quantiles(first),
            "events_per_client": {
                "min": min(counts, default=0),
                "median": statistics.median(counts) if counts else 0,
                "max": max(counts, default=0),
            },
            "ended": sum(1 for c in sse if c.ended),
        },
        "server": {"peak_rss_mib": round(peak / 2**20, 1), "cpu_seconds": round(cpu, 1)},
        "errors": errors,
    }


def quantiles(values: list[float]) -> dict[str, float | None]:
    """p50, p99 and max in milliseconds (None without values)."""
    ordered = sorted(values)
    at = {"p50_ms": 0.50, "p99_ms": 0.99, "max_ms": 1.0}
    return {
        name: round(ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000, 1)
        if ordered
        else None
        for name, q in at.items()
    }


def show(result: dict[str, Any]) -> None:
    """The figures as a short report."""
    polls, sse, server, job = result["polls"], result["sse"], result["server"], result["job"]
    first, per = sse["first_event"], sse["events_per_client"]
    print(
        f"load: {result['clients']} SSE clients + {result['rate']:.0f} polls/s for "
        f"{result['seconds']:.0f} s against one API process\n"
        f"status polls: {polls['answered']} answered, p50 {polls['p50_ms']} ms, "
        f"p99 {polls['p99_ms']} ms, max {polls['max_ms']} ms\n"
        f"SSE: time to first event p50 {first['p50_ms']} ms, p99 {first['p99_ms']} ms, "
        f"max {first['max_ms']} ms; events per client min {per['min']}, median "
        f"{per['median']}, max {per['max']}; {sse['ended']} saw the job's end\n"
        f"API process: peak RSS {server['peak_rss_mib']} MiB, {server['cpu_seconds']} CPU "
        f"seconds during the load\njob: {job['state']}, {job['frames_done']}/{job['frames']} "
        f"frames\nerrors: {len(result['errors'])}"
    )
    for error in sorted(set(result["errors"]))[:10]:
        print(f"  {error}")

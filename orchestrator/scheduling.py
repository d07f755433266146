"""Scheduling decisions as pure functions over plain data: priorities, deadlines, fair share.

The broker only ever holds a few chunks per worker slot; the rest wait in the job store. So a
job submitted later at a higher priority overtakes work already queued, and jobs of the same
priority take turns chunk by chunk (round-robin) instead of one after the other. Scaling the
cluster spreads its worker slots evenly over the live nodes. All chunks of a job render on
nodes of one render fingerprint (renderer_groups, choose_renderer), so its joins stay exact;
a job exported with hardware acceleration picks a group that composites on a GPU, the others a
CPU group, where both kinds are live.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from common.errors import RenderError
from common.names import LEVELS, render_queue
from orchestrator.node_roles import takes_work
from workers.arrays import CUPY as GPU_COMPOSITOR

#: How much earlier than strictly necessary a job with a deadline is escalated.
DEADLINE_SAFETY = 1.5


def rank(priority: str) -> int:
    """0 for urgent .. 3 for low."""
    return LEVELS.index(priority)


def effective_priority(
    priority: str, deadline: float | None, now: float, remaining_seconds: float | None
) -> str:
    """The priority a job runs at: one level up when its deadline gets near, two when missed."""
    if deadline is None:
        return priority
    left = deadline - now
    need = (remaining_seconds or 0.0) * DEADLINE_SAFETY
    steps = 2 if left <= 0 else 1 if left <= need else 0
    return LEVELS[max(0, rank(priority) - steps)]


@dataclass(frozen=True)
class DueJob:
    """A job with a deadline as the escalation sees it."""

    job_id: str
    priority: str  # the submitter's
    level: str  # effective_priority's answer
    deadline: float


def edf_levels(jobs: Sequence[DueJob]) -> dict[str, str]:
    """Each job's level with escalation passed on to the jobs due no later: a job escalated
    above its own priority lifts every job of its priority or a higher one due no later than
    it to at least its level. Escalation measures a job against its own deadline alone, so a
    job far behind (a long render, just submitted) escalated at once and took every slot from
    a job due sooner that had not yet escalated, which then escalated seconds before its
    deadline and missed it waiting for a slot (bench/spot_sim.py, seed 3); serving the later
    deadline first never helps the earlier one hold (EDF)."""
    best = [len(LEVELS)] * len(LEVELS)  # per own rank: the highest escalated level due later
    levels: dict[str, str] = {}
    ordered = sorted(jobs, key=lambda j: -j.deadline)
    start = 0
    while start < len(ordered):
        end = start
        while end < len(ordered) and ordered[end].deadline == ordered[start].deadline:
            end += 1
        group = ordered[start:end]  # one deadline: they lift each other
        for job in group:
            own = rank(job.priority)
            if rank(job.level) < own:
                best[own] = min(best[own], rank(job.level))
        for job in group:
            lift = min(best[rank(job.priority) :])
            levels[job.job_id] = LEVELS[min(rank(job.level), lift)]
        start = end
    return levels


@dataclass(frozen=True)
class Candidate:
    """A job that has chunks waiting to be dispatched."""

    job_id: str
    priority: str  # effective priority
    pending: int
    last_dispatch: float  # when the job last got a chunk (0 = never)
    submitted_at: float


def choose_dispatch(
    candidates: Sequence[Candidate], queued_by_rank: Sequence[int], depth: int
) -> list[tuple[str, str]]:
    """Which jobs get their next chunk now, in order: [(job_id, priority), ...].

    `queued_by_rank[r]` is how many chunks of priority rank r already wait in the broker;
    `depth` is how many may wait per worker slot in total. A chunk of rank r may be added while
    fewer than `depth` chunks of rank <= r are queued, so urgent work is never stuck behind a
    full queue of low-priority chunks (the broker serves lower ranks first). Within a rank,
    jobs take turns, least recently served first.
    """
    chosen: list[tuple[str, str]] = []
    queued = list(queued_by_rank) + [0] * (len(LEVELS) - len(queued_by_rank))
    for level in LEVELS:
        r = rank(level)
        tier = sorted(
            (c for c in candidates if c.priority == level and c.pending > 0),
            key=lambda c: (c.last_dispatch, c.submitted_at, c.job_id),
        )
        left = {c.job_id: c.pending for c in tier}
        room = depth - sum(queued[: r + 1]) - sum(1 for _, p in chosen if rank(p) <= r)
        while room > 0 and any(left.values()):
            for c in tier:
                if room <= 0:
                    break
                if left[c.job_id] > 0:
                    chosen.append((c.job_id, level))
                    left[c.job_id] -= 1
                    room -= 1
    return chosen


def pool_changes(pools: Mapping[str, int], target: int) -> dict[str, int]:
    """Per node, the pool processes to add (+) or remove (-) to reach ``target`` slots in all.

    Growth goes to the smallest pools and shrinking takes from the largest, one slot at a time
    (ties by node name), so load stays even across nodes; every node keeps at least one process.
    Nodes that do not change are left out.
    """
    if not pools:
        raise RenderError("no live worker nodes to scale (start `cloudrender worker`)")
    if target < len(pools):
        raise RenderError(
            f"{len(pools)} worker nodes need at least {len(pools)} slots (one each), not "
            f"{target}; stop a node's worker to go lower"
        )
    sizes = dict(pools)
    for _ in range(target - sum(sizes.values())):
        sizes[min(sizes, key=lambda n: (sizes[n], n))] += 1
    for _ in range(sum(sizes.values()) - target):
        sizes[min(sizes, key=lambda n: (-sizes[n], n))] -= 1
    return {n: sizes[n] - pools[n] for n in sorted(sizes) if sizes[n] != pools[n]}


def deadline_time(value: float | dt.datetime | str | None, given: object = None) -> float | None:
    """A deadline as epoch seconds, from epoch seconds, a datetime or ISO 8601 (UTC if naive);
    ``given``: what the user wrote, quoted in the error (default: ``value``)."""
    if value is None:
        return None
    given = value if given is None else given
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise RenderError(f"deadline {value!r} is not a time")
        return _plausible(float(value), given)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise RenderError(f"deadline {value!r} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return _plausible(value.timestamp(), given)


def future_deadline(when: float | None, given: object, now: float) -> float | None:
    """``when`` itself, or RenderError when it has passed: a job would jump to urgent silently."""
    if when is not None and when <= now:
        passed = dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        raise RenderError(
            f"deadline {given!r} has passed ({passed} is before now); give a future time "
            "(ISO 8601, UTC if no zone) or one from now (+2h)"
        )
    return when


#: Deadlines are epoch seconds from 1970 to the year 5138: -1e18 or 1e308 is a mistake.
_LATEST = 1e11


def _plausible(seconds: float, given: object) -> float:
    """``seconds`` if between 1970 and _LATEST; RenderError quoting what the user gave (an ISO
    time or ``+N`` read as "deadline 2.53402e+11", a number they never typed)."""
    if not 0 <= seconds <= _LATEST:
        shown = f"{given:g}" if isinstance(given, float) else repr(given)
        raise RenderError(
            f"deadline {shown} is not a time between 1970 and the year 5138 "
            "(epoch seconds, ISO 8601 or +N[smhd] from now)"
        )
    return seconds


def renderer_groups(
    heartbeats: Mapping[str, Mapping[str, Any]], gpu: bool | None = None
) -> dict[str, int]:
    """Live render slots per render fingerprint, over the render nodes that take work now.

    ``gpu`` narrows them to a job's kind when it has live groups: True, the groups that
    composite on a GPU (a job exported with hardware acceleration); False, the CPU groups, so
    GPU nodes stay free for GPU jobs. Without a live group of that kind, every group is
    returned: a job renders on the other kind rather than wait for one that may never come.
    """
    groups: dict[str, int] = {}
    kinds: dict[str, bool] = {}
    for fingerprint, beat in _renderers(heartbeats):
        groups[fingerprint] = groups.get(fingerprint, 0) + int(beat.get("concurrency", 1))
        kinds[fingerprint] = beat.get("compositor") == GPU_COMPOSITOR
    if gpu is None:
        return groups
    wanted = {f: n for f, n in groups.items() if kinds[f] == gpu and n > 0}
    return wanted or groups


def idle_renderer_slots(heartbeats: Mapping[str, Mapping[str, Any]], fingerprint: str) -> int:
    """Slots of the nodes with this fingerprint that run nothing, as their heartbeats tell."""
    return sum(
        max(0, int(beat.get("concurrency", 1)) - int(beat.get("busy") or 0))
        for found, beat in _renderers(heartbeats)
        if found == fingerprint
    )


def group_hardware_encoders(
    heartbeats: Mapping[str, Mapping[str, Any]], fingerprint: str
) -> set[str] | None:
    """The hardware encoders the live render nodes of ``fingerprint`` say open on them; None
    when none of them says (no such node is live, or only nodes from before they told)."""
    found: set[str] | None = None
    for seen, beat in _renderers(heartbeats):
        encoders = beat.get("hardware_encoders")
        if seen != fingerprint or not isinstance(encoders, list):
            continue
        found = (found or set()) | {str(name) for name in encoders}
    return found


def _renderers(
    heartbeats: Mapping[str, Mapping[str, Any]],
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(fingerprint, heartbeat) of each render node that takes work and says its fingerprint.

    A node that lists its queues but not its fingerprint's (one from before fingerprint queues)
    is left out: chunks pinned to its fingerprint would wait in a queue nobody consumes.
    """
    for beat in heartbeats.values():
        fingerprint = str(beat.get("fingerprint") or "")
        if not fingerprint or not takes_work(beat):
            continue
        queues = beat.get("queues") or ()
        if queues and render_queue(fingerprint) not in queues:
            continue
        yield fingerprint, beat


def choose_renderer(current: str, planned: str, groups: Mapping[str, int]) -> str:
    """The render fingerprint a job's chunks go to: ``current`` while live nodes have it, else
    ``planned`` (what its content keys were made with) when live, else the group with the most
    slots (ties by fingerprint); "" when no render node is live."""
    live = {fingerprint: slots for fingerprint, slots in groups.items() if slots > 0}
    for wanted in (current, planned):
        if wanted and wanted in live:
            return wanted
    if not live:
        return ""
    return min(live, key=lambda fingerprint: (-live[fingerprint], fingerprint))


def stray_chunks(pin: str, renderers: Mapping[int, str]) -> tuple[str, list[int]]:
    """The fingerprint a job's merge holds its chunks to, and the chunks (by index) rendered
    under another: its pin, or without one the fingerprint most of its chunks have (ties by
    fingerprint). A chunk with no recorded fingerprint ("") counts as matching."""
    known = Counter(r for r in renderers.values() if r)
    if not pin and known:
        pin = min(known, key=lambda fingerprint: (-known[fingerprint], fingerprint))
    return pin, sorted(i for i, r in renderers.items() if r and r != pin)

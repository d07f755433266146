"""The sweep of lost jobs' objects in storage: ``jobs/<id>/`` prefixes whose job has no record.

A job whose record Redis lost (restarted without persistence, FLUSHALL) while none of its chunks
ran kept its finished segments in storage for ever: nothing merges, cancels or expires a job
Redis does not know, and a chunk whose upload ended just after its job's objects were deleted
left one behind too. The orchestrator's beat runs this sweep every few minutes.

Conservative by design:

* a prefix is removed only when its job has no record, checked again just before the delete;
* and only once this process has seen it unchanged (the same keys) for the grace period
  (``CLOUDRENDER_SWEEP_GRACE``): storage backends give no uniform modification time, so "its
  newest object is older than the grace" is observed, and a new object restarts the wait. A
  restarted orchestrator starts watching again: a removal can come later, never sooner;
* a prefix holding a finished video (``output.*``) is never removed: that is a user's result,
  which a client may still fetch straight from storage.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from common.errors import RenderError
from providers.storage.base import Storage

log = logging.getLogger(__name__)

#: Where every job's objects live (``workers.job_spec.job_prefix``).
JOBS_AREA = "jobs/"
#: The start of a finished video's name in its job's prefix (``JobSpec.output_key``).
OUTPUT_NAME = "output."


def group_by_job(keys: Iterable[str]) -> dict[str, frozenset[str]]:
    """The keys under ``jobs/``, grouped by the job id their second part names."""
    groups: dict[str, set[str]] = {}
    for key in keys:
        job_id, slash, _ = key.removeprefix(JOBS_AREA).partition("/")
        if key.startswith(JOBS_AREA) and job_id and slash:
            groups.setdefault(job_id, set()).add(key)
    return {job_id: frozenset(found) for job_id, found in groups.items()}


def holds_output(job_id: str, found: frozenset[str]) -> bool:
    """Whether a job's keys include its finished video."""
    return any(k.startswith(f"{JOBS_AREA}{job_id}/{OUTPUT_NAME}") for k in found)


@dataclass
class _Seen:
    since: float
    keys: frozenset[str]


@dataclass
class SweepWatch:
    """What one orchestrator process has seen of prefixes without a job record, and since when."""

    seen: dict[str, _Seen] = field(default_factory=dict)

    def due(
        self, groups: Mapping[str, frozenset[str]], known: set[str], now: float, grace: float
    ) -> list[str]:
        """Job ids to remove: no record, no output, and unchanged for ``grace`` seconds."""
        ready: list[str] = []
        for job_id, found in sorted(groups.items()):
            if job_id in known or holds_output(job_id, found):
                self.seen.pop(job_id, None)
                continue
            seen = self.seen.get(job_id)
            if seen is None or seen.keys != found:
                self.seen[job_id] = _Seen(now, found)
            elif now - seen.since >= grace:
                ready.append(job_id)
        for gone in set(self.seen) - set(groups):
            del self.seen[gone]
        return ready


def sweep(
    storage: Storage, keep: Callable[[str], bool], watch: SweepWatch, now: float, grace: float
) -> int:
    """One sweep of ``storage``: remove the due prefixes; return how many objects went. A storage
    error is logged and ends this sweep only (the next one tries again). ``keep`` says whether a
    job id's prefix must stay (its job has a record)."""
    try:
        groups = group_by_job(storage.list(JOBS_AREA))
    except (RenderError, OSError) as exc:
        log.warning("storage sweep: could not list %s: %s", JOBS_AREA, exc)
        return 0
    known = {job_id for job_id in groups if keep(job_id)}
    removed = 0
    for job_id in watch.due(groups, known, now, grace):
        if keep(job_id):  # its record appeared since the listing: keep it
            continue
        try:
            count = storage.delete_prefix(f"{JOBS_AREA}{job_id}/")
        except (RenderError, OSError) as exc:
            log.warning("storage sweep: could not remove job %s's objects: %s", job_id, exc)
            continue
        watch.seen.pop(job_id, None)
        removed += count
        log.warning(
            "storage sweep: removed %d objects of job %s, which has no record (Redis lost it?) "
            "and whose objects did not change for %.0f s",
            count,
            job_id,
            grace,
        )
    return removed

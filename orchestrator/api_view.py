"""The Python API's read-only part: job records, listings, nodes and pools, read from the job
store alone.

It loads no Celery, kombu, NumPy or PyAV, so that ``cloudrender status`` and ``cluster status``
start in a fraction of the full API's time; CloudRenderingAPI (orchestrator.api) is built on it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import redis

from common.errors import ClusterUnreachable, RenderError
from common.settings import Settings
from common.urls import redact_url
from orchestrator import keys
from orchestrator.api_pools import PoolStatus, pool_statuses
from orchestrator.api_results import ClusterStatus, JobLost, NodeInfo
from orchestrator.autoscaler.policy import load_policy
from orchestrator.cluster_errors import redis_errors_mapped
from orchestrator.job_record import JobNotFound, JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.node_roles import ROLE_RENDER, orchestrates, renders
from orchestrator.store_retry import redis_deadline
from providers.compute.pools import load_pools

#: Stored jobs, newest first, that ``list_jobs`` looks through (as ``GET /v1/jobs`` does).
LIST_SCAN = 2000
#: Seconds a waiting client tolerates Redis being unreachable (a restart) before giving up.
REDIS_PATIENCE = 60.0


@redis_errors_mapped
class ClusterView:
    """Read jobs (and wait for them), nodes and pools of a cluster; Redis failing raises
    ClusterError (common.errors), never the Redis client's own exceptions."""

    def __init__(
        self,
        broker_url: str | None = None,
        *,
        storage_url: str | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        url = broker_url or self.settings.broker_url
        if url is None:
            raise RenderError("no broker: pass broker_url or set CLOUDRENDER_BROKER_URL")
        self.broker_url = url
        self.storage_url = storage_url or self.settings.storage_url
        self.store = JobStore.from_url(
            url,
            finished_ttl=self.settings.job_ttl,
            timeout=self.settings.redis_timeout,
            patience=self.settings.redis_patience,
        )
        #: ids this client submitted: ``wait`` knows they existed even if its first read misses
        self._submitted: set[str] = set()

    # -- jobs ---------------------------------------------------------------------------------

    def get_job_status(self, job_id: str) -> JobRecord:
        """The job's record with per-chunk state; JobNotFound for unknown or expired ids."""
        record = self.store.get(job_id)
        return record

    def list_jobs(self, limit: int = 50, state: str | None = None) -> list[JobRecord]:
        """The newest stored jobs (without their chunks), optionally only those in one state."""
        if limit < 1:
            raise RenderError(f"limit {limit} must be at least 1")
        if state is not None and state not in {s.value for s in JobState}:
            raise RenderError(f"state {state!r} is not one of {', '.join(JobState)}")
        jobs = []
        for job_id in self.store.recent(LIST_SCAN):
            with missing_ok():
                if state is None or self.store.state(job_id).value == state:
                    jobs.append(dataclasses.replace(self.store.get(job_id), chunks=[]))
            if len(jobs) >= limit:
                break
        return jobs

    def wait(
        self,
        job_id: str,
        timeout: float | None = None,
        poll: float = 0.25,
        lost: Callable[[], str | None] | None = None,
    ) -> JobRecord:
        """Block until the job ends (or `timeout` seconds pass) and return its record; ``lost``
        says why Redis will not come back (a private cluster's died), ending the wait then."""
        deadline = None if timeout is None else time.monotonic() + timeout
        answered = time.monotonic()  # when Redis last answered (none yet: the wait's start)
        # Only a job known to exist can be lost: an id never seen is an unknown job, as over HTTP.
        seen = job_id in self._submitted
        while True:
            try:
                # The store's own retries end when this wait's patience does: a frozen Redis
                # held each call 77 s and the "60s" wait gave up after 258 s.
                with redis_deadline(answered + REDIS_PATIENCE - time.monotonic()):
                    record = self.store.get(job_id)
                answered = time.monotonic()
                seen = True
            except JobNotFound:
                if not seen:
                    raise
                raise JobLost(
                    f"job {job_id} is gone from the job store while running: Redis was "
                    "restarted without append-only persistence (appendonly yes), or flushed"
                ) from None
            except redis.RedisError as exc:
                gone = lost() if lost is not None else None
                if gone is not None:
                    raise RenderError(f"{gone} while job {job_id} ran") from None
                # Redis restarting (with persistence) is survivable: keep asking for a while.
                silent = time.monotonic() - answered
                if silent >= REDIS_PATIENCE:
                    raise ClusterUnreachable(
                        f"lost contact with Redis at {redact_url(self.broker_url)} for "
                        f"{silent:.0f}s: {exc}"
                    ) from None
                time.sleep(poll)
                continue
            if record.state.finished:
                return record
            if deadline is not None and time.monotonic() > deadline:
                return record
            time.sleep(poll)

    # -- nodes and pools ----------------------------------------------------------------------

    def get_cluster_status(self) -> ClusterStatus:
        """Live nodes (from heartbeats), render slots, queued chunks, active jobs and the
        autoscaled pools (desired, booting, running, draining, spend)."""
        nodes = [NodeInfo.from_heartbeat(b) for _, b in sorted(self.store.heartbeats().items())]
        return ClusterStatus(
            nodes,
            sum(n.concurrency for n in nodes if n.role == ROLE_RENDER),
            int(self.store.redis.zcard(keys.QUEUED)),
            len(self.store.active()),
            self.get_pools(),
        )

    def get_pools(self) -> list[PoolStatus]:
        """The autoscaled pools as the orchestrator's autoscaler last left them (and those of
        this machine's pools file, CLOUDRENDER_POOLS_FILE, it has not seen yet)."""
        config = None
        if self.settings.pools_file:
            config = load_pools(self.settings.pools_file, self.settings.pool_overrides)
            # The file's [autoscaler] table and CLOUDRENDER_AUTOSCALER_* are vetted as the
            # orchestrator vets them: a misspelt override read as fine here, then stopped it.
            load_policy(config.autoscaler, self.settings.autoscaler_overrides)
        return pool_statuses(self.store.redis, config)

    def orchestrator_running(self) -> bool:
        """Whether a live node consumes the orchestrator queue (someone plans submitted jobs)."""
        return any(orchestrates(beat) for beat in self.store.heartbeats().values())

    def render_nodes(self) -> list[str]:
        """Names of the live render nodes (those whose slots render chunks)."""
        return sorted(name for name, beat in self.store.heartbeats().items() if renders(beat))

    def paused(self) -> bool:
        """Whether dispatching is paused."""
        return bool(self.store.redis.exists(keys.PAUSED))


class missing_ok:
    """Skip jobs that expire while being read."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, value: object, tb: object) -> bool:
        return isinstance(value, JobNotFound)

"""The public Python API (the spec's Provider API), over the job store and the Celery app.

api = CloudRenderingAPI()                      # broker from $CLOUDRENDER_BROKER_URL
job = api.submit_job("project.json", output="/renders/out.mp4", priority="high")
api.on_progress_update(lambda event: print(event))
print(api.wait(job).state)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from chunking.timeline.model import Timeline
from chunking.timeline.project import Project
from common.errors import RenderError
from common.names import LEVELS, PRIORITIES, QUEUE_ORCHESTRATOR, TASK_PLAN_JOB
from common.settings import Settings
from orchestrator import keys
from orchestrator.api_cache import job_quote, open_cache
from orchestrator.api_cluster import ClusterControl
from orchestrator.api_estimate import (
    JobEstimate,
    accuracy,
    estimate_job,
    estimate_record,
    parse_deadline,
)
from orchestrator.api_results import (
    Billing,
    CostLimitExceeded,
    ReuseEstimate,
    Subscription,
)
from orchestrator.api_view import missing_ok
from orchestrator.budget_rules import check_max_cost, dollars
from orchestrator.budgets import budget_lock, check_budget
from orchestrator.celery_app import make_app
from orchestrator.cluster_errors import redis_errors_mapped
from orchestrator.dispatcher import Dispatcher
from orchestrator.job_cancel import cancel
from orchestrator.job_record import JobRecord, JobState
from orchestrator.scheduling import future_deadline
from orchestrator.segment_cache import CacheStats
from orchestrator.stats import (
    NodeMetrics,
    RenderMetrics,
    collect_node_metrics,
    collect_render_metrics,
)
from orchestrator.submission import billing_scope, new_job, prepare_project
from providers.storage import StorageError, open_storage
from workers.atomic import write_target
from workers.job_spec import JobSpec, configure_runtime


@redis_errors_mapped
class CloudRenderingAPI(ClusterControl):
    """Submit, watch, cancel and account for render jobs on a cluster; Redis failing raises
    ClusterError (common.errors), never the Redis client's own exceptions."""

    def __init__(
        self,
        broker_url: str | None = None,
        *,
        storage_url: str | None = None,
        settings: Settings | None = None,
    ) -> None:
        super().__init__(broker_url, storage_url=storage_url, settings=settings)
        url = self.broker_url
        # An app of its own: clients of several clusters in one process must not share a
        # connection pool (the shared app is bound to the first broker it talks to).
        self.app = make_app(dataclasses.replace(self.settings, broker_url=url, result_backend=url))
        configure_runtime(
            encryption_key=self.settings.encryption_key,
            cache_dir=self.settings.cache_dir,
            cache_bytes=self.settings.cache_bytes,
        )
        self.dispatcher = Dispatcher(self.store, self.app)
        # Per thread: the service submits the jobs of several requests at once.
        self._last = threading.local()

    @property
    def last_estimate(self) -> JobEstimate | None:
        """The estimate this thread's last submit_job made and stored on its job (None: none
        could be made), as HTTPRenderingAPI.last_estimate: answered without estimating again."""
        estimate: JobEstimate | None = getattr(self._last, "estimate", None)
        return estimate

    # -- jobs ---------------------------------------------------------------------------------

    def submit_job(
        self,
        project: str | Mapping[str, Any] | Project,
        settings: Mapping[str, Any] | None = None,
        *,
        output: str,
        priority: str = "normal",
        deadline: float | dt.datetime | str | None = None,
        max_cost: float | None = None,
        chunk_frames: int | None = None,
        base_dir: str | None = None,
        keep_segments: bool = False,
        sync_assets: bool = False,
        local_delivery: bool = True,
        use_cache: bool = True,
        project_name: str = "",
        user: str = "",
    ) -> str:
        """Validate, estimate, check the cost ceiling, and queue a job; return its id.

        ``project_name``/``user``: who the job is billed to (budgets, billing export).
        ``deadline``: epoch seconds, a datetime, ISO 8601 (UTC if naive) or ``+N[smhd]`` from now.

        ``local_delivery=False``: workers never write a local ``output`` path, the caller
        fetches the video itself (``download``), as ``cloudrender render`` does.
        ``use_cache=False``: every chunk is rendered, none is taken from or put into the
        segment cache (with it, the estimate and the cost ceiling count only chunks to render).
        """
        self._last.estimate = None
        if priority not in LEVELS:
            raise RenderError(f"priority {priority!r} is not one of {', '.join(LEVELS)}")
        max_cost = check_max_cost(max_cost)
        # "+2h" as the CLI, estimate_cost and the past-deadline message itself take it
        now = time.time()
        when = future_deadline(parse_deadline(deadline, now), deadline, now)
        storage_url = self._storage_url()
        prepared = self._project(project, settings, base_dir, output)
        timeline = prepared.timeline
        quote = self._quote(timeline, chunk_frames, use_cache)
        if max_cost is not None and quote.cost > max_cost:
            raise CostLimitExceeded(
                # dollars(): a job of fractions of a cent over max_cost 0 read "$0.0000 is above
                # the limit $0.0000".
                f"estimated cost {dollars(quote.cost)} is above the limit {dollars(max_cost)} "
                f"({quote.node_seconds:.0f} node-seconds at ${quote.hourly_rate:.2f}/h)"
            )
        spec, record = new_job(
            prepared,
            quote,
            storage_url=storage_url,
            output=output,
            priority=priority,
            deadline=when,
            max_cost=max_cost,
            chunk_frames=chunk_frames,
            keep_segments=keep_segments,
            sync_assets=sync_assets,
            local_delivery=local_delivery,
            use_cache=use_cache,
            encrypted=self.settings.encryption_key is not None,
        )
        record.project = billing_scope(project_name, "project")
        record.user = billing_scope(user, "user")
        # The ranges the job was submitted with, to measure the estimate against the actual.
        # With max_cost, as estimate_options prices it: the option recommended fits the limit.
        try:
            made = self._estimate(
                timeline, chunk_frames, use_cache, deadline=when, max_cost=max_cost
            )
        except RenderError:
            made = None
        record.estimate = estimate_record(made) if made is not None else None
        # A hard stop: a project or user at (or this job would take it past) 100 % of a budget,
        # counting what its unfinished jobs will still spend; checked and stored under one lock.
        with budget_lock(self.store.redis, record.project, record.user):
            check_budget(self.store.redis, record.project, record.user, quote.cost, time.time())
            self.store.create(record, spec.to_dict())
        # When it was sent: the tick sends it again if it is lost (failover.resend_lost_plan).
        self.store.update(record.id, plan_sent_at=time.time())
        self.app.send_task(
            TASK_PLAN_JOB,
            args=[record.id],
            queue=QUEUE_ORCHESTRATOR,
            priority=PRIORITIES[record.effective_priority],
        )
        self._submitted.add(record.id)
        self._last.estimate = made
        return record.id

    def cancel_job(self, job_id: str, reason: str = "cancelled by request") -> JobRecord:
        """Stop a job: queued chunks never start, running ones stop within a second or two.

        `reason` becomes the job's error, which ``status`` shows.
        """
        state = self.store.state(job_id)
        if state.finished:
            raise RenderError(f"job {job_id} is already {state}; nothing to cancel")
        if not cancel(self.store, job_id, reason, app=self.app, storage_url=self.storage_url):
            # It ended meanwhile (its merge completed it): left as it ended, its video kept.
            state = self.store.state(job_id)
            if state is JobState.COMPLETED:
                self.store.withdraw_cancel(job_id)
            raise RenderError(f"job {job_id} is already {state}; nothing to cancel")
        return self.store.get(job_id)

    def download(self, job_id: str, destination: str) -> str:
        """Copy a completed job's video from storage to a local file (through a symlink
        there, to its target)."""
        record = self.store.get(job_id)
        if record.state is not JobState.COMPLETED:
            raise RenderError(f"job {job_id} is {record.state}, not completed")
        spec = JobSpec.from_dict(self.store.spec(job_id))
        spec.storage().get_file(spec.output_key, write_target(destination))
        return destination

    def output_url(self, job_id: str, expires: int = 3600) -> str:
        """A completed job's video: a pre-signed URL where storage can sign, else its URL."""
        record = self.store.get(job_id)
        if record.state is not JobState.COMPLETED:
            raise RenderError(f"job {job_id} is {record.state}, not completed")
        spec = JobSpec.from_dict(self.store.spec(job_id))
        storage = open_storage(spec.storage_url)
        sign = getattr(storage, "presigned_url", None)
        # The merging worker's key decides whether the output is ciphertext: never hand out a
        # link to bytes that only decrypt with the cluster key.
        encrypted = bool((record.result or {}).get("encrypted", spec.encrypted))
        if encrypted:
            # A link to ciphertext plays nowhere: only a keyed process can hand the video out.
            raise RenderError(
                f"job {job_id}'s video is encrypted in storage (CLOUDRENDER_ENCRYPTION_KEY), so "
                f"no link can play it: fetch it decrypted with `cloudrender download {job_id} "
                "-o FILE` on a machine holding the key"
            )
        if callable(sign):
            try:
                return str(sign(spec.output_key, expires))
            except StorageError:
                pass  # these credentials cannot sign (e.g. GCS without a service account)
        return f"{storage.url.rstrip('/')}/{spec.output_key}"

    def estimate_cost(
        self,
        project: str | Mapping[str, Any] | Project,
        settings: Mapping[str, Any] | None = None,
        *,
        chunk_frames: int | None = None,
        use_cache: bool = True,
    ) -> ReuseEstimate:
        """Estimated render time and cost on this cluster, without submitting anything; with
        ``use_cache``, chunks whose segment the cache holds are counted (``reused_chunks``) but
        not priced."""
        timeline = self._project(project, settings, None, None).timeline
        return self._quote(timeline, chunk_frames, use_cache)

    # -- segment cache ------------------------------------------------------------------------

    def estimate_options(
        self,
        project: str | Mapping[str, Any] | Project,
        settings: Mapping[str, Any] | None = None,
        *,
        chunk_frames: int | None = None,
        use_cache: bool = True,
        provider: str | None = None,
        pool: str | None = None,
        market: str | None = None,
        deadline: float | dt.datetime | str | None = None,
        max_cost: float | None = None,
    ) -> JobEstimate:
        """Time (p10/p50/p90) and cost ranges per pool and market, and the recommended option
        for the deadline and max_cost (orchestrator.estimates)."""
        timeline = self._project(project, settings, None, None).timeline
        return self._estimate(
            timeline,
            chunk_frames,
            use_cache,
            provider=provider,
            pool=pool,
            market=market,
            deadline=deadline,
            max_cost=max_cost,
        )

    def _estimate(
        self, timeline: Timeline, chunk_frames: int | None, use_cache: bool, **choices: Any
    ) -> JobEstimate:
        return estimate_job(
            self.store.redis,
            self.settings,
            timeline,
            chunk_frames=chunk_frames,
            use_cache=use_cache,
            storage_url=self.storage_url,
            slots=self.dispatcher.slots(),
            **choices,
        )

    def cache_stats(self) -> CacheStats:
        """Segments in this storage's cache, their bytes and cap, and jobs' hits and misses."""
        return open_cache(self._storage_url(), self.store.redis, self.settings).stats()

    def clear_cache(self) -> int:
        """Remove every cached segment of this storage; return how many objects went."""
        return open_cache(self._storage_url(), self.store.redis, self.settings).clear()

    # -- money and metrics --------------------------------------------------------------------

    def get_billing(self, days: int = 30) -> Billing:
        """Spend per day (UTC) over the last `days` days, per stored job, and the newest finished
        jobs' estimate against actual."""
        ledger = {k: float(v) for k, v in self.store.redis.hgetall(keys.BILLING).items()}
        since = time.strftime("%Y-%m-%d", time.gmtime(time.time() - days * 86400))
        by_day = {d: c for d, c in sorted(ledger.items()) if d >= since}
        jobs = {}
        for job_id in self.store.recent(1000):
            with missing_ok():
                jobs[job_id] = float(self.store.get_fields(job_id, "actual_cost")["actual_cost"])
        measured = {}
        for job_id in self.store.recent(100):
            with missing_ok():
                found = accuracy(self.store.get(job_id))
                if found is not None:
                    measured[job_id] = found
        return Billing(sum(by_day.values()), by_day, jobs, measured)

    def get_metrics(self) -> RenderMetrics:
        """The spec's RenderMetrics, measured from the job store, heartbeats and /proc now."""
        return collect_render_metrics(self.store, hourly_rate=self.settings.hourly_rate)

    def get_node_metrics(self) -> list[NodeMetrics]:
        """The spec's NodeMetrics for every live worker node."""
        return collect_node_metrics(self.store)

    def on_progress_update(
        self, callback: Callable[[dict[str, Any]], None], job_id: str | None = None
    ) -> Subscription:
        """Call `callback(event)` for every progress event (of one job, if given)."""
        pubsub = self.store.redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(keys.PROGRESS)
        return Subscription(pubsub, callback, job_id)

    # -- helpers ------------------------------------------------------------------------------

    def _project(
        self,
        project: str | Mapping[str, Any] | Project,
        settings: Mapping[str, Any] | None,
        base_dir: str | None,
        output: str | None,
    ) -> Project:
        return prepare_project(project, settings, base_dir, output, self.settings.max_frame_bytes)

    def _quote(
        self, timeline: Timeline, chunk_frames: int | None, use_cache: bool
    ) -> ReuseEstimate:
        return job_quote(
            timeline,
            self.store,
            self.settings,
            slots=self.dispatcher.slots(),
            chunk_frames=chunk_frames,
            storage_url=self.storage_url,
            use_cache=use_cache,
        )

    def _storage_url(self) -> str:
        if self.storage_url is None:
            raise RenderError("no storage: pass storage_url or set CLOUDRENDER_STORAGE_URL")
        return self.storage_url

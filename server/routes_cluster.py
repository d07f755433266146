"""Cluster routes (operator keys): status, pools, scaling, pause and resume, the emergency
stop, metrics, nodes and the segment cache; and billing, which a user key may read for its own
user."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from common.errors import RenderError
from orchestrator import keys
from orchestrator.api import CloudRenderingAPI
from orchestrator.api_estimate import accuracy
from orchestrator.api_keys import ApiKey
from orchestrator.api_results import Billing, ClusterStatus
from orchestrator.budget_rules import Period, Scope, scope_key, window
from orchestrator.job_record import JobNotFound
from orchestrator.segment_cache import CacheStats
from orchestrator.stats import NodeMetrics, RenderMetrics
from orchestrator.wire import to_wire
from server.auth import CurrentKey, OperatorKey, api_of
from server.bodies import (
    OrchestratorAnswer,
    PausedAnswer,
    PoolList,
    RenderNodes,
    ScaleBody,
    StopAnswer,
)
from server.errors import error_responses

router = APIRouter(tags=["cluster"])

#: Jobs a user's billing looks through (newest first) for that user's costs.
BILLING_JOBS = 1000
#: Newest finished jobs of the user whose estimate is measured against the actual.
ACCURACY_JOBS = 100
_OPERATOR = error_responses(403)


@router.get(
    "/v1/billing",
    summary="spend per day and per job",
    responses={200: {"model": Billing}, **error_responses()},
)
def billing(
    key: CurrentKey, request: Request, days: Annotated[int, Query(ge=1, le=400)] = 30
) -> Any:
    """Spend per UTC day over the last ``days`` days and per stored job (a user key: only its
    user's spend and jobs)."""
    api = api_of(request)
    if key.operator:
        return to_wire(api.get_billing(days))
    return to_wire(_user_billing(api, key, days))


def _user_billing(api: CloudRenderingAPI, key: ApiKey, days: int) -> Billing:
    """A user's share of the billing: the per-user daily spend totals and their own jobs."""
    client = api.store.redis
    now = time.time()
    field = scope_key(Scope.USER, key.user)
    day_names = [window(Period.DAILY, now - back * 86400) for back in range(days)]
    pipe = client.pipeline()
    for day in day_names:
        pipe.hget(keys.spend(day), field)
    by_day = {
        day: float(raw)
        for day, raw in sorted(zip(day_names, pipe.execute(), strict=True))
        if raw is not None
    }
    jobs: dict[str, float] = {}
    measured: dict[str, dict[str, Any]] = {}
    for job_id in api.store.recent_of(key.user, BILLING_JOBS):
        try:
            fields = api.store.get_fields(job_id, "actual_cost", "user")
            if fields.get("user") != key.user:
                continue
            jobs[job_id] = float(fields.get("actual_cost") or 0.0)
            if len(measured) < ACCURACY_JOBS:
                found = accuracy(api.store.get(job_id))
                if found is not None:
                    measured[job_id] = found
        except JobNotFound:
            continue  # expired while read
    return Billing(sum(by_day.values()), by_day, jobs, measured)


@router.get(
    "/v1/cluster",
    summary="nodes, slots, queue and pools",
    responses={200: {"model": ClusterStatus}, **_OPERATOR},
)
def cluster_status(key: OperatorKey, request: Request) -> Any:
    """Live nodes, render slots, queued chunks, active jobs and the autoscaled pools."""
    return to_wire(api_of(request).get_cluster_status())


@router.get(
    "/v1/cluster/pools",
    summary="the autoscaled pools",
    responses={200: {"model": PoolList}, **_OPERATOR},
)
def cluster_pools(key: OperatorKey, request: Request) -> dict[str, Any]:
    """Every pool as the autoscaler last left it."""
    return {"pools": [to_wire(pool) for pool in api_of(request).get_pools()]}


@router.get(
    "/v1/cluster/render-nodes",
    response_model=RenderNodes,
    summary="names of the live render nodes",
    responses=_OPERATOR,
)
def render_nodes(key: OperatorKey, request: Request) -> dict[str, list[str]]:
    """The live render nodes (their heartbeats' names), as ``render_nodes()`` over Redis."""
    return {"nodes": api_of(request).render_nodes()}


@router.get(
    "/v1/cluster/orchestrator",
    response_model=OrchestratorAnswer,
    summary="whether an orchestrator plans submitted jobs",
    responses=_OPERATOR,
)
def orchestrator_running(key: OperatorKey, request: Request) -> dict[str, bool]:
    """Whether a live node consumes the orchestrator queue (without one, jobs stay queued)."""
    return {"running": api_of(request).orchestrator_running()}


@router.post(
    "/v1/cluster/scale",
    summary="scale a pool or the worker slots",
    responses=error_responses(400, 403),
)
def cluster_scale(body: ScaleBody, key: OperatorKey, request: Request) -> Any:
    """``pool`` (+ ``nodes``, ``duration``): hold a pool at that many nodes (nodes null hands it
    back to the autoscaler). ``slots``: grow or shrink the running workers to that many slots;
    the answer ``{"slots", "changes"}`` has the change per render node from the sizes last
    asked for (``scale_cluster(N)``'s result over Redis)."""
    api = api_of(request)
    if body.pool is not None and body.slots is not None:
        raise RenderError("scale either a pool (pool, nodes) or the worker slots (slots), not both")
    if body.pool is not None:
        return to_wire(api.scale_pool(body.pool, body.nodes, body.duration))
    if body.slots is not None:
        if body.nodes is not None or body.duration is not None:
            # Taken silently, they were dropped: a slot count holds until changed again.
            raise RenderError(
                "nodes and duration go with a pool; slots resizes the running workers until "
                "asked again and takes neither"
            )
        changes = api.scale_cluster(body.slots)
        return {"slots": body.slots, "changes": changes}
    raise RenderError("give a pool (with nodes, null to release it) or slots")


@router.get(
    "/v1/cluster/paused",
    response_model=PausedAnswer,
    summary="whether dispatching is paused",
    responses=_OPERATOR,
)
def cluster_paused(key: OperatorKey, request: Request) -> dict[str, bool]:
    """Whether dispatching is paused (pause, emergency stop) until resume."""
    return {"paused": api_of(request).paused()}


@router.post(
    "/v1/cluster/pause",
    response_model=PausedAnswer,
    summary="stop handing out chunks",
    responses=_OPERATOR,
)
def cluster_pause(key: OperatorKey, request: Request) -> dict[str, bool]:
    """Running chunks finish; queued jobs wait until resume."""
    api = api_of(request)
    api.pause_all()
    return {"paused": api.paused()}


@router.post(
    "/v1/cluster/resume",
    response_model=PausedAnswer,
    summary="hand out chunks again",
    responses=_OPERATOR,
)
def cluster_resume(key: OperatorKey, request: Request) -> dict[str, bool]:
    """Undo pause."""
    api = api_of(request)
    api.resume_all()
    return {"paused": api.paused()}


@router.post(
    "/v1/cluster/emergency-stop",
    response_model=StopAnswer,
    summary="pause and cancel every unfinished job",
    responses=_OPERATOR,
)
def emergency_stop(key: OperatorKey, request: Request) -> dict[str, Any]:
    """Pause dispatching first (nothing new starts), then cancel every unfinished job."""
    api = api_of(request)
    api.pause_all()
    return {"cancelled": api.cancel_all(), "paused": api.paused()}


@router.get(
    "/v1/metrics",
    summary="render metrics now",
    responses={200: {"model": RenderMetrics}, **_OPERATOR},
)
def metrics(key: OperatorKey, request: Request) -> Any:
    """The spec's RenderMetrics, measured from the job store and heartbeats now."""
    return to_wire(api_of(request).get_metrics())


@router.get(
    "/v1/nodes",
    summary="every live node's metrics",
    responses={200: {"model": list[NodeMetrics]}, **_OPERATOR},
)
def nodes(key: OperatorKey, request: Request) -> Any:
    """NodeMetrics of every live worker node."""
    return [to_wire(node) for node in api_of(request).get_node_metrics()]


@router.get(
    "/v1/cache",
    summary="the segment cache's size, hits and misses",
    responses={200: {"model": CacheStats}, **_OPERATOR},
)
def cache_stats(key: OperatorKey, request: Request) -> Any:
    """CacheStats of the segment cache in the service's storage."""
    return to_wire(api_of(request).cache_stats())


@router.delete("/v1/cache", summary="remove every cached segment", responses=_OPERATOR)
def clear_cache(key: OperatorKey, request: Request) -> dict[str, int]:
    """Remove every cached segment of the service's storage: ``{"removed": entries}``."""
    return {"removed": api_of(request).clear_cache()}

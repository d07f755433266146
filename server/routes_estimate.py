"""The estimate route: a project's time and cost per pool and market, without submitting it.

Its media must be in storage, as a submit's must (``orchestrator.assets.plan_assets``, the
same check and words): an estimate of a project naming an asset nobody uploaded was answered
200, and the submit that followed was refused.
"""

from __future__ import annotations

import tempfile
from typing import Any

from fastapi import APIRouter, Request

from orchestrator.api_estimate import JobEstimate
from orchestrator.asset_uploads import missing_assets
from orchestrator.assets import plan_assets
from orchestrator.wire import to_wire
from server.auth import CurrentKey, api_of
from server.bodies import EstimateBody
from server.errors import error_responses
from server.json_body import UniqueKeysRoute
from server.projects import load_remote_project
from server.routes_assets import asset_storage, stored_assets
from server.stored_media import stored_media

router = APIRouter(tags=["jobs"], route_class=UniqueKeysRoute)


@router.post(
    "/v1/estimate",
    summary="estimate time and cost without submitting",
    responses={200: {"model": JobEstimate}, **error_responses(400, 413, 415)},
)
def estimate(body: EstimateBody, key: CurrentKey, request: Request) -> Any:
    """Time (p10/p50/p90) and cost per pool and market, and the recommended option."""
    project = load_remote_project(body.project, body.media)
    check_assets_stored(request, project.document)
    # The uploaded media checked as validate checks files (a submit refuses what fails).
    with stored_media(stored_assets(request), project) as project:
        result = api_of(request).estimate_options(
            project,
            body.settings,
            chunk_frames=body.chunk_frames,
            provider=body.provider,
            pool=body.pool,
            market=body.market,
            deadline=body.deadline,
            max_cost=body.max_cost,
        )
    return to_wire(result)


def check_assets_stored(request: Request, document: dict[str, Any]) -> None:
    """ValidationError naming each clip whose asset reference storage does not hold (none
    checked where the service has no storage: a submit says so)."""
    if api_of(request).storage_url is None:
        return
    storage = asset_storage(request)

    def stored(names: list[str]) -> list[str]:
        absent = set(missing_assets(storage, names))
        return [name for name in names if name not in absent]

    # The document holds asset references only (load_remote_project): no file is opened.
    with tempfile.TemporaryDirectory(prefix="cloudrender-api-") as folder:
        plan_assets(document, folder, stored=stored, holder="storage")

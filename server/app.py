"""The ASGI application: ``create_app(settings)`` wires the routers, the API key check, the
limits, CORS and the JSON error answers around one ``CloudRenderingAPI``.

    request ─► CORS ─► requests at once (503) ─► body limits (413/415) ─► HEAD as GET ─► route
            ─► current_key / operator_key (401/403, rate 429)
            ─► CloudRenderingAPI (Redis job store, storage) ─► to_wire(result)

Every router lives in ``server/routes_*.py`` and exports ``router``. Routes are plain ``def``
functions where they call the (blocking) Python API, so FastAPI runs them in its thread pool;
streams (SSE) are ``async``.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from starlette.datastructures import Headers
from starlette.responses import Response

from common.settings import Settings
from orchestrator.api import CloudRenderingAPI
from orchestrator.api_keys import KeyStore
from server import (
    routes_assets,
    routes_cluster,
    routes_dashboard,
    routes_estimate,
    routes_events,
    routes_jobs,
)
from server.auth import KeyBeforeBody
from server.errors import error_response, install_error_handlers
from server.head import HeadAsGet
from server.headers import PrivateAnswers
from server.limits import BodyLimitMiddleware, RateLimiter, RequestCap

#: The version of the routes under /v1 (changes only with an incompatible change to them).
API_VERSION = "1.0"
#: The OpenAPI document's description (docs/api.md is the full reference).
DESCRIPTION = (
    "Submit render jobs, follow their progress (Server-Sent Events), download the video and "
    "run the cluster. Authenticate with `Authorization: Bearer <API key>` (`cloudrender keys "
    'create`). Every error is `{"error": "<one line>"}`.'
)


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware, its refused preflight answered in JSON like every error."""

    def preflight_response(self, request_headers: Headers) -> Response:
        """The preflight answer; a refusal as ``{"error": ...}``."""
        answer = super().preflight_response(request_headers)
        if answer.status_code < 400:
            return answer
        headers = {
            k: v for k, v in answer.headers.items() if k.lower().startswith(("access", "vary"))
        }
        message = bytes(answer.body).decode("utf-8", "replace")
        return error_response(answer.status_code, f"{message} (CORS preflight)", headers)


def create_app(
    settings: Settings, *, api: CloudRenderingAPI | None = None, max_requests: int | None = None
) -> FastAPI:
    """The HTTP service over ``api`` (default: a CloudRenderingAPI built from ``settings``),
    answering 503 over ``max_requests`` requests at once (None: no cap)."""
    api = api or CloudRenderingAPI(settings=settings)
    app = FastAPI(
        title="Cloud Rendering",
        version=API_VERSION,
        description=DESCRIPTION,
        # FastAPI's interactive pages load scripts from a CDN; the JSON document is enough.
        docs_url=None,
        redoc_url=None,
        # A body sent without Content-Type is read as JSON (docs/api.md): FastAPI's default
        # left it unread, and the client got "body: Input should be a valid dictionary".
        strict_content_type=False,
    )
    app.state.settings = settings
    app.state.api = api
    app.state.keys = KeyStore(api.store.redis)
    app.state.rate_limiter = RateLimiter(settings.api_rate_per_minute)
    # Set when the server begins to stop: open event streams end (server.stream_slots).
    app.state.closing = threading.Event()
    install_error_handlers(app)

    # Both async, on the event loop: requests waiting on a frozen Redis hold every thread of
    # the pool, and a probe that queued for one went unanswered until they gave up.
    @app.get("/healthz", tags=["service"], summary="liveness (no auth)")
    async def healthz() -> dict[str, bool]:
        """Answers while the process serves requests."""
        return {"ok": True}

    # A probe that sends HEAD (HAProxy, uptime checkers) got 405 and took a healthy server
    # for dead; RFC 9110 asks every GET resource to answer HEAD.
    @app.head("/healthz", include_in_schema=False)
    async def healthz_head() -> Response:
        """The liveness answer's headers."""
        return Response(media_type="application/json")

    modules = (routes_jobs, routes_estimate, routes_events, routes_assets, routes_cluster,
               routes_dashboard)  # fmt: skip
    for module in modules:
        app.include_router(module.router)
    app.openapi = lambda: _with_bearer_auth(app)  # type: ignore[method-assign]
    # Innermost: the key check, limits and headers see the HEAD a client sent.
    app.add_middleware(HeadAsGet, routes=app.router.routes)
    app.add_middleware(KeyBeforeBody)
    app.add_middleware(PrivateAnswers)
    app.add_middleware(
        BodyLimitMiddleware,
        max_body=settings.api_max_body_bytes,
        max_asset=settings.api_max_asset_bytes,
    )
    # Outermost but for CORS: a refusal for load costs the least work.
    app.add_middleware(RequestCap, most=max_requests)
    # Added last, so it is outermost: even a 413, 401 or 503 carries the CORS headers a browser
    # needs to show the client its error.
    app.add_middleware(
        JsonCORSMiddleware,
        allow_origins=list(settings.api_cors_origins),
        allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Last-Event-ID", "Range"],
        expose_headers=["Retry-After", "Content-Range", "Accept-Ranges", "Content-Disposition"],
        max_age=600,
    )
    return app


def _with_bearer_auth(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, its ``/v1/`` routes declaring the Bearer API key they need, so a
    generated client takes the key (without it, every call of one answered 401)."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schema.setdefault("components", {})["securitySchemes"] = {
            "apiKey": {
                "type": "http",
                "scheme": "bearer",
                "description": "an API key, cr_<id>_<secret> (`cloudrender keys create`)",
            }
        }
        for path, operations in schema["paths"].items():
            if path.startswith("/v1/"):
                for operation in operations.values():
                    operation["security"] = [{"apiKey": []}]
        app.openapi_schema = schema
    return app.openapi_schema

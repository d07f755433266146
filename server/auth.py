"""Who is asking: the API key of a request (``Authorization: Bearer cr_<id>_<secret>``) and
what its role lets it see.

    current_key        any live key (401 otherwise); counts against the key's rate limit
    operator_key       an operator key (403 for a user key)
    key_from_query     as current_key, but ``?key=`` is accepted too: EventSource (SSE in a
                       browser) cannot set headers
    operator_from_query  the operator version of key_from_query (the dashboard's stream)
    visible_job        a job's record if the key may see it; another user's job answers
                       exactly like a job that does not exist (404), so ids leak nothing

Checking a key reads one Redis field and compares sha256 digests in constant time
(orchestrator.api_keys); a revoked key fails on its next request. The checks are plain functions,
which FastAPI runs in its thread pool: a slow Redis reply never holds up the event loop, and
with it every other request and stream. A request with a body has its key checked before the
body is read (``KeyBeforeBody``): without a valid key nobody gets a large body parsed.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import anyio.to_thread
from fastapi import Depends, Request
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from orchestrator.api import CloudRenderingAPI
from orchestrator.api_keys import ApiKey, KeyStore
from orchestrator.job_record import JobNotFound, JobRecord
from server.errors import answer_for
from server.limits import RateLimiter

#: What a job id may look like; anything else is answered as an unknown job (404).
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="cloudrender"'}


def api_of(request: Request) -> CloudRenderingAPI:
    """The Python API the app serves."""
    api: CloudRenderingAPI = request.app.state.api
    return api


def keys_of(request: Request) -> KeyStore:
    """The app's API key store."""
    store: KeyStore = request.app.state.keys
    return store


def bearer_token(request: Request) -> str | None:
    """The key in the Authorization header, or None."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "the Authorization header must be 'Bearer <API key>'", _CHALLENGE)
    return token.strip()


def _authenticate(request: Request, token: str | None) -> ApiKey:
    """The request's key, checked once (KeyBeforeBody may have checked it already)."""
    checked: ApiKey | None = getattr(request.state, "api_key", None)
    if checked is not None:
        return checked
    if token is None:
        raise HTTPException(
            401, "an API key is needed: send 'Authorization: Bearer <key>'", _CHALLENGE
        )
    key = keys_of(request).authenticate(token)
    if key is None:
        raise HTTPException(401, "the API key is not valid (unknown or revoked)", _CHALLENGE)
    limiter: RateLimiter = request.app.state.rate_limiter
    limiter.take(key)
    request.state.api_key = key
    return key


def current_key(request: Request) -> ApiKey:
    """The request's live API key (header only); 401 without one, 429 over its rate."""
    return _authenticate(request, bearer_token(request))


def operator_key(key: Annotated[ApiKey, Depends(current_key)]) -> ApiKey:
    """The request's key if it is an operator's; 403 for a user key."""
    return _require_operator(key)


def key_from_query(request: Request) -> ApiKey:
    """The request's key from the header, or from ``?key=`` (EventSource sets no headers)."""
    return _authenticate(request, bearer_token(request) or request.query_params.get("key"))


def operator_from_query(key: Annotated[ApiKey, Depends(key_from_query)]) -> ApiKey:
    """key_from_query, for operators only (403 for a user key)."""
    return _require_operator(key)


def _require_operator(key: ApiKey) -> ApiKey:
    if not key.operator:
        raise HTTPException(403, f"this needs an operator key; key {key.id} is a user key")
    return key


def not_found(job_id: str) -> JobNotFound:
    """The error for a job this key cannot see: the same as for one that does not exist."""
    return JobNotFound(f"no job {job_id!r} (unknown, or finished and expired)")


def check_job_id(job_id: str) -> str:
    """``job_id`` if it can be one (anything else is an unknown job: 404)."""
    if not _JOB_ID.match(job_id):
        raise not_found(job_id)
    return job_id


def may_see(key: ApiKey, record_user: str) -> bool:
    """Whether ``key`` may see a job billed to ``record_user``."""
    return key.operator or record_user == key.user


def visible_job(api: CloudRenderingAPI, key: ApiKey, job_id: str) -> JobRecord:
    """The job's record if ``key`` may see it; 404 for unknown ids and other users' jobs."""
    check_job_id(job_id)
    try:
        record = api.get_job_status(job_id)
    except JobNotFound:
        raise not_found(job_id) from None
    if not may_see(key, record.user):
        raise not_found(job_id)
    return record


def check_visible(api: CloudRenderingAPI, key: ApiKey, job_id: str) -> None:
    """visible_job without reading the chunks (one field): for streams and downloads."""
    check_job_id(job_id)
    try:
        fields: dict[str, Any] = api.store.get_fields(job_id, "id", "user")
    except JobNotFound:
        raise not_found(job_id) from None
    if not may_see(key, str(fields.get("user") or "")):
        raise not_found(job_id)


CurrentKey = Annotated[ApiKey, Depends(current_key)]
OperatorKey = Annotated[ApiKey, Depends(operator_key)]


class KeyBeforeBody:
    """Check the key of a ``/v1/`` request that carries a body before any of it is read: FastAPI
    reads and parses a body before it solves the route's dependencies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 401/429 as JSON, or pass the request on with its key checked."""
        bodyless = scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS")
        if bodyless or not str(scope["path"]).startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            await anyio.to_thread.run_sync(_checked, request)
        except Exception as exc:  # noqa: BLE001 - each answered as the app's handlers would
            await answer_for(request, exc)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _checked(request: Request) -> ApiKey:
    return _authenticate(request, bearer_token(request))

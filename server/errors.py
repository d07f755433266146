"""Every non-2xx answer as ``{"error": "<one line>"}``: the project's errors mapped to status
codes with the message the CLI prints, FastAPI's own refusals (schema, routing) made one line,
and anything unexpected logged here and answered without a trace.

    RenderError                400  (bad input: the CLI's `error: ...` line)
    ├── JobNotFound            404
    ├── InvalidTransition      409
    ├── BudgetExceeded         429  Retry-After: to the end of the UTC day
    └── ApiError(status)       its own status (Conflict 409, QuotaExceeded 429, ...)
    RequestValidationError     422  (the first problem: where and what; 400 for a body that is
                                    not JSON at all)
    HTTPException              its status (401, 403, 404 route, 405, 413, 415)
    redis.RedisError           503 (500 for an error reply); also a ClusterError the API raised
    ClientDisconnect           400  (logged at INFO: the client left mid-body)
    anything else              500  "internal error" (the traceback goes to the log only)

A ValidationError's body also lists every problem under "problems" (the line names the first
few), as ``--json`` does on the command line.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from common.errors import ClusterError, RenderError, ValidationError, summarize
from orchestrator.budgets import BudgetExceeded
from orchestrator.job_record import InvalidTransition, JobNotFound

log = logging.getLogger("cloudrender.server")


class ErrorBody(BaseModel):
    """Every refusal's body."""

    error: str
    #: our error class (JobNotFound, CostLimitExceeded...), for clients that raise the same one
    type: str | None = None
    #: every problem of a project that failed validation (error names the first few)
    problems: list[str] | None = None


_MEANINGS = {
    400: "bad input (the message the CLI prints)",
    401: "no valid API key",
    403: "the key's role or project does not allow this",
    404: "unknown job (or another user's)",
    409: "the job is not in a state that allows this",
    413: "body too large",
    415: "not JSON",
    422: "a field is missing, unknown or of the wrong type",
    429: "over the key's rate or quota (see Retry-After)",
}


def error_responses(*codes: int, **meanings: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error codes (401, 422 and 429 always: every route
    checks a key and its rate); ``meanings`` overrides a description as ``e409="..."``."""
    wanted = sorted({401, 422, 429, *codes})
    return {
        code: {
            "model": ErrorBody,
            "description": meanings.get(f"e{code}", _MEANINGS.get(code, "error")),
        }
        for code in wanted
    }


class ApiError(RenderError):
    """A refusal with its own HTTP status (and headers, e.g. Retry-After)."""

    status = 400

    def __init__(
        self, message: str, status: int | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        self.headers = dict(headers or {})


class Conflict(ApiError):
    """The job is not in a state that allows this (cancel a finished job, download early)."""

    status = 409


class QuotaExceeded(ApiError):
    """A key's rate or quota is used up for now; ``retry_after`` seconds tell when to retry."""

    status = 429

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, math.ceil(retry_after)))})


def error_body(
    message: str, problems: list[str] | None = None, kind: str | None = None
) -> dict[str, Any]:
    """The JSON body of a refusal; ``type`` names our error class, so a client can raise the
    same one (CostLimitExceeded, JobNotFound...) without reading the wording."""
    line = _bounded(" ".join(message.split()) or "error", MAX_ERROR_CHARS)
    return {
        "error": line,
        **({"type": kind} if kind else {}),
        **({"problems": [_bounded(p, MAX_PROBLEM_CHARS) for p in problems]} if problems else {}),
    }


#: Characters of an error line and of each listed problem an answer carries: a refusal quotes
#: the input it refuses, which must not come back megabytes long.
MAX_ERROR_CHARS = 2000
MAX_PROBLEM_CHARS = 1000


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 30]}... ({len(text)} characters)"


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """A one-line JSON refusal."""
    return JSONResponse(error_body(message), status_code=status, headers=dict(headers or {}))


def status_of(exc: RenderError) -> int:
    """The HTTP status of one of our errors."""
    if isinstance(exc, ApiError):
        return exc.status
    if isinstance(exc, JobNotFound):
        return 404
    if isinstance(exc, InvalidTransition):
        return 409
    if isinstance(exc, BudgetExceeded):
        return 429
    return 400


def _render_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RenderError)
    if isinstance(exc, ClusterError) and isinstance(exc.__cause__, redis.RedisError):
        # The Python API's wrapping of a Redis failure: answered as the failure itself.
        return _redis_error(request, exc.__cause__)
    headers = dict(exc.headers) if isinstance(exc, ApiError) else {}
    if isinstance(exc, BudgetExceeded):
        headers["Retry-After"] = str(_to_utc_midnight(time.time()))
    problems = exc.problems if isinstance(exc, ValidationError) else None
    # the service's own refusals (ApiError) and plain RenderErrors have no class to keep
    kind = None if isinstance(exc, ApiError) or type(exc) is RenderError else type(exc).__name__
    body = error_body(str(exc), problems, kind)
    return JSONResponse(body, status_of(exc), headers=headers)


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    problems = [_problem(error) for error in errors]
    # A body that is not JSON at all is bad input (400, as docs/api.md says), not a schema miss.
    status = 400 if any(e.get("type") == "json_invalid" for e in errors) else 422
    return JSONResponse(error_body(summarize(problems or ["invalid request"])), status)


def _problem(error: Mapping[str, Any]) -> str:
    """One schema problem as "where: what"."""
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
    kind = error.get("type", "")
    if kind == "json_invalid":
        return f"the body is not valid JSON ({error.get('ctx', {}).get('error', 'malformed')})"
    if kind == "extra_forbidden":
        return f"{where}: unknown field"
    if kind == "missing":
        return f"{where}: required"
    return f"{where}: {error.get('msg', 'invalid')}"


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = f"no such route: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    elif exc.status_code == 400 and message == "There was an error parsing the body":
        message = _unreadable_body(exc.__cause__)
    return error_response(exc.status_code, message, exc.headers)


def _unreadable_body(cause: BaseException | None) -> str:
    """Why a body that FastAPI could not parse is not JSON this service reads."""
    if isinstance(cause, ValueError) and "integer string conversion" in str(cause):
        # Python reads no integer of over 4300 digits; it said "not UTF-8" before.
        return "the body holds a number of over 4300 digits; no field takes one that large"
    return "the body cannot be read as JSON (not UTF-8, or nested too deeply)"


def _redis_error(request: Request, exc: Exception) -> JSONResponse:
    log.warning("redis error on %s %s: %s", request.method, _logged_path(request), exc)
    if isinstance(exc, redis.ResponseError):  # Redis answered, and refused the command
        return error_response(500, "the cluster's Redis refused a command (the service log has it)")
    return error_response(503, f"the cluster's Redis cannot be reached ({type(exc).__name__})")


def _client_left(request: Request, exc: Exception) -> JSONResponse:
    """The client went away mid-body: nobody to answer, nothing wrong with the service."""
    log.info("client left during %s %s", request.method, _logged_path(request))
    return error_response(400, "the client disconnected before the body was complete")


def _logged_path(request: Request) -> str:
    """The request's path for a log line, its control and invisible characters escaped."""
    # Any client picks it (%1b[2J, %e2%80%ae, %00 arrive decoded): written raw, it could
    # rewrite a terminal showing the log or hide what it says (an ANSI escape, a direction
    # override). uvicorn's access log quotes it; ours did not.
    path = request.url.path
    return path if path.isprintable() else repr(path)[1:-1]


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ClientDisconnect):
        return _client_left(request, exc)
    log.error("unexpected error on %s %s", request.method, _logged_path(request), exc_info=exc)
    return error_response(500, "internal error (the service log has the details)")


def answer_for(request: Request, exc: Exception) -> JSONResponse:
    """The JSON answer the app's handlers give ``exc``, for code that runs before them (an
    ASGI middleware)."""
    if isinstance(exc, RenderError):
        return _render_error(request, exc)
    if isinstance(exc, HTTPException):
        return _http_error(request, exc)
    if isinstance(exc, redis.RedisError):
        return _redis_error(request, exc)
    return _unexpected(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every refusal and failure of ``app`` with a one-line JSON body."""
    app.add_exception_handler(RenderError, _render_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(redis.RedisError, _redis_error)
    # Its own handler: the one for Exception answers and then re-raises (Starlette's last
    # resort), so uvicorn logged every abandoned upload as an ERROR with a traceback.
    app.add_exception_handler(ClientDisconnect, _client_left)
    app.add_exception_handler(Exception, _unexpected)


def _to_utc_midnight(now: float) -> int:
    """Whole seconds until the next UTC day starts (when daily budgets reset)."""
    return max(1, 86400 - int(now) % 86400)

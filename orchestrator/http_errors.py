"""The HTTP client's errors: a service's error answer as the RenderError the Python API would
have raised, and an unreachable service as one line naming its URL.

Every non-2xx answer of the service is ``{"error": "<one line>"}`` (docs/api.md); the status
picks the class, and an optional ``"type"`` (the server's exception class name) or
``"problems"`` (every problem of a validation) refine it:

    400      RenderError; ValidationError with "problems"; CostLimitExceeded where it says so
    401      AuthenticationFailed
    403      PermissionDenied
    404      JobNotFound on a route naming a job, RenderError elsewhere
    409      JobConflict (finished already, not completed yet)
    413/415  RenderError (too large; not JSON or not an allowed media file)
    429      RateLimited (transient, retry_after seconds); BudgetExceeded where it says so
    5xx      ServiceError (transient)
    none     ServiceUnreachable (transient): one line naming the URL
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from common.errors import RenderError, ValidationError
from common.urls import redact_url
from orchestrator.api_results import CostLimitExceeded, JobLost
from orchestrator.budgets import BudgetExceeded
from orchestrator.job_record import JobNotFound

__all__ = [
    "AuthenticationFailed",
    "JobConflict",
    "PermissionDenied",
    "RateLimited",
    "ServiceError",
    "ServiceUnreachable",
    "answer_error",
    "unreachable",
]

#: Characters of a non-JSON answer (a proxy's HTML page) quoted in a message.
QUOTED = 120
# The Python API's own wording of a cost ceiling refusal (orchestrator.api.submit_job).
_COST_LIMIT = re.compile(r"^estimated cost \$[0-9.]+ is above the limit ")
# ... and of a budget's refusal (orchestrator.budget_rules.refusal_message).
_BUDGET = re.compile(r"; no new job starts until it resets on ")


class ServiceUnreachable(RenderError):
    """The HTTP service could not be reached (refused, timed out, TLS failed)."""

    transient = True


class ServiceError(RenderError):
    """The HTTP service failed on its side (5xx)."""

    transient = True


class AuthenticationFailed(RenderError):
    """The API key is missing, unknown or revoked (401)."""


class PermissionDenied(RenderError):
    """The API key's role or project does not allow this (403)."""


class JobConflict(RenderError):
    """The job is not in a state that allows this (409): finished already, not completed yet."""


class RateLimited(RenderError):
    """Too many requests or over a quota (429); ``retry_after``: seconds the service asks for."""

    transient = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


#: Server exception class names (the answer's "type") that keep their class on this side.
_TYPES: dict[str, type[RenderError]] = {
    "CostLimitExceeded": CostLimitExceeded,
    "BudgetExceeded": BudgetExceeded,
    "JobNotFound": JobNotFound,
    "JobLost": JobLost,
}


def answer_error(response: httpx.Response, *, job: bool = False) -> RenderError:
    """The error a non-2xx ``response`` stands for (``job``: the route names one job)."""
    status = response.status_code
    message, body = _message(response)
    kind = str(body.get("type") or "")
    if status == 429:
        if kind == "BudgetExceeded" or _BUDGET.search(message):
            return BudgetExceeded(message)
        return RateLimited(message, _retry_after(response))
    if status >= 500:
        return ServiceError(f"the service at {_origin(response)} failed ({status}): {message}")
    if status == 401:
        return AuthenticationFailed(message)
    if status == 403:
        return PermissionDenied(message)
    if status == 404:
        return JobNotFound(message) if job or kind == "JobNotFound" else RenderError(message)
    if status == 409:
        return JobConflict(message)
    if kind in _TYPES:
        return _TYPES[kind](message)
    if status == 400 and _COST_LIMIT.match(message):
        return CostLimitExceeded(message)
    problems = body.get("problems")
    if isinstance(problems, list) and problems and all(isinstance(p, str) for p in problems):
        return ValidationError(problems)
    return RenderError(message)


def unreachable(url: str, exc: Exception) -> ServiceUnreachable:
    """One line for a request that got no answer from the service at ``url`` (or from the
    other origin it went to: a pre-signed storage URL, named by its origin alone)."""
    reason = str(exc).strip() or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        reason = f"no answer in time ({type(exc).__name__})"
    try:
        sent = exc.request.url if isinstance(exc, httpx.RequestError) else None
    except RuntimeError:  # raised outside a request: no URL attached
        sent = None
    if sent is not None and sent.is_absolute_url and not url.startswith(_origin_of(sent)):
        return ServiceUnreachable(
            f"cannot reach the storage at {redact_url(_origin_of(sent))} the service sent this "
            f"client to: {reason}"
        )
    return ServiceUnreachable(
        f"cannot reach the service at {redact_url(url)}: {reason} (is it running? pass --api URL "
        "or set CLOUDRENDER_API_URL)"
    )


def _message(response: httpx.Response) -> tuple[str, dict[str, Any]]:
    """The answer's one-line message and its JSON body ({} when it has none)."""
    try:
        body = json.loads(response.content or b"null")
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"].strip():
        return " ".join(body["error"].split()), body
    if isinstance(body, dict) and isinstance(body.get("detail"), str):  # a bare FastAPI answer
        return " ".join(body["detail"].split()), body
    text = " ".join(response.text.split())[:QUOTED] if response.content else ""
    where = f"{response.request.method} {redact_url(str(response.request.url))}"
    line = f"{where} answered {response.status_code} {response.reason_phrase or 'error'}"
    return line + (f": {text}" if text else ""), body if isinstance(body, dict) else {}


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None  # an HTTP date: rare from an API; the caller waits its own way


def _origin(response: httpx.Response) -> str:
    return redact_url(_origin_of(response.request.url))


def _origin_of(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"

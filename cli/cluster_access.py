"""Which cluster a job command talks to, and how: Redis (``--broker``/``--storage``, the full
or the read-only API) or the HTTP service (``--api``), with the exit codes a failing service
gives (``over_http``). The heavy clients load only in the commands that use them.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cli.failures import EXIT_FORBIDDEN, EXIT_UNREACHABLE, error_json, terminal_text
from common.errors import RenderError
from common.settings import Settings

if TYPE_CHECKING:
    from orchestrator.http_client import HTTPRenderingAPI


def cluster_options(parser: argparse.ArgumentParser) -> None:
    """``--broker`` and ``--storage``: the cluster a command talks to."""
    parser.add_argument("--broker", help="Redis URL (default: $CLOUDRENDER_BROKER_URL)")
    parser.add_argument(
        "--storage",
        help="the storage the cluster's workers share (default: $CLOUDRENDER_STORAGE_URL)",
    )


def job_options(parser: argparse.ArgumentParser) -> None:
    """``--broker``/``--storage`` (Redis) or ``--api`` (the HTTP service): where a job command
    goes."""
    cluster_options(parser)
    parser.add_argument(
        "--api",
        metavar="URL",
        help="the cluster's HTTP service instead of Redis (default: $CLOUDRENDER_API_URL); the "
        "API key comes from $CLOUDRENDER_API_KEY",
    )


def http_api(args: argparse.Namespace) -> HTTPRenderingAPI | None:
    """The HTTP service's client when this command goes through it (``--api``, or
    $CLOUDRENDER_API_URL without ``--broker``), else None (Redis)."""
    settings = Settings.from_env()
    url = getattr(args, "api", None)
    if url and getattr(args, "broker", None):
        raise RenderError("pass --api URL or --broker URL, not both")
    if not url and not getattr(args, "broker", None):
        url = settings.api_url
    if not url:
        return None
    if not settings.api_key:
        raise RenderError(
            f"no API key for {shown_url(url)}: set CLOUDRENDER_API_KEY "
            "(an operator makes one with `cloudrender keys create USER`)"
        )
    from orchestrator.http_client import HTTPRenderingAPI

    return HTTPRenderingAPI(url, settings.api_key, settings=settings)


def over_http(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Exit as over Redis when the HTTP service fails: 3 with one line when it cannot be
    reached or fails on its side (its Redis down: 503), 4 when it refuses the API key (401) or
    what the key may do (403), as a Redis user of another role is refused."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except Exception as exc:
            # Not imported here: it loads httpx, which a command over Redis never uses; a
            # service error can only come from a command that loaded it.
            if "orchestrator.http_errors" not in sys.modules:
                raise
            from orchestrator.http_errors import (
                AuthenticationFailed,
                PermissionDenied,
                ServiceError,
                ServiceUnreachable,
            )

            service = (ServiceUnreachable, ServiceError, AuthenticationFailed, PermissionDenied)
            if not isinstance(exc, service):
                raise
            if getattr(args, "json", False):
                print(json.dumps(error_json(args.command, exc), indent=2))
            print(f"error: {terminal_text(str(exc))}", file=sys.stderr)
            refused = isinstance(exc, AuthenticationFailed | PermissionDenied)
            return EXIT_FORBIDDEN if refused else EXIT_UNREACHABLE

    return run


def shown_url(url: str) -> str:
    """``url`` with its credentials redacted, for messages."""
    from common.urls import redact_url

    return redact_url(url)


def cluster_api(args: argparse.Namespace) -> Any:
    """The API of the cluster ``--broker`` (or $CLOUDRENDER_BROKER_URL) names, with the
    storage ``--storage`` (or $CLOUDRENDER_STORAGE_URL) names."""
    from orchestrator.api import CloudRenderingAPI

    return _cluster(args, CloudRenderingAPI)


def cluster_view(args: argparse.Namespace) -> Any:
    """The read-only API of that cluster (orchestrator.api_view): for the commands that only
    read the job store, which then load no Celery, kombu, NumPy or PyAV."""
    from orchestrator.api_view import ClusterView
    from providers.storage.encrypted import key_from_text

    view = _cluster(args, ClusterView)
    if view.settings.encryption_key:
        # A malformed key is refused here as the full API refuses it (exit 2), though a view
        # decrypts nothing: a misconfigured machine is told so by its first command.
        key_from_text(view.settings.encryption_key)
    return view


def _cluster(args: argparse.Namespace, kind: Callable[..., Any]) -> Any:
    """`kind` (the full or the read-only API) of the cluster the arguments name."""
    settings = Settings.from_env()
    broker = getattr(args, "broker", None) or settings.broker_url
    if broker is None:
        # Said in the command line's words: the API's message names its parameter.
        raise RenderError("no broker: pass --broker URL or set CLOUDRENDER_BROKER_URL")
    storage = getattr(args, "storage", None) or settings.storage_url
    return kind(broker, storage_url=storage, settings=settings)

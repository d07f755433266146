"""The Kubernetes client's edges for ``providers.compute.kubernetes``: where its configuration
comes from, and its exceptions turned into one-line ``KubernetesApiError``s, so no SDK exception
leaves ``providers/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from providers.compute.base import ComputeError
from providers.compute.pools import Pool


class KubernetesApiError(ComputeError):
    """A Kubernetes API call failed; ``status`` is the HTTP status (0: no answer)."""

    def __init__(self, message: str, *, status: int = 0, transient: bool = False) -> None:
        super().__init__(message, transient=transient)
        self.status = status


@contextmanager
def api_errors(pool: Pool, where: str, what: str, *, missing_ok: bool = False) -> Iterator[None]:
    """Turn the client's exceptions into one-line KubernetesApiErrors; with `missing_ok`,
    a 404 (the object is already gone) is no error."""
    try:
        yield
    except ApiException as exc:
        status = int(exc.status or 0)
        if missing_ok and status == 404:
            return
        raise KubernetesApiError(
            f"pool {pool.name!r}: Kubernetes refused to {what} {where}: "
            f"{status} {exc.reason or ''}{_api_message(exc)}".rstrip(),
            status=status,
            transient=status in (409, 429) or status >= 500,
        ) from None
    except urllib3.exceptions.HTTPError as exc:
        raise KubernetesApiError(
            f"pool {pool.name!r}: cannot reach the Kubernetes API to {what} "
            f"{where}: {_network_reason(exc)}",
            transient=True,
        ) from None


def configuration(endpoint: str | None, kubeconfig: str | None, context: str | None) -> Any:
    """The client's configuration: the endpoint, else a kubeconfig, else in-cluster."""
    conf = client.Configuration()
    try:
        if endpoint:
            conf.host = endpoint.rstrip("/")
        elif kubeconfig or context:
            config.load_kube_config(
                config_file=str(Path(kubeconfig).expanduser()) if kubeconfig else None,
                context=context,
                client_configuration=conf,
                persist_config=False,
            )
        else:
            try:
                config.load_incluster_config(client_configuration=conf)
            except config.ConfigException:
                config.load_kube_config(client_configuration=conf, persist_config=False)
    except Exception as exc:  # the loaders raise ConfigException, OSError, YAML errors...
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ComputeError(
            f"no Kubernetes configuration ({reason}): run in the cluster with a service "
            "account, or set the pool's options.kubeconfig/context or options.endpoint"
        ) from None
    # Retry refused connections briefly, never a request the server may have applied.
    conf.retries = urllib3.util.Retry(
        total=2, connect=2, read=0, redirect=0, status=0, other=0, backoff_factor=0.2
    )
    return conf


def _api_message(exc: ApiException) -> str:
    """The API server's own sentence from a Status body, if it sent one."""
    try:
        body = json.loads(exc.body or b"")
    except (TypeError, ValueError):
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return f": {' '.join(str(message).split())}" if message else ""


def _network_reason(exc: Exception) -> str:
    """urllib3's reason without the connection object's repr."""
    reason = getattr(exc, "reason", None) or exc
    text = " ".join(str(reason).split())
    return text.split(">: ", 1)[-1] if text.startswith("<") else text

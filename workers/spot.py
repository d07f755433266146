"""Spot/pre-emptible interruption notices from the cloud's instance metadata service.

AWS gives two minutes' notice (IMDSv2 ``spot/instance-action``), GCP thirty seconds
(``instance/preempted``), Azure at least thirty (Scheduled Events ``Preempt``). The endpoint is
a setting, so tests and air-gapped nodes point it at a local HTTP server:
``workers.spot_fake.FakeMetadataService`` is the stand-in that tests, benchmarks and local chaos
runs use.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable

log = logging.getLogger(__name__)

PROVIDERS = ("aws", "gcp", "azure")
DEFAULT_ENDPOINTS = {
    "aws": "http://169.254.169.254",
    "gcp": "http://metadata.google.internal",
    "azure": "http://169.254.169.254",
}

_AZURE = {"Metadata": "true"}
#: Each Azure metadata endpoint's VM name, once known.
_AZURE_NAMES: dict[str, str] = {}


def check_notice(provider: str, endpoint: str, timeout: float = 1.0) -> str | None:
    """A description of a pending interruption, or None (also when the service is away)."""
    base = endpoint.rstrip("/")
    try:
        if provider == "aws":
            return _aws(base, timeout)
        if provider == "gcp":
            body = _get(
                f"{base}/computeMetadata/v1/instance/preempted",
                {"Metadata-Flavor": "Google"},
                timeout,
            )
            return "GCP pre-emption" if body is not None and body.strip() == "TRUE" else None
        if provider == "azure":
            return _azure(base, timeout)
    except (OSError, ValueError) as exc:  # unreachable or garbled: no notice, try again later
        log.debug("spot notice check failed: %s", exc)
        return None
    raise ValueError(f"unknown spot provider {provider!r} (use {', '.join(PROVIDERS)})")


def _aws(base: str, timeout: float) -> str | None:
    token_request = urllib.request.Request(
        f"{base}/latest/api/token",
        method="PUT",
        headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"},
    )
    with urllib.request.urlopen(token_request, timeout=timeout) as response:
        token = response.read().decode()
    body = _get(
        f"{base}/latest/meta-data/spot/instance-action",
        {"X-aws-ec2-metadata-token": token},
        timeout,
    )
    if body is None:
        return None
    action = json.loads(body)
    return f"AWS spot {action.get('action', 'interruption')} at {action.get('time')}"


def _azure(base: str, timeout: float) -> str | None:
    """This VM's pending Preempt event. Scheduled Events go to every VM of a scale set's
    placement group, each event naming the VMs it affects (``Resources``): another VM's
    eviction is not this one's."""
    body = _get(f"{base}/metadata/scheduledevents?api-version=2020-07-01", _AZURE, timeout)
    events = json.loads(body).get("Events", []) if body else []
    preempt = [e for e in events if isinstance(e, dict) and e.get("EventType") == "Preempt"]
    if not preempt:
        return None
    name = _azure_name(base, timeout)
    mine = [
        e
        for e in preempt
        # Unknown name or no list: taken as this VM's (a needless evacuation costs a re-render,
        # a missed one the chunk and the node's work since).
        if name is None or not e.get("Resources") or name in e.get("Resources", [])
    ]
    return f"Azure pre-emption at {mine[0].get('NotBefore')}" if mine else None


def _azure_name(base: str, timeout: float) -> str | None:
    """This VM's name from the instance metadata (asked once per endpoint), or None."""
    if base not in _AZURE_NAMES:
        url = f"{base}/metadata/instance/compute/name?api-version=2021-02-01&format=text"
        try:
            name = (_get(url, _AZURE, timeout) or "").strip()
        except OSError as exc:
            log.debug("Azure VM name unknown: %s", exc)
            return None
        if not name:
            return None
        _AZURE_NAMES[base] = name
    return _AZURE_NAMES[base]


def _get(url: str, headers: dict[str, str], timeout: float) -> str | None:
    """The body, or None for 404 (the services' "no notice")."""
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=timeout
        ) as response:
            return str(response.read().decode())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


class SpotWatcher:
    """Polls for an interruption notice in a thread and calls `on_notice` once."""

    def __init__(
        self, provider: str, endpoint: str, on_notice: Callable[[str], None], interval: float = 2.0
    ) -> None:
        if provider not in PROVIDERS:
            raise ValueError(f"unknown spot provider {provider!r} (use {', '.join(PROVIDERS)})")
        self.provider, self.endpoint = provider, endpoint
        self.on_notice, self.interval = on_notice, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="spot-watcher", daemon=True)

    def start(self) -> SpotWatcher:
        """Start polling."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            notice = check_notice(self.provider, self.endpoint)
            if notice is not None:
                log.warning("interruption notice: %s; handing work back", notice)
                self.on_notice(notice)
                return
            self._stop.wait(self.interval)

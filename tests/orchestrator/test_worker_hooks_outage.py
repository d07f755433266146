"""A broker outage of a few seconds while a chunk renders costs nothing: its progress reports
and stop polls carry on (a fault injection of two 15 s Redis outages failed a healthy job,
every node blamed for the connection errors)."""

from __future__ import annotations

import socket

from orchestrator.job_store import JobStore
from orchestrator.worker_hooks import WorkerHooks


def _unreachable() -> str:
    """A Redis URL where nothing listens (a port just released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def test_progress_and_stop_polls_ride_out_a_broker_outage() -> None:
    hooks = WorkerHooks(JobStore.from_url(_unreachable()), app=None, cache_max_bytes=0)
    assert hooks.should_stop("job", 0, "node-a") is None  # keep rendering
    hooks.chunk_progress("job", 0, 5, 10)  # no exception: the report is dropped
    hooks.chunk_progress("job", 0, 10, 10)

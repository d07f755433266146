"""The worker app loads monitoring only where metrics are on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import cli.worker_app
print(json.dumps("monitoring.exporter" in sys.modules))
"""


def _loads_exporter(**env: str) -> bool:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDRENDER_METRICS")}
    run = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert run.returncode == 0, run.stderr
    return bool(json.loads(run.stdout.strip().splitlines()[-1]))


def test_a_worker_without_metrics_does_not_import_the_exporter() -> None:
    assert _loads_exporter() is False


def test_a_worker_with_a_metrics_port_installs_the_exporter() -> None:
    assert _loads_exporter(CLOUDRENDER_METRICS_PORT="9808") is True


def test_metrics_credentials_are_still_checked_without_a_port() -> None:
    # A malformed CLOUDRENDER_METRICS_AUTH stops the worker at start-up, port or not.
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDRENDER_METRICS")}
    run = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**clean, "CLOUDRENDER_METRICS_AUTH": "no-colon"},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert run.returncode != 0

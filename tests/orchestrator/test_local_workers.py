"""How many render slots this machine's own cluster runs when `render` is given no --workers,
and how its client waits for them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator import local_workers
from orchestrator.local_workers import LocalWorkers, local_slots, machine_memory_mib
from tests.helpers import ROOT


@pytest.mark.parametrize(
    ("cores", "memory_mib", "slots"),
    [
        (1, None, 1),  # never none
        (2, None, 1),  # one render process keeps both cores busy (compositor and encoder)
        (3, None, 1),
        (4, None, 2),
        (16, None, 8),
        (0, None, 1),  # os.cpu_count() unknown
        (16, 4096, 4),  # memory for 4 concurrent chunk renders, not 8
        (16, 65536, 8),  # memory to spare: the cores decide
        (4, 512, 1),  # too little for even one: still one
        (2, 1024, 1),
    ],
)
def test_local_slots(cores: int, memory_mib: int | None, slots: int) -> None:
    assert local_slots(cores, memory_mib) == slots


def test_this_machines_memory_is_known() -> None:
    found = machine_memory_mib()
    assert found is not None and found > 0


class _Running:
    """A worker process that has not exited."""

    pid = 1

    def poll(self) -> int | None:
        return None


def test_the_ready_file_is_looked_for_often(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A render waits on its workers' ready file: each look is a stat and a waitpid, and a
    # 0.05 s step cost every private render half of it on average after its workers were ready.
    workers = LocalWorkers("redis://127.0.0.1:1/0", 1)
    workers._proc, workers._dir = _Running(), tmp_path  # type: ignore[assignment]
    naps: list[float] = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 3:
            (tmp_path / "ready").touch()

    monkeypatch.setattr(local_workers.time, "sleep", nap)
    workers.wait_ready(5)
    assert len(naps) == 3 and max(naps) <= 0.01


#: In a fresh interpreter: the local worker's entry point with the probe and the worker's start
#: replaced by notes of their order.
ORDER_PROBE = """
import json, sys
from orchestrator import local_workers
from workers import isolation

order = []
isolation.detect_soon = lambda mode: order.append("sandbox probe")

def run_worker(app, options):
    order.append("app " + app)
    return 0

local_workers.run_worker = run_worker
try:
    local_workers._celery_main([sys.argv[1], "-A", "some.app:app", "worker", "--concurrency", "1"])
except SystemExit:
    pass
print(json.dumps(order))
"""


def test_the_worker_starts_its_sandbox_probe_before_it_loads_its_app(tmp_path: Path) -> None:
    # The probe (bwrap and a Python in it) ran from celeryd_init, after the app's imports, and
    # worker_init, which the pool's fork waits on, still waited for it.
    run = subprocess.run(
        [sys.executable, "-c", ORDER_PROBE, str(tmp_path / "ready")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1]) == ["sandbox probe", "app some.app:app"]

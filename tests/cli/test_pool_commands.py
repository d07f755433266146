"""``cloudrender cluster pools [--dry-run]``, ``cluster scale POOL N|auto [--for D]`` and the
orchestrator's check of the pools file, as an operator runs them."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from orchestrator.autoscaler.loop import Autoscaler
from orchestrator.autoscaler.model import Policy
from orchestrator.job_record import JobRecord, JobState
from orchestrator.job_store import JobStore
from providers.compute.memory import MemoryCompute
from providers.compute.pools import parse_pools
from tests.helpers import CLI

POOLS = """
[autoscaler]
policy = "queue"
target_seconds = 300
scale_up_cooldown = 0

[pools.cpu]
provider = "memory"
max_nodes = 4
boot_seconds = 30
price_per_hour = 0.5
"""


@pytest.fixture
def run(cli: CLI, redis_url: str, tmp_path: Path) -> CLI:
    pools = tmp_path / "pools.toml"
    pools.write_text(POOLS)
    return cli.with_env(CLOUDRENDER_BROKER_URL=redis_url, CLOUDRENDER_POOLS_FILE=str(pools))


def queue_job(redis_url: str, frames: int = 10_000) -> JobStore:
    store = JobStore.from_url(redis_url)
    # 2 units a frame: 0.05 s of work a frame at the prior's 0.025 s per unit
    record = JobRecord(
        id="j", state=JobState.QUEUED, frames=frames, submitted_at=time.time(), complexity=2.0
    )
    store.create(record, {})
    return store


def test_without_pools_there_is_nothing_to_show(cli: CLI, redis_url: str) -> None:
    done = cli.with_env(CLOUDRENDER_BROKER_URL=redis_url)("cluster", "pools")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "no autoscaled pools"
    dry = cli.with_env(CLOUDRENDER_BROKER_URL=redis_url)("cluster", "pools", "--dry-run")
    assert dry.returncode != 0
    assert (
        dry.stderr.strip()
        .splitlines()[-1]
        .endswith(
            "no pools file: set CLOUDRENDER_POOLS_FILE to the pools file the orchestrator uses"
        )
    )


def test_a_pool_no_autoscaler_has_seen_says_so(run: CLI) -> None:
    done = run("cluster", "pools")
    assert done.returncode == 0, done.stderr
    assert "cpu" in done.stdout and "not yet seen by an autoscaler" in done.stdout


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        (
            {"CLOUDRENDER_AUTOSCALER_BUDGET": "5"},
            "CLOUDRENDER_AUTOSCALER_BUDGET: not an autoscaler setting (known: backoff_seconds",
        ),
        (
            {"CLOUDRENDER_AUTOSCALER_HOURLY_BUDGET": "lots"},
            "CLOUDRENDER_AUTOSCALER_HOURLY_BUDGET",
        ),
    ],
)
def test_pools_refuse_a_misspelt_autoscaler_override(
    run: CLI, env: dict[str, str], problem: str
) -> None:
    """docs/capacity.md: a mistake is one line naming the key; `cluster pools` listed the pools
    as if the override were fine, and only the orchestrator then refused it."""
    done = run.with_env(**env)("cluster", "pools")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and problem in lines[0], lines


def test_a_dry_run_prints_the_decision_and_the_calls_it_would_make(
    run: CLI, redis_url: str
) -> None:
    queue_job(redis_url)  # 500 node-seconds: two nodes within the 300 s target
    done = run("cluster", "pools", "--dry-run")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("cpu: 2 nodes (")
    assert "would call:" in lines and "  set_desired cpu 2 (+2)" in lines
    as_json = json.loads(run("cluster", "pools", "--dry-run", "--json").stdout)
    assert as_json["desired"] == {"cpu": 2} and as_json["placement"] == {"j": "cpu"}


def test_pools_show_what_the_autoscaler_last_did(run: CLI, redis_url: str) -> None:
    store = queue_job(redis_url)
    config = parse_pools(POOLS, "pools.toml")
    engine = MemoryCompute()
    Autoscaler(
        store, config, Policy(name="queue", target_seconds=300), engines={"cpu": engine}
    ).run()
    pools = json.loads(run("cluster", "pools", "--json").stdout)
    assert [(p["name"], p["desired"], p["booting"], p["max_nodes"]) for p in pools] == [
        ("cpu", 2, 2, 4)
    ]
    assert pools[0]["spend_per_hour"] == pytest.approx(1.0)
    table = run("cluster", "pools").stdout
    assert "spend now: $1.00/hour" in table and "queue:" in table
    status = json.loads(run("cluster", "status", "--json").stdout)
    assert status["pools"][0]["name"] == "cpu"


def test_an_operator_holds_a_pool_and_hands_it_back(run: CLI) -> None:
    held = run("cluster", "scale", "cpu", "3", "--for", "30m")
    assert held.returncode == 0, held.stderr
    assert held.stdout.startswith("cpu: held at 3 nodes for 30m00s")
    pool = json.loads(run("cluster", "pools", "--json").stdout)[0]
    assert pool["override"] == 3 and pool["override_until"] == pytest.approx(
        time.time() + 1800, abs=30
    )
    dry = run("cluster", "pools", "--dry-run").stdout
    assert dry.startswith("cpu: 3 nodes (manual override 3")
    back = run("cluster", "scale", "cpu", "auto")
    assert back.returncode == 0 and "back to the autoscaler" in back.stdout
    assert json.loads(run("cluster", "pools", "--json").stdout)[0]["override"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("cpu", "9"), "pool cpu: 9 nodes is above its max_nodes (4)"),
        (("gpu", "1"), "no pool named 'gpu' (pools: cpu)"),
        (("cpu", "lots"), "N must be a whole number of nodes or 'auto', not 'lots'"),
        (("cpu", "1", "--for", "soon"), "'soon' is not a duration"),
        (("many",), "'many' is not a number of slots; to scale a pool: cluster scale POOL N"),
    ],
)
def test_a_wrong_scale_is_one_line(run: CLI, args: tuple[str, ...], message: str) -> None:
    done = run("cluster", "scale", *args)
    assert done.returncode != 0
    assert message in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({'provider = "memory"': 'provider = "ibm"'}, "pool 'cpu': provider 'ibm' is not one of"),
        # A typo in the type: its nodes would run as free under every budget.
        (
            {
                'provider = "memory"': 'provider = "aws"\nregion = "us-east-1"\n'
                'instance_type = "c7i.2xlage"',
                "price_per_hour = 0.5\n": "",
            },
            "pool 'cpu': aws c7i.2xlage in us-east-1 is not in the price catalogue: set its "
            "price_per_hour",
        ),
    ],
)
def test_the_orchestrator_refuses_a_broken_pools_file(
    cli: CLI, redis_url: str, tmp_path: Path, change: dict[str, str], problem: str
) -> None:
    pools = tmp_path / "pools.toml"
    text = POOLS
    for old, new in change.items():
        text = text.replace(old, new)
    pools.write_text(text)
    done = cli.with_env(
        CLOUDRENDER_BROKER_URL=redis_url,
        CLOUDRENDER_STORAGE_URL=(tmp_path / "s").as_uri(),
        CLOUDRENDER_POOLS_FILE=str(pools),
    )("orchestrator")
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and problem in lines[0], lines

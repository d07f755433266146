"""The policy loader: the pools file's [autoscaler] table and CLOUDRENDER_AUTOSCALER_* overrides."""

from __future__ import annotations

from typing import Any

import pytest

from common.settings import Settings
from orchestrator.autoscaler.model import Policy
from orchestrator.autoscaler.policy import load_policy
from providers.compute.pools import PoolConfigError, parse_pools

GOOD = [
    pytest.param({}, {}, Policy(), id="nothing: the defaults"),
    pytest.param({"policy": "queue"}, {}, Policy(name="queue"), id="the policy's name"),
    pytest.param({"policy": "Cost "}, {}, Policy(name="cost"), id="name case and spaces"),
    pytest.param({"target_seconds": 300}, {}, Policy(target_seconds=300), id="target in seconds"),
    pytest.param({"target_minutes": 5}, {}, Policy(target_seconds=300), id="target in minutes"),
    pytest.param({"target_minutes": 0.5}, {}, Policy(target_seconds=30), id="half a minute"),
    pytest.param({"hourly_budget": 20}, {}, Policy(hourly_budget=20), id="a budget"),
    pytest.param({"hourly_budget": "none"}, {}, Policy(hourly_budget=None), id="no budget"),
    pytest.param(
        {"scale_up_cooldown": 10, "scale_down_cooldown": 300, "idle_timeout": 0},
        {},
        Policy(scale_up_cooldown=10, scale_down_cooldown=300, idle_timeout=0),
        id="cooldowns and idle timeout",
    ),
    pytest.param(
        {"max_launch_failures": 5, "backoff_seconds": 60.5},
        {},
        Policy(max_launch_failures=5, backoff_seconds=60.5),
        id="back-off",
    ),
    pytest.param(
        {"drain_timeout": 120, "boot_timeout_factor": 2, "interruption_seconds": 90},
        {},
        Policy(drain_timeout=120, boot_timeout_factor=2, interruption_seconds=90),
        id="drain, boot and interruption",
    ),
    pytest.param(
        {},
        {"CLOUDRENDER_AUTOSCALER_HOURLY_BUDGET": "20"},
        Policy(hourly_budget=20),
        id="env budget",
    ),
    pytest.param(
        {"hourly_budget": 50},
        {"CLOUDRENDER_AUTOSCALER_HOURLY_BUDGET": "20"},
        Policy(hourly_budget=20),
        id="the environment beats the file",
    ),
    pytest.param(
        {"hourly_budget": 50},
        {"CLOUDRENDER_AUTOSCALER_HOURLY_BUDGET": "none"},
        Policy(hourly_budget=None),
        id="the environment removes the cap",
    ),
    pytest.param(
        {"target_seconds": 900},
        {"CLOUDRENDER_AUTOSCALER_TARGET_MINUTES": "2"},
        Policy(target_seconds=120),
        id="an env alias beats the file's other spelling",
    ),
    pytest.param(
        {}, {"CLOUDRENDER_AUTOSCALER_POLICY": "cost"}, Policy(name="cost"), id="env policy"
    ),
    pytest.param(
        {},
        {"CLOUDRENDER_AUTOSCALER_MAX_LAUNCH_FAILURES": "4"},
        Policy(max_launch_failures=4),
        id="env whole number",
    ),
    pytest.param(
        {}, {"CLOUDRENDER_POOL_CPU_MAX_NODES": "3"}, Policy(), id="other variables are not ours"
    ),
]


@pytest.mark.parametrize(("raw", "env", "expected"), GOOD)
def test_good_policies(raw: dict[str, Any], env: dict[str, str], expected: Policy) -> None:
    assert load_policy(raw, env) == expected


BAD = [
    pytest.param(
        {"policy": "fastest"},
        {},
        "[autoscaler] policy: must be one of queue, deadline, cost, not 'fastest'",
        id="unknown policy",
    ),
    pytest.param(
        {"policy": 3}, {}, "[autoscaler] policy: must be one of", id="a policy that is no string"
    ),
    pytest.param(
        {"budget": 20},
        {},
        "[autoscaler] budget: not an autoscaler setting (known: ",
        id="unknown key",
    ),
    pytest.param(
        {"name": "cost"},
        {},
        "[autoscaler] name: not an autoscaler setting",
        id="the field name is not the key",
    ),
    pytest.param(
        {"hourly_budget": "lots"},
        {},
        "[autoscaler] hourly_budget: must be a number, not 'lots'",
        id="a word for a number",
    ),
    pytest.param(
        {"hourly_budget": 0}, {}, "[autoscaler] hourly_budget: must be above 0", id="a zero budget"
    ),
    pytest.param(
        {"idle_timeout": -1},
        {},
        "[autoscaler] idle_timeout: must be a finite number of at least 0",
        id="negative",
    ),
    pytest.param(
        {"idle_timeout": float("inf")},
        {},
        "[autoscaler] idle_timeout: must be a finite",
        id="infinite",
    ),
    pytest.param(
        {"idle_timeout": True},
        {},
        "[autoscaler] idle_timeout: must be a number, not True",
        id="a boolean",
    ),
    pytest.param(
        {"idle_timeout": [60]}, {}, "[autoscaler] idle_timeout: must be a number", id="a list"
    ),
    pytest.param(
        {"target_seconds": 0},
        {},
        "[autoscaler] target_seconds: must be above 0",
        id="a zero target",
    ),
    pytest.param(
        {"max_launch_failures": 2.5},
        {},
        "[autoscaler] max_launch_failures: must be a whole number",
        id="half a failure",
    ),
    pytest.param(
        {"boot_timeout_factor": 0},
        {},
        "[autoscaler] boot_timeout_factor: must be above 0",
        id="a zero boot factor",
    ),
    pytest.param(
        {"target_seconds": 60, "target_minutes": 1},
        {},
        "[autoscaler]: give target_seconds or target_minutes, not both",
        id="both target spellings",
    ),
    pytest.param(
        {},
        {"CLOUDRENDER_AUTOSCALER_HOURLY_BUDGET": "twenty"},
        "CLOUDRENDER_AUTOSCALER_HOURLY_BUDGET: must be a number, not 'twenty'",
        id="env: a word",
    ),
    pytest.param(
        {},
        {"CLOUDRENDER_AUTOSCALER_BUDGET": "20"},
        "CLOUDRENDER_AUTOSCALER_BUDGET: not an autoscaler setting",
        id="env: unknown",
    ),
    pytest.param(
        {},
        {"CLOUDRENDER_AUTOSCALER_POLICY": "cheap"},
        "CLOUDRENDER_AUTOSCALER_POLICY: must be one of",
        id="env: unknown policy",
    ),
    pytest.param(
        {},
        {
            "CLOUDRENDER_AUTOSCALER_TARGET_SECONDS": "60",
            "CLOUDRENDER_AUTOSCALER_TARGET_MINUTES": "1",
        },
        "CLOUDRENDER_AUTOSCALER_TARGET_*: give target_seconds or target_minutes, not both",
        id="env: both target spellings",
    ),
]


@pytest.mark.parametrize(("raw", "env", "message"), BAD)
def test_bad_policies_say_what_to_fix_in_one_line(
    raw: dict[str, Any], env: dict[str, str], message: str
) -> None:
    with pytest.raises(PoolConfigError) as caught:
        load_policy(raw, env)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_from_a_pools_file_and_the_settings() -> None:
    text = """
[autoscaler]
policy = "cost"
target_minutes = 15
hourly_budget = 12.5

[pools.cpu]
provider = "local"
max_nodes = 3
"""
    config = parse_pools(text, "cloudrender.toml")
    settings = Settings.from_env({"CLOUDRENDER_AUTOSCALER_IDLE_TIMEOUT": "90"})
    policy = load_policy(config.autoscaler, settings.autoscaler_overrides)
    assert policy == Policy(name="cost", target_seconds=900, hourly_budget=12.5, idle_timeout=90)


def test_from_a_yaml_pools_file() -> None:
    text = (
        "autoscaler:\n  policy: queue\n  hourly_budget: null\npools:\n  cpu:\n    provider: local\n"
    )
    config = parse_pools(text, "cloudrender.yaml", yaml=True)
    assert load_policy(config.autoscaler, {}) == Policy(name="queue", hourly_budget=None)

"""The pools file: what a valid one gives, and a one-line error for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from providers.compute.pools import PoolConfigError, load_pools, parse_pools

GOOD = """
[autoscaler]
policy = "deadline"

[pools.gpu-spot]
provider = "aws"
region = "us-east-1"
instance_type = "g5.xlarge"
vcpus = 4
memory_gb = 16
gpu = "A10G"
nvenc = true
market = "spot"
max_nodes = 8
boot_seconds = 180
price_per_hour = 0.45
concurrency = 2
[pools.gpu-spot.options]
group = "cr-gpu"

[pools.cpu]
provider = "local"
max_nodes = 3
"""


def test_a_valid_file_gives_every_pool_with_its_fields() -> None:
    config = parse_pools(GOOD, "pools.toml")
    gpu, cpu = config.pools["gpu-spot"], config.pools["cpu"]
    assert (gpu.provider, gpu.region, gpu.instance_type, gpu.gpu, gpu.gpus) == (
        "aws",
        "us-east-1",
        "g5.xlarge",
        "A10G",
        1,
    )
    assert gpu.spot and gpu.has_gpu and gpu.nvenc and gpu.options == {"group": "cr-gpu"}
    assert gpu.slot_price == pytest.approx(0.225)
    assert (cpu.provider, cpu.market, cpu.min_nodes, cpu.max_nodes) == ("local", "on-demand", 0, 3)
    assert not cpu.spot and not cpu.has_gpu and cpu.queues == ("render", "audio", "merge")
    assert config.autoscaler == {"policy": "deadline"}


def test_yaml_files_read_like_toml(tmp_path: Path) -> None:
    path = tmp_path / "pools.yaml"
    path.write_text("pools:\n  cpu:\n    provider: local\n    max_nodes: 2\n    queues: [render]\n")
    assert load_pools(path).pools["cpu"].max_nodes == 2


def test_environment_overrides_win_over_the_file() -> None:
    overrides = {
        "CLOUDRENDER_POOL_GPU_SPOT_MAX_NODES": "12",
        "CLOUDRENDER_POOL_GPU_SPOT_MARKET": "on-demand",
        "CLOUDRENDER_POOL_CPU_QUEUES": "render,audio",
    }
    config = parse_pools(GOOD, "pools.toml", overrides)
    assert config.pools["gpu-spot"].max_nodes == 12
    assert config.pools["gpu-spot"].market == "on-demand"
    assert config.pools["cpu"].queues == ("render", "audio")


@pytest.mark.parametrize(
    ("text", "overrides", "expected"),
    [
        ("[pools.a]\nprovider = 'aws'\n", {}, "pool 'a': region is required"),
        ("[pools.a]\nmax_nodes = 1\n", {}, "'provider' is required"),
        ("[pools.a]\nprovider = 'ibm'\n", {}, "provider 'ibm' is not one of"),
        ("[pools.a]\nprovider = 'local'\nmarket = 'cheap'\n", {}, "market 'cheap'"),
        ("[pools.a]\nprovider = 'local'\nmax_nodes = 'x'\n", {}, "max_nodes must be a whole"),
        ("[pools.a]\nprovider = 'local'\nmin_nodes = 3\nmax_nodes = 2\n", {}, "below min_nodes"),
        ("[pools.a]\nprovider = 'local'\nconcurrency = 0\n", {}, "concurrency must be at least"),
        ("[pools.a]\nprovider = 'local'\nprice_per_hour = -1\n", {}, "must not be negative"),
        ("[pools.a]\nprovider = 'local'\nnvenc = true\n", {}, "nvenc needs a gpu"),
        ("[pools.a]\nprovider = 'local'\ncolour = 'red'\n", {}, "unknown field 'colour'"),
        (
            "[pools.a]\nprovider = 'local'\nmax_node = 3\n",
            {},
            "unknown field 'max_node' (did you mean 'max_nodes'?)",
        ),
        # 0 made every node a failed boot before its first heartbeat (the pool backed off).
        ("[pools.a]\nprovider = 'local'\nboot_seconds = 0\n", {}, "boot_seconds must be above 0"),
        ("[pools.A_B]\nprovider = 'local'\n", {}, "a pool name is lower-case"),
        ("[pools.a]\nprovider = 'local'\nqueues = []\n", {}, "at least one queue"),
        ("[pool.a]\nprovider = 'local'\n", {}, "unknown section 'pool'"),
        ("", {}, "no [pools.NAME] table"),
        ("[pools.a\n", {}, "not valid TOML"),
        (
            "[pools.a]\nprovider = 'local'\n",
            {"CLOUDRENDER_POOL_B_MAX_NODES": "3"},
            "CLOUDRENDER_POOL_B_MAX_NODES: names no pool field",
        ),
        (
            "[pools.a]\nprovider = 'local'\n",
            {"CLOUDRENDER_POOL_A_MAX_NODES": "many"},
            "max_nodes must be a whole number",
        ),
    ],
)
def test_each_mistake_is_one_line_naming_it(
    text: str, overrides: dict[str, str], expected: str
) -> None:
    with pytest.raises(PoolConfigError) as caught:
        parse_pools(text, "pools.toml", overrides)
    message = str(caught.value)
    assert expected in message and "\n" not in message and "pools.toml" in message


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PoolConfigError, match="nope.toml"):
        load_pools(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("provider", "key", "meant"),
    [
        ("aws", "env_parameters", "env_parameter"),
        ("aws", "security_group", "security_groups"),
        ("aws", "instance_profil", "instance_profile"),
        ("gcp", "env_secrets", "env_secret"),
        ("azure", "subnets", "subnet"),
        ("kubernetes", "namespac", "namespace"),
        ("local", "stop_second", "stop_seconds"),
    ],
)
def test_a_misspelt_option_is_refused_naming_the_key_and_the_one_meant(
    provider: str, key: str, meant: str
) -> None:
    text = f"[pools.cpu-spot]\nprovider = '{provider}'\nregion = 'r'\n"
    text += f"[pools.cpu-spot.options]\n{key} = 'x'\n"
    with pytest.raises(PoolConfigError) as caught:
        parse_pools(text, "cloudrender.toml")
    message = str(caught.value)
    assert message.startswith(
        f"cloudrender.toml: pool 'cpu-spot': unknown option {key!r} for provider {provider} ("
    )
    assert f"did you mean {meant!r}? known: " in message
    assert "\n" not in message


def test_every_documented_option_and_local_env_settings_are_accepted() -> None:
    text = """
[pools.aws]
provider = "aws"
region = "us-east-1"
[pools.aws.options]
image_id = "ami-1"
subnets = "subnet-1"
security_groups = "sg-1"
env_parameter = "/cr/env"
[pools.here]
provider = "local"
[pools.here.options]
"env.CLOUDRENDER_HOURLY_RATE" = "0.2"
stop_seconds = "5"
"""
    config = parse_pools(text, "cloudrender.toml")
    assert config.pools["aws"].options["security_groups"] == "sg-1"
    assert config.pools["here"].options["env.CLOUDRENDER_HOURLY_RATE"] == "0.2"


def test_a_wrong_override_names_its_variable_not_the_file() -> None:
    text = "[pools.a]\nprovider = 'local'\nmax_nodes = 2\n"
    with pytest.raises(PoolConfigError) as caught:
        parse_pools(text, "d3.toml", {"CLOUDRENDER_POOL_A_MAX_NODES": "abc"})
    assert str(caught.value) == (
        "CLOUDRENDER_POOL_A_MAX_NODES (overriding pool 'a' of d3.toml): max_nodes must be a "
        "whole number, not 'abc'"
    )


def test_another_engines_option_says_whose_it_is() -> None:
    text = "[pools.g]\nprovider = 'gcp'\nregion = 'r'\n[pools.g.options]\nenv_parameter = '/p'\n"
    with pytest.raises(
        PoolConfigError, match="an option of provider aws only; did you mean 'env_secret'"
    ):
        parse_pools(text, "cloudrender.toml")

"""The VM start-up script: run for real by bash, with the cloud and Docker played by stubs.

The stubs on PATH (curl, docker, aws, gcloud, sleep) record their arguments; curl answers the
metadata requests the way each cloud's service does, refusing requests without the headers it
requires (AWS's IMDSv2 token, GCP's Metadata-Flavor, Azure's Metadata). The script's two fixed
paths (its log and /run/cloudrender) are pointed into the test's directory.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from providers.compute import cloud_init
from providers.compute.base import ComputeError
from providers.compute.cloud_init import worker_user_data
from providers.compute.pools import Pool

AWS_ID = "i-0abc1234def567890"
GCP_NAME = "cloudrender-gpu-x7k2"
AZURE_SCALE_SET = "cloudrender-gpu"

STUB = r'''#!PYTHON
"""A stand-in for NAME: records its arguments, answers like the real tool where it matters."""
import json, os, sys
from pathlib import Path

here = Path(__file__).resolve().parent
name = Path(sys.argv[0]).name
args = sys.argv[1:]
with open(here / "calls.jsonl", "a") as log:
    log.write(json.dumps([name, *args]) + "\n")
config = json.loads((here / "config.json").read_text())

if name == "curl":
    headers, method, url, i = {}, "GET", None, 0
    while i < len(args):
        if args[i] == "-H":
            key, _, value = args[i + 1].partition(":")
            headers[key.strip().lower()] = value.strip()
            i += 2
        elif args[i] == "-X":
            method = args[i + 1]
            i += 2
        elif args[i] == "--max-time":
            i += 2
        elif args[i].startswith("-"):
            i += 1
        else:
            url = args[i]
            i += 1
    if config.get("metadata_down"):
        sys.exit(7)
    if url == "http://169.254.169.254/latest/api/token" and method == "PUT":
        if "x-aws-ec2-metadata-token-ttl-seconds" in headers:
            print("TOKEN123", end="")
            sys.exit(0)
    elif url == "http://169.254.169.254/latest/meta-data/instance-id":
        if headers.get("x-aws-ec2-metadata-token") == "TOKEN123":
            print(config["aws_id"], end="")
            sys.exit(0)
    elif url == "http://metadata.google.internal/computeMetadata/v1/instance/name":
        if headers.get("metadata-flavor") == "Google":
            print(config["gcp_name"], end="")
            sys.exit(0)
    elif url.startswith("http://169.254.169.254/metadata/instance/compute/"):
        field = url.split("/compute/")[1].split("?")[0]
        if headers.get("metadata") == "true" and "format=text" in url and field in config["azure"]:
            print(config["azure"][field], end="")
            sys.exit(0)
    sys.exit(22)  # curl -f on an HTTP error
if name == "aws" and args[:1] == ["ssm"]:
    print(config["ssm_value"])
elif name == "aws" and args[:1] == ["ecr"]:
    print("ECRPASSWORD")
elif name == "gcloud" and args[:1] == ["secrets"]:
    print(config["secret_value"], end="")
elif name == "docker" and args[:1] == ["run"]:
    files = [args[i + 1] for i, a in enumerate(args) if a == "--env-file"]
    with open(here / "env_seen.json", "w") as out:
        json.dump({f: Path(f).read_text() for f in files}, out)
'''


@dataclass
class Run:
    """What one run of the script did."""

    returncode: int
    output: str
    calls: list[list[str]]
    env_files: dict[str, str]
    root: Path

    def of(self, tool: str, first: str | None = None) -> list[list[str]]:
        """The argument lists `tool` was called with (whose first argument is `first`)."""
        return [c[1:] for c in self.calls if c[0] == tool and (first is None or c[1:2] == [first])]

    @property
    def docker_run(self) -> list[str]:
        """The arguments of the one ``docker run``."""
        runs = self.of("docker", "run")
        assert len(runs) == 1, self.output
        return runs[0]

    def env(self, name: str) -> str | None:
        """What ``-e NAME=VALUE`` gave the container."""
        args = self.docker_run
        for flag, value in zip(args, args[1:], strict=False):
            if flag == "-e" and value.startswith(f"{name}="):
                return value.split("=", 1)[1]
        return None

    @property
    def secrets(self) -> str:
        """The env files' text, together."""
        return "".join(self.env_files.values())


def run_script(script: str, tmp_path: Path, **config: Any) -> Run:
    """Run `script` under bash with the stubs first on PATH."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    body = STUB.replace("#!PYTHON", f"#!{sys.executable}")
    for tool in ("curl", "docker", "aws", "gcloud", "sleep"):
        (stubs / tool).write_text(body)
        (stubs / tool).chmod(0o755)
    settings = {
        "aws_id": AWS_ID,
        "gcp_name": GCP_NAME,
        "azure": {"name": f"{AZURE_SCALE_SET}_7", "vmScaleSetName": AZURE_SCALE_SET},
        "ssm_value": "CLOUDRENDER_BROKER_URL=redis://from-ssm/0",
        "secret_value": "CLOUDRENDER_BROKER_URL=redis://from-secret-manager/0",
        **config,
    }
    (stubs / "config.json").write_text(json.dumps(settings))
    local = script.replace(cloud_init.LOG_FILE, str(tmp_path / "startup.log")).replace(
        "/run/cloudrender", str(tmp_path / "run")
    )
    assert cloud_init.LOG_FILE not in local and "/run/cloudrender" not in local
    path = tmp_path / "user-data.sh"
    path.write_text(local)
    result = subprocess.run(
        ["bash", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": f"{stubs}:/usr/bin:/bin", "HOME": str(tmp_path)},
        cwd=tmp_path,
    )
    calls_file = stubs / "calls.jsonl"
    calls = (
        [json.loads(line) for line in calls_file.read_text().splitlines()]
        if calls_file.exists()
        else []
    )
    seen = stubs / "env_seen.json"
    env_files = json.loads(seen.read_text()) if seen.exists() else {}
    log = tmp_path / "startup.log"
    output = result.stdout + result.stderr + (log.read_text() if log.exists() else "")
    return Run(result.returncode, output, calls, env_files, tmp_path)


def pool(**changes: Any) -> Pool:
    """A GPU spot pool, with `changes`."""
    base = Pool(
        name="gpu-spot",
        provider="aws",
        region="us-east-1",
        instance_type="g5.xlarge",
        gpu="A10G",
        gpus=1,
        nvenc=True,
        market="spot",
        concurrency=3,
        queues=("render", "audio"),
    )
    return replace(base, **changes)


def cpu_pool(**changes: Any) -> Pool:
    """An on-demand CPU pool, with `changes`."""
    return pool(gpu=None, gpus=0, nvenc=False, market="on-demand", **changes)


BROKER = "redis://worker:pw@10.0.0.5:6379/0"
STORAGE = "s3://renders/farm"


@pytest.mark.parametrize(
    ("engine", "instance_id"), [("aws", AWS_ID), ("gcp", GCP_NAME), ("azure", "7")]
)
def test_the_worker_starts_with_its_pool_and_engine_id(
    engine: str, instance_id: str, tmp_path: Path
) -> None:
    script = worker_user_data(pool(provider=engine), engine, broker_url=BROKER, storage_url=STORAGE)
    assert script.startswith("#!/bin/bash\n")
    run = run_script(script, tmp_path)
    assert run.returncode == 0, run.output
    assert run.env("CLOUDRENDER_NODE_POOL") == "gpu-spot"
    assert run.env("CLOUDRENDER_INSTANCE_ID") == instance_id
    assert run.env("CLOUDRENDER_SPOT_PROVIDER") == engine
    assert run.env("NVIDIA_DRIVER_CAPABILITIES") == "compute,video,utility"
    args = run.docker_run
    assert "--gpus" in args and args[args.index("--gpus") + 1] == "all"
    # The image's entry point is `cloudrender`: the command is the subcommand and its options.
    assert args[-6:] == [
        "cloudrender:gpu",
        "worker",
        "--queues",
        "render,audio",
        "--concurrency",
        "3",
    ]
    assert f"CLOUDRENDER_BROKER_URL={BROKER}\n" in run.secrets
    assert f"CLOUDRENDER_STORAGE_URL={STORAGE}\n" in run.secrets
    assert BROKER not in " ".join(args)  # secrets travel in a file, not on the command line


def test_a_cpu_on_demand_pool_gets_no_gpu_and_no_spot_watcher(tmp_path: Path) -> None:
    run = run_script(
        worker_user_data(cpu_pool(), "aws", broker_url=BROKER, storage_url=None), tmp_path
    )
    assert run.returncode == 0, run.output
    assert "--gpus" not in run.docker_run
    assert run.env("CLOUDRENDER_SPOT_PROVIDER") is None
    assert run.env("NVIDIA_DRIVER_CAPABILITIES") is None
    assert "cloudrender:cpu" in run.docker_run
    assert "CLOUDRENDER_STORAGE_URL" not in run.secrets


def test_a_flexible_azure_scale_set_reports_the_vm_name(tmp_path: Path) -> None:
    flexible = pool(provider="azure", options={"orchestration": "flexible"})
    script = worker_user_data(flexible, "azure", broker_url=BROKER, storage_url=None)
    run = run_script(script, tmp_path)
    assert run.env("CLOUDRENDER_INSTANCE_ID") == f"{AZURE_SCALE_SET}_7"


def test_no_instance_id_means_no_worker(tmp_path: Path) -> None:
    script = worker_user_data(pool(), "aws", broker_url=BROKER, storage_url=None)
    run = run_script(script, tmp_path, metadata_down=True)
    assert run.returncode != 0
    assert "the metadata service gave no instance id" in run.output
    assert run.of("docker", "run") == []


def test_hostile_values_stay_single_arguments(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = f"$(touch {marker})`touch {marker}`'\";touch {marker} #"
    hostile = pool(
        queues=(f"render{evil}",),
        options={"image": f"registry.example/worker:1{evil}"},
    )
    script = worker_user_data(hostile, "aws", broker_url=f"redis://u:{evil}@h/0", storage_url=None)
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0
    run = run_script(script, tmp_path)
    assert run.returncode == 0, run.output
    assert not marker.exists()
    args = run.docker_run
    assert f"registry.example/worker:1{evil}" in args
    assert args[args.index("--queues") + 1] == f"render{evil}"
    assert f"CLOUDRENDER_BROKER_URL=redis://u:{evil}@h/0\n" in run.secrets


def test_a_multi_line_secret_is_refused() -> None:
    with pytest.raises(ComputeError, match="one line"):
        worker_user_data(pool(), "aws", broker_url="redis://h/0\nEVIL=1", storage_url=None)


def test_an_ssm_parameter_keeps_the_urls_out_of_the_user_data(tmp_path: Path) -> None:
    secret = pool(options={"env_parameter": "/cloudrender/worker env"})
    script = worker_user_data(secret, "aws", broker_url=BROKER, storage_url=STORAGE)
    assert BROKER not in script and STORAGE not in script
    run = run_script(script, tmp_path)
    assert run.returncode == 0, run.output
    (ssm,) = run.of("aws", "ssm")
    assert ssm[ssm.index("--name") + 1] == "/cloudrender/worker env"
    assert ssm[ssm.index("--region") + 1] == "us-east-1"
    assert "--with-decryption" in ssm
    assert "CLOUDRENDER_BROKER_URL=redis://from-ssm/0\n" in run.secrets


def test_a_secret_manager_secret_feeds_a_gcp_node(tmp_path: Path) -> None:
    secret = pool(provider="gcp", options={"env_secret": "cloudrender-worker"})
    script = worker_user_data(secret, "gcp", broker_url=BROKER, storage_url=None)
    assert BROKER not in script
    run = run_script(script, tmp_path)
    assert run.returncode == 0, run.output
    assert run.of("gcloud", "secrets") == [
        ["secrets", "versions", "access", "latest", "--secret=cloudrender-worker", "--quiet"]
    ]
    assert "CLOUDRENDER_BROKER_URL=redis://from-secret-manager/0" in run.secrets


def test_an_env_file_on_the_image_is_passed_to_docker(tmp_path: Path) -> None:
    env_file = tmp_path / "baked env"
    env_file.write_text("CLOUDRENDER_BROKER_URL=redis://baked/0\n")
    script = worker_user_data(
        pool(options={"env_file": str(env_file)}), "aws", broker_url=BROKER, storage_url=None
    )
    assert BROKER not in script
    run = run_script(script, tmp_path)
    assert run.returncode == 0, run.output
    assert str(env_file) in run.env_files
    assert "CLOUDRENDER_BROKER_URL=redis://baked/0" in run.secrets


def test_a_node_without_a_broker_url_does_not_start_a_worker(tmp_path: Path) -> None:
    run = run_script(worker_user_data(pool(), "aws", broker_url=None, storage_url=None), tmp_path)
    assert run.returncode != 0
    assert "no CLOUDRENDER_BROKER_URL" in run.output
    assert run.of("docker", "run") == []


def test_an_ecr_image_is_pulled_with_the_instance_role(tmp_path: Path) -> None:
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cloudrender:gpu-1.4"
    script = worker_user_data(
        pool(options={"image": image}), "aws", broker_url=BROKER, storage_url=None
    )
    run = run_script(script, tmp_path)
    assert run.returncode == 0, run.output
    (login,) = run.of("aws", "ecr")
    assert login == ["ecr", "get-login-password", "--region", "eu-west-1"]
    (docker_login,) = run.of("docker", "login")
    assert docker_login[-1] == "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    assert image in run.docker_run


@pytest.mark.parametrize(
    ("engine", "options", "match"),
    [
        ("kubernetes", {}, "no VM start-up script"),
        ("gcp", {"env_parameter": "/x"}, "env_parameter is read on aws nodes only"),
        ("azure", {"env_secret": "x"}, "env_secret is read on gcp nodes only"),
    ],
)
def test_what_an_engine_cannot_do_is_refused(
    engine: str, options: dict[str, str], match: str
) -> None:
    with pytest.raises(ComputeError, match=match):
        worker_user_data(pool(options=options), engine, broker_url=BROKER, storage_url=None)


@pytest.mark.parametrize("engine", cloud_init.ENGINES)
def test_every_variant_passes_bash_syntax_check(engine: str) -> None:
    for variant in (pool(), cpu_pool(), pool(options={"env_file": "/etc/cr.env"})):
        script = worker_user_data(variant, engine, broker_url=BROKER, storage_url=STORAGE)
        check = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
        assert check.returncode == 0, check.stderr

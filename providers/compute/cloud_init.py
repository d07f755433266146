"""The start-up script of a render node on a VM engine (``aws``, ``gcp``, ``azure``).

Handed to the VM as user data (cloud-init runs a ``#!/bin/bash`` user-data script once, as root,
on first boot), it:

1. asks the cloud's metadata service for the node's id at its engine, the id the engine's
   ``terminate`` takes: the EC2 instance id (IMDSv2: a session token first), the GCE instance
   name, or the VM scale set instance id (Azure IMDS; with ``options.orchestration = "flexible"``
   the VM name, which is what a flexible scale set deletes by);
2. gathers the worker's secrets into an env file (mode 0600, under /run so never on disk);
3. runs the worker image with Docker: ``IMAGE worker --queues Q --concurrency N`` (the image's
   entry point is ``cloudrender``), with ``CLOUDRENDER_NODE_POOL`` and ``CLOUDRENDER_INSTANCE_ID``
   so its heartbeat names its pool and id, ``CLOUDRENDER_SPOT_PROVIDER`` on spot pools so it
   watches for interruption notices, and ``--gpus all`` with
   ``NVIDIA_DRIVER_CAPABILITIES=compute,video,utility`` (NVDEC/NVENC need ``video``) on GPU pools.

Secrets. Broker and storage URLs carry passwords, and user data is readable by anyone allowed to
describe the instance and by every process on it, so a pool should name where they live, as
lines ``CLOUDRENDER_BROKER_URL=...`` / ``CLOUDRENDER_STORAGE_URL=...`` (Docker env-file format):

- ``options.env_file``: a file already on the image (baked into the AMI or image);
- ``options.env_parameter`` (aws): an SSM Parameter Store SecureString, read with the ``aws``
  CLI (the instance profile needs ``ssm:GetParameter`` and the key's ``kms:Decrypt``);
- ``options.env_secret`` (gcp): a Secret Manager secret's latest version, read with ``gcloud``
  (the service account needs ``secretmanager.versions.access``).

Only when none is named are the ``broker_url``/``storage_url`` given here written into the
script itself. The worker image comes from ``options.image``, else ``image``, else the tags the
deploy/ Dockerfiles are built as (``docker build -f deploy/Dockerfile.gpu -t cloudrender:gpu .``),
which suit a VM image with the worker image preloaded; otherwise push it to a registry and name
it (ECR and Artifact Registry logins are done with the instance's own credentials). The VM image
must have Docker, ``curl`` and, for GPU pools, the NVIDIA driver and container toolkit.
"""

from __future__ import annotations

import re
import shlex

from providers.compute.base import ComputeError
from providers.compute.pools import Pool

__all__ = ["DEFAULT_IMAGES", "ENGINES", "worker_user_data"]

ENGINES = ("aws", "gcp", "azure")
#: Worker images by node kind, as tagged when built from deploy/Dockerfile.cpu and .gpu.
DEFAULT_IMAGES = {"cpu": "cloudrender:cpu", "gpu": "cloudrender:gpu"}
#: Where the script logs, on the node (also in the cloud's serial console through cloud-init).
LOG_FILE = "/var/log/cloudrender-startup.log"
ENV_FILE = "/run/cloudrender/worker.env"
CONTAINER = "cloudrender-worker"
#: Seconds Docker waits for the worker to finish its chunks on shutdown: inside AWS's two-minute
#: spot notice, so the worker's own hand-back runs first.
STOP_TIMEOUT = 110

_ECR = re.compile(r"^(\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?)/")
_GAR = re.compile(r"^([a-z0-9-]+-docker\.pkg\.dev|(?:[a-z]+\.)?gcr\.io)/")

# Each defines instance_id(): prints the node's id at its engine, fails without output.
_INSTANCE_ID = {
    "aws": [
        "instance_id() {",
        "  local token",
        "  token=$(curl -fsS --max-time 5 -X PUT"
        " -H 'X-aws-ec2-metadata-token-ttl-seconds: 300'"
        " http://169.254.169.254/latest/api/token) || return 1",
        '  curl -fsS --max-time 5 -H "X-aws-ec2-metadata-token: $token"'
        " http://169.254.169.254/latest/meta-data/instance-id",
        "}",
    ],
    "gcp": [
        "instance_id() {",
        "  curl -fsS --max-time 5 -H 'Metadata-Flavor: Google'"
        " http://metadata.google.internal/computeMetadata/v1/instance/name",
        "}",
    ],
    "azure": [
        "azure_compute() {",
        "  curl -fsS --max-time 5 -H 'Metadata: true'"
        ' "http://169.254.169.254/metadata/instance/compute/$1?api-version=2021-02-01&format=text"',
        "}",
        "instance_id() {",
        "  local name scale_set",
        "  name=$(azure_compute name) || return 1",
        '  scale_set=$(azure_compute vmScaleSetName) || scale_set=""',
        "  # A uniform scale set names its VMs <scale set>_<instance id>.",
        '  if [ "$FLEXIBLE" = no ] && [ -n "$scale_set" ] \\',
        '    && [ "${name#"${scale_set}_"}" != "$name" ]',
        '  then printf %s "${name#"${scale_set}_"}"',
        '  else printf %s "$name"',
        "  fi",
        "}",
    ],
}


def worker_user_data(
    pool: Pool,
    engine: str,
    *,
    broker_url: str | None,
    storage_url: str | None,
    image: str | None = None,
) -> str:
    """The ``#!/bin/bash`` cloud-init script that starts `pool`'s worker on a VM of `engine`."""
    if engine not in ENGINES:
        raise ComputeError(
            f"pool {pool.name!r}: no VM start-up script for engine {engine!r} "
            f"(one of {', '.join(ENGINES)})"
        )
    q = shlex.quote
    options = pool.options
    worker_image = options.get("image") or image or DEFAULT_IMAGES["gpu" if pool.has_gpu else "cpu"]
    lines = [
        "#!/bin/bash",
        f"# cloudrender worker start-up: pool {_comment(pool.name)}, engine {engine}"
        " (providers/compute/cloud_init.py)",
        "set -euo pipefail",
        "umask 077",
        # Into the log file, and through cloud-init to the serial console.
        f"exec > >(tee -a {LOG_FILE}) 2>&1",
        f"POOL={q(pool.name)}",
        f"IMAGE={q(worker_image)}",
        f"ENV_FILE={ENV_FILE}",
        f"FLEXIBLE={'yes' if options.get('orchestration') == 'flexible' else 'no'}",
        'fail() { echo "cloudrender start-up failed: $*"; exit 1; }',
        "retry() {",
        "  local n",
        "  for n in 1 2 3 4 5 6 7 8 9 10; do",
        '    "$@" && return 0',
        "    sleep $((n * 2))",
        "  done",
        "  return 1",
        "}",
        *_INSTANCE_ID[engine],
        "command -v curl >/dev/null || fail 'curl is not installed on the VM image'",
        "command -v docker >/dev/null || fail 'docker is not installed on the VM image'",
        "INSTANCE_ID=$(retry instance_id) || fail 'the metadata service gave no instance id'",
        "[ -n \"$INSTANCE_ID\" ] || fail 'the metadata service gave an empty instance id'",
        'echo "pool $POOL: node $INSTANCE_ID starting"',
        "mkdir -p /run/cloudrender",
        ': >"$ENV_FILE"',
        *_secret_lines(pool, engine, broker_url, storage_url),
        *_login_lines(pool, engine, worker_image),
        "retry docker info >/dev/null || fail 'the Docker daemon does not answer'",
        f"docker rm -f {CONTAINER} >/dev/null 2>&1 || true",
        _run_command(pool, engine),
        'echo "pool $POOL: worker started in container ' + CONTAINER + '"',
    ]
    return "\n".join(lines) + "\n"


def _secret_lines(
    pool: Pool, engine: str, broker_url: str | None, storage_url: str | None
) -> list[str]:
    """Lines that gather the secrets into $ENV_FILE and the files listed in ENV_PATHS."""
    q = shlex.quote
    options = pool.options
    lines = ['ENV_PATHS=("$ENV_FILE")']
    sources = False
    if options.get("env_file"):
        path = options["env_file"]
        missing = q(f"env file {path} is not on the VM")
        lines += [f"[ -r {q(path)} ] || fail {missing}", f"ENV_PATHS+=({q(path)})"]
        sources = True
    if options.get("env_parameter"):
        _only_on(pool, engine, "env_parameter", "aws")
        parameter = options["env_parameter"]
        lines += [
            f"retry aws ssm get-parameter --region {q(pool.region)} --name {q(parameter)}"
            ' --with-decryption --query Parameter.Value --output text >>"$ENV_FILE"'
            f" || fail {q(f'cannot read SSM parameter {parameter}')}",
            'echo >>"$ENV_FILE"',
        ]
        sources = True
    if options.get("env_secret"):
        _only_on(pool, engine, "env_secret", "gcp")
        secret = options["env_secret"]
        lines += [
            f"retry gcloud secrets versions access latest --secret={q(secret)} --quiet"
            ' >>"$ENV_FILE"'
            f" || fail {q(f'cannot read Secret Manager secret {secret}')}",
            'echo >>"$ENV_FILE"',
        ]
        sources = True
    if not sources:
        # No secret store named: the URLs travel in the user data itself (see the docstring).
        for name, value in (
            ("CLOUDRENDER_BROKER_URL", broker_url),
            ("CLOUDRENDER_STORAGE_URL", storage_url),
        ):
            if value:
                if "\n" in value or "\r" in value:
                    raise ComputeError(f"pool {pool.name!r}: {name} must be one line")
                lines.append(f"printf '%s\\n' {q(f'{name}={value}')} >>\"$ENV_FILE\"")
    lines += [
        "grep -qs '^CLOUDRENDER_BROKER_URL=' \"${ENV_PATHS[@]}\""
        " || fail 'no CLOUDRENDER_BROKER_URL in the env files: name them in the pool options'",
        "ENV_ARGS=()",
        'for path in "${ENV_PATHS[@]}"; do ENV_ARGS+=(--env-file "$path"); done',
    ]
    return lines


def _only_on(pool: Pool, engine: str, option: str, owner: str) -> None:
    """Refuse a secret source that belongs to another engine's cloud."""
    if engine != owner:
        others = {"aws": "env_parameter", "gcp": "env_secret"}
        alternative = f" or options.{others[engine]}" if engine in others else ""
        raise ComputeError(
            f"pool {pool.name!r}: options.{option} is read on {owner} nodes only; on {engine} "
            f"use options.env_file{alternative}"
        )


def _login_lines(pool: Pool, engine: str, image: str) -> list[str]:
    """Registry login with the instance's own credentials, for the registries that allow it."""
    q = shlex.quote
    if engine == "aws" and (ecr := _ECR.match(image)):
        region = ecr.group(1).split(".")[3]
        login = (
            f"aws ecr get-login-password --region {region}"
            f" | docker login --username AWS --password-stdin {ecr.group(1)}"
        )
        return [f"retry sh -c {q(login)} || fail 'ECR login failed'"]
    if engine == "gcp" and (gar := _GAR.match(image)):
        return [
            f"gcloud auth configure-docker {q(gar.group(1))} --quiet "
            "|| fail 'cannot configure Docker for Artifact Registry'"
        ]
    return []


def _run_command(pool: Pool, engine: str) -> str:
    """The ``docker run`` line of the worker container."""
    q = shlex.quote
    args = [
        "docker run -d",
        f"--name {CONTAINER}",
        "--restart on-failure",
        # The host's network: the metadata service (spot notices) and the metrics port as is.
        "--network host",
        f"--stop-timeout {STOP_TIMEOUT}",
        '"${ENV_ARGS[@]}"',
        '-e "CLOUDRENDER_NODE_POOL=$POOL"',
        '-e "CLOUDRENDER_INSTANCE_ID=$INSTANCE_ID"',
    ]
    if pool.spot:
        args.append(f"-e CLOUDRENDER_SPOT_PROVIDER={engine}")
    if pool.has_gpu:
        args += ["--gpus all", "-e NVIDIA_DRIVER_CAPABILITIES=compute,video,utility"]
    args += [
        '"$IMAGE"',
        "worker",
        f"--queues {q(','.join(pool.queues))}",
        f"--concurrency {int(pool.concurrency)}",
    ]
    return " \\\n  ".join(args)


def _comment(text: str) -> str:
    """`text` safe inside a shell comment line."""
    return " ".join(text.split())

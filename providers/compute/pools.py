"""Pools: named groups of identical render nodes, read from ``cloudrender.toml`` (or YAML).

```toml
[autoscaler]                 # read by orchestrator.autoscaler.policy
policy = "deadline"

[pools.gpu-spot]
provider = "aws"             # local | aws | gcp | azure | kubernetes
region = "us-east-1"
instance_type = "g5.xlarge"
vcpus = 4
memory_gb = 16
gpu = "A10G"                 # omit for CPU nodes
nvenc = true
market = "spot"              # spot | on-demand
min_nodes = 0
max_nodes = 8
boot_seconds = 180
price_per_hour = 0.45        # dollars per node-hour in this market
concurrency = 2              # worker slots per node
queues = ["render", "audio", "merge"]
[pools.gpu-spot.options]     # engine-specific (group name, launch template, image, namespace)
group = "cloudrender-gpu-spot"
```

Every field can be overridden from the environment as ``CLOUDRENDER_POOL_<NAME>_<FIELD>``
(the pool name upper-cased, ``-`` as ``_``: ``CLOUDRENDER_POOL_GPU_SPOT_MAX_NODES=12``);
``common.settings`` collects them. Every problem is a one-line ``PoolConfigError`` naming the
file, the pool and the field.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from common.errors import RenderError

#: "memory" keeps simulated nodes in memory (providers.compute.memory): dry runs, simulations.
PROVIDERS = ("local", "aws", "gcp", "azure", "kubernetes", "memory")
MARKETS = ("on-demand", "spot")
#: A pool name: what an ASG, instance group or Deployment name may carry.
NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")


class PoolConfigError(RenderError):
    """The pools file or a CLOUDRENDER_POOL_* override is wrong; the message says where."""


def unpriced(pool: Pool, why: str) -> str:
    """The one-line problem of a cloud pool whose price is unknown."""
    return (
        f"pool {pool.name!r}: {pool.provider} {pool.instance_type} in {pool.region or '?'} "
        f"{why}: set its price_per_hour"
    )


@dataclass(frozen=True)
class Pool:
    """A named group of identical nodes on one compute engine."""

    name: str
    provider: str
    instance_type: str = "local"
    vcpus: int = 1
    memory_gb: float = 1.0
    #: GPU model ("L4", "A10G", "T4"), None for CPU nodes
    gpu: str | None = None
    gpus: int = 0
    #: whether the GPU has a hardware encoder (an H100 has none)
    nvenc: bool = False
    market: str = "on-demand"
    region: str = ""
    zone: str = ""
    min_nodes: int = 0
    max_nodes: int = 1
    #: seconds from request to first heartbeat, typically; 3x this without one is a failed boot
    boot_seconds: float = 120.0
    #: dollars per node-hour in this market (0 for a machine already paid for)
    price_per_hour: float = 0.0
    #: worker slots (Celery pool processes) per node
    concurrency: int = 1
    #: queues its workers consume (as `cloudrender worker`'s default: someone must mix audio
    #: and merge when only cloud pools run)
    queues: tuple[str, ...] = ("render", "audio", "merge")
    #: engine-specific settings (group name, launch template, image, subnet, namespace...)
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def spot(self) -> bool:
        """Whether the pool's nodes are interruptible (spot/preemptible) capacity."""
        return self.market == "spot"

    @property
    def has_gpu(self) -> bool:
        """Whether the pool's nodes carry a GPU."""
        return self.gpu is not None

    @property
    def slot_price(self) -> float:
        """Dollars per hour of one worker slot."""
        return self.price_per_hour / self.concurrency


@dataclass(frozen=True)
class PoolsConfig:
    """Every pool by name, and the raw ``[autoscaler]`` table (orchestrator.autoscaler.policy)."""

    pools: Mapping[str, Pool]
    autoscaler: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""


#: What the start-up script of every cloud VM reads (providers.compute.cloud_init).
_VM_OPTIONS = {"image", "env_file"}
#: The ``options`` keys each engine reads (its module docstring says what each does): a key
#: outside these is a typo, and a misspelt ``env_parameter`` or ``security_groups`` must not
#: quietly put secrets in user data or nodes in the default security group. A ``local`` pool
#: also takes ``env.NAME`` keys (its workers' settings).
OPTIONS: Mapping[str, frozenset[str]] = {
    "aws": frozenset(
        {
            *_VM_OPTIONS,
            *("group", "launch_template", "image_id", "subnets", "security_groups"),
            *("key_name", "instance_profile", "instance_types", "env_parameter"),
            *("endpoint", "max_attempts", "timeout"),
        }
    ),
    "gcp": frozenset(
        {
            *_VM_OPTIONS,
            *("project", "zones", "group", "template", "base_instance_name", "vm_image"),
            *("disk_gb", "disk_type", "network", "subnetwork", "external_ip"),
            *("service_account", "accelerator_type", "env_secret", "endpoint", "timeout"),
            *("retry_seconds", "operation_seconds"),
        }
    ),
    "azure": frozenset(
        {
            *_VM_OPTIONS,
            *("subscription", "resource_group", "group", "vm_image", "subnet"),
            *("ssh_public_key", "admin_username", "disk_gb", "disk_type"),
            *("computer_name_prefix", "public_ip", "eviction", "max_price", "orchestration"),
            *("endpoint", "timeout", "retries", "poll_seconds"),
        }
    ),
    "kubernetes": frozenset(
        {"namespace", "deployment", "mode", "endpoint", "kubeconfig", "context", "timeout"}
    ),
    "local": frozenset({"state_dir", "stop_seconds"}),
    "memory": frozenset(),
}
_NUMBERS = {"vcpus", "gpus", "min_nodes", "max_nodes", "concurrency"}
_FLOATS = {"memory_gb", "boot_seconds", "price_per_hour"}
_STRINGS = {"provider", "instance_type", "market", "region", "zone"}
_FIELDS = {f.name for f in fields(Pool)} - {"name"}


def load_pools(path: str | Path, overrides: Mapping[str, str] | None = None) -> PoolsConfig:
    """Read a pools file (TOML, or YAML by its suffix) and apply CLOUDRENDER_POOL_* overrides."""
    path = Path(path).expanduser()
    try:
        text = path.read_text()
    except OSError as exc:
        raise PoolConfigError(f"pools file {path}: {exc.strerror or exc}") from None
    return parse_pools(text, str(path), overrides, yaml=path.suffix in (".yaml", ".yml"))


def parse_pools(
    text: str, source: str, overrides: Mapping[str, str] | None = None, *, yaml: bool = False
) -> PoolsConfig:
    """Pools from a file's text; see the module docstring for the format."""
    data = _decode(text, source, yaml)
    unknown = set(data) - {"pools", "autoscaler"}
    if unknown:
        raise PoolConfigError(f"{source}: unknown section {sorted(unknown)[0]!r}")
    tables = data.get("pools") or {}
    if not isinstance(tables, dict) or not tables:
        raise PoolConfigError(f"{source}: no [pools.NAME] table")
    autoscaler = data.get("autoscaler") or {}
    if not isinstance(autoscaler, dict):
        raise PoolConfigError(f"{source}: [autoscaler] must be a table")
    by_env = _overrides_by_pool(overrides or {}, tables, source)
    pools = {}
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise PoolConfigError(f"{source}: pool {name!r} must be a table")
        env = by_env.get(name, {})
        values = {**table, **{key: value for key, (value, _) in env.items()}}
        pools[name] = _pool(str(name), values, source, {k: v for k, (_, v) in env.items()})
    return PoolsConfig(pools, autoscaler, source)


def _decode(text: str, source: str, yaml: bool) -> dict[str, Any]:
    try:
        if yaml:
            import yaml as pyyaml

            data = pyyaml.safe_load(text)
        else:
            data = tomllib.loads(text)
    except Exception as exc:  # tomllib and PyYAML both: say where, in one line
        reason = " ".join(str(exc).split())
        kind = "YAML" if yaml else "TOML"
        raise PoolConfigError(f"{source}: not valid {kind}: {reason}") from None
    if not isinstance(data, dict):
        raise PoolConfigError(f"{source}: the top level must be a table of sections")
    return data


def _overrides_by_pool(
    overrides: Mapping[str, str], tables: Mapping[str, Any], source: str
) -> dict[str, dict[str, tuple[str, str]]]:
    """CLOUDRENDER_POOL_<NAME>_<FIELD> variables, by pool name and field: (value, variable)."""
    env_names = {str(n).upper().replace("-", "_"): str(n) for n in tables}
    found: dict[str, dict[str, tuple[str, str]]] = {}
    for variable, value in overrides.items():
        rest = variable.removeprefix("CLOUDRENDER_POOL_")
        if rest == variable or variable == "CLOUDRENDER_POOLS_FILE":
            continue
        match = next(
            (
                (pool, key)
                for env_name, pool in env_names.items()
                for key in _FIELDS
                if rest == f"{env_name}_{key.upper()}"
            ),
            None,
        )
        if match is None:
            raise PoolConfigError(
                f"{variable}: names no pool field of {source} (pools: "
                f"{', '.join(sorted(env_names.values()))}; fields: {', '.join(sorted(_FIELDS))})"
            )
        found.setdefault(match[0], {})[match[1]] = (value, variable)
    return found


def _pool(name: str, table: Mapping[str, Any], source: str, variables: Mapping[str, str]) -> Pool:
    """The pool from its table; `variables` names the environment variable each overridden
    field's value came from, which a wrong value is blamed on (the file does not hold it)."""
    where = f"{source}: pool {name!r}"
    if not NAME.match(name):
        raise PoolConfigError(
            f"{where}: a pool name is lower-case letters, digits and '-', starting with a letter"
        )
    unknown = set(table) - _FIELDS
    if unknown:
        key = sorted(unknown)[0]
        close = difflib.get_close_matches(key, sorted(_FIELDS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise PoolConfigError(f"{where}: unknown field {key!r}{hint}")
    if "provider" not in table:
        raise PoolConfigError(f"{where}: 'provider' is required (one of {', '.join(PROVIDERS)})")
    values: dict[str, Any] = {}
    for key, raw in table.items():
        variable = variables.get(key)
        blamed = f"{variable} (overriding pool {name!r} of {source})" if variable else where
        values[key] = _value(key, raw, blamed)
    pool = Pool(name=name, **values)
    if pool.gpu is not None and pool.gpus == 0:
        pool = replace(pool, gpus=1)
    _check(pool, where)
    return pool


def _value(key: str, raw: Any, where: str) -> Any:
    """One field's value, converted from TOML/YAML or an environment string."""
    if key in _NUMBERS:
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise PoolConfigError(f"{where}: {key} must be a whole number, not {raw!r}")
        try:
            return int(raw)
        except ValueError:
            raise PoolConfigError(f"{where}: {key} must be a whole number, not {raw!r}") from None
    if key in _FLOATS:
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise PoolConfigError(f"{where}: {key} must be a number, not {raw!r}") from None
        if isinstance(raw, bool) or not math.isfinite(value):
            raise PoolConfigError(f"{where}: {key} must be a number, not {raw!r}")
        return value
    if key == "nvenc":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "false", "1", "0", "yes", "no"):
            return raw.lower() in ("true", "1", "yes")
        raise PoolConfigError(f"{where}: nvenc must be true or false, not {raw!r}")
    if key == "gpu":
        return str(raw) if raw not in (None, "", "none") else None
    if key == "queues":
        items = raw.split(",") if isinstance(raw, str) else raw
        if not isinstance(items, list) or not all(isinstance(q, str) and q for q in items):
            raise PoolConfigError(f"{where}: queues must be a list of queue names")
        return tuple(q.strip() for q in items)
    if key == "options":
        if not isinstance(raw, dict):
            raise PoolConfigError(f"{where}: options must be a table")
        return {str(k): str(v) for k, v in raw.items()}
    if not isinstance(raw, str):
        raise PoolConfigError(f"{where}: {key} must be a string, not {raw!r}")
    return raw


def _check(pool: Pool, where: str) -> None:
    if pool.provider not in PROVIDERS:
        raise PoolConfigError(
            f"{where}: provider {pool.provider!r} is not one of {', '.join(PROVIDERS)}"
        )
    if pool.market not in MARKETS:
        raise PoolConfigError(f"{where}: market {pool.market!r} is not one of {', '.join(MARKETS)}")
    if pool.min_nodes < 0:
        raise PoolConfigError(f"{where}: min_nodes must not be negative")
    if pool.max_nodes < pool.min_nodes:
        raise PoolConfigError(
            f"{where}: max_nodes ({pool.max_nodes}) is below min_nodes ({pool.min_nodes})"
        )
    for key in ("vcpus", "concurrency"):
        if getattr(pool, key) < 1:
            raise PoolConfigError(f"{where}: {key} must be at least 1")
    for key in ("memory_gb", "boot_seconds", "price_per_hour", "gpus"):
        if getattr(pool, key) < 0:
            raise PoolConfigError(f"{where}: {key} must not be negative")
    if pool.boot_seconds == 0:
        # The boot limit is boot_seconds x boot_timeout_factor: 0 would call every node a
        # failed boot before its first heartbeat, and back the pool off with nothing running.
        raise PoolConfigError(
            f"{where}: boot_seconds must be above 0: the typical seconds from request to first "
            "heartbeat (e.g. 10 for local workers, 120 for a cloud VM)"
        )
    if pool.nvenc and pool.gpu is None:
        raise PoolConfigError(f"{where}: nvenc needs a gpu")
    if not pool.queues:
        raise PoolConfigError(f"{where}: queues must name at least one queue")
    if not pool.region and pool.provider in ("aws", "gcp", "azure"):
        raise PoolConfigError(f"{where}: region is required for provider {pool.provider!r}")
    _check_options(pool, where)


def _check_options(pool: Pool, where: str) -> None:
    """Refuse an option key the pool's engine does not read, suggesting the one meant."""
    known = OPTIONS[pool.provider]
    for key in sorted(pool.options):
        if key in known or (pool.provider == "local" and key.startswith("env.") and key[4:]):
            continue
        close = difflib.get_close_matches(key, sorted(known), n=1)
        owners = [name for name, keys in OPTIONS.items() if key in keys]
        hint = f"an option of provider {' and '.join(owners)} only; " if owners else ""
        hint += f"did you mean {close[0]!r}? " if close else ""
        listed = ", ".join(sorted(known)) or "none"
        raise PoolConfigError(
            f"{where}: unknown option {key!r} for provider {pool.provider} ({hint}known: {listed})"
        )

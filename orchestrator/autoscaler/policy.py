"""The autoscaling policy from the pools file's ``[autoscaler]`` table and the environment.

```toml
[autoscaler]
policy = "deadline"          # queue | deadline | cost
target_minutes = 10          # or target_seconds = 600: the queue policy's horizon
hourly_budget = 20           # dollars per hour for the whole fleet; omit for no cap
scale_up_cooldown = 30       # seconds, and every other field of model.Policy
confidence = 0.95            # a spot plan must make its deadline with this probability
```

Every field can be overridden as ``CLOUDRENDER_AUTOSCALER_<FIELD>`` (``common.settings``
collects them): ``CLOUDRENDER_AUTOSCALER_HOURLY_BUDGET=20``,
``CLOUDRENDER_AUTOSCALER_POLICY=cost``; an override beats the file, also across the
``target_minutes``/``target_seconds`` alias. ``hourly_budget = "none"`` (or an empty variable)
removes the cap. Each problem is one ``PoolConfigError`` line naming the field and what to write.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from orchestrator.autoscaler.model import POLICIES, Policy
from providers.compute.pools import PoolConfigError

#: The environment prefix of overrides.
ENV_PREFIX = "CLOUDRENDER_AUTOSCALER_"
#: Table keys besides Policy's own field names: the policy's name, and minutes for the target.
ALIASES = {"policy": "name", "target_minutes": "target_seconds"}
#: Whole-number fields; the rest (but the name) are non-negative numbers of seconds or dollars.
_WHOLE = {"max_launch_failures"}
#: Fields that must be above zero, not merely not negative.
_POSITIVE = {"target_seconds", "hourly_budget", "boot_timeout_factor", "max_launch_failures"}
_KEYS = ({f.name for f in fields(Policy)} - {"name"}) | set(ALIASES)


def load_policy(raw: Mapping[str, Any], overrides: Mapping[str, str]) -> Policy:
    """A Policy from the ``[autoscaler]`` table, with CLOUDRENDER_AUTOSCALER_* overrides."""
    values: dict[str, Any] = {}
    from_file = _entries(raw, env=False)
    from_env = _entries(overrides, env=True)
    for entries, where in ((from_file, "[autoscaler]"), (from_env, ENV_PREFIX + "TARGET_*")):
        if {"target_seconds", "target_minutes"} <= {key for key, _, _ in entries}:
            raise PoolConfigError(f"{where}: give target_seconds or target_minutes, not both")
    for key, blame, value in [*from_file, *from_env]:
        values[ALIASES.get(key, key)] = _convert(key, value, blame)
    return Policy(**values)


def _entries(table: Mapping[str, Any], *, env: bool) -> list[tuple[str, str, Any]]:
    """(key, where to blame, raw value) of a table or of the environment overrides."""
    found = []
    for name, value in table.items():
        if env:
            if not name.startswith(ENV_PREFIX):
                continue
            key = name.removeprefix(ENV_PREFIX).lower()
            blame = name
        else:
            key = str(name)
            blame = f"[autoscaler] {key}"
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise PoolConfigError(f"{blame}: not an autoscaler setting (known: {known})")
        found.append((key, blame, value))
    return found


def _convert(key: str, raw: Any, where: str) -> Any:
    """One value, from TOML/YAML or an environment string, checked."""
    if key == "policy":
        if not isinstance(raw, str) or raw.strip().lower() not in POLICIES:
            raise PoolConfigError(f"{where}: must be one of {', '.join(POLICIES)}, not {raw!r}")
        return raw.strip().lower()
    if key == "hourly_budget" and (raw is None or str(raw).strip().lower() in ("", "none")):
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise PoolConfigError(f"{where}: must be a number, not {raw!r}")
    try:
        value = float(raw)
    except ValueError:
        raise PoolConfigError(f"{where}: must be a number, not {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise PoolConfigError(f"{where}: must be a finite number of at least 0, not {raw!r}")
    if key in _POSITIVE and value == 0:
        raise PoolConfigError(f"{where}: must be above 0, not {raw!r}")
    if key == "confidence" and not 0 < value < 1:
        raise PoolConfigError(
            f"{where}: must be a probability above 0 and below 1 (e.g. 0.95), not {raw!r}"
        )
    if key == "target_minutes":
        return value * 60.0
    if key in _WHOLE:
        if value != int(value):
            raise PoolConfigError(f"{where}: must be a whole number, not {raw!r}")
        return int(value)
    return value

"""The canonical JSON form content keys hash: model values as plain JSON, and its digest."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
from collections.abc import Hashable, Mapping
from fractions import Fraction
from typing import Any, cast

from chunking.timeline.model import TrackKind

#: Bumped whenever the canonical form changes meaning, so no old key can match a new one.
KEY_VERSION = 3


def plain(value: Any) -> Any:
    """A model value as JSON: dataclasses as dicts, tuples as lists, fractions and enums as
    strings, and numbers by value (``number``: 3 and 3.0 key alike, True and 1 do not)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        try:
            # Most clips share their defaults (Transform(), Crop()); a copy, as callers edit
            # the top level of what they get.
            return dict(_plain_cached(cast(Hashable, value)))
        except TypeError:  # unhashable (a dict inside): built each time
            return _plain_dataclass(value)
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, TrackKind):
        return value.value
    if isinstance(value, float):
        return number(value)
    return value


def number(value: float) -> float | int:
    """A float as its key holds it: a whole one as the int of the same value (exactly: every
    whole float is an int, not every int a float), so 3, 3.0 and -0.0 == 0 key alike wherever
    they are (a param the renderer reads with float(), a field an importer filled with an int).
    Equal forms then also come from the kept forms of equal dataclasses (``_plain_cached``),
    which otherwise keyed 5 or 5.0 by whichever this process met first."""
    if math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def _plain_dataclass(value: Any) -> dict[str, Any]:
    return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}


#: Equal values give equal forms (shared: only their copies' top levels are changed).
_plain_cached = functools.lru_cache(maxsize=4096)(_plain_dataclass)


def digest(form: dict[str, Any]) -> str:
    """Hex sha256 of the form's canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(form, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()

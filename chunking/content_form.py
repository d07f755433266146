"""The canonical JSON form content keys hash: model values as plain JSON, and its digest."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Hashable, Mapping
from fractions import Fraction
from typing import Any, cast

from chunking.timeline.model import TrackKind

#: Bumped whenever the canonical form changes meaning, so no old key can match a new one.
KEY_VERSION = 2


def plain(value: Any) -> Any:
    """A model value as JSON: dataclasses as dicts (float fields as floats, so 1 and 1.0 key
    alike), tuples as lists, fractions and enums as strings."""
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
    if isinstance(value, float) and value == 0.0:
        # -0.0 == 0.0 draws alike; as JSON they differ, and the kept forms of equal
        # dataclasses would key -0.0 or 0.0 by whichever this process met first.
        return 0.0
    return value


def _plain_dataclass(value: Any) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(value):
        item = getattr(value, f.name)
        if f.type == "float" and isinstance(item, int) and not isinstance(item, bool):
            item = float(item)
        out[f.name] = plain(item)
    return out


#: Equal values give equal forms (shared: only their copies' top levels are changed).
_plain_cached = functools.lru_cache(maxsize=4096)(_plain_dataclass)


def digest(form: dict[str, Any]) -> str:
    """Hex sha256 of the form's canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(form, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()

"""Export overrides: the settings a command line or an API request replaces in a project's
export (``--crf``, ``settings.codec``...), checked before any is applied."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from chunking.timeline.audio_export import canonical_audio
from chunking.timeline.export import CODECS, OUTPUT_CONTAINERS
from chunking.timeline.fields import bounded
from chunking.timeline.model import ExportSettings
from chunking.timeline.profiles import canonical_profile
from common.errors import ValidationError


def with_overrides(export: ExportSettings, /, **changes: Any) -> ExportSettings:
    """A copy with the given fields replaced (None values are ignored); ValidationError naming
    each override that is not an export setting or not a value it takes."""
    # Positional-only: the changes are a user's keys, and one named "export" must be refused
    # as an unknown setting, not collide with the parameter (a TypeError, HTTP 500).
    given = {k: v for k, v in changes.items() if v is not None}
    problems = override_problems(given)
    if problems:
        raise ValidationError(problems)
    if "audio_codec" in given:
        given["audio_codec"] = canonical_audio(given["audio_codec"])
    if "profile" in given:
        given["profile"] = canonical_profile(given.get("codec", export.codec), given["profile"])
    elif given.get("codec", export.codec) != export.codec:
        given["profile"] = None  # the project's ProRes profile is no DNxHR profile
    return dataclasses.replace(export, **given)


#: The settings a lossless encoder (FFV1, RGB H.264 at QP 0 and a fixed preset) has no use for.
_LOSSY_ONLY = {"crf": "CRF", "preset": "preset", "bitrate": "bitrate"}


def lossless_unused(
    export: ExportSettings, asked: Mapping[str, Any], names: Mapping[str, str] | None = None
) -> list[str]:
    """Why each override in ``asked`` would be ignored by the lossless encoder ``export``
    renders with (empty when it is lossy); ``names``: what the caller calls each override
    (``--crf``), else ``settings.<key>``. ``--codec ffv1 --crf 18`` rendered as if no CRF had
    been typed, without a word."""
    if not (export.lossless or export.codec == "ffv1"):
        return []
    names = names or {}

    def named(key: str) -> str:
        return names.get(key, f"settings.{key}")

    mp4 = export.container in ("mp4", "mov") and export.codec != "ffv1"
    encoder = "lossless RGB H.264" if mp4 else "FFV1, which is lossless,"
    if export.lossless:
        why = named("lossless") if asked.get("lossless") else "the project's lossless export"
    else:
        why = f"{named('codec')} ffv1" if asked.get("codec") else "the project's codec ffv1"
    problems = []
    for key, what in _LOSSY_ONLY.items():
        value = asked.get(key)
        if value is None:
            continue
        name = named(key)
        problems.append(
            f"{name} {value}: {encoder} takes no {what} (chosen by {why}): drop {name}, or "
            "ask for a lossy codec"
        )
    return problems


#: What each export setting an API or command line override may take: (type, low, high) for
#: numbers, a set of names, or bool.
_OVERRIDES: dict[str, Any] = {
    "container": set(OUTPUT_CONTAINERS),
    "codec": set(CODECS.values()),
    "crf": (int, 0, 63),
    "bitrate": (int, 1000, 2_000_000_000),
    "preset": str,
    "keyframe_interval": (int, 1, 10000),
    "b_frames": (int, 0, 16),
    "hardware_acceleration": bool,
    "lossless": bool,
    "audio_bitrate": (int, 8000, 1_536_000),
    "profile": str,
    "audio_codec": str,
}


def override_problems(changes: Mapping[str, Any]) -> list[str]:
    """Why each of these export overrides cannot be applied (empty when all can)."""
    problems = []
    for key, value in changes.items():
        rule, where = _OVERRIDES.get(key), f"settings.{key}"
        if rule is None:
            known = ", ".join(sorted(_OVERRIDES))
            problems.append(f"{where}: not an export setting (known: {known})")
        elif isinstance(rule, set):
            if not isinstance(value, str) or value not in rule:
                problems.append(f"{where}: {value!r} is not one of {', '.join(sorted(rule))}")
        elif rule is bool:
            if not isinstance(value, bool):
                problems.append(f"{where}: {value!r} must be true or false")
        elif rule is str:
            if not isinstance(value, str) or not 0 < len(value) <= 32:
                problems.append(f"{where}: {value!r} must be a name")
        else:
            _, low, high = rule
            # NaN and infinity (Python's JSON reads both) are no whole number: int() raised.
            number = isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
            if (
                isinstance(value, bool)
                or not number
                or value != int(value)
                or not low <= value <= high
            ):
                problems.append(f"{where}: {value!r} must be a whole number from {low} to {high}")
    return [bounded(p) for p in problems]  # a value is quoted as given: 5 MB flooded

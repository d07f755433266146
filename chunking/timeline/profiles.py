"""Mezzanine codecs' profiles: ProRes and DNxHR, the intra-only codecs editors hand over.

Each profile names the FFmpeg encoder option that selects it and the pixel format it is coded
in (ProRes 422 and DNxHR LB/SQ/HQ are 4:2:2; ProRes 4444 and DNxHR 444 are 4:4:4, 10-bit;
DNxHR HQX is 4:2:2 10-bit). Every frame is a keyframe, so any chunk boundary is a clean cut.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chunking.timeline.model import ExportSettings

#: The mezzanine codecs, and the encoder that writes each (FFmpeg's dnxhd encoder writes DNxHR).
INTRA_ENCODERS = {"prores": "prores_ks", "dnxhr": "dnxhd"}


@dataclass(frozen=True)
class Profile:
    """One profile of an intra-only codec: how the encoder is told, and its pixel format."""

    option: str
    pix_fmt: str


#: Each codec's profiles by the name a user types, in quality order (the first is the smallest).
PROFILES: dict[str, dict[str, Profile]] = {
    "prores": {
        "proxy": Profile("0", "yuv422p10le"),
        "lt": Profile("1", "yuv422p10le"),
        "standard": Profile("2", "yuv422p10le"),
        "hq": Profile("3", "yuv422p10le"),
        "4444": Profile("4", "yuv444p10le"),
    },
    "dnxhr": {
        "lb": Profile("dnxhr_lb", "yuv422p"),
        "sq": Profile("dnxhr_sq", "yuv422p"),
        "hq": Profile("dnxhr_hq", "yuv422p"),
        "hqx": Profile("dnxhr_hqx", "yuv422p10le"),
        "444": Profile("dnxhr_444", "yuv444p10le"),
    },
}
#: The profile a codec gets when none is named: what editors hand over by default.
DEFAULT_PROFILE = {"prores": "hq", "dnxhr": "hq"}
#: Other spellings of profile names (Apple's and Avid's, FFmpeg's), by codec.
ALIASES = {
    "prores": {"422": "standard", "422hq": "hq", "422lt": "lt", "422proxy": "proxy",
               "normal": "standard", "apco": "proxy", "apcs": "lt", "apcn": "standard",
               "apch": "hq", "ap4h": "4444"},
    "dnxhr": {"dnxhrlb": "lb", "dnxhrsq": "sq", "dnxhrhq": "hq", "dnxhrhqx": "hqx",
              "dnxhr444": "444"},
}  # fmt: skip
#: Where users set a profile, for messages: the command line's flag and the API's field.
PROFILE_FLAG = "--profile (settings.profile)"


def canonical_profile(codec: str, name: str) -> str:
    """A profile name as PROFILES spells it (lower case, aliases resolved); unknown names are
    returned lower-cased for profile_problem to refuse."""
    key = name.strip().lower().replace("_", "").replace("-", "").replace(" ", "")
    known = PROFILES.get(codec, {})
    if key in known:
        return key
    return ALIASES.get(codec, {}).get(key, name.strip().lower())


def profile_problem(codec: str, profile: str | None) -> str | None:
    """Why ``profile`` is not one of ``codec``'s (None when it is, or none is named)."""
    if profile is None:
        return None
    known = PROFILES.get(codec)
    if known is None:
        having = " or ".join(sorted(PROFILES))
        return f"{PROFILE_FLAG} {profile!r} applies only to {having}, not {codec}"
    if profile not in known:
        return f"{PROFILE_FLAG} {profile!r} is not a {codec} profile: use one of {', '.join(known)}"
    return None


def profile_of(codec: str, profile: str | None) -> Profile | None:
    """The profile an intra-only codec encodes with (its default when none is named); None for
    other codecs."""
    known = PROFILES.get(codec)
    if known is None:
        return None
    return known.get(profile or DEFAULT_PROFILE[codec]) or known[DEFAULT_PROFILE[codec]]


#: The rate settings an intra-only codec does not use, and the flag that sets each (if any).
_INTRA_UNUSED = {"crf": "--crf", "bitrate": None, "preset": "--preset",
                 "keyframe_interval": None, "b_frames": None}  # fmt: skip


def intra_override_problems(export: ExportSettings, changes: Mapping[str, Any]) -> list[str]:
    """Why the rate settings asked for explicitly (command line or API) cannot apply to this
    ProRes or DNxHR export (empty for other codecs): typed, they would be ignored without a
    word, and the file would not be what was asked for."""
    if export.codec not in PROFILES or export.lossless:
        return []
    profiles = ", ".join(PROFILES[export.codec])
    problems = []
    for key, flag_name in _INTRA_UNUSED.items():
        if changes.get(key) is None:
            continue
        where = f"{flag_name} (settings.{key})" if flag_name else f"settings.{key}"
        problems.append(
            f"{where} does not apply to {export.codec}, which codes every frame alone at its "
            f"profile's rate: choose --profile (settings.profile) {profiles} instead"
        )
    return problems


def intra_problems(width: int, height: int, export: ExportSettings) -> list[str]:
    """Why this ProRes or DNxHR export cannot encode a frame of this size well (empty when it
    can, or for other codecs)."""
    problems = []
    prores = profile_of("prores", export.profile) if export.codec == "prores" else None
    prores = None if export.lossless else prores
    if prores is not None and prores.pix_fmt.startswith("yuv422") and width % 2:
        # prores_ks codes the last column of an odd-width 4:2:2 frame as garbage (measured:
        # 255 levels off on a flat colour); 4:4:4 and DNxHR keep it.
        problems.append(
            f"resolution {width}x{height} has an odd width; prores "
            f"{export.profile or 'hq'} is 4:2:2 and corrupts the last column: use an even "
            f"width, --profile 4444, or --lossless"
        )
    return problems

"""Kdenlive's fades as OpenTimelineIO's kdenlive adapter writes them.

Kdenlive 20.04 to 24.x exported ``.otio`` through that adapter (``otio-kdenlive-adapter``,
``item_from_xml``): a clip's fade filters become effects named by their Kdenlive id, their
length a ``RationalTime`` in the effect's ``duration`` metadata. ``fadein``/``fadeout`` are
Kdenlive's audio fades, ``fade_from_black``/``fade_to_black`` its picture fades. They were read
as an audio fade of the catalogue's default second (the length was not a plain number and was
dropped) and as unknown effects. They become the clip's fades: ``fade_in``/``fade_out``
(sound) and ``picture_fade_in``/``picture_fade_out`` (picture: an opacity fade, black where
nothing lies below, as Kdenlive's fade to black is).

Its ``volume`` and ``brightness`` filters become effects of those names whose ``keyframes``
metadata maps frames to the filter's level (MLT's: decibels for ``volume``, a factor for
``brightness``, 1 unchanged). The volume was an unknown effect, left out; the brightness was
the renderer's own brightness effect at its default amount, brightening a clip Kdenlive left
as it was. A steady volume is the clip's level (a changing one its mean level, with a
warning); a brightness of 1 is left out, any other named in a warning, not rendered.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import opentimelineio as otio

#: Kdenlive's fade ids and the clip field each sets.
_FADES = {
    "fadein": "fade_in",
    "fadeout": "fade_out",
    "fade_from_black": "picture_fade_in",
    "fade_to_black": "picture_fade_out",
}
#: The longest fade taken (a bound for hostile documents; a clip is cut to its own length).
_MAX_SECONDS = 24 * 3600.0


def kdenlive_fade(fx: Any) -> tuple[str, float] | None:
    """The clip field and its seconds for a fade effect of the kdenlive adapter, else None."""
    field = _FADES.get(str(fx.effect_name))
    if field is None:
        return None
    seconds = _seconds(fx.metadata.get("duration") if fx.metadata is not None else None)
    if seconds is None:
        return None
    return field, seconds


def _seconds(value: Any) -> float | None:
    """A RationalTime (or its JSON form) in seconds, or None when it is not one."""
    if isinstance(value, otio.opentime.RationalTime):
        amount, rate = float(value.value), float(value.rate)
    elif isinstance(value, Mapping):
        try:
            amount, rate = float(value["value"]), float(value["rate"])
        except (KeyError, TypeError, ValueError):
            return None
    else:
        return None
    if not (math.isfinite(amount) and math.isfinite(rate)) or rate <= 0 or amount < 0:
        return None
    return min(amount / rate, _MAX_SECONDS)


@dataclass
class Keyed:
    """What a keyframed Kdenlive filter does to its clip."""

    gain: float = 1.0
    #: warnings, as (the part they concern, text)
    notes: list[tuple[str, str]] = field(default_factory=list)


#: The loudest level the loader takes for a clip (its ``volume`` range).
_MAX_GAIN = 10.0


def kdenlive_keyed(fx: Any) -> Keyed | None:
    """What a ``volume`` or ``brightness`` effect of the kdenlive adapter does, else None."""
    kind = str(fx.effect_name)
    keys = fx.metadata.get("keyframes") if fx.metadata is not None else None
    if kind not in ("volume", "brightness") or not isinstance(keys, Mapping):
        return None
    levels = [_level(v) for v in keys.values()]
    done = Keyed()
    if not levels or any(v is None for v in levels):
        part = "sound" if kind == "volume" else "picture"
        done.notes.append((part, f"its Kdenlive {kind} levels {list(keys.values())!r} are not "
                                 "numbers: left out"))  # fmt: skip
        return done
    found = [v for v in levels if v is not None]
    if kind == "brightness":
        if any(v != 1 for v in found):
            shown = ", ".join(f"{v:g}" for v in found[:6])
            done.notes.append(("picture", f"its Kdenlive brightness (levels {shown}) is not "
                                          "rendered"))  # fmt: skip
        return done
    gains = [10 ** (v / 20) for v in found]
    done.gain = min(sum(gains) / len(gains), _MAX_GAIN)
    if len(set(found)) > 1:
        done.notes.append(("sound", "its keyframed Kdenlive volume is not rendered; it plays at "
                                    f"its mean level {done.gain:.3g}"))  # fmt: skip
    return done


def _level(value: Any) -> float | None:
    """A level as MLT writes it ("-6", "-6dB"), or None."""
    text = str(value).strip()
    if text.lower().endswith("db"):
        text = text[:-2]
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) and abs(number) <= 1000 else None

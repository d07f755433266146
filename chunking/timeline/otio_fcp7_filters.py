"""FCP 7 XML's (Premiere's) audio filters that the OTIO adapter leaves as bare metadata.

- ``Pan`` (effectid ``audiopan``): its value (parameterid ``level``, -1 left .. 1 right) is the
  renderer's ``audiopan``; the adapter kept no parameter, so a hard-left pan played centred.
- ``Audio Levels`` with keyframes (Premiere's rubber band, how its users draw fades): a level
  that rises from silence at the clip's start and/or falls to silence at its end, steady in
  between, is that steady level with a fade in/out; any other shape (ducking in the middle) is
  played at its average level with a warning. It was ignored as an unknown effect.
- ``Opacity`` with keyframes (percent; how Premiere's users fade a picture in and out, and
  Final Cut 7's): the clip's opacity keyframes, linear between them as both editors draw
  them by default. It too was ignored, the clip drawn opaque throughout.

Keyframe times (``<when>``) are source frames, as Premiere keeps keyframes in media time; a
keyframe list that only fits the clip counted from its start is read that way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from chunking.timeline.otio_fcp7_adapter import FRAMES
from chunking.timeline.otio_read import plain

#: A level this far below the clip's steady level (-30 dB) is where a fade starts or ends.
_QUIET = 10 ** (-30 / 20)
#: Two levels this close (about 0.1 dB) are the same steady level.
_SAME = 0.012
#: The loudest level the loader takes for a clip (its ``volume`` range).
_MAX_GAIN = 10.0


@dataclass
class Filtered:
    """What an FCP 7 audio filter does to its clip."""

    gain: float = 1.0
    #: the picture's opacity, 0 to 1
    opacity: float = 1.0
    effects: list[dict[str, Any]] = field(default_factory=list)
    #: clip fields it sets (``fade_in``/``fade_out``, seconds)
    fields: dict[str, Any] = field(default_factory=dict)
    #: warnings, as (the part they concern, text)
    notes: list[tuple[str, str]] = field(default_factory=list)


def fcp7_audio_filter(fx: Any, item: Any) -> Filtered | None:
    """What a Pan or keyframed Audio Levels filter of ``item`` does; None for other effects."""
    found = plain(fx.metadata).get("fcp_xml")
    if not isinstance(found, dict):
        return None
    kind = str(found.get("effectid")).lower()
    if kind == "audiopan":
        return _pan(_parameter(found, ("level", "pan", "balance")))
    if kind == "audiolevels":
        param = _parameter(found, ("level",))
        if param is not None and param.get("keyframe") is not None:
            return _levels(param, item)
    if kind == "opacity":
        param = _parameter(found, ("opacity",))
        if param is not None and param.get("keyframe") is not None:
            return _opacity(param, item)
    return None


def _opacity(param: dict[str, Any], item: Any) -> Filtered:
    """Keyframed Opacity (percent) as the clip's opacity keyframes (seconds from its first
    frame), else, where their times do not fit the clip, their mean with a warning."""
    keys = [(when, value / 100) for when, value in _keyframes(param)]
    placed = _relative(keys, plain(item.metadata).get(FRAMES), _fps(item))
    if placed is None:
        levels = _levels(param, item, unit=0.01, label="Opacity", most=1.0)
        done = Filtered(opacity=levels.gain)
        done.notes = [("picture", text) for _, text in levels.notes]
        return done
    placed_keys, _, seconds_per_frame = placed
    timed: dict[float, float] = {}
    for when, value in placed_keys:  # a later keyframe at the same time wins
        timed[round(when * seconds_per_frame, 6)] = max(0.0, min(1.0, value))
    done = Filtered()
    done.fields["opacity_keyframes"] = [{"time": t, "opacity": v} for t, v in sorted(timed.items())]
    return done


def _parameter(effect: dict[str, Any], ids: tuple[str, ...]) -> dict[str, Any] | None:
    params = effect.get("parameter")
    for param in params if isinstance(params, list) else [params]:
        if isinstance(param, dict) and str(param.get("parameterid")).lower() in ids:
            return param
    return None


def _number(value: Any) -> float | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _keyframes(param: dict[str, Any]) -> list[tuple[float, float]]:
    """The parameter's (frame, value) keyframes in time order, leaving out unreadable ones."""
    raw = param.get("keyframe")
    found = []
    for key in raw if isinstance(raw, list) else [raw]:
        if not isinstance(key, dict):
            continue
        when, value = _number(key.get("when")), _number(key.get("value"))
        if when is not None and value is not None:
            found.append((when, value))
    return sorted(found)


def _pan(param: dict[str, Any] | None) -> Filtered:
    """The Pan filter as the renderer's pan (-1 left .. 1 right)."""
    done = Filtered()
    if param is None:
        done.notes.append(("sound", "its Pan filter has no value; it plays centred"))
        return done
    value = _number(param.get("value"))
    keys = _keyframes(param)
    if keys:
        value = keys[0][1]
        if len({v for _, v in keys}) > 1:
            done.notes.append(
                ("sound", f"keyframed Pan is not rendered; it stays at its first value {value:g}")
            )
    if value is None:
        done.notes.append(("sound", "its Pan filter's value is not a number; it plays centred"))
        return done
    if not -1 <= value <= 1:
        done.notes.append(("sound", f"Pan {value:g} is outside -1..1; {_clamp(value):g} is used"))
        value = _clamp(value)
    if value != 0:
        done.effects.append({"id": "Pan", "effect_type": "audiopan", "params": {"pan": value}})
    return done


def _clamp(value: float) -> float:
    return max(-1.0, min(1.0, value))


def _levels(
    param: dict[str, Any],
    item: Any,
    *,
    unit: float = 1.0,
    label: str = "Audio Levels",
    most: float = _MAX_GAIN,
) -> Filtered:
    """Keyframed Audio Levels (``label``; values times ``unit``, up to ``most``) as a steady
    level with fades, else their average level."""
    done = Filtered()
    keys = [(when, value * unit) for when, value in _keyframes(param)]
    frames = plain(item.metadata).get(FRAMES)
    placed = _relative(keys, frames, _fps(item))
    if placed is None:
        average = sum(v for _, v in keys) / len(keys) if keys else 1.0
        done.gain = _gain(average, done, label, most)
        done.notes.append(
            (
                "sound",
                f"keyframed {label} whose times do not fit the clip are not rendered; it "
                f"plays at their mean level {done.gain:.3g}",
            )
        )
        return done
    placed_keys, length, seconds_per_frame = placed
    fades = _fades(placed_keys, length)
    if fades is not None:
        steady, fade_in, fade_out = fades
        done.gain = _gain(steady, done, label, most)
        if fade_in > 0:
            done.fields["fade_in"] = fade_in * seconds_per_frame
        if fade_out > 0:
            done.fields["fade_out"] = fade_out * seconds_per_frame
        return done
    done.gain = _gain(_average(placed_keys, length), done, label, most)
    done.notes.append(
        (
            "sound",
            f"keyframed {label} that change other than by a fade in or out at the clip's "
            f"ends are not rendered; it plays at their average level {done.gain:.3g}",
        )
    )
    return done


def _fps(item: Any) -> float | None:
    """The clip's frame rate (its keyframes' unit), or None."""
    try:
        fps = float(item.source_range.duration.rate)
    except (AttributeError, TypeError, ValueError):
        return None
    return fps if math.isfinite(fps) and fps > 0 else None


def _gain(level: float, done: Filtered, label: str, most: float) -> float:
    if 0 <= level <= most:
        return level
    done.notes.append(("sound", f"{label} {level:g} is outside 0..{most:g}"))
    return max(0.0, min(most, level))


def _relative(
    keys: list[tuple[float, float]], frames: Any, fps: float | None
) -> tuple[list[tuple[float, float]], float, float] | None:
    """The keyframes in frames from the clip's start, the clip's length in those frames and
    the timeline seconds of one of them; None when the clip's frames are unknown or the
    keyframes fit it neither as source frames nor counted from its start."""
    if not keys or not fps or not isinstance(frames, list) or len(frames) != 4:
        return None
    first, last, start, end = frames
    length = last - first
    if length <= 0:
        return None
    lo, hi = keys[0][0], keys[-1][0]
    if hi >= first - 1 and lo <= last + 1:
        shift = first  # some lie in the clip's source frames (others may be in its trims)
    elif -1 <= lo and hi <= length + 1:
        shift = 0
    else:
        return None
    # Record frames per source frame: a speed change stretches the fades with the clip.
    scale = (end - start) / length if start >= 0 and end > start else 1.0
    return _window([(w - shift, v) for w, v in keys], length), float(length), scale / fps


def _window(keys: list[tuple[float, float]], length: float) -> list[tuple[float, float]]:
    """The keyframes within the clip (frames 0..length), with the level at an end where
    keyframes lie beyond it (in the source the clip was trimmed off)."""
    inside = [(w, v) for w, v in keys if 0 <= w <= length]
    if keys[0][0] < 0 and (not inside or inside[0][0] > 0):
        inside.insert(0, (0.0, _level_at(keys, 0.0)))
    if keys[-1][0] > length and (not inside or inside[-1][0] < length):
        inside.append((length, _level_at(keys, length)))
    return inside


def _level_at(keys: list[tuple[float, float]], when: float) -> float:
    """The level at a time: linear between keyframes, held before the first and after the last."""
    if when <= keys[0][0]:
        return keys[0][1]
    for (w0, v0), (w1, v1) in zip(keys, keys[1:], strict=False):
        if w0 <= when <= w1:
            return v0 if w1 == w0 else v0 + (v1 - v0) * (when - w0) / (w1 - w0)
    return keys[-1][1]


def _fades(keys: list[tuple[float, float]], length: float) -> tuple[float, float, float] | None:
    """(steady level, fade-in frames, fade-out frames) when the keyframes are a steady level
    with a rise from silence at the start and/or a fall to silence at the end; else None."""
    steady = max(v for _, v in keys)
    if steady <= 0:
        return (0.0, 0.0, 0.0)
    at_steady = [i for i, (_, v) in enumerate(keys) if abs(v - steady) <= _SAME * steady]
    top, bottom = at_steady[0], at_steady[-1]
    if any(abs(v - steady) > _SAME * steady for _, v in keys[top : bottom + 1]):
        return None
    rise, fall = keys[: top + 1], keys[bottom:]
    fade_in = fade_out = 0.0
    if len(rise) > 1:
        if rise[0][0] > 1 or rise[0][1] > _QUIET * steady or not _monotonic(rise, up=True):
            return None
        fade_in = rise[-1][0]
    if len(fall) > 1:
        if fall[-1][0] < length - 2 or fall[-1][1] > _QUIET * steady:
            return None
        if not _monotonic(fall, up=False):
            return None
        fade_out = length - fall[0][0]
    return steady, max(fade_in, 0.0), max(fade_out, 0.0)


def _monotonic(keys: list[tuple[float, float]], *, up: bool) -> bool:
    values = [v for _, v in keys]
    pairs = zip(values, values[1:], strict=False)
    return all((b >= a) if up else (b <= a) for a, b in pairs)


def _average(keys: list[tuple[float, float]], length: float) -> float:
    """The level over the clip (frames 0..length), linear between keyframes and held beyond
    the first and last, averaged over time."""
    points = [(0.0, keys[0][1]), *keys, (length, keys[-1][1])]
    points = [(min(max(w, 0.0), length), v) for w, v in points]
    area = sum((b[0] - a[0]) * (a[1] + b[1]) / 2 for a, b in zip(points, points[1:], strict=False))
    return area / length

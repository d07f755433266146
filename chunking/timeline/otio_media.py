"""OTIO media references and effects as ProjectSchema clip fields.

A reference becomes a clip's ``source`` (a file, an image sequence's first image plus its
``image_sequence`` numbering, or a generated picture); effects become the clip's ``effects`` and
its time behaviour (a speed, or a hold). Problems name the clip and are collected, not raised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any
from urllib.parse import unquote, urlsplit

import opentimelineio as otio

from chunking.timeline.fields import Problems, canonical
from chunking.timeline.otio_fcp7_filters import fcp7_audio_filter
from chunking.timeline.otio_fcpxml_adjust import ADJUSTMENTS
from chunking.timeline.otio_kdenlive import kdenlive_fade, kdenlive_keyed
from chunking.timeline.otio_read import TIME_ERRORS, plain, rate, reason
from chunking.timeline.otio_resolve import resolve_effect
from chunking.timeline.studio_clips import MAX_SPEED as STUDIO_MAX_SPEED
from chunking.timeline.studio_clips import MIN_SPEED as STUDIO_MIN_SPEED
from common.numbers import exact_number

_SOLID = {"solidcolor", "solid", "color", "colour"}
_BARS = {"smptebars", "bars", "colorbars", "testpattern"}
#: Final Cut's and Premiere's empty filler generator: black.
_BLACK = {"slug", "black", "blackvideo"}
#: Avid's clip gain effects (canonical names) and the parameter that holds the factor.
_AUDIO_GAIN = {"audiogain": "Amplitude", "monoaudiogain": "Amplitude multiplier"}
#: Avid operations (AAF OperationDef names) with no look or sound of their own: Submaster
#: gathers the tracks under it so an effect can be applied to them all.
_AVID_PASS_THROUGH = {"submaster"}
#: The loudest clip gain a clip's ``volume`` takes (the loader's range).
MAX_GAIN = 10.0
#: Metadata key of a media reference a relink could not find a file for: why, and what to do.
UNLINKED = "cloudrender_unlinked"
#: Speeds the renderer plays: the loader's range for ``speed``, the editor's own (0.1x to 10x;
#: this importer's 0.25x to 4x refused an NLE's time-lapse or slow-motion clip that the same
#: project saved by the editor renders).
MIN_SPEED, MAX_SPEED = Fraction(str(STUDIO_MIN_SPEED)), Fraction(str(STUDIO_MAX_SPEED))
#: The clip fields of ``ItemEffects.fields`` that concern the picture (the others its sound).
PICTURE_FIELDS = frozenset(
    {"transform", "transform_keyframes", "picture_fade_in", "picture_fade_out"}
    | {"opacity_keyframes"}
)
#: Images one sequence may have (about 11.5 hours at 24 fps): a bound for hostile documents.
MAX_SEQUENCE_IMAGES = 1_000_000


def media_source(ref: Any, where: str, p: Problems) -> dict[str, Any] | None:
    """The clip fields (``source`` and maybe ``image_sequence``/``properties``) for a media
    reference; None after recording the problem when it cannot be rendered."""
    if ref is None:
        p.error(where, "has no media reference (check active_media_reference_key)")
        return None
    note = ref.metadata.get(UNLINKED)
    if isinstance(note, str):
        p.error(where, note)  # a relink found nothing: the note says where it looked
        return None
    if isinstance(ref, otio.schema.MissingReference):
        p.error(
            where,
            "media is offline (OTIO MissingReference); relink the clip in the editor and "
            "export again",
        )
        return None
    if isinstance(ref, otio.schema.ExternalReference):
        path = media_path(str(ref.target_url or ""), where, p)
        return None if path is None else {"source": {"File": path}}
    if isinstance(ref, otio.schema.ImageSequenceReference):
        return _image_sequence(ref, where, p)
    if isinstance(ref, otio.schema.GeneratorReference):
        generator = _generator(ref, where, p)
        if generator is None:
            return None
        return {"source": "Generated", "properties": {"custom_metadata": {"generator": generator}}}
    p.error(
        where,
        f"media reference {ref.schema_name()} is not supported (use a file, an image sequence "
        "or a SolidColor/SMPTEBars/Slug generator)",
    )
    return None


def media_path(url: str, where: str, p: Problems) -> str | None:
    """A local path for an OTIO target URL (``file://`` or a plain path); None if it is not."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            return f"//{parts.netloc}{unquote(parts.path)}"  # a UNC-style network share
        path = unquote(parts.path)
        if path.startswith("/\\\\"):
            # Premiere on Windows writes a share as file://localhost/%5C%5Cserver%5Cshare%5C...
            return path[1:]
        # file:///C:/media/a.mov names a Windows drive: the path is C:/media/a.mov.
        if len(path) > 2 and path[0] == "/" and path[2] == ":" and path[1].isalpha():
            path = path[1:]
        return path
    if parts.scheme and len(parts.scheme) > 1:  # one letter is a Windows drive, not a scheme
        p.error(where, f"media URL {url!r} is not a local file; download it and relink")
        return None
    if not url:
        p.error(where, "external reference has no target_url")
        return None
    return url  # a plain path; load_project resolves relative ones against the .otio's folder


def _image_sequence(ref: Any, where: str, p: Problems) -> dict[str, Any] | None:
    prefix, suffix = str(ref.name_prefix), str(ref.name_suffix)
    if any(bad in prefix + suffix for bad in ("/", "\\", "\x00")):
        p.error(where, f"image sequence name {prefix!r}...{suffix!r} must not contain a folder")
        return None
    try:
        images_per_second = rate(float(ref.rate)) / max(int(ref.frame_step), 1)
        count = int(ref.number_of_images_in_sequence())
    except TIME_ERRORS as exc:
        p.error(where, f"image sequence has no usable rate or range ({reason(exc)})")
        return None
    if int(ref.frame_step) < 1 or int(ref.frame_zero_padding) < 0:
        p.error(where, "image sequence frame_step must be 1 or more and padding not negative")
        return None
    if not 1 <= count <= MAX_SEQUENCE_IMAGES:
        p.error(where, f"image sequence has {count} images (1 to {MAX_SEQUENCE_IMAGES} allowed)")
        return None
    first = media_path(str(ref.target_url_for_image_number(0)), where, p)
    if first is None:
        return None
    policy = str(ref.missing_frame_policy).rsplit(".", 1)[-1]
    if policy != "error":
        p.warn(
            where,
            f"missing_frame_policy {policy!r} is not followed: a missing image stops the render "
            "with its name",
        )
    return {
        "source": {"File": first},
        "image_sequence": {
            "prefix": prefix,
            "suffix": suffix,
            "start_frame": int(ref.start_frame),
            "count": count,
            # Images per second: OTIO's rate counts frames, and each image lasts frame_step.
            "rate": f"{images_per_second.numerator}/{images_per_second.denominator}",
            "frame_step": int(ref.frame_step),
            "padding": int(ref.frame_zero_padding),
        },
    }


def _generator(ref: Any, where: str, p: Problems) -> dict[str, Any] | None:
    # An application's own kinds carry its name: Kdenlive's colour clip is "kdenlive:SolidColor".
    kind = canonical(str(ref.generator_kind).rsplit(":", 1)[-1])
    params = plain(ref.parameters)
    if kind in _BARS or (kind in _BLACK and "bars" in canonical(str(ref.name or ""))):
        # Premiere exports its "HD Bars and Tone" as a Slug named so.
        return {"type": "pattern", "pattern": "bars"}
    if kind in _BLACK:
        return {"type": "color", "color": [0, 0, 0]}
    if kind not in _SOLID:
        p.error(
            where,
            f"generator kind {ref.generator_kind!r} is not SolidColor, SMPTEBars or Slug",
        )
        return None
    value = _color_parameter(params) or _fcp_fill(ref) or "#000000"
    if isinstance(value, list) and all(isinstance(v, int | float) for v in value):
        # OTIO convention: 0..1 floats; the loader wants 0..255.
        floats = all(0 <= v <= 1 for v in value) and any(isinstance(v, float) for v in value)
        value = [round(v * 255) if floats else v for v in value]
    return {"type": "color", "color": value}


def _color_parameter(params: dict[str, Any]) -> Any:
    """A generator's colour parameter, also where Kdenlive writes it (``{"kdenlive": {"color":
    "0xRRGGBBAA"}}``), its hex digits then written as the loader reads them."""
    nested = params.get("kdenlive")
    value = params.get("color", params.get("colour"))
    if value is None and isinstance(nested, dict):
        value = nested.get("color")
    if isinstance(value, str) and value.lower().startswith("0x"):
        return "#" + value[2:]
    return value


def _fcp_fill(ref: Any) -> list[int] | None:
    """A Final Cut 7 XML colour matte's fill colour (its generator's ``fillcolor`` parameter,
    which the adapter leaves in the reference's metadata), or None."""
    found = plain(ref.metadata).get("fcp_xml")
    params = found.get("parameter") if isinstance(found, dict) else None
    for param in params if isinstance(params, list) else [params]:
        if not isinstance(param, dict) or param.get("parameterid") != "fillcolor":
            continue
        value = param.get("value")
        if not isinstance(value, dict):
            return None
        try:
            rgb = [int(value[c]) for c in ("red", "green", "blue")]
        except (KeyError, TypeError, ValueError):
            return None
        return rgb if all(0 <= c <= 255 for c in rgb) else None
    return None


@dataclass
class ItemEffects:
    """What an item's effects do: how fast its own time runs (0: held) and its picture effects."""

    scalar: Fraction = Fraction(1)
    effects: list[dict[str, Any]] = field(default_factory=list)
    #: its sound's level, a factor (Avid's clip gain, FCP 7's and Premiere's Audio Levels)
    gain: float = 1.0
    #: its picture's opacity, 0 to 1 (FCP 7's and Premiere's Opacity)
    opacity: float = 1.0
    #: clip fields it sets (Final Cut's transform, its audio fades: otio_fcpxml_adjust)
    fields: dict[str, Any] = field(default_factory=dict)
    #: what of them is not rendered: (the part it concerns, "picture" or "sound"; a warning)
    notes: list[tuple[str, str]] = field(default_factory=list)


def static_gain(fx: Any) -> float | None:
    """The factor of a clip gain effect whose level does not change over the clip (the AAF
    adapter's ``Audio Gain``/``Mono Audio Gain`` with a fixed amplitude, FCP 7 XML's
    ``Audio Levels`` with a fixed linear level), else None."""
    level = _fcp_parameter(fx, "audiolevels", "level")
    if level is not None:
        return level if 0 <= level <= MAX_GAIN else None
    parameter = _AUDIO_GAIN.get(canonical(str(fx.effect_name or fx.name)))
    aaf = plain(fx.metadata).get("AAF")
    params = aaf.get("Parameters") if isinstance(aaf, dict) else None
    if parameter is None or not isinstance(params, dict):
        return None
    value = params.get(parameter)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None  # keyframed: a dict of keyframes
    if isinstance(value, str):
        exact = exact_number(value)
        if exact is None:
            return None
        gain = float(exact)
    else:
        try:
            gain = float(value)  # inf and NaN fail the range check
        except OverflowError:  # an integer of thousands of digits
            return None
    return gain if 0 <= gain <= MAX_GAIN else None


def _static_opacity(fx: Any) -> float | None:
    """The opacity (0 to 1) of an FCP 7 XML ``Opacity`` filter that does not change over the
    clip, else None."""
    percent = _fcp_parameter(fx, "opacity", "opacity")
    return percent / 100 if percent is not None and 0 <= percent <= 100 else None


def _fcp_parameter(fx: Any, effect_id: str, parameter_id: str) -> float | None:
    """A fixed number parameter of an FCP 7 XML filter (the adapter keeps the filter's effect
    in the effect's metadata), or None: another effect, a keyframed or malformed value."""
    found = plain(fx.metadata).get("fcp_xml")
    if not isinstance(found, dict) or str(found.get("effectid")).lower() != effect_id:
        return None
    params = found.get("parameter")
    for param in params if isinstance(params, list) else [params]:
        if not isinstance(param, dict) or param.get("parameterid") != parameter_id:
            continue
        if param.get("keyframe") is not None:
            return None
        try:
            value = float(str(param.get("value")))
        except ValueError:
            return None
        return value if math.isfinite(value) else None
    return None


def item_effects(item: Any, where: str, p: Problems) -> ItemEffects:
    """The item's enabled effects; time effects it cannot render are named in warnings."""
    found = ItemEffects()
    for fx in item.effects:
        if not getattr(fx, "enabled", True):
            continue
        label = str(fx.name or fx.effect_name)
        if _avid_pass_through(fx):
            continue
        if isinstance(fx, otio.schema.FreezeFrame):
            found.scalar = Fraction(0)
        elif isinstance(fx, otio.schema.LinearTimeWarp):
            scalar = float(fx.time_scalar)
            if not math.isfinite(scalar):
                p.error(where, f"LinearTimeWarp time_scalar must be a finite number, not {scalar}")
            else:
                # Negative: played backwards (otio_layout.Placed.emit, otio_time.TimeMap.span).
                found.scalar *= Fraction(scalar).limit_denominator(10**6)
        elif isinstance(fx, otio.schema.TimeEffect):
            # A time effect OTIO has no schema for (Avid's Timewarp, a keyframed speed ramp):
            # OTIO's own time arithmetic ignores it too. One such clip refused the whole
            # timeline; the clip plays from its in point for its length instead, said.
            p.warn(
                where,
                f"time effect {label!r} ({fx.effect_name}: a speed ramp or other time warp) "
                "is not rendered; the clip plays its media at normal speed from its in point "
                "(render the effect in the editor to keep it)",
            )
        elif str(fx.effect_name) == ADJUSTMENTS:
            _adjusted(found, plain(fx.metadata))
        elif (gain := static_gain(fx)) is not None:
            found.gain *= gain
        elif (resolved := resolve_effect(fx, item)) is not None:
            found.gain *= resolved.gain
            found.opacity *= resolved.opacity
            found.fields.update(resolved.fields)
            found.notes.extend(resolved.notes)
        elif (opacity := _static_opacity(fx)) is not None:
            found.opacity *= opacity
        elif (fade := kdenlive_fade(fx)) is not None:
            found.fields[fade[0]] = fade[1]
        elif (keyed := kdenlive_keyed(fx)) is not None:
            found.gain *= keyed.gain
            found.notes.extend(keyed.notes)
        elif (filtered := fcp7_audio_filter(fx, item)) is not None:
            found.gain *= filtered.gain
            found.opacity *= filtered.opacity
            found.effects.extend(filtered.effects)
            found.fields.update(filtered.fields)
            found.notes.extend(filtered.notes)
        else:
            meta = plain(fx.metadata)
            params = meta.get("parameters", meta)
            params = params if isinstance(params, dict) else {}
            scalar_types = (bool, int, float, str)
            values = {k: v for k, v in params.items() if isinstance(v, scalar_types)}
            kind = str(fx.effect_name or fx.name)
            found.effects.append({"id": label, "effect_type": kind, "params": values})
    return found


def _avid_pass_through(fx: Any) -> bool:
    """Whether an effect read from an AAF is an Avid operation that changes nothing."""
    if "AAF" not in fx.metadata:  # before plain(): other editors' metadata can be large
        return False
    operation = plain(fx.metadata["AAF"])
    operation = operation.get("Operation") if isinstance(operation, dict) else None
    name = operation.get("Name") if isinstance(operation, dict) else None
    return isinstance(name, str) and name.strip().lower() in _AVID_PASS_THROUGH


def _adjusted(found: ItemEffects, adjust: dict[str, Any]) -> None:
    """Add Final Cut's adjustments of the item (``otio_fcpxml_adjust``) to what it does."""
    for note in adjust.get("notes", []):
        if isinstance(note, list) and len(note) == 2:
            found.notes.append((str(note[0]), str(note[1])))
    gain, opacity = adjust.get("gain"), adjust.get("opacity")
    if isinstance(gain, int | float) and math.isfinite(gain) and gain >= 0:
        found.gain *= gain
    if isinstance(opacity, int | float) and 0 <= opacity <= 1:
        found.opacity *= opacity
    for key in ("transform", "transform_keyframes", "volume_keyframes", "fade_in", "fade_out"):
        if key in adjust:
            found.fields[key] = adjust[key]
    pan = adjust.get("pan")
    if isinstance(pan, int | float) and -1 <= pan <= 1:
        found.effects.append({"id": "Pan", "effect_type": "audiopan", "params": {"pan": pan}})

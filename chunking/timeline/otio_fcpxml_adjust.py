"""Final Cut Pro's clip adjustments, which OpenTimelineIO's FCPXML adapter leaves out.

* ``<adjust-volume amount="-6dB">``: the clip's sound level (a factor of 10^(dB/20)); its
  ``fadeIn``/``fadeOut`` (an audio fade at the clip's ends) become the clip's fades, and its
  keyframes a level with fades (otio_fcpxml_volume).
* ``<adjust-blend amount="0.5">``: the picture's opacity (a blend mode other than normal is
  named in a warning and rendered as normal).
* ``<adjust-transform position="x y" scale="sx sy" rotation="r">``: the clip's transform.
  Final Cut measures position from the frame's centre in percent of the frame's height, up
  positive, and turns counter-clockwise; the renderer moves in pixels, down positive, and turns
  clockwise; its keyframed position, scale and rotation are the clip's transform keyframes
  (otio_fcpxml_motion). A moved anchor and a mirroring (negative) scale are named in a warning
  and left out, as are crops and distortions.
* ``<adjust-conform type="fit|fill|none">`` (Spatial Conform): the renderer fits the picture
  inside the frame as ``fit`` does; ``fill`` scales it to cover the frame (cropping the
  overflow) and ``none`` shows it at its own pixel size, both as a uniform scale of the fitted
  picture under the clip's own scale, from the frame sizes of the media's and the project's
  formats (where either is unknown, the clip is fitted, with a warning).

A synchronized clip's adjustments apply to everything it holds: they are combined with those of
its items before it is made flat (``otio_fcpxml_nesting``). The adjustments travel through the
adapter at the end of the item's name (as retimes do) and become, once read, an effect on the
item that ``otio_media.item_effects`` reads (``ADJUSTMENTS``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import opentimelineio as otio

from chunking.timeline.otio_fcpxml_channels import apply_channels
from chunking.timeline.otio_fcpxml_checks import format_size
from chunking.timeline.otio_fcpxml_motion import keyed_transform
from chunking.timeline.otio_fcpxml_time import fcpxml_time
from chunking.timeline.otio_fcpxml_volume import keyed_level, volume_keys

#: The effect an item's adjustments become in the read timeline.
ADJUSTMENTS = "cloudrender.fcpxml_adjustments"
_MARK = "\u2063adjust:"
_MARKED = re.compile(re.escape(_MARK) + r"(\{[^\u2063]*\})")
#: Items whose adjustments are read (the ones the adapter makes clips or stacks of).
_ITEMS = ("clip", "asset-clip", "ref-clip", "mc-clip", "sync-clip", "video", "audio")
_DB = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*dB\s*$")
_LEFT_OUT = {
    "adjust-crop": "its crop",
    "adjust-corners": "its distortion",
    "adjust-stabilization": "its stabilization",
    "adjust-rollingShutter": "its rolling shutter correction",
}


def frame_size(root: Any) -> tuple[int, int] | None:
    """The (width, height) of the (first) project's sequence format, or None if unknown."""
    formats = {f.get("id"): f for f in root.iter("format")}
    for sequence in root.iterfind(".//project/sequence"):
        size = format_size(formats.get(sequence.get("format")))
        if size is not None:
            return size
    return None


def media_size(
    item: Any, formats: dict[Any, Any], assets: dict[Any, Any]
) -> tuple[int, int] | None:
    """The (width, height) of an item's picture by its own format or its asset's, or None."""
    asset = assets.get(item.get("ref"))
    named = item.get("format") or (asset.get("format") if asset is not None else None)
    return format_size(formats.get(named))


def adjustments(
    item: Any,
    height: int | None,
    sizes: tuple[tuple[int, int] | None, tuple[int, int] | None] = (None, None),
) -> dict[str, Any]:
    """What an item's own adjustments do: ``gain``, ``opacity``, ``transform`` (the renderer's
    fields), ``fade_in``/``fade_out`` (seconds) and ``notes`` (what is left out, for a
    warning: ``[part, text]``, the part "picture" or "sound" it concerns). ``sizes`` are the
    project's frame size and the item's media's (for its spatial conform)."""
    found: dict[str, Any] = {}
    notes: list[list[str]] = []
    conform = 1.0
    for child in item:
        if child.tag == "adjust-volume":
            _volume(child, item, found, notes)
        elif child.tag == "adjust-panner":
            _panner(child, found, notes)
        elif child.tag == "adjust-blend":
            _blend(child, found, notes)
        elif child.tag == "adjust-transform":
            _transform(child, item, height, found, notes)
        elif child.tag == "adjust-conform":
            conform = _conform(child, sizes, notes)
        elif child.tag in _LEFT_OUT:
            notes.append(["picture", f"{_LEFT_OUT[child.tag]} is not rendered"])
    if conform != 1:
        transform = found.setdefault("transform", {})
        for key in ("scale_x", "scale_y"):
            transform[key] = transform.get(key, 1.0) * conform
        for moved in found.get("transform_keyframes", ()):
            for key in ("scale_x", "scale_y"):
                if key in moved:
                    moved[key] *= conform
    if notes:
        found["notes"] = notes
    return found


def _conform(
    child: Any,
    sizes: tuple[tuple[int, int] | None, tuple[int, int] | None],
    notes: list[list[str]],
) -> float:
    """The scale of the fitted picture a spatial conform makes (1: fit)."""
    kind = (child.get("type") or "fit").strip().lower()
    if kind == "fit":
        return 1.0
    frame, media = sizes
    if kind not in ("fill", "none"):
        notes.append(["picture", f"its spatial conform {kind!r} is not known: fitted instead"])
        return 1.0
    if frame is None or media is None:
        notes.append(["picture", f"its spatial conform {kind!r} is fitted: its size is unknown"])
        return 1.0
    across, down = frame[0] / media[0], frame[1] / media[1]
    fitted = min(across, down)
    # The renderer fits; fill covers the frame instead, none keeps the media's own pixels.
    return max(across, down) / fitted if kind == "fill" else 1 / fitted


def _animated(child: Any) -> list[str]:
    """The names of an adjustment's keyframed parameters."""
    return [
        str(param.get("name"))
        for param in child.findall("param")
        if param.find("keyframeAnimation") is not None
    ]


def _volume(child: Any, item: Any, found: dict[str, Any], notes: list[list[str]]) -> None:
    match = _DB.match(child.get("amount") or "0dB")
    if match is None:
        text = f"its volume {child.get('amount')!r} is not a level in dB: left out"
        notes.append(["sound", text])
    elif float(match[1]) != 0:
        found["gain"] = 10 ** (float(match[1]) / 20)
    for param in child.findall("param"):
        for fade, key in (("fadeIn", "fade_in"), ("fadeOut", "fade_out")):
            element = param.find(fade)
            seconds = fcpxml_time(element.get("duration")) if element is not None else None
            if seconds:
                found[key] = float(seconds)
    keys = volume_keys(child)
    if keys:
        # The keyframes are the level (the fixed amount is often left at 0 dB once keyed).
        gain, fade_in, fade_out, note, envelope = keyed_level(keys, item)
        found.pop("gain", None)
        if gain != 1:
            found["gain"] = gain
        if envelope:
            found["volume_keyframes"] = envelope
        for key, length in (("fade_in", fade_in), ("fade_out", fade_out)):
            if length > 0:
                found.setdefault(key, length)  # a fade handle of its own stays as it is
        if note is not None:
            notes.append(["sound", note])
    elif _animated(child):
        notes.append(["sound", "its volume keyframes are not readable: its fixed level plays"])


def _panner(child: Any, found: dict[str, Any], notes: list[list[str]]) -> None:
    """Stereo left/right panning: ``amount`` -100 (left) to 100 (right) is the renderer's pan."""
    mode = (child.get("mode") or "").lower().replace(" ", "").replace("/", "")
    try:
        amount = float(child.get("amount") or "0")
    except ValueError:
        amount = math.nan
    if mode not in ("", "stereoleftright", "stereo", "basicleftright"):
        notes.append(["sound", f"its {child.get('mode')!r} panning is not rendered (centred)"])
    elif not -100 <= amount <= 100:
        notes.append(["sound", f"its pan {child.get('amount')!r} is not -100 to 100: left out"])
    elif amount != 0:
        found["pan"] = amount / 100
    if _animated(child):
        notes.append(["sound", "its pan keyframes are not rendered (its fixed pan is)"])


def _blend(child: Any, found: dict[str, Any], notes: list[list[str]]) -> None:
    try:
        amount = float(child.get("amount") or "1")
    except ValueError:
        amount = math.nan
    if not 0 <= amount <= 1:
        notes.append(["picture", f"its opacity {child.get('amount')!r} is not 0 to 1: left out"])
    elif amount != 1:
        found["opacity"] = amount
    mode = child.get("mode")
    if mode not in (None, "", "0", "Normal", "normal"):
        notes.append(["picture", f"its blend mode {mode!r} is rendered as normal"])
    if _animated(child):
        notes.append(["picture", "its opacity keyframes are not rendered"])


def _numbers(text: str | None, count: int) -> list[float] | None:
    """``count`` finite numbers separated by spaces, or None."""
    try:
        values = [float(v) for v in (text or "").split()]
    except ValueError:
        return None
    ok = len(values) == count and all(math.isfinite(v) for v in values)
    return values if ok else None


def _transform(
    child: Any, item: Any, height: int | None, found: dict[str, Any], notes: list[list[str]]
) -> None:
    transform: dict[str, float] = {}

    def note(text: str) -> None:
        notes.append(["picture", text])

    position = _numbers(child.get("position") or "0 0", 2)
    if position is None:
        note(f"its position {child.get('position')!r} is malformed: left out")
    elif position != [0, 0]:
        if height is None:
            note("its position is left out: the project's frame height is unknown")
        else:
            transform["position_x"] = position[0] * height / 100
            transform["position_y"] = -position[1] * height / 100
    scale = _numbers(child.get("scale") or "1 1", 2)
    if scale is None or not all(0 < s <= 100 for s in scale):
        note(f"its scale {child.get('scale')!r} (a mirroring or none) is left out")
    elif scale != [1, 1]:
        transform["scale_x"], transform["scale_y"] = scale
    rotation = _numbers(child.get("rotation") or "0", 1)
    if rotation is None or abs(rotation[0]) > 3600:
        note(f"its rotation {child.get('rotation')!r} is left out")
    elif rotation[0]:
        transform["rotation"] = -rotation[0]
    if _numbers(child.get("anchor") or "0 0", 2) != [0, 0]:
        note(f"its anchor point {child.get('anchor')!r} is left out (the centre is used)")
    texts: list[str] = []
    keys = keyed_transform(child, item, height, texts)
    for text in texts:
        note(text)
    if keys:
        found["transform_keyframes"] = keys
    if transform:
        found["transform"] = transform


def combined(outer: dict[str, Any], inner: dict[str, Any]) -> dict[str, Any]:
    """The adjustments of an item inside a synchronized clip with the sync clip's own: levels
    and opacities multiply; a transform or fade of the item's own wins over the sync clip's."""
    both = {**outer, **inner}
    for key in ("gain", "opacity"):
        if key in outer and key in inner:
            both[key] = outer[key] * inner[key]
    if "transform" in outer and "transform" in inner:
        left_out = ["picture", "its sync clip's transform is left out"]
        both["notes"] = [*both.get("notes", []), left_out]
    if "notes" in outer and "notes" in inner:
        both["notes"] = [*outer["notes"], *both["notes"]]
    return both


def mark_adjustments(root: Any) -> bool:
    """Carry every item's adjustments (a sync clip's combined into its items') at the end of
    its name, where ``apply_adjustments`` finds them; False if no item had any."""
    frame = frame_size(root)
    height = frame[1] if frame is not None else None
    formats = {f.get("id"): f for f in root.iter("format")}
    assets = {a.get("id"): a for a in root.iter("asset")}
    own = {
        item: adjustments(item, height, (frame, media_size(item, formats, assets)))
        for item in root.iter()
        if item.tag in _ITEMS
    }
    for sync in root.iter("sync-clip"):  # outermost first: an inner sync clip has both
        if own.get(sync):
            for item in sync.iter():
                if item is not sync and item in own:
                    own[item] = combined(own[sync], own[item])
    marked = False
    for item, found in own.items():
        if found:
            text = json.dumps(found, separators=(",", ":"), sort_keys=True)
            item.set("name", f"{item.get('name') or ''}{_MARK}{text}")
            marked = True
    return marked


def apply_adjustments(timeline: Any) -> None:
    """Give the items ``mark_adjustments`` marked their adjustments (an ``ADJUSTMENTS``
    effect), those marked to play one channel theirs (``apply_channels``), and their names
    back."""
    apply_channels(timeline)
    for item in timeline.find_children():
        name = str(getattr(item, "name", "") or "")
        match = _MARKED.search(name)
        if match is None:
            continue
        item.name = name[: match.start()] + name[match.end() :]
        try:
            found = json.loads(match[1])
        except ValueError:
            continue
        effects = getattr(item, "effects", None)
        if isinstance(found, dict) and effects is not None:
            effects.append(
                otio.schema.Effect(name="adjustments", effect_name=ADJUSTMENTS, metadata=found)
            )

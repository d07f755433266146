"""The editor's multi-camera layouts (MediaTemplate, in ``resources.templates``) as ProjectSchema
``templates[]`` entries, with their cells in percent of the canvas.

The editor's own converter (timeline-to-project.ts ``convertTemplates``) splits every layout
evenly and guesses a grid's shape from its screen count; the editor's preview draws what the
layout config says (src/features/templates/lib/all-template-configs.ts): a grid's
``gridConfig`` columns and rows, a two-screen split's divider at ``splitPosition`` percent, a
custom layout's ``cellLayouts`` (CSS ``top``/``left``/``right``/``bottom``, ``width``,
``height`` in percent). The render follows the preview. A layout whose cells cannot be read
from the document falls back to the editor's built-in layout of the same id.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from chunking.timeline import studio_builtin_templates as builtin
from chunking.timeline.fields import to_float
from chunking.timeline.schema import entries
from chunking.timeline.studio_editor_library import as_map, text

_TEMPLATE_TYPES = {
    "vertical": "Vertical",
    "horizontal": "Horizontal",
    "grid": "Grid",
    "custom": "Custom",
}
#: Each run of blanks taken whole (possessive): "1", 200,000 blanks and "x" could split the run
#: anywhere between the two ``\s*`` and took minutes to refuse.
_PERCENT = re.compile(r"^\s*+(-?\d+(?:\.\d+)?)\s*+(%?)\s*+$")
#: the most screens a layout is read with (the editor's largest has 25)
_MAX_SCREENS = 64

Box = tuple[float, float, float, float]  # x, y, width, height in percent


def template_entry(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    """A MediaTemplate as a ``templates[]`` entry; None leaves its id to the built-in table
    (a diagonal split, which the loader refuses with its reason)."""
    ident = text(raw.get("id"))
    screens_raw = to_float(raw.get("screens"))
    split = text(raw.get("split"))
    if not ident or split == "diagonal":
        return None
    if screens_raw is None or not math.isfinite(screens_raw):
        screens_raw = 0.0
    screens = max(0, min(int(screens_raw), _MAX_SCREENS))
    boxes = _boxes(raw, ident, split, screens)
    cells = [
        {
            "index": i,
            "x": x,
            "y": y,
            "width": w,
            "height": h,
            "fit_mode": "Cover",
            "align_x": "Center",
            "align_y": "Center",
        }
        for i, (x, y, w, h) in enumerate(boxes)
    ]
    return {
        "id": ident,
        "template_type": _TEMPLATE_TYPES.get(split, "Custom"),
        "name": ident,
        "screens": len(cells) or screens,
        "cells": cells,
    }


def _boxes(raw: Mapping[str, Any], ident: str, split: str, screens: int) -> list[Box]:
    """The cells the editor's preview draws for this layout."""
    if split == "custom":
        return _custom(raw.get("cellLayouts"), screens) or _builtin(ident)
    if split == "grid":
        config = as_map(raw.get("gridConfig"))
        columns, rows = _count(config.get("columns")), _count(config.get("rows"))
        if columns and rows:
            return _grid(columns, rows, min(screens or columns * rows, columns * rows))
        if ident in builtin.GRIDS or not screens:
            return _builtin(ident)
        columns = math.ceil(math.sqrt(screens))
        return _grid(columns, math.ceil(screens / columns), screens)
    if split in ("vertical", "horizontal") and screens:
        divider = to_float(raw.get("splitPosition"))
        sizes = [100 / screens] * screens
        if screens == 2 and divider is not None and 0 < divider < 100:
            sizes = [divider, 100 - divider]
        starts = [sum(sizes[:i]) for i in range(screens)]
        if split == "vertical":
            return [(x, 0.0, w, 100.0) for x, w in zip(starts, sizes, strict=True)]
        return [(0.0, y, 100.0, h) for y, h in zip(starts, sizes, strict=True)]
    return _builtin(ident)


def _custom(layouts: Any, screens: int) -> list[Box]:
    """``cellLayouts`` as boxes; empty when any cell cannot be placed."""
    boxes: list[Box] = []
    for item in entries(layouts)[: screens or _MAX_SCREENS]:
        css = as_map(item)
        width, height = _percent(css.get("width")), _percent(css.get("height"))
        if width is None or height is None or width <= 0 or height <= 0:
            return []
        x = _edge(css, "left", "right", width)
        y = _edge(css, "top", "bottom", height)
        if x is None or y is None:
            return []
        boxes.append((x, y, width, height))
    return boxes


def _edge(css: Mapping[str, Any], near: str, far: str, size: float) -> float | None:
    """The offset from the near edge, given as ``near`` or as ``far`` (CSS absolute)."""
    offset = _percent(css.get(near))
    if offset is not None:
        return offset
    opposite = _percent(css.get(far))
    if opposite is not None:
        return 100 - opposite - size
    return 0.0 if css.get(near) is None and css.get(far) is None else None


def _percent(value: Any) -> float | None:
    """A CSS length in percent ("33.33%", "0", 50); None for other units or garbage."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and (match := _PERCENT.match(value)):
        if not match.group(2) and float(match.group(1)) != 0:
            return None  # "120" without a unit is pixels in CSS, not a share of the frame
        number = float(match.group(1))
    else:
        return None
    return number if math.isfinite(number) and -100 <= number <= 200 else None


def _count(value: Any) -> int:
    number = to_float(value)
    if number is None or not math.isfinite(number) or number != int(number):
        return 0
    return int(number) if 1 <= number <= _MAX_SCREENS else 0


def _grid(columns: int, rows: int, count: int) -> list[Box]:
    w, h = 100 / columns, 100 / rows
    return [((i % columns) * w, (i // columns) * h, w, h) for i in range(count)]


def _builtin(ident: str) -> list[Box]:
    """The editor's built-in layout of this id, or none."""
    if ident in builtin.CUSTOM:
        return [(x * 100, y * 100, w * 100, h * 100) for x, y, w, h in builtin.CUSTOM[ident]]
    if ident in builtin.GRIDS:
        return _grid(*builtin.GRIDS[ident])
    return []

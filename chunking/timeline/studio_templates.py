"""Multi-camera layouts in ProjectSchema JSON: ``templates[]`` and the clips placed in their cells.

A clip with ``template_id`` and ``template_position`` (serde) or ``template_cell`` (the
frontend's name) is fitted into that cell of the layout instead of the whole canvas. A
``TemplateCell`` gives x, y, width and height in percent of the canvas (serde and TypeScript
comments agree); the serde-only ``regions`` are pixels, as the editor's renderer overlays them
(ffmpeg_builder/templates.rs: each region scaled to width x height, then padded by ``padding``).
A template id that is not in ``templates[]`` may name one of the layouts the editor ships
(studio_builtin_templates).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from chunking.timeline import studio_builtin_templates as builtin
from chunking.timeline.fields import Problems, canonical, choice, number, pick, shown
from chunking.timeline.model import Cell
from chunking.timeline.schema import entries
from chunking.timeline.studio_keys import CELL_KEYS, REGION_KEYS, TEMPLATE_KEYS, warn_unknown

#: FitMode as serde writes it (common.rs: Fill crops, Fit letterboxes, Stretch distorts) and as
#: the frontend writes it (video-compiler.ts: Contain, Cover); "Fill" is read as serde's.
_FIT = {
    "fit": "contain",
    "contain": "contain",
    "fill": "cover",
    "cover": "cover",
    "stretch": "fill",
    "none": "none",
}
_ALIGN_X = {"left": 0.0, "center": 0.5, "centre": 0.5, "right": 1.0}
_ALIGN_Y = {"top": 0.0, "center": 0.5, "centre": 0.5, "middle": 0.5, "bottom": 1.0}

Layout = dict[int, Cell]


class Templates:
    """The document's layouts by id, and the cell a clip is placed in."""

    def __init__(self, data: Mapping[str, Any], width: int, height: int, p: Problems) -> None:
        self.p = p
        self.layouts: dict[str, Layout] = {}
        self.style_ids = {str(t["id"]) for t in entries(data.get("style_templates")) if _has_id(t)}
        for i, raw in enumerate(entries(data.get("templates"))):
            if not _has_id(raw):
                p.error(f"template #{i}", "must be an object with an id")
                continue
            tid = str(raw["id"])
            self.layouts[tid] = self._layout(raw, width, height, f"template {tid!r}")
        #: template id -> ids of tracks whose clips use it, for clips that name no position
        self.tracks_using: dict[str, list[str]] = {}
        for t, track in enumerate(entries(data.get("tracks"))):
            if isinstance(track, Mapping):
                track_id = str(track.get("id", f"#{t}"))
                for clip in entries(track.get("clips")):
                    used = clip.get("template_id") if isinstance(clip, Mapping) else None
                    users = self.tracks_using.setdefault(str(used), [])
                    if used is not None and track_id not in users:
                        users.append(track_id)

    def cell(self, raw: Mapping[str, Any], track_id: str, where: str) -> Cell | None:
        """The cell a clip's ``template_id`` and position put it in (None: the whole canvas)."""
        tid_raw = pick(raw, "template_id")
        if tid_raw is None or str(tid_raw) in self.style_ids:
            return None  # no layout, or a style template (drawn by studio_style_templates)
        tid = str(tid_raw)
        layout = self.layouts.get(tid)
        if layout is None:
            layout = self._builtin(tid, where)
            if layout is None:
                return None
            self.layouts[tid] = layout
        if pick(raw, "template_position", "template_cell") is None:
            users = self.tracks_using.get(tid, [])
            index = users.index(track_id) if track_id in users else 0
        else:
            index = int(
                number(
                    raw,
                    ("template_position", "template_cell"),
                    0,
                    self.p,
                    where,
                    low=0,
                    high=10_000,
                )
            )
        if index not in layout:
            cells = ", ".join(str(i) for i in sorted(layout)) or "none"
            self.p.error(
                where,
                f"template_position {index} is not a cell of template {tid!r} (cells {cells})",
            )
            return None
        return layout[index]

    def _builtin(self, tid: str, where: str) -> Layout | None:
        if tid in builtin.DIAGONAL:
            self.p.error(
                where,
                f"template {tid!r} splits the picture along a diagonal, which cannot be drawn; "
                "use a layout with rectangular cells",
            )
            return None
        if tid in builtin.CUSTOM:
            return {i: Cell(*box, fit="cover") for i, box in enumerate(builtin.CUSTOM[tid])}
        if tid in builtin.GRIDS:
            return _grid(*builtin.GRIDS[tid])
        self.p.error(
            where,
            f"template_id {tid!r} is not in templates[] or style_templates[] and is not one of "
            "the editor's built-in layouts",
        )
        return None

    def _layout(self, raw: Mapping[str, Any], width: int, height: int, where: str) -> Layout:
        layout: Layout = {}
        warn_unknown(raw, TEMPLATE_KEYS, "a template's", self.p, where)
        for i, cell in enumerate(entries(raw.get("cells"))):
            at = f"{where} cell #{i}"
            if not isinstance(cell, Mapping):
                self.p.error(at, "must be an object")
                continue
            warn_unknown(cell, CELL_KEYS, "a template cell's", self.p, at)
            index = int(number(cell, ("index",), i, self.p, at, low=0, high=10_000))
            if index in layout:
                self.p.error(at, f"index {index} is used by two cells")
            layout[index] = self._cell(cell, at)
        if not layout:
            for i, region in enumerate(entries(raw.get("regions"))):
                if isinstance(region, Mapping):
                    at = f"{where} region #{i}"
                    warn_unknown(region, REGION_KEYS, "a template region's", self.p, at)
                    layout[i] = self._region(region, width, height, at)
        if not layout:
            layout = self._by_type(raw, where)
        return layout

    def _cell(self, cell: Mapping[str, Any], at: str) -> Cell:
        def pct(name: str, low: float) -> float:
            return number(cell, (name,), low, self.p, at, low=low, high=100) / 100

        fit = choice(cell, ("fit_mode",), _FIT, "cover", self.p, at)
        if fit == "none":
            self.p.warn(at, "fit_mode None (the source's own size) is drawn as Fit")
            fit = "contain"
        size = (pct("width", 0), pct("height", 0))
        if 0 in size:
            self.p.error(at, "width and height must be above 0")
        return Cell(
            x=pct("x", -100),
            y=pct("y", -100),
            width=size[0] or 1.0,
            height=size[1] or 1.0,
            fit=fit,
            align_x=choice(cell, ("align_x",), _ALIGN_X, 0.5, self.p, at),
            align_y=choice(cell, ("align_y",), _ALIGN_Y, 0.5, self.p, at),
            scale=number(cell, ("scale",), 1.0, self.p, at, low=0.01, high=100),
        )

    def _region(self, region: Mapping[str, Any], width: int, height: int, at: str) -> Cell:
        def px(name: str, high: float) -> float:
            return number(region, (name,), 0, self.p, at, low=0, high=high)

        pad = px("padding", 16384)
        w, h = px("width", 16384), px("height", 16384)
        if w <= 0 or h <= 0:
            self.p.error(at, "width and height must be above 0")
            w, h = float(width), float(height)
        # The region's picture is stretched to width x height and drawn `padding` in from x, y.
        return Cell(
            (px("x", 16384) + pad) / width,
            (px("y", 16384) + pad) / height,
            w / width,
            h / height,
            fit="fill",
        )

    def _by_type(self, raw: Mapping[str, Any], where: str) -> Layout:
        """A template without cells or regions, laid out from its type as the frontend's
        ``convertTemplates`` does (timeline-to-project.ts)."""
        kind = canonical(str(pick(raw, "template_type", default="")))
        screens = int(number(raw, ("screens",), 0, self.p, where, low=0, high=100))
        if screens and kind == "vertical":
            return _grid(screens, 1, screens)
        if screens and kind == "horizontal":
            return _grid(1, screens, screens)
        if screens and kind == "grid":
            columns = math.ceil(math.sqrt(screens))
            return _grid(columns, math.ceil(screens / columns), screens)
        self.p.error(where, f"has no cells (template_type {shown(raw.get('template_type'))})")
        return {}


def _grid(columns: int, rows: int, count: int) -> Layout:
    w, h = 1 / columns, 1 / rows
    return {i: Cell((i % columns) * w, (i // columns) * h, w, h, fit="cover") for i in range(count)}


def _has_id(raw: Any) -> bool:
    return isinstance(raw, Mapping) and raw.get("id") is not None

"""The multi-camera layouts the editor ships, by id, for clips whose ``template_id`` names one
that the document's ``templates[]`` does not define.

Taken from Timeline Studio's src/features/templates/lib/all-template-configs.ts (commit 42b19963,
MIT with Commons Clause, Copyright (c) 2023-2025 Alexander Kireyev (Chatman Media)): vertical
splits are columns and horizontal splits rows of equal size, as timeline-to-project.ts
``convertTemplates`` lays them out; grids fill ``gridConfig`` row by row; the custom layouts are
their ``cellLayouts`` percentages as fractions (x, y, width, height) of the canvas. The 2-pixel
gap the editor's preview draws between grid cells is not drawn.
"""

from __future__ import annotations

#: id -> (columns, rows, cells): equal cells filled row by row
GRIDS: dict[str, tuple[int, int, int]] = {
    "split-vertical-landscape": (2, 1, 2),
    "split-vertical-portrait": (2, 1, 2),
    "split-vertical-square": (2, 1, 2),
    "split-horizontal-landscape": (1, 2, 2),
    "split-horizontal-portrait": (1, 2, 2),
    "split-horizontal-square": (1, 2, 2),
    "split-vertical-3-landscape": (3, 1, 3),
    "split-vertical-3-portrait": (3, 1, 3),
    "split-vertical-3-square": (3, 1, 3),
    "split-horizontal-3-landscape": (1, 3, 3),
    "split-horizontal-3-portrait": (1, 3, 3),
    "split-horizontal-3-square": (1, 3, 3),
    "split-vertical-4-landscape": (4, 1, 4),
    "split-vertical-4-portrait": (4, 1, 4),
    "split-vertical-4-square": (4, 1, 4),
    "split-horizontal-4-landscape": (1, 4, 4),
    "split-horizontal-4-portrait": (1, 4, 4),
    "split-horizontal-4-square": (1, 4, 4),
    "split-grid-2x2-landscape": (2, 2, 4),
    "split-grid-2x2-portrait": (2, 2, 4),
    "split-grid-2x2-square": (2, 2, 4),
    "split-grid-2x3-portrait": (2, 3, 6),
    "split-grid-2x3-square": (2, 3, 6),
    "split-grid-2x3-alt-portrait": (2, 3, 6),
    "split-grid-3x2-landscape": (3, 2, 6),
    "split-grid-3x2-portrait": (3, 2, 6),
    "split-grid-3x2-square": (3, 2, 6),
    "split-grid-2x4-portrait": (2, 4, 8),
    "split-grid-2x4-square": (2, 4, 8),
    "split-grid-4x2-landscape": (4, 2, 8),
    "split-grid-4x2-portrait": (4, 2, 8),
    "split-grid-4x2-square": (4, 2, 8),
    "split-grid-3x3-landscape": (3, 3, 9),
    "split-grid-3x3-portrait": (3, 3, 9),
    "split-grid-3x3-square": (3, 3, 9),
    "split-grid-3x4-landscape": (4, 3, 12),
    "split-grid-3x4-portrait": (3, 4, 12),
    "split-grid-3x4-square": (3, 4, 12),
    "split-grid-4x3-landscape": (4, 3, 12),
    "split-grid-4x3-portrait": (4, 3, 12),
    "split-grid-4x3-square": (4, 3, 12),
    "split-grid-4x4-landscape": (4, 4, 16),
    "split-grid-4x4-portrait": (4, 4, 16),
    "split-grid-4x4-square": (4, 4, 16),
    "split-grid-5x2-landscape": (5, 2, 10),
    "split-grid-5x5-landscape": (5, 5, 25),
    "split-grid-5x5-portrait": (5, 5, 25),
    "split-grid-5x5-square": (5, 5, 25),
}

#: id -> cells as (x, y, width, height) fractions of the canvas
CUSTOM: dict[str, tuple[tuple[float, float, float, float], ...]] = {
    "split-1-3-landscape": (
        (0.0, 0.0, 0.5, 1.0),
        (0.5, 0.0, 0.5, 0.3333),
        (0.5, 0.3333, 0.5, 0.3333),
        (0.5, 0.6667, 0.5, 0.3333),
    ),
    "split-1-3-portrait": (
        (0.0, 0.0, 1.0, 0.5),
        (0.0, 0.5, 0.3333, 0.5),
        (0.3333, 0.5, 0.3333, 0.5),
        (0.6667, 0.5, 0.3333, 0.5),
    ),
    "split-1-3-square": (
        (0.0, 0.0, 0.5, 1.0),
        (0.5, 0.0, 0.5, 0.3333),
        (0.5, 0.3333, 0.5, 0.3333),
        (0.5, 0.6667, 0.5, 0.3333),
    ),
    "split-1-3-bottom-landscape": (
        (0.0, 0.0, 1.0, 0.5),
        (0.0, 0.5, 0.3333, 0.5),
        (0.3333, 0.5, 0.3333, 0.5),
        (0.6667, 0.5, 0.3333, 0.5),
    ),
    "split-1-3-bottom-portrait": (
        (0.0, 0.0, 1.0, 0.7),
        (0.0, 0.7, 0.3333, 0.3),
        (0.3333, 0.7, 0.3333, 0.3),
        (0.6667, 0.7, 0.3333, 0.3),
    ),
    "split-1-3-bottom-square": (
        (0.0, 0.0, 1.0, 0.5),
        (0.0, 0.5, 0.3333, 0.5),
        (0.3333, 0.5, 0.3333, 0.5),
        (0.6667, 0.5, 0.3333, 0.5),
    ),
    "split-3-1-landscape": (
        (0.0, 0.0, 0.5, 0.3333),
        (0.0, 0.3333, 0.5, 0.3333),
        (0.0, 0.6667, 0.5, 0.3333),
        (0.5, 0.0, 0.5, 1.0),
    ),
    "split-3-1-portrait": (
        (0.0, 0.0, 0.3333, 0.5),
        (0.3333, 0.0, 0.3333, 0.5),
        (0.6667, 0.0, 0.3333, 0.5),
        (0.0, 0.5, 1.0, 0.5),
    ),
    "split-3-1-square": (
        (0.0, 0.0, 0.5, 0.3333),
        (0.0, 0.3333, 0.5, 0.3333),
        (0.0, 0.6667, 0.5, 0.3333),
        (0.5, 0.0, 0.5, 1.0),
    ),
    "split-3-1-bottom-landscape": (
        (0.0, 0.0, 0.3333, 0.5),
        (0.3333, 0.0, 0.3333, 0.5),
        (0.6667, 0.0, 0.3333, 0.5),
        (0.0, 0.5, 1.0, 0.5),
    ),
    "split-3-1-right-landscape": (
        (0.0, 0.0, 0.3333, 0.5),
        (0.0, 0.5, 0.3333, 0.5),
        (0.3333, 0.0, 0.3333, 1.0),
        (0.6667, 0.0, 0.3333, 1.0),
    ),
    "split-3-1-right-portrait": (
        (0.0, 0.0, 0.5, 0.3333),
        (0.0, 0.3333, 0.5, 0.3333),
        (0.0, 0.6667, 0.5, 0.3333),
        (0.5, 0.0, 0.5, 1.0),
    ),
    "split-3-1-right-square": (
        (0.0, 0.0, 0.5, 0.3333),
        (0.0, 0.3333, 0.5, 0.3333),
        (0.0, 0.6667, 0.5, 0.3333),
        (0.5, 0.0, 0.5, 1.0),
    ),
    "split-mixed-1-landscape": (
        (0.0, 0.0, 0.5, 1.0),
        (0.5, 0.0, 0.5, 0.5),
        (0.5, 0.5, 0.5, 0.5),
    ),
    "split-mixed-1-portrait": (
        (0.0, 0.0, 1.0, 0.5),
        (0.0, 0.5, 0.5, 0.5),
        (0.5, 0.5, 0.5, 0.5),
    ),
    "split-mixed-1-square": (
        (0.0, 0.0, 0.5, 1.0),
        (0.5, 0.0, 0.5, 0.5),
        (0.5, 0.5, 0.5, 0.5),
    ),
    "split-mixed-2-landscape": (
        (0.0, 0.0, 0.5, 0.5),
        (0.0, 0.5, 0.5, 0.5),
        (0.5, 0.0, 0.5, 1.0),
    ),
    "split-mixed-2-portrait": (
        (0.0, 0.0, 0.5, 0.5),
        (0.5, 0.0, 0.5, 0.5),
        (0.0, 0.5, 1.0, 0.5),
    ),
    "split-mixed-2-square": (
        (0.0, 0.0, 0.5, 0.5),
        (0.0, 0.5, 0.5, 0.5),
        (0.5, 0.0, 0.5, 1.0),
    ),
    "split-custom-5-1-landscape": (
        (0.0, 0.0, 0.5, 0.6),
        (0.5, 0.0, 0.5, 0.6),
        (0.0, 0.6, 0.3333, 0.4),
        (0.3333, 0.6, 0.3333, 0.4),
        (0.6667, 0.6, 0.3333, 0.4),
    ),
    "split-custom-5-1-portrait": (
        (0.0, 0.0, 1.0, 0.4),
        (0.0, 0.4, 0.5, 0.3),
        (0.5, 0.4, 0.5, 0.3),
        (0.0, 0.7, 0.5, 0.3),
        (0.5, 0.7, 0.5, 0.3),
    ),
    "split-custom-5-2-landscape": (
        (0.0, 0.0, 0.5, 1.0),
        (0.5, 0.0, 0.5, 0.25),
        (0.5, 0.25, 0.5, 0.25),
        (0.5, 0.5, 0.5, 0.25),
        (0.5, 0.75, 0.5, 0.25),
    ),
    "split-custom-5-2-portrait": (
        (0.0, 0.0, 1.0, 0.5),
        (0.0, 0.5, 0.25, 0.5),
        (0.25, 0.5, 0.25, 0.5),
        (0.5, 0.5, 0.25, 0.5),
        (0.75, 0.5, 0.25, 0.5),
    ),
    "split-custom-5-3-landscape": (
        (0.0, 0.0, 0.25, 0.5),
        (0.0, 0.5, 0.25, 0.5),
        (0.25, 0.0, 0.5, 1.0),
        (0.75, 0.0, 0.25, 0.5),
        (0.75, 0.5, 0.25, 0.5),
    ),
    "split-custom-5-3-portrait": (
        (0.0, 0.0, 0.5, 0.25),
        (0.5, 0.0, 0.5, 0.25),
        (0.0, 0.25, 1.0, 0.5),
        (0.0, 0.75, 0.5, 0.25),
        (0.5, 0.75, 0.5, 0.25),
    ),
    "split-custom-5-3-square": (
        (0.0, 0.0, 0.25, 0.5),
        (0.0, 0.5, 0.25, 0.5),
        (0.25, 0.0, 0.5, 1.0),
        (0.75, 0.0, 0.25, 0.5),
        (0.75, 0.5, 0.25, 0.5),
    ),
    "split-custom-5-4-square": (
        (0.0, 0.0, 0.3333, 0.3333),
        (0.3333, 0.0, 0.3333, 0.3333),
        (0.6667, 0.0, 0.3333, 0.3333),
        (0.1667, 0.3333, 0.6666, 0.6666),
        (0.0, 0.6667, 0.3333, 0.3333),
    ),
    "split-custom-7-1-square": (
        (0.0, 0.0, 0.3333, 0.3333),
        (0.3333, 0.0, 0.3333, 0.3333),
        (0.6667, 0.0, 0.3333, 0.3333),
        (0.0, 0.3333, 0.3333, 0.3333),
        (0.3333, 0.3333, 0.3333, 0.3333),
        (0.6667, 0.3333, 0.3333, 0.3333),
        (0.1667, 0.6667, 0.6666, 0.3333),
    ),
    "split-custom-7-2-square": (
        (0.0, 0.0, 0.5, 0.5),
        (0.5, 0.0, 0.5, 0.25),
        (0.5, 0.25, 0.5, 0.25),
        (0.0, 0.5, 0.25, 0.5),
        (0.25, 0.5, 0.25, 0.5),
        (0.5, 0.5, 0.25, 0.5),
        (0.75, 0.5, 0.25, 0.5),
    ),
    "split-custom-7-3-square": (
        (0.0, 0.0, 0.2, 0.5),
        (0.2, 0.0, 0.2, 0.5),
        (0.4, 0.0, 0.2, 0.5),
        (0.6, 0.0, 0.2, 0.5),
        (0.8, 0.0, 0.2, 0.5),
        (0.1, 0.5, 0.4, 0.5),
        (0.5, 0.5, 0.4, 0.5),
    ),
    "split-custom-7-4-square": (
        (0.0, 0.0, 1.0, 0.3333),
        (0.0, 0.3333, 0.3333, 0.3333),
        (0.3333, 0.3333, 0.3333, 0.3333),
        (0.6667, 0.3333, 0.3333, 0.3333),
        (0.0, 0.6667, 0.3333, 0.3333),
        (0.3333, 0.6667, 0.3333, 0.3333),
        (0.6667, 0.6667, 0.3333, 0.3333),
    ),
}

#: layouts split along a diagonal: their cells are not rectangles
DIAGONAL = frozenset(
    {
        "split-diagonal-landscape",
        "split-diagonal-portrait",
        "split-diagonal-square",
        "split-diagonal-vertical-square",
    }
)

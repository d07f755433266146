"""How a decoded frame is turned and mirrored to be shown upright, from its display matrix.

Phones write a rotation; QuickTime's Flip Horizontal/Vertical and some front cameras write a
mirror, alone or with a rotation. FFmpeg's reported rotation reads any mirror as a turn (a
horizontal flip reads as 180 degrees, and the picture came out upside down), so the matrix's
signs decide, as ffmpeg's autorotate does (fftools: a rotation of 90 or 270 degrees with a
mirrored matrix is a transpose, one of 180 degrees flips the axes whose scale is negative, and
an unturned matrix with a negative vertical scale flips vertically).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from workers.layer import Image

_IDENTITY = (1, 0, 0, 1)


@dataclass(frozen=True)
class Orientation:
    """Steps that turn a decoded picture upright: ``("rot", k)`` is np.rot90 with k
    (counter-clockwise quarter turns), ``("flip", axis)`` mirrors an axis (0 rows, 1 columns),
    ``("transpose", 0)`` swaps rows and columns."""

    steps: tuple[tuple[str, int], ...] = ()

    @property
    def swaps(self) -> bool:
        """Whether the shown picture's width is the decoded height."""
        turned = sum(k for op, k in self.steps if op == "rot") % 2 == 1
        return turned != any(op == "transpose" for op, _ in self.steps)

    def apply(self, array: Image) -> Image:
        """The picture ``array`` (rows, columns, channels) shown upright."""
        for op, k in self.steps:
            if op == "rot":
                array = np.rot90(array, k=k)
            elif op == "flip":
                array = np.flip(array, axis=k)
            else:
                array = np.swapaxes(array, 0, 1)
        return array


def orientation(frame: Any) -> Orientation:
    """The steps that show ``frame`` as its display matrix says."""
    rotation = frame.rotation or 0
    matrix = _display_matrix(frame)
    if matrix is None or matrix[0] * matrix[4] - matrix[1] * matrix[3] >= 0:
        # A plain rotation: counter-clockwise, as np.rot90 with k > 0 turns.
        turns = round(rotation / 90) % 4
        return Orientation((("rot", turns),) if turns else ())
    theta = round(-rotation) % 360
    if abs(theta - 90) < 1:
        return Orientation((("transpose", 0),) if matrix[3] > 0 else (("rot", -1),))
    if abs(theta - 270) < 1:
        if matrix[3] < 0:
            return Orientation((("rot", -1), ("flip", 0)))
        return Orientation((("rot", 1),))
    if abs(theta - 180) < 1:
        flips = [("flip", 1)] if matrix[0] < 0 else []
        flips += [("flip", 0)] if matrix[4] < 0 else []
        return Orientation(tuple(flips))
    return Orientation((("flip", 0),) if matrix[4] < 0 else ())


def _display_matrix(frame: Any) -> tuple[int, ...] | None:
    """The frame's 3x3 display matrix (16.16 and 2.30 fixed point), if it carries one."""
    for item in frame.side_data:
        if "DISPLAYMATRIX" in str(item.type):
            raw = bytes(item)
            return struct.unpack("=9i", raw) if len(raw) == 36 else None
    return None

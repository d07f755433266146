"""How a decoded frame is turned and mirrored to be shown upright, from its display matrix.

Phones write a rotation; QuickTime's Flip Horizontal/Vertical and some front cameras write a
mirror, alone or with a rotation. FFmpeg's reported rotation reads any mirror as a turn (a
horizontal flip reads as 180 degrees, and the picture came out upside down), so the matrix's
signs decide, as ffmpeg's autorotate does (fftools: a rotation of 90 or 270 degrees with a
mirrored matrix is a transpose, one of 180 degrees flips the axes whose scale is negative, and
an unturned matrix with a negative vertical scale flips vertically).
"""

from __future__ import annotations

import gc
import struct
from dataclasses import dataclass
from typing import Any

import av.error
import numpy as np
from av.sidedata.sidedata import Type

from common.errors import MediaError
from workers.layer import Image
from workers.media_open import open_media

_DISPLAY_MATRIX = Type.DISPLAYMATRIX


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


def turned(rotation: float) -> Orientation:
    """The steps of a plain rotation (counter-clockwise degrees, as FFmpeg reports them)."""
    turns = round(rotation / 90) % 4
    return Orientation((("rot", turns),) if turns else ())


def stream_orientation(path: str, index: int, rotation: float) -> Orientation:
    """How a video stream whose frames report ``rotation`` is shown, from its display matrix.

    FFmpeg reports a mirror as a turn (a horizontal flip as 180 degrees), so a turned stream's
    matrix is read, from its first frame decoded apart. Reading a frame's side data ties the
    frame in a reference cycle; freed later by the collector in another thread or in a forked
    render child, it deadlocked that child: the throwaway frame is collected here and now.
    """
    if not rotation:
        return Orientation()
    try:
        with open_media(path) as container:
            frame = next(container.decode(container.streams[index]), None)
            matrix = _display_matrix(frame) if frame is not None else None
            del frame
    except (av.error.FFmpegError, OSError, MediaError):
        matrix = None
    gc.collect()
    return orientation(rotation, matrix)


def orientation(rotation: float, matrix: tuple[int, ...] | None) -> Orientation:
    """The steps that show a frame as its reported rotation and display matrix say."""
    if matrix is None or matrix[0] * matrix[4] - matrix[1] * matrix[3] >= 0:
        return turned(rotation)  # a plain rotation
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
    try:
        item = frame.side_data.get(_DISPLAY_MATRIX)
    except ValueError:
        # A side data type newer than PyAV's list (FFmpeg 8 attaches a JPEG's EXIF as type 31)
        # makes the whole list unreadable: the reported rotation alone is used.
        return None
    raw = bytes(item) if item is not None else b""
    return struct.unpack("=9i", raw) if len(raw) == 36 else None

"""One numeric effect parameter's description, shared by the video and audio catalogues."""

from __future__ import annotations

from typing import NamedTuple


class Param(NamedTuple):
    """One numeric effect parameter: its alternative names (the first present that reads as a
    number wins), the range the loader accepts and the worker clamps to, and its default."""

    names: tuple[str, ...]
    low: float
    high: float
    default: float

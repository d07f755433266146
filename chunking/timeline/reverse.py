"""Clips played backwards: a clip's ``reverse`` flag or its ``Reverse`` effect (ProjectSchema,
the editor's effect of that type) made into Clip.reverse.

The clip plays its source span backwards at its speed (Clip.mirrored): the picture (the
renderer reads the source GOP by GOP backwards, workers.reverse_source) and the sound (its
samples reversed, workers.reverse_audio). A Reverse effect that covers only part of a clip (a
time window) cannot be played as one span and is refused.
"""

from __future__ import annotations

import dataclasses

from chunking.timeline.fields import Problems
from chunking.timeline.model import REVERSE_EFFECT, Clip

#: Decoded frames the renderer holds per reversed video clip, in bytes (a conservative 3 bytes
#: a pixel; workers.reverse_source), which the memory estimate counts (chunking.memory).
WINDOW_BYTES = 192 * 1024 * 1024
WINDOW_BYTES_PER_PIXEL = 3
#: More frames than this are never held, however small they are; never fewer than two.
MAX_WINDOW = 120
MIN_WINDOW = 2


def window_bytes(source_pixels: int) -> int:
    """The bytes a reversed clip's decoded-frame window holds for a source of this size."""
    frame = WINDOW_BYTES_PER_PIXEL * max(source_pixels, 1)
    return frame * max(MIN_WINDOW, min(MAX_WINDOW, WINDOW_BYTES // frame))


def reversed_clip(clip: Clip, flagged: bool, p: Problems, where: str) -> Clip:
    """The clip with ``reverse`` set where its flag or a Reverse effect says so (the effect
    taken out of its effects); problems are recorded."""
    marks = [e for e in clip.effects if e.kind == REVERSE_EFFECT]
    if not flagged and not marks:
        return clip
    effects = tuple(e for e in clip.effects if e.kind != REVERSE_EFFECT)
    for mark in marks:
        if (mark.start is not None and mark.start > clip.start) or (
            mark.end is not None and mark.end < clip.end
        ):
            p.error(
                f"{where} effect {mark.id!r}",
                "a Reverse effect over only part of the clip cannot be played (one clip plays "
                "one span of its media one way); split the clip where the reverse starts and ends",
            )
    # The flag and an effect together say the same: the clip is not reversed twice.
    return dataclasses.replace(clip, effects=effects, reverse=True)

"""Clips played backwards: a clip's ``reverse`` flag or its ``Reverse`` effect (ProjectSchema,
the editor's effect of that type) made into Clip.reverse.

The picture plays the clip's source span backwards at the clip's speed (Clip.mirrored; the
renderer reads the source GOP by GOP backwards, workers.reverse_source). Sound is not played
reversed: a reversed clip's sound is muted, with a warning naming the clip. A Reverse effect
that covers only part of a clip (a time window) cannot be played as one span and is refused.
"""

from __future__ import annotations

import dataclasses

from chunking.timeline.fields import Problems
from chunking.timeline.model import REVERSE_EFFECT, Clip


def reversed_clip(clip: Clip, flagged: bool, p: Problems, where: str) -> Clip:
    """The clip with ``reverse`` set where its flag or a Reverse effect says so (the effect
    taken out of its effects), its sound muted with a warning; problems are recorded."""
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
    reverse = True  # the flag and an effect together say the same: not reversed twice
    muted = clip.muted
    if not clip.muted:
        p.warn(where, "plays in reverse: its sound is muted (reversed sound is not rendered)")
        muted = True
    return dataclasses.replace(clip, effects=effects, reverse=reverse, muted=muted)

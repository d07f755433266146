"""The media a job reads, as they were when it was submitted: a file replaced or edited while
the job renders would give a video whose early chunks show the old file and later ones the new,
so each chunk checks the size and modification time of every local media file first."""

from __future__ import annotations

import os
from typing import Any

from chunking.timeline.model import FileSource, Timeline
from common.errors import RenderError


def media_stamps(timeline: Timeline) -> dict[str, list[int]]:
    """[size, mtime_ns] of each local media file of the timeline (by path), as it is now."""
    stamps: dict[str, list[int]] = {}
    for track in timeline.tracks:
        for clip in track.clips:
            source = clip.source
            if not isinstance(source, FileSource) or source.path in stamps:
                continue
            try:
                stat = os.stat(source.path)
            except OSError:
                continue  # the render names a missing file itself
            stamps[source.path] = [stat.st_size, stat.st_mtime_ns]
    return stamps


def check_stamps(stamps: dict[str, Any], timeline: Timeline) -> None:
    """RenderError naming the first media file that changed since its stamp was taken, and
    the timeline's clips that show it."""
    for path, stamp in stamps.items():
        try:
            stat = os.stat(path)
        except OSError:
            continue  # gone: the render names it
        if [stat.st_size, stat.st_mtime_ns] != list(stamp):
            users = [
                c.id
                for t in timeline.tracks
                for c in t.clips
                if isinstance(c.source, FileSource) and c.source.path == path
            ]
            named = ", ".join(repr(u) for u in users[:3]) or "(none)"
            raise RenderError(
                f"clip {named}: media {path} changed while the job rendered (its size or time "
                "differs from when it was submitted): chunks would mix the old and the new "
                "file; render again"
            )

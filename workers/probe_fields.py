"""What ``validate`` says of interlaced sources: which files are interlaced, and what the render
does with them (deinterlaced as they are decoded, or shown as decoded, combed where they move,
by clips that set ``"deinterlace": false``). ``validate`` said nothing of either."""

from __future__ import annotations

import os
from typing import Any

import av.error

from chunking.timeline.model import FileSource, Timeline
from common.errors import MediaError
from workers.deinterlace import FILTER, interlacing
from workers.media_open import open_media, picture_stream
from workers.probe_first_frame import PROBE_PACKETS
from workers.sources import is_still

#: Packets read for a first frame (as ``workers.probe_first_frame.PROBE_PACKETS``): a stream of
#: frames that decode but are never shown (VP9's hidden frames) was decoded to its end, some
#: 3 ms of CPU a packet at 1080p, after validate had already refused it.
FIRST_FRAME_PACKETS = PROBE_PACKETS
#: How each answer of ``workers.deinterlace.interlacing`` is said.
_ORDER = {
    "top": "top field first",
    "bottom": "bottom field first",
    "flagged": "its frames flagged interlaced",
}


def interlace_report(timeline: Timeline) -> tuple[list[str], list[str]]:
    """Notes (an interlaced file that is deinterlaced as it is decoded) and warnings (one that
    clips show as decoded): one line per file and choice, naming its clips."""
    fields: dict[str, str | None] = {}
    clips: dict[tuple[str, bool], list[str]] = {}
    for track in timeline.video_tracks():
        for clip in track.clips:
            source = clip.source
            if not isinstance(source, FileSource) or source.sequence is not None:
                continue
            if source.path not in fields:
                fields[source.path] = stream_fields(source.path)
            if fields[source.path] is not None:
                clips.setdefault((source.path, clip.deinterlace), []).append(clip.id)
    notes, warnings = [], []
    for (path, deinterlace), ids in clips.items():
        what = (
            f"{_named(ids)}: {os.path.basename(path)} is interlaced ({_ORDER[fields[path] or '']})"
        )
        if deinterlace:
            notes.append(
                f"{what}; it is deinterlaced ({FILTER}) as it is decoded "
                '("deinterlace": false shows its frames as decoded)'
            )
        else:
            warnings.append(
                f'{what} and "deinterlace" is false: its frames are shown as decoded, combed '
                "where they move"
            )
    return notes, warnings


def stream_fields(path: str) -> str | None:
    """How a file's video is interlaced (``workers.deinterlace.interlacing``), None for
    progressive video, stills, sound and what does not open (validate reports those)."""
    if is_still(path):
        return None
    try:
        with open_media(path) as container:
            video = picture_stream(container)
            if video is None:
                return None
            return interlacing(video, lambda: _first_frame(container, video))
    except (MediaError, av.error.FFmpegError, OSError):
        return None


def _first_frame(container: Any, video: Any) -> Any:
    """The stream's first decoded frame, None where it has none within FIRST_FRAME_PACKETS
    packets or does not decode."""
    try:
        for count, packet in enumerate(container.demux(video)):
            for frame in packet.decode():
                return frame
            if count >= FIRST_FRAME_PACKETS:
                break
    except av.error.FFmpegError:
        pass
    return None


def _named(ids: list[str]) -> str:
    """The clips as a message names them: the first three, then how many more."""
    shown = ", ".join(repr(i) for i in ids[:3])
    more = f" and {len(ids) - 3} more" if len(ids) > 3 else ""
    return f"clip{'s' * (len(ids) > 1)} {shown}{more}"

"""Validate's first look at a file's streams: whether each one's first frame decodes, read
as the render reads it (``workers.probe_decode`` then decodes the ranges the clips use).

Packets of a video before its first keyframe are no frames the render decodes
(``workers.video_index``: they show the first keyframe, held, as a capture cut mid-GOP does):
garbage there is refused only when no keyframe follows it, where the render decodes it too.
"""

from __future__ import annotations

from typing import Any

import av
import av.error

from workers.media_open import reason

#: Packets read while looking for each stream's first frame: a bound for hostile files.
PROBE_PACKETS = 512


def first_frame_problems(container: Any, wanted: dict[str, Any], path: str) -> dict[str, str]:
    """Problems of the streams in ``wanted`` whose first frame does not decode."""
    pending = {stream.index: kind for kind, stream in wanted.items()}
    if not pending:
        return {}
    # Video streams no keyframe of which was read yet, and the first error before one.
    unkeyed = {stream.index for kind, stream in wanted.items() if kind == "video"}
    early: av.error.FFmpegError | None = None
    try:
        for count, packet in enumerate(container.demux(*wanted.values())):
            index = packet.stream.index
            if packet.size and packet.is_keyframe:
                unkeyed.discard(index)
            if index in pending:
                try:
                    decoded = packet.decode()
                except av.error.FFmpegError as exc:
                    if index not in unkeyed:
                        raise
                    early, decoded = early or exc, []
                if decoded:
                    del pending[index]
            if not pending or count >= PROBE_PACKETS:
                break
        if early is not None and any(index in pending for index in unkeyed):
            raise early  # no keyframe followed: the render decodes from that garbage too
        for stream in wanted.values():
            if stream.index in pending and (stream.start_time or 0) > 0:
                # A stream that starts late (sound 20 s into a recording) has no packet among
                # the first read: validate refused a file the render plays. Look where it
                # starts.
                container.seek(stream.start_time, stream=stream)
                for count, packet in enumerate(container.demux(stream)):
                    if packet.decode():
                        del pending[stream.index]
                    if stream.index not in pending or count >= PROBE_PACKETS:
                        break
    except (av.error.FFmpegError, OSError) as exc:
        # The render words these the same way: corrupt media, naming the file (and for sound
        # where: nothing of it decoded yet, so its start).
        return {
            kind: f"corrupt {kind}{' at about 0.000s' * (kind == 'audio')} in {path}: {reason(exc)}"
            for kind in pending.values()
        }
    return {kind: f"no decodable {kind} frame in {path}" for kind in pending.values()}

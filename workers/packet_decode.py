"""Decoding a stream packet by packet, bounded in the packets that give no picture.

A stream whose pictures are all hidden (VP9 frames with show_frame off, which an AVI can hold)
decodes every packet to nothing: a decode looking for a frame read such a file to its end, and
again from each keyframe further back, minutes of CPU for a few megabytes before it said the
frame cannot be decoded. No stream a camera or an editor writes goes that long without a
picture: a decoder holds back at most its reorder depth (16 for H.264) plus one packet per
frame thread, and VP9 or AV1 hide one picture a few packets before the frame that shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from common.errors import DecodeError

#: Packets in a row with data that may decode to no picture before the stream is refused.
SILENT_PACKETS = 256


def frames_of(
    packets: Iterable[Any],
    decode: Callable[[Any], Iterable[Any]],
    where: str,
    limit: int = SILENT_PACKETS,
) -> Iterator[Any]:
    """The frames `decode` makes of each packet in turn; DecodeError naming `where` once
    more than `limit` packets in a row with data gave none."""
    silent = 0
    for packet in packets:
        shown = False
        for frame in decode(packet):
            shown = True
            yield frame
        if shown:
            silent = 0
        elif packet.size > 0:
            silent += 1
            if silent > limit:
                raise DecodeError(
                    f"{where}: {silent} packets in a row decode to no picture (frames that are "
                    "never shown?): the video cannot be rendered (re-export the file)"
                )

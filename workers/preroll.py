"""Decoding from a keyframe up to the first frame a seek wants: the pictures before it that no
other picture references are not decoded at all.

A chunk's first frame is rarely a keyframe: its decode starts at the keyframe before it and
throws away every frame up to it (up to a whole GOP: 249 frames for x264's default keyframe
interval). A non-reference picture (an H.264 B-frame no other frame predicts from) shown before
the wanted frame is never shown and never read by a frame that is, so FFmpeg's
``skip_frame = NONREF`` may drop it: every frame from the wanted one on decodes to the same
bits. Pictures are told apart by their packets' presentation times, which are the frames' own
(``workers.video_index`` reads the index from the same packets).

H.264 only: its nal_ref_idc 0 means no picture references it. HEVC's "non-reference"
pictures are so only within their temporal sub-layer (a higher one may predict from them),
and streams with temporal layers exist (high frame rate phone footage).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from workers.packet_decode import frames_of

#: Codecs whose decoders skip exactly the pictures no other picture references (and whose
#: skipped pictures are tested to leave every other frame's bits unchanged).
SKIPPING_CODECS = frozenset({"h264"})


def can_skip(stream: Any) -> bool:
    """Whether pre-roll pictures of this stream may be skipped (its codec is one that skips
    exactly its non-reference pictures, decoded by FFmpeg's own decoder)."""
    return stream.codec_context.name in SKIPPING_CODECS


def decoded_until(container: Any, stream: Any, until: int, where: str) -> Iterator[Any]:
    """The stream's frames from where the container stands, without the non-reference pictures
    whose packets are shown before `until` (a presentation time in the stream's time base);
    `where` names the stream in the error of a stream that shows no picture
    (``workers.packet_decode``)."""
    context = stream.codec_context
    skipping: bool | None = None  # unknown: set by the first packet

    def decode(packet: Any) -> Any:
        nonlocal skipping
        # Set per packet: a frame-threaded decoder reads it when the packet is submitted.
        early = packet.pts is not None and packet.pts < until and packet.size > 0
        if early != skipping:
            context.skip_frame = "NONREF" if early else "DEFAULT"
            skipping = early
        return packet.decode()

    try:
        yield from frames_of(container.demux(stream), decode, where)
    finally:
        if skipping is not False:
            context.skip_frame = "DEFAULT"

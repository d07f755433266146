"""workers.packet_decode: a stream that decodes to no picture is refused after a bound of
packets, not read to its end from every keyframe."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest

from common.errors import DecodeError
from tests.media import make_hidden_frames
from workers.packet_decode import SILENT_PACKETS, frames_of
from workers.video_source import VideoSource


class _Packet:
    def __init__(self, size: int, frames: int) -> None:
        self.size, self.frames = size, frames


def _decode(packet: _Packet) -> list[int]:
    return list(range(packet.frames))


@pytest.mark.parametrize(
    ("shape", "refused"),
    [
        ([(1, 0)] * 5 + [(1, 1)] * 3, False),  # a decoder's start-up delay
        ([(1, 0)] * 5 + [(1, 1)] + [(1, 0)] * 5 + [(1, 1)], False),  # silence ends each time
        ([(1, 0)] * 6, True),  # more than the limit (5 here) in a row
        ([(0, 0)] * 20 + [(1, 1)], False),  # empty packets (EOF flush) are not counted
    ],
)
def test_silent_packets_are_bounded(shape: list[tuple[int, int]], refused: bool) -> None:
    """Frames pass through; more than `limit` packets with data in a row and no frame is a
    DecodeError naming where."""
    packets = [_Packet(size, frames) for size, frames in shape]
    if refused:
        with pytest.raises(DecodeError, match="clip 'x': 6 packets in a row decode to no"):
            list(frames_of(packets, _decode, "clip 'x'", limit=5))
    else:
        expected = sum(frames for _, frames in shape)
        assert len(list(frames_of(packets, _decode, "clip 'x'", limit=5))) == expected


def test_a_video_whose_frames_are_never_shown_is_refused_after_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """VP9 keyframes with show_frame off (in AVI): a render looking for the first frame read
    the file to its end from each keyframe further back (58 s of CPU for 2 MB at 1080p) and
    then said the frame cannot be decoded; it now stops after SILENT_PACKETS packets, saying
    why, having decoded about that many."""
    path = make_hidden_frames(tmp_path / "hidden.avi", SILENT_PACKETS * 3)
    decoded = []
    real = av.packet.Packet.decode

    def counted(packet: Any) -> Any:
        decoded.append(1)
        return real(packet)

    source = VideoSource(str(path), "h")
    try:
        monkeypatch.setattr(av.packet.Packet, "decode", counted)
        with pytest.raises(DecodeError, match="clip 'h': .*hidden.avi: 257 packets in a row"):
            source.picture_at(Fraction(0))
    finally:
        source.close()
    assert SILENT_PACKETS < len(decoded) <= SILENT_PACKETS + 2

"""Sound that an export puts on one track per channel is heard once."""

from __future__ import annotations

from pathlib import Path

from chunking.timeline.loader import load
from chunking.timeline.model import TrackKind
from tests.media import make_video


def test_an_edl_audio_event_on_two_channels_is_heard_once(tmp_path: Path) -> None:
    """``AA/V``: the event's picture, and its sound on A1 and A2 (one source channel each in
    the editor): the file's sound plays once, at its own level, not twice (+6 dB)."""
    make_video(tmp_path / "shot.mov", frames=72, fps=24, audio_hz=440)
    path = tmp_path / "cut.edl"
    path.write_text(
        "TITLE: cut\nFCM: NON-DROP FRAME\n\n"
        "001  AX       AA/V  C        00:00:00:00 00:00:01:00 00:00:00:00 00:00:01:00\n"
        "* FROM CLIP NAME: shot.mov\n"
        "002  AX       A2    C        00:00:01:00 00:00:02:00 00:00:01:00 00:00:02:00\n"
        "* FROM CLIP NAME: shot.mov\n"
    )
    timeline = load(str(path))
    heard = [
        (t.id, c.start, c.end)
        for t in timeline.tracks
        if t.kind is TrackKind.AUDIO and t.enabled
        for c in t.clips
        if not c.muted
    ]
    assert heard == [("A1", 0, 24), ("A2", 24, 48)]  # the second event is A2's own

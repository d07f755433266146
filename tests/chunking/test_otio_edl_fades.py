"""An EDL that opens on a fade up from black (which the CMX 3600 adapter refused) renders it."""

from __future__ import annotations

from pathlib import Path

from chunking.timeline.loader import load
from chunking.timeline.otio_edl_fades import opening_fades
from tests.media import make_video

BLACK = "001  BL       V     C        00:00:00:00 00:00:00:00 01:00:00:00 01:00:00:00"
FADE = "001  AX       V     D    010 00:00:01:00 00:00:02:00 01:00:00:00 01:00:01:00"


def test_only_a_fade_that_opens_its_channels_is_taken_out() -> None:
    text, fades = opening_fades(f"TITLE: x\n{BLACK}\n{FADE}\n")
    assert fades == [("V", 10)]
    assert "BL" not in text and " C " in text.splitlines()[1] and "010" not in text
    later = (
        "000  BL       V     C        00:00:00:00 00:00:00:10 00:59:59:14 01:00:00:00\n"
        f"{BLACK}\n{FADE}\n"
    )
    assert opening_fades(later) == (later, [])  # the adapter reads that one itself


def test_an_edl_that_opens_on_a_fade_up_from_black_renders_it(tmp_path: Path) -> None:
    """A zero-length black event and a dissolve out of it at the sequence's head: the adapter
    refused the whole file ("Transitions can't be at the very beginning of a track")."""
    make_video(tmp_path / "shot.mov", frames=72, fps=24)
    path = tmp_path / "fade.edl"
    path.write_text(
        "TITLE: fade up\nFCM: NON-DROP FRAME\n\n"
        "001  BL       V     C        00:00:00:00 00:00:00:00 01:00:00:00 01:00:00:00\n"
        "001  AX       V     D    010 00:00:01:00 00:00:02:00 01:00:00:00 01:00:01:00\n"
        "* FROM CLIP NAME: shot.mov\n"
    )
    timeline = load(str(path))
    (fade,) = timeline.transitions
    assert (fade.kind, fade.start, fade.end) == ("dissolve", 0, 10)
    shot = timeline.clip(fade.to_clip)
    assert (shot.start, shot.end, shot.source_start) == (0, 24, 1.0)

"""An EDL's text as editors write it: its encoding."""

from __future__ import annotations

from pathlib import Path

from chunking.timeline.loader import load
from chunking.timeline.model import FileSource
from tests.media import make_video

EVENT = "001  AX       V     C        00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00\n"


def test_an_edl_in_a_windows_code_page_is_read_and_relinked_with_a_warning(
    tmp_path: Path,
) -> None:
    """Avid and Premiere on Windows write accented clip names in cp1252, not UTF-8."""
    make_video(tmp_path / "Über Straße.mov", frames=30, fps=25, size=(32, 18))
    path = tmp_path / "cut.edl"
    text = f"TITLE: t\nFCM: NON-DROP FRAME\n\n{EVENT}* FROM CLIP NAME: Über Straße.mov\n"
    path.write_bytes(text.encode("cp1252"))
    timeline = load(str(path))
    (clip,) = timeline.tracks[0].clips
    assert isinstance(clip.source, FileSource) and clip.source.path.endswith("Über Straße.mov")
    assert any("not UTF-8" in w and "Windows-1252" in w for w in timeline.warnings)


def test_an_edl_in_utf16_is_read_as_such(tmp_path: Path) -> None:
    """Windows PowerShell's Out-File and Notepad's "Unicode" write UTF-16 with a byte-order
    mark; read as a code page, every other byte was a NUL ("Unknown event type")."""
    make_video(tmp_path / "Über.mov", frames=30, fps=25, size=(32, 18))
    path = tmp_path / "cut.edl"
    text = f"TITLE: t\r\nFCM: NON-DROP FRAME\r\n\r\n{EVENT}* FROM CLIP NAME: Über.mov\r\n"
    path.write_bytes(text.encode("utf-16"))
    timeline = load(str(path))
    (clip,) = timeline.tracks[0].clips
    assert isinstance(clip.source, FileSource) and clip.source.path.endswith("Über.mov")
    assert timeline.frames == 25
    assert not any("not UTF-8" in w for w in timeline.warnings)

"""An MP4/MOV recording that was never finalised (no ``moov`` index: the camera or app stopped
before closing the file) is refused in words that say so and what to do, not FFmpeg's
"Invalid data found when processing input"."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import DecodeError
from tests.media import make_video
from workers.media_open import open_media


def _cut_before_index(path: Path) -> Path:
    """The file up to its ``moov`` box (written last, as a recorder writes it)."""
    data = path.read_bytes()
    at = data.rindex(b"moov") - 4
    assert b"mdat" in data[:at]
    path.write_bytes(data[:at])
    return path


def test_an_mp4_without_its_index_is_named_an_unfinished_recording(tmp_path: Path) -> None:
    path = _cut_before_index(make_video(tmp_path / "crash.mp4", frames=20))
    with pytest.raises(DecodeError) as caught:
        open_media(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path} is an MP4/MOV recording that was never finished")
    assert "no index (moov box)" in message and "repair tool" in message


def test_a_recording_in_progress_is_named_so_too(tmp_path: Path) -> None:
    """A recorder writes ``mdat`` with size 0 ("to the end of the file") until it closes it."""
    path = _cut_before_index(make_video(tmp_path / "live.mov", frames=20))
    data = bytearray(path.read_bytes())
    at = data.index(b"mdat") - 4
    data[at : at + 4] = bytes(4)
    path.write_bytes(bytes(data))
    with pytest.raises(DecodeError, match="never finished"):
        open_media(str(path))


def test_other_undecodable_files_keep_ffmpegs_words(tmp_path: Path) -> None:
    path = tmp_path / "noise.mp4"
    path.write_bytes(b"not a video at all, not even a box" * 4)
    with pytest.raises(DecodeError, match="cannot open .*: Invalid data"):
        open_media(str(path))

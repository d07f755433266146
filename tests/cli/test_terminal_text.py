"""Control characters a project holds (in a media path, a clip id, an effect's type) reach the
terminal inside the command line's messages: written as their escapes, never sent raw, so a
shared project cannot clear the screen, retitle the window or hide the error."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.failures import terminal_text
from tests.helpers import CLI
from tests.media import project, solid, video_track, write_project


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text, café 😀", "plain text, café 😀"),
        ("tab\tkept", "tab\tkept"),
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("bell\x07", "bell\\x07"),
        ("over\rwrite", "over\\rwrite"),
        ("new\nline", "new\\nline"),
        ("nul\x00", "nul\\x00"),
        ("del\x7f", "del\\x7f"),
        ("c1 csi\x9b31m", "c1 csi\\x9b31m"),
        ("right\u202eleft", "right\\u202eleft"),
        ("isolate\u2066x\u2069", "isolate\\u2066x\\u2069"),
    ],
)
def test_control_characters_are_written_as_escapes(text: str, shown: str) -> None:
    assert terminal_text(text) == shown


def test_validate_sends_no_escape_sequence_of_the_project_to_the_terminal(
    cli: CLI, tmp_path: Path
) -> None:
    # Before: "error: clip 'c': media file not found: \x1b[2J\x1b]0;pwned\x07x.mp4" went out
    # raw (the clip id is quoted with repr(), the path and the effect's type were not).
    hostile = "\x1b[2J\x1b]0;pwned\x07x.mp4"
    clip = {"id": "c", "start_time": 0, "end_time": 1, "source": {"File": hostile}}
    missing = write_project(tmp_path / "missing.json", project([video_track("v", [clip])]))
    done = cli("validate", str(missing))
    assert done.returncode == 2
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr, repr(done.stderr)
    assert "media file not found: \\x1b[2J\\x1b]0;pwned\\x07x.mp4" in done.stderr

    shape = {"id": "s", "start_time": 0, "end_time": 1, **solid("#ff0000")}
    shape["effects"] = [{"id": "e", "effect_type": "Blur\x1b[8m"}]
    warned = write_project(tmp_path / "warned.json", project([video_track("v", [shape])]))
    done = cli("validate", str(warned))
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stderr and "Blur\\x1b[8m" in done.stderr, repr(done.stderr)

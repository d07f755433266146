"""Hostile outputs and overrides: a render never replaces a device or FIFO with a file, export
overrides from the API or the command line are checked field by field, and values inside the
documented ranges (a tight letter spacing, a huge subtitle, a huge still) give one line, not a
traceback or gigabytes of memory."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from chunking.timeline.export_overrides import override_problems
from chunking.timeline.project import read_project
from common.errors import RenderError, ValidationError
from tests.helpers import CLI
from tests.media import project, solid, video_track
from workers.atomic import atomic_output


def _doc(**extra: Any) -> dict[str, Any]:
    clip = {"id": "c", "start_time": 0, "end_time": 0.2, **solid("#336699")}
    doc = project([video_track("v", [clip])], **extra)
    doc["timeline"]["resolution"], doc["timeline"]["fps"] = [64, 36], 10
    doc["settings"] = {"export": {"preset": "ultrafast"}}
    return doc


def test_a_fifo_or_directory_output_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.mp4"
    folder.mkdir()
    for target in (fifo, folder):
        with pytest.raises(RenderError, match="is not a regular file"):
            with atomic_output(str(target)):
                pass
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and folder.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.mp4", "pipe.mp4"]


def test_render_to_a_fifo_is_one_line(tmp_path: Path, cli: CLI) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(_doc()))
    fifo = tmp_path / "out.mp4"
    os.mkfifo(fifo)
    done = cli("render", str(path), "-o", str(fifo), "--direct")
    assert done.returncode == 2 and "is not a regular file" in done.stderr
    assert "Traceback" not in done.stderr and stat.S_ISFIFO(fifo.lstat().st_mode)


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"quality": "high"}, "settings.quality: not an export setting"),
        ({"container": "avi"}, "settings.container: 'avi' is not one of"),
        ({"codec": ["h264"]}, "settings.codec: ['h264'] is not one of"),
        ({"preset": [1]}, "settings.preset: [1] must be a name"),
        ({"crf": "abc"}, "settings.crf: 'abc' must be a whole number from 0 to 63"),
        ({"crf": -100000}, "settings.crf: -100000"),
        ({"crf": 2.5}, "settings.crf: 2.5"),
        ({"bitrate": "x"}, "settings.bitrate: 'x'"),
        ({"keyframe_interval": 0}, "settings.keyframe_interval: 0"),
        ({"lossless": "yes"}, "settings.lossless: 'yes' must be true or false"),
        ({"crf": True}, "settings.crf: True"),
        # The name of with_overrides' own parameter: a TypeError (HTTP 500) before.
        ({"export": {"crf": 20}}, "settings.export: not an export setting"),
        ({"preset": "p" * (1 << 20)}, "settings.preset: 'ppp"),
    ],
)
def test_each_bad_export_override_is_named(changes: dict[str, Any], says: str) -> None:
    (problem,) = override_problems(changes)
    assert problem.startswith(says) and len(problem) <= 1000, problem[:200]
    with pytest.raises(ValidationError, match="settings"):
        read_project(_doc(), base_dir=".", export=changes)


def test_good_export_overrides_pass() -> None:
    good = {"codec": "hevc", "crf": 20, "preset": "slow", "lossless": False, "bitrate": 8_000_000}
    assert override_problems(good) == []
    assert read_project(_doc(), base_dir=".", export=good).timeline.export.codec == "hevc"


@pytest.mark.parametrize(
    ("name", "subtitle", "says"),
    [
        ("tight", {"text": "Hi", "style": {"font_size": 12, "letter_spacing": -100}}, None),
        ("huge", {"text": "x" * 20_000}, "text has 20000 characters; at most 10000"),
    ],
)
def test_subtitles_at_the_edges_of_their_ranges(
    tmp_path: Path, cli: CLI, name: str, subtitle: dict[str, Any], says: str | None
) -> None:
    doc = _doc(subtitles=[{"id": "s", "start_time": 0, "end_time": 0.2, **subtitle}])
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc))
    done = cli("render", str(path), "-o", str(tmp_path / "out.mp4"), "--direct")
    assert "Traceback" not in done.stderr
    if says is None:
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode == 2 and says in done.stderr


def test_a_still_over_the_pixel_limit_is_refused_when_rendered(tmp_path: Path, cli: CLI) -> None:
    """8200x8200 is over the 8192x8192 limit but under twice it, where Pillow only warns."""
    Image.new("L", (8200, 8200)).save(tmp_path / "big.png")
    clip = {"id": "big", "start_time": 0, "end_time": 0.2, "source": {"File": "big.png"}}
    doc = _doc()
    doc["tracks"][0]["clips"] = [clip]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    done = cli("render", str(path), "-o", str(tmp_path / "out.mp4"), "--direct")
    assert done.returncode == 2, done.stderr
    assert "clip 'big': image is too large" in done.stderr and "Warning" not in done.stderr


def test_a_png_header_declaring_65535_squared_is_refused_in_one_line(
    tmp_path: Path, cli: CLI
) -> None:
    """A 74-byte PNG whose header says 65535x65535: Pillow raises (not warns) past twice its
    limit, and no pixel may be decoded to find out."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 65535, 65535, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\0" * 16)
    (tmp_path / "bomb.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )
    clip = {"id": "bomb", "start_time": 0, "end_time": 0.2, "source": {"File": "bomb.png"}}
    doc = _doc()
    doc["tracks"][0]["clips"] = [clip]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    for command in ("validate", "render"):
        extra = ["-o", str(tmp_path / "out.mp4"), "--direct"] if command == "render" else []
        done = cli(command, str(path), *extra)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr and "clip 'bomb': image is too large" in done.stderr
    assert not (tmp_path / "out.mp4").exists()


def test_a_render_killed_outright_leaves_nothing_once_rendered_again(tmp_path: Path) -> None:
    """SIGKILL (or the OOM killer) gives no chance to clean up: the next render to the same
    name removes the dead render's temp file, and only the video is left."""
    import signal
    import subprocess
    import sys
    import time

    doc = _doc()
    doc["timeline"]["resolution"], doc["timeline"]["fps"] = [320, 180], 30
    doc["tracks"][0]["clips"][0].update(end_time=20.0, source="Generated", properties={
        "custom_metadata": {"generator": {"type": "pattern", "pattern": "checker"}}})  # fmt: skip
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    out = tmp_path / "out.mp4"
    command = [sys.executable, "-m", "cli", "render", str(path), "-o", str(out), "--direct"]
    killed = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not any(p.name.startswith(".partial-") for p in tmp_path.iterdir()):
            assert killed.poll() is None and time.monotonic() < deadline, "no render started"
            time.sleep(0.05)
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.wait()
    assert any(p.name.startswith(".partial-") for p in tmp_path.iterdir())  # what it left
    doc["tracks"][0]["clips"][0]["end_time"] = 0.5
    path.write_text(json.dumps(doc))
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "p.json"]

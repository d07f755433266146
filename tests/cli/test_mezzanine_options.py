"""``--profile`` and ``--audio-codec`` on the command line: a ProRes render with the profile
asked for, and each impossible combination one line naming the flag before anything renders."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from tests.helpers import CLI, colour_project
from tests.media import write_project


def test_render_writes_the_prores_profile_asked_for(cli: CLI, tmp_path: Path) -> None:
    path = write_project(tmp_path / "p.json", colour_project(0.3))
    out = tmp_path / "master.mov"
    done = cli("render", str(path), "-o", str(out), "--direct", "--codec", "prores",
               "--profile", "lt")  # fmt: skip
    assert done.returncode == 0, done.stderr
    with av.open(str(out)) as result:
        ctx = result.streams.video[0].codec_context
        assert (ctx.codec.name, ctx.profile, result.streams.video[0].frames) == ("prores", "LT", 9)


@pytest.mark.parametrize(
    ("command", "output", "flags", "words"),
    [
        ("render", "m.mkv", ["--codec", "dnxhr"], ["codec dnxhr cannot be stored in mkv"]),
        ("render", "m.mov", ["--codec", "prores", "--profile", "sq"],
         ["--profile", "proxy, lt, standard, hq, 4444"]),
        ("render", "m.mov", ["--audio-codec", "opus"],
         ["--audio-codec", "aac, alac, pcm_s16le, pcm_s24le"]),
        ("submit", "m.mp4", ["--audio-codec", "pcm_s24le"], ["--audio-codec", "aac, opus, alac"]),
    ],
)  # fmt: skip
def test_an_impossible_choice_is_one_line_naming_the_flag(
    cli: CLI, tmp_path: Path, command: str, output: str, flags: list[str], words: list[str]
) -> None:
    path = write_project(tmp_path / "p.json", colour_project(0.3))
    out = tmp_path / output
    cluster = ["--broker", "redis://127.0.0.1:1/0", "--storage", f"file://{tmp_path}/store"]
    extra = ["--direct"] if command == "render" else cluster
    done = cli(command, str(path), "-o", str(out), *extra, *flags)
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    for word in words:
        assert word in line, line
    assert not out.exists()
